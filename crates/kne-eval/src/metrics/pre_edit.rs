//! The unedited model's locality predictions, computed once per case and cacheable on disk.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Scorer, ScoringRequest, try_build_request};
use crate::EvalError;
use crate::data::{EditCase, LocalityKind};

/// The unedited model's argmax at the answer positions of one locality probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedPrediction {
    /// The answer tokens the predictions were made on (to detect a tokenizer change).
    pub answer_ids: Vec<u32>,
    /// The unedited model's argmax at each answer position.
    pub predictions: Vec<u32>,
}

/// The unedited model's locality predictions for one case: per sub-type, one entry per
/// scored probe (see [`Probe::is_scored`](crate::data::Probe::is_scored)), in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreEditPredictions {
    /// The case's dataset ([`EditCase::dataset`]).
    pub dataset: String,
    /// The case's index in its file.
    pub index: usize,
    /// Predictions per locality sub-type.
    pub locality: BTreeMap<LocalityKind, Vec<CachedPrediction>>,
}

/// The teacher-forced locality requests of a case, per sub-type, for the scored probes.
pub(crate) fn locality_requests(
    case: &EditCase,
    scorer: &dyn Scorer,
) -> Result<BTreeMap<LocalityKind, Vec<ScoringRequest>>, EvalError> {
    let mut out = BTreeMap::new();
    for (&kind, probes) in &case.locality {
        let requests = probes
            .iter()
            .filter(|p| p.is_scored())
            .map(|p| try_build_request(|s| scorer.tokenize(s), &p.prompt, p.answer()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| EvalError::Scorer {
                index: case.index,
                source,
            })?;
        if !requests.is_empty() {
            out.insert(kind, requests);
        }
    }
    Ok(out)
}

/// Runs the unedited model on a case's locality probes (one batched call).
///
/// # Errors
/// [`EvalError::Scorer`] if the model fails, [`EvalError::ScorerShape`] if it answers
/// with the wrong number or length of prediction rows.
pub fn compute_pre_edit(
    case: &EditCase,
    pre: &mut dyn Scorer,
) -> Result<PreEditPredictions, EvalError> {
    let per_kind = locality_requests(case, pre)?;
    let flat: Vec<ScoringRequest> = per_kind.values().flatten().cloned().collect();
    let rows = super::evaluate::run_batch(case.index, pre, &flat)?;
    let mut rows = rows.into_iter();
    let locality = per_kind
        .into_iter()
        .map(|(kind, requests)| {
            let preds = requests
                .into_iter()
                .zip(rows.by_ref())
                .map(|(r, predictions)| CachedPrediction {
                    answer_ids: r.answer_ids,
                    predictions,
                })
                .collect();
            (kind, preds)
        })
        .collect();
    Ok(PreEditPredictions {
        dataset: case.dataset.clone(),
        index: case.index,
        locality,
    })
}

/// Pre-edit predictions for many cases of one dataset and model, saved as one JSON file so
/// that every editor run reuses them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreEditCache {
    /// Identifies the unedited model (e.g. its file checksum); a cache is only valid for it.
    pub model: String,
    /// The dataset of all cases in the cache.
    pub dataset: String,
    /// Predictions by case index.
    pub cases: BTreeMap<usize, PreEditPredictions>,
}

impl PreEditCache {
    /// An empty cache.
    pub fn new(model: impl Into<String>, dataset: impl Into<String>) -> Self {
        PreEditCache {
            model: model.into(),
            dataset: dataset.into(),
            cases: BTreeMap::new(),
        }
    }

    /// The cached predictions of a case, if present.
    pub fn get(&self, case: &EditCase) -> Option<&PreEditPredictions> {
        (case.dataset == self.dataset)
            .then(|| self.cases.get(&case.index))
            .flatten()
    }

    /// The cached predictions of a case, computing (and storing) them with `pre` if absent.
    ///
    /// # Errors
    /// As [`compute_pre_edit`].
    pub fn get_or_compute(
        &mut self,
        case: &EditCase,
        pre: &mut dyn Scorer,
    ) -> Result<&PreEditPredictions, EvalError> {
        if self.get(case).is_none() {
            let computed = compute_pre_edit(case, pre)?;
            self.cases.insert(case.index, computed);
        }
        Ok(&self.cases[&case.index])
    }

    /// Reads a cache written by [`save`](Self::save).
    ///
    /// # Errors
    /// [`EvalError::Io`] or [`EvalError::Json`].
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| EvalError::Json {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the cache atomically ([`kne_model::write_atomic`]).
    ///
    /// # Errors
    /// [`EvalError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), EvalError> {
        let json = serde_json::to_vec(self).map_err(|source| EvalError::Json {
            path: path.to_owned(),
            source,
        })?;
        kne_model::write_atomic(path, &json).map_err(|source| EvalError::Io {
            path: path.to_owned(),
            source,
        })
    }
}
