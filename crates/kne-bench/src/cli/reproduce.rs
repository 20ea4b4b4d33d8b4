//! `kne reproduce` and `kne report`: run an experiment file, write its reports.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use kne_bench::harness::{Experiment, RunOptions, report, run};
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
    /// Results root; the experiment writes `<out>/<name>/`.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Every case (and the full localization size) instead of the quick defaults.
    #[arg(long)]
    full: bool,
    /// `I/N`: run only the cases with index % N == I (merge with `kne report`).
    #[arg(long)]
    shard: Option<String>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(long)]
    experiment: PathBuf,
    #[arg(long, default_value = "results")]
    out: PathBuf,
    #[arg(long)]
    full: bool,
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

pub fn run_reproduce(args: ReproduceArgs) -> Result<()> {
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let options = RunOptions {
        experiment: args.experiment.clone(),
        model: args.model.unwrap_or_else(paths::default_model_path),
        data_dir: args
            .data_dir
            .unwrap_or_else(kne_eval::data::default_data_dir),
        out_root: args.out.clone(),
        root: paths::workspace_root(),
        full: args.full,
        shard,
    };
    run(&options)?;
    if shard.is_none() {
        write(&args.experiment, &args.out, args.full)?;
    } else {
        eprintln!(
            "shard done; `kne report` (or `cargo xtask merge`) writes the reports once every shard is"
        );
    }
    Ok(())
}

pub fn run_report(args: ReportArgs) -> Result<()> {
    write(&args.experiment, &args.out, args.full)
}

fn write(experiment_path: &std::path::Path, out: &std::path::Path, full: bool) -> Result<()> {
    let experiment = Experiment::load(experiment_path)?;
    let dir = out.join(&experiment.name);
    let command = format!(
        "cargo xtask reproduce {}{}",
        experiment.name,
        if full { " --full" } else { "" }
    );
    report::write_reports(&experiment, &dir, full, &command)?;
    let md = std::fs::read_to_string(dir.join("summary.md"))?;
    println!("{md}");
    let claims = kne_bench::harness::claims::write_claims(&paths::workspace_root(), out)?;
    println!("{claims}");
    Ok(())
}
