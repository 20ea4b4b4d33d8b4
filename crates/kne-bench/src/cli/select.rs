//! `kne select`: an ensemble from saved attribution scores (`kne attr --scores-out`, or a
//! run's cached `scores-*.json`), at any `p` and scope, without attributing again.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kne_attr::{Scores, SelectionScope, select};

use super::attr::print_ensemble;
use super::model_args::ModelArgs;

#[derive(Args, Debug)]
pub struct SelectArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Attribution scores (JSON), summed over the localization facts.
    #[arg(long)]
    scores: PathBuf,
    /// Fraction of the attributed neurons kept (Eq. 6).
    #[arg(long)]
    p: f64,
    /// Where the quantile is taken: global (the paper), per_module or per_site.
    #[arg(long, default_value = "global", value_parser = parse_scope)]
    scope: SelectionScope,
    /// Where to write the ensemble (JSON).
    #[arg(long)]
    out: PathBuf,
}

fn parse_scope(text: &str) -> Result<SelectionScope, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("`{text}`: expected global, per_module or per_site"))
}

pub fn run(args: SelectArgs) -> Result<()> {
    let scores = Scores::load(&args.scores)
        .with_context(|| format!("reading scores {}", args.scores.display()))?;
    let loaded = args.model.load()?;
    let ensemble = select(&scores, &loaded.model, args.p, args.scope)
        .with_context(|| format!("selecting from {}", args.scores.display()))?;
    ensemble.save(&args.out)?;
    print_ensemble(&ensemble, scores.facts, args.p);
    println!("written to {}", args.out.display());
    Ok(())
}
