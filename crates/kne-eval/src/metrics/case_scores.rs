//! The scores of one evaluated case.

use serde::{Deserialize, Serialize};

use crate::data::{LocalityKind, PortabilityKind};

/// Every sub-score of one case, as fractions in `[0, 1]` (fluency: entropy in bits, ~5–6
/// for fluent text). `None` where the case has no probe of that kind (or nothing scorable).
///
/// One JSON line of a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseScores {
    /// The case's dataset ([`EditCase::dataset`](crate::data::EditCase::dataset)).
    pub dataset: String,
    /// The case's index in its file.
    pub index: usize,
    /// Edit Succ.: teacher-forced token accuracy of `target_new` after `prompt`.
    pub edit_success: Option<f64>,
    /// The same accuracy after the rephrased prompt (ZsRE, counterfact test).
    pub rephrase: Option<f64>,
    /// Mean of the case's portability sub-type scores (EasyEdit's per-case portability).
    pub portability: Option<f64>,
    /// Portability, Reasoning: mean token accuracy over the sub-type's probes.
    pub reasoning: Option<f64>,
    /// Portability, Subject_Aliasing.
    pub subject_aliasing: Option<f64>,
    /// Portability, Logical_Generalization.
    pub logical_generalization: Option<f64>,
    /// Mean of the case's locality sub-type scores (EasyEdit's per-case locality).
    pub locality: Option<f64>,
    /// Locality, Relation_Specificity: mean pre/post argmax agreement over the probes.
    pub relation_specificity: Option<f64>,
    /// Locality, Forgetfulness.
    pub forgetfulness: Option<f64>,
    /// Locality, neighborhood (EasyEdit's flat files, ROME's CounterFact); absent from the
    /// rows of data without such probes (KnowEdit's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighborhood: Option<f64>,
    /// Fluency: weighted bi-/tri-gram entropy of the generated text (bits, not ×100).
    pub fluency: Option<f64>,
    /// The normalised generated text the fluency was measured on (prompt included), if kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
}

impl CaseScores {
    /// Scores with no metric filled in.
    pub fn empty(dataset: impl Into<String>, index: usize) -> Self {
        CaseScores {
            dataset: dataset.into(),
            index,
            edit_success: None,
            rephrase: None,
            portability: None,
            reasoning: None,
            subject_aliasing: None,
            logical_generalization: None,
            locality: None,
            relation_specificity: None,
            forgetfulness: None,
            neighborhood: None,
            fluency: None,
            generated: None,
        }
    }

    /// The score of one portability sub-type.
    pub fn portability_of(&self, kind: PortabilityKind) -> Option<f64> {
        match kind {
            PortabilityKind::Reasoning => self.reasoning,
            PortabilityKind::SubjectAliasing => self.subject_aliasing,
            PortabilityKind::LogicalGeneralization => self.logical_generalization,
        }
    }

    /// Mutable access to one portability sub-type's score.
    pub fn portability_of_mut(&mut self, kind: PortabilityKind) -> &mut Option<f64> {
        match kind {
            PortabilityKind::Reasoning => &mut self.reasoning,
            PortabilityKind::SubjectAliasing => &mut self.subject_aliasing,
            PortabilityKind::LogicalGeneralization => &mut self.logical_generalization,
        }
    }

    /// The score of one locality sub-type.
    pub fn locality_of(&self, kind: LocalityKind) -> Option<f64> {
        match kind {
            LocalityKind::RelationSpecificity => self.relation_specificity,
            LocalityKind::Forgetfulness => self.forgetfulness,
            LocalityKind::Neighborhood => self.neighborhood,
        }
    }

    /// Mutable access to one locality sub-type's score.
    pub fn locality_of_mut(&mut self, kind: LocalityKind) -> &mut Option<f64> {
        match kind {
            LocalityKind::RelationSpecificity => &mut self.relation_specificity,
            LocalityKind::Forgetfulness => &mut self.forgetfulness,
            LocalityKind::Neighborhood => &mut self.neighborhood,
        }
    }
}
