//! Building the KNE editor of a cell: attribution scores (cached per localization facts and
//! attribution setting, so cells that differ only in `p` share them) and the ensemble.

use std::path::Path;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use kne_attr::{Ensemble, Scores, attribute_onto, select};
use kne_edit::KneEditor;
use kne_eval::data::EditCase;
use kne_model::LoadedModel;
use serde::Serialize;

use super::plan::Cell;
use crate::results::config_hash;
use crate::session::{fact_tokens, request_of};

/// What the scores depend on.
#[derive(Serialize)]
struct ScoresKey<'a> {
    model_sha256: &'a str,
    dataset: &'a str,
    /// Which records (`…/train_cf.json records 0..6`).
    facts: &'a str,
    attribution: &'a kne_attr::AttributionConfig,
}

/// Attribution on the localization facts of `cell` (described by `facts_text`), cached in
/// `dir`.
pub fn scores_for(
    loaded: &LoadedModel,
    model_sha256: &str,
    dataset: &str,
    (cases, facts_text): (&[EditCase], &str),
    cell: &Cell,
    dir: &Path,
) -> Result<Scores> {
    let key = ScoresKey {
        model_sha256,
        dataset,
        facts: facts_text,
        attribution: &cell.kne.attribution,
    };
    let hash = config_hash(&key)?;
    let path = dir.join(format!("scores-{}.json", &hash[..16]));
    if path.exists() {
        return Scores::load(&path)
            .with_context(|| format!("reading cached scores {}", path.display()));
    }
    let requests: Vec<_> = cases.iter().map(request_of).collect();
    let facts =
        fact_tokens(loaded, &requests).with_context(|| format!("{dataset}: {facts_text}"))?;
    // Long localizations (200 facts ≈ an hour on 2 cores) save their running sum every
    // `CHECKPOINT_FACTS` facts; an interrupted run resumes from it with the same additions
    // in the same order, so the scores are those of an uninterrupted run.
    let partial = dir.join(format!("scores-{}.partial.json", &hash[..16]));
    let config = &cell.kne.attribution;
    let mut total = match Scores::load(&partial) {
        Ok(saved) if saved.facts < facts.len() => saved,
        _ => config.empty_scores(),
    };
    let bar = ProgressBar::new(facts.len() as u64).with_style(
        ProgressStyle::with_template("{prefix} localizing [{bar:30}] {pos}/{len} facts, eta {eta}")
            .expect("valid template"),
    );
    bar.set_prefix(format!("{dataset}/{}", cell.label));
    bar.set_position(total.facts as u64);
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    if plain && total.facts > 0 {
        eprintln!(
            "{dataset}/{}: resuming localization after {} of {} facts ({})",
            cell.label,
            total.facts,
            facts.len(),
            partial.display()
        );
    }
    let started = std::time::Instant::now();
    while total.facts < facts.len() {
        let start = total.facts;
        let end = (start + CHECKPOINT_FACTS).min(facts.len());
        total = attribute_onto(total, &loaded.model, &facts[start..end], config, |_| {
            bar.inc(1);
            // Without a terminal (a background run's log), one plain line per fact.
            if plain {
                eprintln!(
                    "{dataset}/{}: localized {}/{} facts ({facts_text}), {:.0} s",
                    cell.label,
                    bar.position(),
                    facts.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        })?;
        if total.facts < facts.len() {
            total.save(&partial)?;
        }
    }
    bar.finish_and_clear();
    total.save(&path)?;
    // The finished scores supersede the running sum.
    let _ = std::fs::remove_file(&partial);
    Ok(total)
}

/// Facts between two saves of a localization's running sum.
const CHECKPOINT_FACTS: usize = 10;

/// The ensemble of the cell (saved beside its rows) and its editor.
pub fn kne_editor(
    loaded: &LoadedModel,
    scores: &Scores,
    cell: &Cell,
    cell_dir: &Path,
) -> Result<KneEditor> {
    let ensemble: Ensemble = select(scores, &loaded.model, cell.kne.p, cell.kne.scope)?;
    ensemble.save(&cell_dir.join("ensemble.json"))?;
    Ok(KneEditor::new(cell.kne.edit.clone(), ensemble)?)
}
