//! `cargo xtask bench`: the criterion benches of `benches/` (package `kne-benches`) and,
//! in the same run, the PyTorch reference script `benches/reference/pytorch_bench.py` on
//! the same model file, shapes and thread count; then `results/bench/summary.md` and
//! `bench.csv` with both medians and their ratio side by side.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{atomic, bench_report, bench_stages, fetch_model, paths, reproduce};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Python with torch, transformers, gguf and accelerate for the PyTorch side (default:
    /// $KNE_TORCH_PYTHON, else benches/reference/.venv/bin/python if it exists)
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Run only the Rust benches
    #[arg(long)]
    pub no_reference: bool,
    /// Timed repetitions of each PyTorch bench (after 2 warm-up runs)
    #[arg(long, default_value_t = 10)]
    pub reps: usize,
    /// Threads for PyTorch (burn-flex uses every core; this machine has 2)
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also bench one localization fact over all sites at m = 20 (~12 minutes on 2 cores)
    #[arg(long)]
    pub full_attribution: bool,
    /// Also bench one Table 1 case stage by stage for each method (~15 minutes on 2 cores)
    /// and write `results/bench/stages.md`, where a Table 1 run's hours go
    #[arg(long)]
    pub stages: bool,
    /// Passed on to criterion (e.g. `forward` to run only matching benches)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// The Python to use for the reference, if any.
fn reference_python(root: &Path, args: &Args) -> Option<PathBuf> {
    if args.no_reference {
        return None;
    }
    if let Some(p) = &args.python {
        return Some(p.clone());
    }
    if let Some(p) = std::env::var_os("KNE_TORCH_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = root.join("benches/reference/.venv/bin/python");
    venv.exists().then_some(venv)
}

pub fn run(root: &Path, args: Args) -> Result<()> {
    reproduce::ensure_inputs(root)?;
    let model = fetch_model::default_path(root, fetch_model::spec(fetch_model::DEFAULT_MODEL)?);
    let bench_dir = root.join("target/bench");
    std::fs::create_dir_all(&bench_dir)?;

    let reference_json = bench_dir.join("pytorch.json");
    let python = reference_python(root, &args);
    if let Some(python) = &python {
        println!("bench: PyTorch reference with {}", python.display());
        let status = Command::new(python)
            .current_dir(root)
            .arg("benches/reference/pytorch_bench.py")
            .arg("--gguf")
            .arg(&model)
            .args(["--threads", &args.threads.to_string()])
            .args(["--reps", &args.reps.to_string()])
            .arg("--out")
            .arg(&reference_json)
            .status()
            .with_context(|| format!("cannot run {}", python.display()))?;
        if !status.success() {
            bail!(
                "the PyTorch reference failed ({status}); see benches/reference/README.md for \
                 its venv, or pass --no-reference"
            );
        }
    } else {
        println!(
            "bench: no PyTorch reference (pass --python, set KNE_TORCH_PYTHON or create \
             benches/reference/.venv; see benches/reference/README.md)"
        );
        let _ = std::fs::remove_file(&reference_json);
    }

    let started = std::time::SystemTime::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    println!(
        "bench: `cargo bench -p kne-benches --benches -- --noplot {}`",
        args.rest.join(" ")
    );
    let mut command = Command::new(&cargo);
    if args.full_attribution {
        command.env("KNE_BENCH_FULL_ATTRIBUTION", "1");
    }
    if args.stages {
        command.env("KNE_BENCH_STAGES", "1");
    }
    let status = command
        .current_dir(root)
        .args(["bench", "-p", "kne-benches", "--benches", "--", "--noplot"])
        .args(&args.rest)
        .status()
        .with_context(|| format!("cannot run `{cargo} bench`"))?;
    if !status.success() {
        bail!("`cargo bench -p kne-benches` failed ({status})");
    }

    let rust = bench_report::read_criterion(&root.join("target/criterion"), started)?;
    let reference = match python {
        Some(_) => Some(bench_report::read_reference(&reference_json)?),
        None => None,
    };
    let report = bench_report::Report::new(rust, reference, bench_report::Machine::here(root));
    let out = root.join("results/bench");
    std::fs::create_dir_all(&out)?;
    atomic::write(&out.join("bench.csv"), report.csv().as_bytes())?;
    atomic::write(&out.join("summary.md"), report.markdown().as_bytes())?;
    println!(
        "bench: wrote {} and {}",
        paths::show(root, &out.join("bench.csv")),
        paths::show(root, &out.join("summary.md"))
    );
    if let Some(stages) = bench_stages::markdown(&report.rust, &report.machine) {
        atomic::write(&out.join("stages.md"), stages.as_bytes())?;
        println!("bench: wrote {}", paths::show(root, &out.join("stages.md")));
    }
    Ok(())
}
