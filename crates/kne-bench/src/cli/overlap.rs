//! `kne overlap A.json B.json`: how far two ensembles select the same neurons (e.g. m = 4
//! against m = 20 Riemann steps, or two localization sets).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kne_attr::Ensemble;

#[derive(Args, Debug)]
pub struct OverlapArgs {
    /// First ensemble (`ensemble.json` of `kne attr` or of a KNE cell).
    a: PathBuf,
    /// Second ensemble.
    b: PathBuf,
}

pub fn run(args: OverlapArgs) -> Result<()> {
    let load = |p: &PathBuf| Ensemble::load(p).with_context(|| format!("reading {}", p.display()));
    let (a, b) = (load(&args.a)?, load(&args.b)?);
    let shared = a.shared_neurons(&b);
    let share = |n: usize| 100.0 * shared as f64 / n.max(1) as f64;
    println!(
        "A: {} neurons ({}), B: {} neurons ({})",
        a.neuron_count(),
        args.a.display(),
        b.neuron_count(),
        args.b.display()
    );
    println!(
        "shared {shared}: {:.1} % of A, {:.1} % of B; Jaccard {:.3}",
        share(a.neuron_count()),
        share(b.neuron_count()),
        a.jaccard(&b)
    );
    Ok(())
}
