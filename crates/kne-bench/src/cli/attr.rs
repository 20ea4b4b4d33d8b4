//! `kne attr`: localize a Knowledge Neuronal Ensemble on the first cases of a dataset.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kne_attr::{FactTokens, attribute, select};
use kne_bench::harness::experiment::KneSettings;
use kne_edit::TokenizedRequest;

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

/// Reads and checks a KNE settings file (`experiments/kne-default.toml`); errors name the
/// file and field.
pub fn load_settings(path: &std::path::Path) -> Result<KneSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let settings: KneSettings = toml::from_str(&text)
        .with_context(|| format!("{}: invalid KNE settings", path.display()))?;
    settings
        .validate("")
        .with_context(|| format!("{}: invalid KNE settings", path.display()))?;
    Ok(settings)
}

pub fn run(args: AttrArgs) -> Result<()> {
    let settings = load_settings(&args.config)?;
    let loaded = args.model.load()?;
    settings
        .attribution
        .sites(&loaded.model)
        .with_context(|| format!("{}: field `attribution`", args.config.display()))?;
    let cases = args.data.load()?.cases;
    let n = args.cases.unwrap_or(settings.localize).min(cases.len());
    let facts: Vec<FactTokens> = cases[..n]
        .iter()
        .map(|c| {
            let t = TokenizedRequest::new(&loaded.tokenizer, &c.prompt, &c.target_new)
                .with_context(|| format!("case {}", c.index))?;
            Ok(FactTokens {
                prompt_ids: t.prompt_ids,
                target_ids: t.target_ids,
            })
        })
        .collect::<Result<_>>()?;
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
    let mut per_module = std::collections::BTreeMap::new();
    for (site, count) in ensemble.neurons_per_site() {
        *per_module.entry(site.module.to_string()).or_insert(0usize) += count;
    }
    println!(
        "ensemble: {} neurons at {} sites, {:.3} % of the parameters ({} facts, p = {}, axis {:?})",
        ensemble.neuron_count(),
        ensemble.sites.len(),
        100.0 * ensemble.parameter_fraction(),
        n,
        settings.p,
        ensemble.axis
    );
    println!("neurons per module: {per_module:?}");
    println!("written to {}", args.out.display());
    Ok(())
}
