//! One KnowEdit edit request with its evaluation probes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{LocalityKind, PortabilityKind, Probe};

/// One edit with everything needed to evaluate it.
///
/// The same type holds ZsRE, WikiData counterfact and WikiData recent records, and the
/// records of a user's file in any [`DataFormat`](super::DataFormat); fields a dataset
/// lacks are `None` / empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditCase {
    /// The name of the dataset the record came from: [`Dataset::name`](super::Dataset::name)
    /// for KnowEdit's files (`zsre`, `wiki_cf`, `wiki_recent`), the name given to a user's
    /// file otherwise (its file stem by default, see [`load_file`](super::load_file)).
    pub dataset: String,
    /// 0-based position of the record in its file (stable id for results and caches).
    pub index: usize,
    /// The entity being edited.
    pub subject: String,
    /// The edit prompt (Edit Succ. is measured on it; fluency generates from it).
    pub prompt: String,
    /// The new answer to write into the model.
    pub target_new: String,
    /// The original answer(s): ZsRE lists several, counterfact has one, WikiData recent
    /// has none (its edits insert new facts). Not used by any KnowEdit metric.
    pub ground_truth: Option<Vec<String>>,
    /// The paraphrased prompt (`rephrase_prompt` in ZsRE, `rephrase` in counterfact test).
    pub rephrase: Option<String>,
    /// Portability probes per sub-type; a sub-type absent from the record (or given as an
    /// empty list) has no key.
    pub portability: BTreeMap<PortabilityKind, Vec<Probe>>,
    /// Locality probes per sub-type; same convention as `portability`.
    pub locality: BTreeMap<LocalityKind, Vec<Probe>>,
}
