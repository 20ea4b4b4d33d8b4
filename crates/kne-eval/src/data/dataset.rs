//! Which KnowEdit dataset a case comes from.

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// The three KnowEdit knowledge-editing datasets the paper evaluates on.
///
/// The record shapes differ per file (see `shared/datasets/PROVENANCE.md`); the loader
/// ([`load_cases`](crate::data::load_cases)) takes the dataset to know which fields are
/// required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dataset {
    /// ZsRE (`ZsRE/ZsRE-test-all.json`, 1301 records): question prompts,
    /// `rephrase_prompt`, `ground_truth` as a list of strings, one portability sub-type per
    /// record, `Relation_Specificity` locality.
    #[serde(rename = "zsre")]
    ZsRE,
    /// WikiData counterfact (`wiki_counterfact/test_cf.json`, 839 records; the train split
    /// `train_cf.json`, 1427 records, has the same keys but no rephrase and plain-string
    /// probe answers).
    #[serde(rename = "wiki_cf")]
    WikiCounterfact,
    /// WikiData recent (`wiki_recent/recent_train.json`, 570 records, used as the
    /// evaluation set because the test file could not be obtained): insertions, so no
    /// `ground_truth`.
    #[serde(rename = "wiki_recent")]
    WikiRecent,
}

impl Dataset {
    /// All datasets, in table order.
    pub const ALL: [Dataset; 3] = [Dataset::ZsRE, Dataset::WikiCounterfact, Dataset::WikiRecent];

    /// Parses the command-line / config name: `zsre`, `wiki_cf` or `wiki_recent`.
    ///
    /// # Errors
    /// [`EvalError::UnknownDataset`] for any other name.
    pub fn from_name(name: &str) -> Result<Self, EvalError> {
        match name {
            "zsre" => Ok(Dataset::ZsRE),
            "wiki_cf" => Ok(Dataset::WikiCounterfact),
            "wiki_recent" => Ok(Dataset::WikiRecent),
            other => Err(EvalError::UnknownDataset(other.to_owned())),
        }
    }

    /// The name [`Dataset::from_name`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::ZsRE => "zsre",
            Dataset::WikiCounterfact => "wiki_cf",
            Dataset::WikiRecent => "wiki_recent",
        }
    }

    /// The evaluation file of this dataset, relative to the KnowEdit data directory
    /// (see [`default_data_dir`](crate::data::default_data_dir)).
    pub fn test_file(self) -> &'static str {
        match self {
            Dataset::ZsRE => "ZsRE/ZsRE-test-all.json",
            Dataset::WikiCounterfact => "wiki_counterfact/test_cf.json",
            Dataset::WikiRecent => "wiki_recent/recent_train.json",
        }
    }

    /// A file of the same dataset whose records are never evaluated (KnowEdit's train
    /// split), relative to the data directory; `None` where there is none — ZsRE has only its
    /// test file, and WikiData recent's train file already stands in for its test file.
    pub fn train_file(self) -> Option<&'static str> {
        match self {
            Dataset::WikiCounterfact => Some("wiki_counterfact/train_cf.json"),
            Dataset::ZsRE | Dataset::WikiRecent => None,
        }
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The dataset's name, as [`EditCase::dataset`](super::EditCase::dataset) holds it.
impl From<Dataset> for String {
    fn from(d: Dataset) -> String {
        d.name().to_owned()
    }
}

impl std::str::FromStr for Dataset {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dataset::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Dataset::ALL {
            assert_eq!(Dataset::from_name(d.name()).unwrap(), d);
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.name())
            );
        }
        let err = Dataset::from_name("counterfact").unwrap_err().to_string();
        assert!(err.contains("`counterfact`"), "{err}");
    }
}
