//! `kne attr`: localize a Knowledge Neuronal Ensemble on the first cases of a dataset.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kne_attr::{Ensemble, attribute, select};
use kne_bench::harness::experiment::KneSettings;
use kne_bench::session::{fact_tokens, request_of};

use super::data_args::DataArgs;
use super::model_args::ModelArgs;

#[derive(Args, Debug)]
pub struct AttrArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    data: DataArgs,
    /// KNE settings (p, scope, localize, [attribution], [edit]).
    #[arg(long, default_value = "experiments/kne-default.toml")]
    config: PathBuf,
    /// Facts to localize on (default: the config's `localize`).
    #[arg(long)]
    cases: Option<usize>,
    /// Where to write the ensemble (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Also write the raw attribution scores here.
    #[arg(long)]
    scores_out: Option<PathBuf>,
}

pub fn run(args: AttrArgs) -> Result<()> {
    let settings = KneSettings::load(&args.config)?;
    let loaded = args.model.load()?;
    settings
        .attribution
        .sites(&loaded.model)
        .with_context(|| format!("{}: field `attribution`", args.config.display()))?;
    let cases = args.data.load()?.cases;
    let n = args.cases.unwrap_or(settings.localize).min(cases.len());
    let requests: Vec<_> = cases[..n].iter().map(request_of).collect();
    let facts = fact_tokens(&loaded, &requests)?;
    let bar = ProgressBar::new(n as u64).with_style(
        ProgressStyle::with_template("attributing [{bar:30}] {pos}/{len} facts, eta {eta}")
            .expect("valid template"),
    );
    let scores = attribute(&loaded.model, &facts, &settings.attribution, |_| bar.inc(1))?;
    bar.finish();
    if let Some(path) = &args.scores_out {
        scores.save(path)?;
    }
    let ensemble = select(&scores, &loaded.model, settings.p, settings.scope)?;
    ensemble.save(&args.out)?;
    print_ensemble(&ensemble, n, settings.p);
    println!("written to {}", args.out.display());
    Ok(())
}

/// The ensemble's size, share of the parameters and neurons per module type.
pub fn print_ensemble(ensemble: &Ensemble, facts: usize, p: f64) {
    let mut per_module = std::collections::BTreeMap::new();
    for (site, count) in ensemble.neurons_per_site() {
        *per_module.entry(site.module.to_string()).or_insert(0usize) += count;
    }
    println!(
        "ensemble: {} neurons at {} sites, {:.3} % of the parameters ({} facts, p = {}, axis {:?})",
        ensemble.neuron_count(),
        ensemble.sites.len(),
        100.0 * ensemble.parameter_fraction(),
        facts,
        p,
        ensemble.axis
    );
    println!("neurons per module: {per_module:?}");
}
