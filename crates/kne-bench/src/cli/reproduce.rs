//! `kne reproduce` and `kne report`: run an experiment file, write its reports.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use kne_bench::harness::{Experiment, RunOptions, compare, report, run};
use kne_model::paths;

#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// The experiment, e.g. experiments/table1.toml.
    #[arg(long)]
    experiment: PathBuf,
    /// Default: `$KNE_MODEL`, else models/SmolLM2-135M-Instruct.Q4_1.gguf. Unused by an
    /// experiment that names its models (`[[models]]`, e.g. table2).
    #[arg(long)]
    model: Option<PathBuf>,
    /// KnowEdit folder (default: data/knowedit, or `$KNE_DATA`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The run's folder; the experiment writes `<run>/<name>/`. Default: a new folder
    /// `runs/<UTC time>/`, so every run recomputes every cell. Name an existing folder to
    /// resume it (finished cases are skipped) or to run shards into one place.
    #[arg(long, alias = "out")]
    run: Option<PathBuf>,
    /// Committed results the run is compared with, cell by cell, at the end.
    #[arg(long, default_value = "results")]
    reference: PathBuf,
    /// Every case (and the full localization size) instead of the quick defaults.
    #[arg(long)]
    full: bool,
    /// `I/N`: run only the cases with index % N == I (merge with `kne report`).
    #[arg(long)]
    shard: Option<String>,
    /// Run the cases as N shard processes side by side, each with an equal share of the
    /// threads, after localizing every KNE cell once in this process; then write the
    /// reports as one run does. Same rows as `--jobs 1`; on 2 cores `--jobs 2` ran 1.74×
    /// more cases per hour (experiments/attribution-cost.md, section 5).
    #[arg(long, default_value_t = 1, conflicts_with = "shard")]
    jobs: usize,
    /// Set by `--jobs` on the shard processes it starts: their parent reports the run
    /// folder and writes the reports, so they print neither.
    #[arg(long, hide = true, requires = "shard")]
    spawned: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(long)]
    experiment: PathBuf,
    /// The folder whose rows are reported (`<out>/<name>/`): `results` or a run folder.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    #[arg(long)]
    full: bool,
    /// Also compare with the results in this folder (`<reference>/<name>/`).
    #[arg(long)]
    reference: Option<PathBuf>,
}

fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let (i, n) = text
        .split_once('/')
        .context("--shard must look like I/N, e.g. 0/4")?;
    let (i, n): (usize, usize) = (
        i.parse().context("--shard I")?,
        n.parse().context("--shard N")?,
    );
    if n == 0 || i >= n {
        bail!("--shard {text}: need 0 <= I < N");
    }
    Ok((i, n))
}

/// `runs/<UTC time>` under the workspace: a folder no earlier run wrote.
pub fn fresh_run_dir(root: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let base = root.join("runs").join(stamp.to_string());
    let mut dir = base.clone();
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = PathBuf::from(format!("{}-{n}", base.display()));
    }
    dir
}

pub fn run_reproduce(args: ReproduceArgs) -> Result<()> {
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let root = paths::workspace_root();
    let run_dir = match (&args.run, shard) {
        (Some(dir), _) => dir.clone(),
        (None, Some(_)) => {
            bail!("--shard needs --run DIR: every shard must write into the same run folder")
        }
        (None, None) => fresh_run_dir(&root),
    };
    if !args.spawned {
        eprintln!(
            "run folder: {} (`--run {}` resumes it)",
            run_dir.display(),
            run_dir.display()
        );
    }
    let options = RunOptions {
        experiment: args.experiment.clone(),
        model: args.model.unwrap_or_else(paths::default_model_path),
        data_dir: args
            .data_dir
            .unwrap_or_else(kne_eval::data::default_data_dir),
        out_root: run_dir.clone(),
        root,
        full: args.full,
        shard,
        localize_only: false,
    };
    if args.jobs > 1 {
        run(&RunOptions {
            localize_only: true,
            ..options.clone()
        })?;
        run_shards(&options, &args.reference, args.jobs)?;
    } else {
        run(&options)?;
    }
    if shard.is_none() {
        write(&args.experiment, &run_dir, args.full)?;
        compare_with_reference(&args.experiment, &run_dir, &args.reference, args.full)?;
    } else if !args.spawned {
        eprintln!(
            "shard done; `kne report --out {}` (or `cargo xtask merge --run {}`) writes the reports once every shard is",
            run_dir.display(),
            run_dir.display()
        );
    }
    Ok(())
}

/// Runs `jobs` child processes of this binary, shard `i/jobs` each, into the run folder,
/// with `threads / jobs` threads each (`RAYON_NUM_THREADS`), and waits for all of them.
fn run_shards(options: &RunOptions, reference: &Path, jobs: usize) -> Result<()> {
    let exe = std::env::current_exe().context("finding the kne binary")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cores / jobs).max(1);
    eprintln!("running the cases as {jobs} shards side by side, {threads} thread(s) each");
    let children = (0..jobs)
        .map(|i| {
            let mut command = std::process::Command::new(&exe);
            command
                .arg("reproduce")
                .arg("--experiment")
                .arg(&options.experiment)
                .arg("--model")
                .arg(&options.model)
                .arg("--data-dir")
                .arg(&options.data_dir)
                .arg("--run")
                .arg(&options.out_root)
                .arg("--reference")
                .arg(reference)
                .arg("--shard")
                .arg(format!("{i}/{jobs}"))
                .arg("--spawned")
                .env("RAYON_NUM_THREADS", threads.to_string());
            if options.full {
                command.arg("--full");
            }
            command
                .spawn()
                .with_context(|| format!("starting shard {i}/{jobs} ({})", exe.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut failed = Vec::new();
    for (i, mut child) in children.into_iter().enumerate() {
        let status = child
            .wait()
            .with_context(|| format!("waiting for shard {i}"))?;
        if !status.success() {
            failed.push(format!("shard {i}/{jobs} ({status})"));
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} failed; its rows so far are kept: rerun the same command to resume",
            failed.join(", ")
        );
    }
    eprintln!("all {jobs} shards done; writing the reports");
    Ok(())
}

/// Writes `<run>/<name>/comparison.md` against `<reference>/<name>/` and prints it.
fn compare_with_reference(
    experiment_path: &Path,
    run_dir: &Path,
    reference: &Path,
    full: bool,
) -> Result<()> {
    let experiment = Experiment::load(experiment_path)?;
    let reference_dir = reference.join(&experiment.name);
    if !reference_dir.exists() {
        eprintln!(
            "no reference results in {}: nothing to compare with",
            reference_dir.display()
        );
        return Ok(());
    }
    let comparison = compare::compare(
        &experiment,
        &run_dir.join(&experiment.name),
        &reference_dir,
        full,
    )?;
    println!("{}", comparison.markdown);
    Ok(())
}

pub fn run_report(args: ReportArgs) -> Result<()> {
    write(&args.experiment, &args.out, args.full)?;
    match &args.reference {
        Some(reference) => {
            compare_with_reference(&args.experiment, &args.out, reference, args.full)
        }
        None => Ok(()),
    }
}

fn write(experiment_path: &std::path::Path, out: &std::path::Path, full: bool) -> Result<()> {
    let experiment = Experiment::load(experiment_path)?;
    let dir = out.join(&experiment.name);
    // One of the paper's experiments (`experiments/<name>.toml`), or a researcher's own.
    let root = paths::workspace_root();
    let ours = root
        .join("experiments")
        .join(format!("{}.toml", experiment.name));
    let is_ours = std::fs::canonicalize(experiment_path).ok() == std::fs::canonicalize(&ours).ok();
    let full_flag = if full { " --full" } else { "" };
    let command = if is_ours {
        format!("cargo xtask reproduce {}{full_flag}", experiment.name)
    } else {
        format!(
            "kne reproduce --experiment {}{full_flag}",
            experiment_path.display()
        )
    };
    report::write_reports(&experiment, &dir, full, &command)?;
    let md = std::fs::read_to_string(dir.join("summary.md"))?;
    println!("{md}");
    if is_ours {
        // The paper's claims are judged on the paper's experiments only.
        let claims = kne_bench::harness::claims::write_claims(&root, out)?;
        println!("{claims}");
    }
    Ok(())
}
