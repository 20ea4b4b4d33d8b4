//! `kne edit` (write one fact, save the change as a patch) and `kne apply-patch`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use kne_attr::Ensemble;
use kne_bench::baselines::{build_editor, load_baseline_configs};
use kne_edit::{EditRequest, Editor, KneEditor, WeightDelta};
use kne_model::{GreedyConfig, paths};

use super::model_args::ModelArgs;
use kne_bench::harness::experiment::KneSettings;

#[derive(Args, Debug)]
pub struct EditArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// kne | ft | ft-l | adalora | rome | memit
    #[arg(long, default_value = "kne")]
    method: String,
    #[arg(long)]
    prompt: String,
    #[arg(long)]
    target: String,
    /// The subject (ROME and MEMIT locate it in the prompt).
    #[arg(long, default_value = "")]
    subject: String,
    /// The ensemble for KNE (from `kne attr`).
    #[arg(long)]
    ensemble: Option<PathBuf>,
    /// KNE settings ([edit] is used).
    #[arg(long, default_value = "experiments/kne-default.toml")]
    config: PathBuf,
    /// Baseline hyper-parameters.
    #[arg(long, default_value = "experiments/baselines.toml")]
    baselines: PathBuf,
    /// Where to write the sparse patch (safetensors).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ApplyPatchArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    patch: PathBuf,
    /// A prompt to continue greedily on the patched model.
    #[arg(long)]
    prompt: String,
    #[arg(long, default_value_t = 20)]
    max_new_tokens: usize,
}

pub fn run(args: EditArgs) -> Result<()> {
    let loaded = args.model.load()?;
    let mut editor: Box<dyn Editor> = if args.method == "kne" {
        let path = args
            .ensemble
            .as_ref()
            .context("--ensemble is required for --method kne (make one with `kne attr`)")?;
        let ensemble = Ensemble::load(path)?;
        ensemble
            .check(&loaded.model)
            .with_context(|| format!("ensemble {}", path.display()))?;
        Box::new(KneEditor::new(
            KneSettings::load(&args.config)?.edit,
            ensemble,
        )?)
    } else {
        let configs = load_baseline_configs(&args.baselines)?;
        build_editor(&args.method, &configs, &paths::workspace_root())?
    };
    let request = EditRequest {
        prompt: args.prompt.clone(),
        target: args.target.clone(),
        subject: args.subject.clone(),
    };
    let outcome = editor.edit(&loaded, std::slice::from_ref(&request))?;
    let metadata = BTreeMap::from([
        ("method".to_string(), args.method.clone()),
        ("prompt".to_string(), args.prompt.clone()),
        ("target".to_string(), args.target.clone()),
        ("model".to_string(), loaded.path.display().to_string()),
        ("stats".to_string(), serde_json::to_string(&outcome.stats)?),
    ]);
    outcome.delta.save(&args.out, &metadata)?;
    println!(
        "{}: {} weights changed, loss {:?} -> {:?} in {} steps, {:.1} s; patch {}",
        args.method,
        outcome.stats.changed_parameters,
        outcome.stats.initial_loss,
        outcome.stats.final_loss,
        outcome.stats.steps,
        outcome.stats.wall_seconds,
        args.out.display()
    );
    Ok(())
}

pub fn run_apply(args: ApplyPatchArgs) -> Result<()> {
    let mut loaded = args.model.load()?;
    let (delta, metadata) = WeightDelta::load(&args.patch)?;
    let ids = loaded.tokenizer.encode(&args.prompt)?;
    if ids.is_empty() {
        bail!("the prompt tokenises to nothing");
    }
    let config = GreedyConfig {
        max_new_tokens: args.max_new_tokens,
        stop_token: loaded.tokenizer.eos_id(),
    };
    let before = loaded.model.generate_greedy(&ids, config)?;
    let applied = delta.apply(&mut loaded.model)?;
    let after = loaded.model.generate_greedy(&ids, config)?;
    applied.revert(&mut loaded.model)?;
    println!(
        "patch: {} ({} weights)",
        metadata.get("method").map_or("?", String::as_str),
        delta.changed_parameters()
    );
    println!(
        "before: {}{}",
        args.prompt,
        loaded.tokenizer.decode(&before)?
    );
    println!(
        "after:  {}{}",
        args.prompt,
        loaded.tokenizer.decode(&after)?
    );
    Ok(())
}
