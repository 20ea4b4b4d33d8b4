//! One portability or locality probe: a prompt and its accepted answers.

use serde::{Deserialize, Serialize};

/// A probe prompt with its accepted answers.
///
/// The KnowEdit files write a probe's `ground_truth` in three shapes, all normalised here
/// to `answers: Vec<Vec<String>>` (outer: accepted answers; inner: that answer's aliases,
/// first = canonical name):
///
/// | file shape | example | `answers` |
/// |---|---|---|
/// | `str` (ZsRE portability, train_cf) | `"Owlet moths"` | `[["Owlet moths"]]` |
/// | `[str]` (ZsRE locality) | `["genus"]` | `[["genus"]]` (one answer, listed aliases) |
/// | `[[str]]` (test_cf, recent) | `[["Syrian pound", "SYP"]]` | unchanged |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The probe prompt.
    pub prompt: String,
    /// Accepted answers, each with its aliases. Never empty, and no inner list is empty
    /// (the loader rejects such records).
    pub answers: Vec<Vec<String>>,
}

impl Probe {
    /// The answer EasyEdit scores: the first alias of the first accepted answer.
    ///
    /// EasyEdit's KnowEdit runner (`examples/run_knowedit_llama2.py`) unwraps the
    /// `ground_truth` by taking element 0 while it is a list, so only this one string is
    /// ever tokenised and scored; the other answers and aliases are not used.
    pub fn answer(&self) -> &str {
        self.answers
            .first()
            .and_then(|aliases| aliases.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Whether EasyEdit scores this probe: its runner drops probes whose
    /// [`answer`](Self::answer) is blank after trimming whitespace.
    pub fn is_scored(&self) -> bool {
        !self.answer().trim().is_empty()
    }
}

/// The three shapes a `ground_truth` takes in the KnowEdit files (serde untagged).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum AnswerShape {
    /// `"Paris"`.
    One(String),
    /// `["Paris", "City of Light"]`: one answer and its aliases.
    Aliases(Vec<String>),
    /// `[["Paris", "City of Light"], ["Lyon"]]`: several answers, each with aliases.
    Many(Vec<Vec<String>>),
}

impl AnswerShape {
    /// The `answers` list of a [`Probe`]; `Err` names the problem for the error message.
    pub(crate) fn into_answers(self) -> Result<Vec<Vec<String>>, &'static str> {
        let answers = match self {
            AnswerShape::One(s) => vec![vec![s]],
            AnswerShape::Aliases(v) => vec![v],
            AnswerShape::Many(v) => v,
        };
        if answers.is_empty() || answers.iter().any(Vec::is_empty) {
            return Err("expected at least one answer, found an empty list");
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<Vec<String>> {
        serde_json::from_str::<AnswerShape>(json)
            .unwrap()
            .into_answers()
            .unwrap()
    }

    #[test]
    fn all_three_shapes_normalise() {
        assert_eq!(parse(r#""a""#), vec![vec!["a".to_owned()]]);
        assert_eq!(
            parse(r#"["a","b"]"#),
            vec![vec!["a".to_owned(), "b".to_owned()]]
        );
        assert_eq!(
            parse(r#"[["a","b"],["c"]]"#),
            vec![vec!["a".to_owned(), "b".to_owned()], vec!["c".to_owned()]]
        );
    }

    #[test]
    fn answer_is_first_alias_of_first_answer() {
        let p = Probe {
            prompt: "p".into(),
            answers: parse(r#"[["Syrian pound","SYP"],["x"]]"#),
        };
        assert_eq!(p.answer(), "Syrian pound");
        assert!(p.is_scored());
        let blank = Probe {
            prompt: "p".into(),
            answers: vec![vec!["  ".into()]],
        };
        assert!(!blank.is_scored());
    }

    #[test]
    fn empty_lists_and_other_types_are_rejected() {
        assert!(
            serde_json::from_str::<AnswerShape>("[]")
                .unwrap()
                .into_answers()
                .is_err()
        );
        assert!(
            serde_json::from_str::<AnswerShape>("[[]]")
                .unwrap()
                .into_answers()
                .is_err()
        );
        assert!(serde_json::from_str::<AnswerShape>("3").is_err());
        assert!(serde_json::from_str::<AnswerShape>(r#"[["a"], "b"]"#).is_err());
    }
}
