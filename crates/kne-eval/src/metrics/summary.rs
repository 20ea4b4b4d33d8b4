//! Averages over cases: the numbers of a results table.

use serde::{Deserialize, Serialize};

use super::CaseScores;
use super::accuracy::mean;

/// One table cell: the mean over the cases that have the metric, ×100, and how many did.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Stat {
    /// Mean ×100 (`None` if no case has the metric).
    pub mean: Option<f64>,
    /// Number of cases averaged.
    pub count: usize,
}

impl Stat {
    /// The mean ×100 of the present values.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Stat {
        let present: Vec<f64> = values.into_iter().flatten().collect();
        Stat {
            mean: mean(present.iter().copied()).map(|m| m * 100.0),
            count: present.len(),
        }
    }
}

/// Averages of [`CaseScores`] over a set of cases, as EasyEdit's KnowEdit summary
/// (`examples/run_knowedit_llama2.py`) computes them: every metric is the mean over the
/// cases that have it, ×100.
///
/// Note that overall `portability` (and `locality`) is the mean over cases of each case's
/// mean over its own sub-types, not the mean of the three sub-type columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of cases summarised.
    pub cases: usize,
    /// Edit Succ.
    pub edit_success: Stat,
    /// Rephrase accuracy.
    pub rephrase: Stat,
    /// Overall portability.
    pub portability: Stat,
    /// Portability, Reasoning.
    pub reasoning: Stat,
    /// Portability, Subject_Aliasing.
    pub subject_aliasing: Stat,
    /// Portability, Logical_Generalization.
    pub logical_generalization: Stat,
    /// Overall locality.
    pub locality: Stat,
    /// Locality, Relation_Specificity.
    pub relation_specificity: Stat,
    /// Locality, Forgetfulness.
    pub forgetfulness: Stat,
    /// Locality, neighborhood.
    #[serde(default)]
    pub neighborhood: Stat,
    /// Fluency (entropy ×100; ~500–600 for fluent text).
    pub fluency: Stat,
}

/// Summarises per-case scores (order does not matter).
pub fn summarize(scores: &[CaseScores]) -> Summary {
    let stat = |f: fn(&CaseScores) -> Option<f64>| Stat::of(scores.iter().map(f));
    Summary {
        cases: scores.len(),
        edit_success: stat(|s| s.edit_success),
        rephrase: stat(|s| s.rephrase),
        portability: stat(|s| s.portability),
        reasoning: stat(|s| s.reasoning),
        subject_aliasing: stat(|s| s.subject_aliasing),
        logical_generalization: stat(|s| s.logical_generalization),
        locality: stat(|s| s.locality),
        relation_specificity: stat(|s| s.relation_specificity),
        forgetfulness: stat(|s| s.forgetfulness),
        neighborhood: stat(|s| s.neighborhood),
        fluency: stat(|s| s.fluency),
    }
}

impl Summary {
    /// `(column name, cell)` pairs in report order, for CSV / markdown writers.
    pub fn columns(&self) -> [(&'static str, Stat); 11] {
        [
            ("edit_success", self.edit_success),
            ("rephrase", self.rephrase),
            ("portability", self.portability),
            ("reasoning", self.reasoning),
            ("subject_aliasing", self.subject_aliasing),
            ("logical_generalization", self.logical_generalization),
            ("locality", self.locality),
            ("relation_specificity", self.relation_specificity),
            ("forgetfulness", self.forgetfulness),
            ("neighborhood", self.neighborhood),
            ("fluency", self.fluency),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    #[test]
    fn means_skip_missing_and_scale_by_100() {
        let mut a = CaseScores::empty(Dataset::ZsRE, 0);
        a.edit_success = Some(1.0);
        a.reasoning = Some(0.5);
        a.portability = Some(0.5);
        a.fluency = Some(5.0);
        let mut b = CaseScores::empty(Dataset::ZsRE, 1);
        b.edit_success = Some(0.5);
        b.fluency = Some(6.0);
        let s = summarize(&[a, b]);
        assert_eq!(s.cases, 2);
        assert_eq!(
            s.edit_success,
            Stat {
                mean: Some(75.0),
                count: 2
            }
        );
        assert_eq!(
            s.portability,
            Stat {
                mean: Some(50.0),
                count: 1
            }
        );
        assert_eq!(
            s.subject_aliasing,
            Stat {
                mean: None,
                count: 0
            }
        );
        assert_eq!(
            s.fluency,
            Stat {
                mean: Some(550.0),
                count: 2
            }
        );
    }
}
