//! Scoring one case: all teacher-forced requests in one batch, then fluency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::accuracy::{agreement, mean, token_accuracy};
use super::pre_edit::locality_requests;
use super::{
    CaseScores, GenerationConfig, PreEditPredictions, PunktParams, Scorer, ScoringRequest,
    compute_pre_edit, ngram_entropy, normalize_generated_text, try_build_request,
};
use crate::EvalError;
use crate::data::{EditCase, LocalityKind, PortabilityKind};

/// What [`evaluate_case`] measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Generation for the fluency metric; `None` skips fluency (it is the slow part).
    /// Default: EasyEdit's ([`GenerationConfig::default`]).
    pub generation: Option<GenerationConfig>,
    /// Keep the generated text in [`CaseScores::generated`]. Default: true.
    pub keep_generated_text: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            generation: Some(GenerationConfig::default()),
            keep_generated_text: true,
        }
    }
}

/// Sends `requests` to the scorer and checks the answer's shape.
pub(crate) fn run_batch(
    index: usize,
    scorer: &mut dyn Scorer,
    requests: &[ScoringRequest],
) -> Result<Vec<Vec<u32>>, EvalError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let rows = scorer
        .argmax_at_answers(requests)
        .map_err(|source| EvalError::Scorer { index, source })?;
    if rows.len() != requests.len() {
        return Err(EvalError::ScorerShape {
            index,
            expected: format!("{} requests", requests.len()),
            got: format!("{} prediction rows", rows.len()),
        });
    }
    for (i, (row, req)) in rows.iter().zip(requests).enumerate() {
        if row.len() != req.answer_ids.len() {
            return Err(EvalError::ScorerShape {
                index,
                expected: format!("request {i} with {} answer tokens", req.answer_ids.len()),
                got: format!("{} predictions", row.len()),
            });
        }
    }
    Ok(rows)
}

/// Checks that cached pre-edit predictions belong to `case` and match the requests built now.
fn check_cache(
    case: &EditCase,
    pre: &PreEditPredictions,
    locality: &BTreeMap<LocalityKind, Vec<ScoringRequest>>,
) -> Result<(), EvalError> {
    let mismatch = |reason: String| EvalError::CacheMismatch {
        index: case.index,
        reason,
    };
    if pre.dataset != case.dataset || pre.index != case.index {
        return Err(mismatch(format!(
            "it is for {} case {}",
            pre.dataset, pre.index
        )));
    }
    let cached_kinds: Vec<_> = pre.locality.keys().collect();
    let kinds: Vec<_> = locality.keys().collect();
    if cached_kinds != kinds {
        return Err(mismatch(format!(
            "locality kinds {cached_kinds:?} cached, {kinds:?} in the case"
        )));
    }
    for (kind, requests) in locality {
        let cached = &pre.locality[kind];
        if cached.len() != requests.len() {
            return Err(mismatch(format!(
                "{} {kind:?} probes cached, {} in the case",
                cached.len(),
                requests.len()
            )));
        }
        for (i, (c, r)) in cached.iter().zip(requests).enumerate() {
            if c.answer_ids != r.answer_ids {
                return Err(mismatch(format!(
                    "{kind:?} probe {i}: answer tokens differ (another tokenizer?)"
                )));
            }
        }
    }
    Ok(())
}

/// Scores one case on the edited model `post`, with the unedited model's locality
/// predictions `pre` (from [`compute_pre_edit`] or a [`PreEditCache`](super::PreEditCache)).
///
/// All teacher-forced requests of the case (edit prompt, rephrase, every scored
/// portability and locality probe) go to `post` in one
/// [`argmax_at_answers`](Scorer::argmax_at_answers) call; then, if configured, one
/// generation for fluency.
///
/// # Errors
/// [`EvalError::CacheMismatch`] if `pre` is not this case's (or was made with another
/// tokenizer), [`EvalError::Scorer`] / [`EvalError::ScorerShape`] from the model side,
/// [`EvalError::Punkt`] if fluency is measured and NLTK's English Punkt parameters
/// ([`PunktParams::english`]) cannot be loaded (checked before generating).
pub fn evaluate_case(
    case: &EditCase,
    pre: &PreEditPredictions,
    post: &mut dyn Scorer,
    cfg: &EvalConfig,
) -> Result<CaseScores, EvalError> {
    let index = case.index;
    let scorer_err = |source| EvalError::Scorer { index, source };

    let locality = locality_requests(case, post)?;
    check_cache(case, pre, &locality)?;

    let tokenize = |s: &str| post.tokenize(s);
    let rewrite =
        try_build_request(tokenize, &case.prompt, &case.target_new).map_err(scorer_err)?;
    let rephrase = case
        .rephrase
        .as_deref()
        .map(|r| try_build_request(tokenize, r, &case.target_new))
        .transpose()
        .map_err(scorer_err)?;
    let mut portability: BTreeMap<PortabilityKind, Vec<ScoringRequest>> = BTreeMap::new();
    for (&kind, probes) in &case.portability {
        let requests = probes
            .iter()
            .filter(|p| p.is_scored())
            .map(|p| try_build_request(tokenize, &p.prompt, p.answer()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(scorer_err)?;
        if !requests.is_empty() {
            portability.insert(kind, requests);
        }
    }

    // one batch: rewrite, rephrase?, portability..., locality...
    let mut batch = vec![rewrite];
    batch.extend(rephrase);
    batch.extend(portability.values().flatten().cloned());
    batch.extend(locality.values().flatten().cloned());
    let rows = run_batch(index, post, &batch)?;
    let mut rows = batch.iter().zip(rows);

    let mut scores = CaseScores::empty(case.dataset.clone(), index);
    let mut next_acc = || {
        rows.next()
            .and_then(|(req, pred)| token_accuracy(&pred, &req.answer_ids))
    };
    scores.edit_success = next_acc();
    if case.rephrase.is_some() {
        scores.rephrase = next_acc();
    }
    for (&kind, requests) in &portability {
        let accs: Vec<f64> = (0..requests.len()).filter_map(|_| next_acc()).collect();
        *scores.portability_of_mut(kind) = mean(accs);
    }
    for (kind, cached) in &pre.locality {
        let agreements: Vec<f64> = cached
            .iter()
            .filter_map(|c| {
                rows.next()
                    .and_then(|(_, post_pred)| agreement(&c.predictions, &post_pred))
            })
            .collect();
        *scores.locality_of_mut(*kind) = mean(agreements);
    }
    scores.portability = mean(
        PortabilityKind::ALL
            .iter()
            .filter_map(|&k| scores.portability_of(k)),
    );
    scores.locality = mean(
        LocalityKind::ALL
            .iter()
            .filter_map(|&k| scores.locality_of(k)),
    );

    if let Some(gen_cfg) = &cfg.generation {
        let punkt = PunktParams::english()?;
        let raw = post.generate(&case.prompt, gen_cfg).map_err(scorer_err)?;
        let text = normalize_generated_text(&raw);
        scores.fluency = Some(ngram_entropy(&text, punkt));
        if cfg.keep_generated_text {
            scores.generated = Some(text);
        }
    }
    Ok(scores)
}

/// [`compute_pre_edit`] with `pre`, then [`evaluate_case`] with `post`.
///
/// # Errors
/// As those two.
pub fn evaluate_case_with_model(
    case: &EditCase,
    pre: &mut dyn Scorer,
    post: &mut dyn Scorer,
    cfg: &EvalConfig,
) -> Result<CaseScores, EvalError> {
    let predictions = compute_pre_edit(case, pre)?;
    evaluate_case(case, &predictions, post, cfg)
}
