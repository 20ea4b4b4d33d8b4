//! The layouts of edit files the loaders read, and how a file's layout is recognised.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::EvalError;

/// A layout of edit records (every one a JSON array of objects).
///
/// | format | what it is | recognised by (first record) |
/// |---|---|---|
/// | `knowedit` | KnowEdit's files: `subject`, `prompt`, `target_new`, optional `ground_truth`, `rephrase_prompt`, `portability`/`locality` objects by sub-type | `prompt` and `target_new`, none of the keys below |
/// | `easyedit` | EasyEdit's flat files: `prompt`, `target_new`, `subject`, `ground_truth`, `rephrase_prompt`, `locality_prompt`, `locality_ground_truth` (or the MEND ZsRE spelling `src`, `alt`, `answers`, `rephrase`, `loc`, `loc_ans`) | `locality_prompt`, `locality_ground_truth`, `src`, `alt`, `loc` or `loc_ans` |
/// | `counterfact` | ROME's CounterFact: `requested_rewrite` {`prompt` with `{}`, `subject`, `target_new`.`str`, `target_true`.`str`}, `paraphrase_prompts`, `neighborhood_prompts` | `requested_rewrite` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// KnowEdit's layout (the three datasets of the paper).
    KnowEdit,
    /// EasyEdit's flat layout.
    EasyEdit,
    /// ROME's CounterFact layout.
    Counterfact,
}

impl DataFormat {
    /// Every format, in the order of the table above.
    pub const ALL: [DataFormat; 3] = [
        DataFormat::KnowEdit,
        DataFormat::EasyEdit,
        DataFormat::Counterfact,
    ];

    /// The name `--format` and `format = ...` take.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::KnowEdit => "knowedit",
            DataFormat::EasyEdit => "easyedit",
            DataFormat::Counterfact => "counterfact",
        }
    }

    /// The format named `name`.
    ///
    /// # Errors
    /// [`EvalError::UnknownFormat`] for any name but the three.
    pub fn from_name(name: &str) -> Result<Self, EvalError> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| EvalError::UnknownFormat(name.to_owned()))
    }

    /// The format a record is in, by its keys (see the table on [`DataFormat`]); `None`
    /// when it is in none of them (not an object, or no edit prompt at all).
    pub fn detect(record: &Value) -> Option<Self> {
        let Value::Object(obj) = record else {
            return None;
        };
        let has = |k: &str| obj.contains_key(k);
        if has("requested_rewrite") {
            Some(DataFormat::Counterfact)
        } else if [
            "locality_prompt",
            "locality_ground_truth",
            "src",
            "alt",
            "loc",
            "loc_ans",
        ]
        .into_iter()
        .any(has)
        {
            Some(DataFormat::EasyEdit)
        } else if has("prompt") && has("target_new") {
            Some(DataFormat::KnowEdit)
        } else {
            None
        }
    }
}

impl std::fmt::Display for DataFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DataFormat {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataFormat::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip() {
        for f in DataFormat::ALL {
            assert_eq!(DataFormat::from_name(f.name()).unwrap(), f);
            assert_eq!(
                serde_json::to_string(&f).unwrap(),
                format!("\"{}\"", f.name())
            );
        }
        assert!(DataFormat::from_name("rome").is_err());
    }

    #[test]
    fn detection_by_keys() {
        let knowedit = json!({"subject": "S", "prompt": "P", "target_new": "T",
            "locality": {"Relation_Specificity": []}});
        let flat = json!({"subject": "S", "prompt": "P", "target_new": "T",
            "locality_prompt": "L", "locality_ground_truth": "l"});
        let mend = json!({"subject": "S", "src": "P", "alt": "T", "loc": "L", "loc_ans": "l"});
        let rome = json!({"case_id": 0, "requested_rewrite": {}});
        assert_eq!(DataFormat::detect(&knowedit), Some(DataFormat::KnowEdit));
        assert_eq!(DataFormat::detect(&flat), Some(DataFormat::EasyEdit));
        assert_eq!(DataFormat::detect(&mend), Some(DataFormat::EasyEdit));
        assert_eq!(DataFormat::detect(&rome), Some(DataFormat::Counterfact));
        assert_eq!(DataFormat::detect(&json!({"question": "Q"})), None);
        assert_eq!(DataFormat::detect(&json!("P")), None);
    }
}
