//! Loading KnowEdit JSON files into [`EditCase`]s.
//!
//! The file is parsed once into a `serde_json::Value` tree; each record is then converted
//! field by field, so a malformed record is reported with its index and field path without
//! a second parse. Unknown keys (e.g. ZsRE's `cond`) are ignored.

use std::path::Path;

use serde_json::Value;

use super::record::{RecordReader, read_bytes, records};
use super::{Dataset, EditCase, LocalityKind, PortabilityKind};
use crate::EvalError;

/// Which optional KnowEdit fields a file must have in every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Required {
    /// `ground_truth` (ZsRE, counterfact).
    pub ground_truth: bool,
    /// The paraphrase, `rephrase_prompt` (ZsRE).
    pub rephrase: bool,
}

impl Required {
    /// What `dataset`'s files always have.
    pub(super) fn of(dataset: Dataset) -> Self {
        match dataset {
            Dataset::ZsRE => Required {
                ground_truth: true,
                rephrase: true,
            },
            Dataset::WikiCounterfact => Required {
                ground_truth: true,
                rephrase: false,
            },
            Dataset::WikiRecent => Required::NOTHING_OPTIONAL,
        }
    }

    /// Only `subject`, `prompt` and `target_new`: a user's file in the KnowEdit layout.
    pub(super) const NOTHING_OPTIONAL: Required = Required {
        ground_truth: false,
        rephrase: false,
    };
}

/// Loads every record of a KnowEdit file.
///
/// Per dataset (see `shared/datasets/PROVENANCE.md`):
/// - [`Dataset::ZsRE`]: `subject`, `prompt`, `target_new`, `ground_truth` (string or list
///   of strings) and `rephrase_prompt` are required.
/// - [`Dataset::WikiCounterfact`]: `subject`, `prompt`, `target_new`, `ground_truth` are
///   required; the paraphrase (`rephrase`, or `rephrase_prompt`) is optional (train_cf
///   has none).
/// - [`Dataset::WikiRecent`]: `subject`, `prompt`, `target_new` are required;
///   `ground_truth` and the paraphrase are optional.
///
/// In all of them `portability` and `locality` are optional objects (missing = empty)
/// whose keys must be known sub-types and whose values are lists of
/// `{prompt, ground_truth}` with `ground_truth` a string, a list of strings or a list of
/// lists of strings. Empty sub-type lists are dropped.
///
/// # Errors
/// [`EvalError::Io`] / [`EvalError::Json`] / [`EvalError::NotAnArray`] /
/// [`EvalError::Empty`] for the file as a whole, [`EvalError::Record`] (file, record index, field path, problem) for the first
/// malformed record.
pub fn load_cases(dataset: Dataset, path: impl AsRef<Path>) -> Result<Vec<EditCase>, EvalError> {
    let path = path.as_ref();
    parse_cases(dataset, path, &read_bytes(path)?)
}

/// Parses the bytes of a KnowEdit file (as [`load_cases`] does after reading it).
/// `path` is only used in error messages.
///
/// # Errors
/// As [`load_cases`], except [`EvalError::Io`].
pub fn parse_cases(
    dataset: Dataset,
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<EditCase>, EvalError> {
    knowedit_cases(
        dataset.name(),
        Required::of(dataset),
        path,
        &records(path, bytes)?,
    )
}

/// Converts KnowEdit-layout records, every case named `name`.
pub(super) fn knowedit_cases(
    name: &str,
    required: Required,
    path: &Path,
    records: &[Value],
) -> Result<Vec<EditCase>, EvalError> {
    records
        .iter()
        .enumerate()
        .map(|(index, value)| RecordReader { path, index }.knowedit(name, required, value))
        .collect()
}

impl RecordReader<'_> {
    /// One KnowEdit record.
    fn knowedit(
        &self,
        name: &str,
        required: Required,
        value: &Value,
    ) -> Result<EditCase, EvalError> {
        let obj = self.object(value)?;
        let subject = self.required_string(obj, "subject")?;
        let prompt = self.required_string(obj, "prompt")?;
        let target_new = self.required_string(obj, "target_new")?;

        let ground_truth = match obj.get("ground_truth") {
            None | Some(Value::Null) if required.ground_truth => {
                return Err(self.error("ground_truth", "missing"));
            }
            None | Some(Value::Null) => None,
            Some(v) => Some(self.string_or_strings(v, "ground_truth")?),
        };

        let rephrase = match (
            self.optional_string(obj, "rephrase_prompt")?,
            self.optional_string(obj, "rephrase")?,
        ) {
            (Some(r), _) | (None, Some(r)) => Some(r),
            (None, None) if required.rephrase => {
                return Err(self.error("rephrase_prompt", "missing"));
            }
            (None, None) => None,
        };

        let portability =
            self.probe_section(obj, "portability", PortabilityKind::from_key, || {
                PortabilityKind::ALL.map(PortabilityKind::key).join(", ")
            })?;
        let locality = self.probe_section(obj, "locality", LocalityKind::from_key, || {
            LocalityKind::ALL.map(LocalityKind::key).join(", ")
        })?;

        Ok(EditCase {
            dataset: name.to_owned(),
            index: self.index,
            subject,
            prompt,
            target_new,
            ground_truth,
            rephrase,
            portability,
            locality,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(dataset: Dataset, json: &str) -> Result<Vec<EditCase>, EvalError> {
        parse_cases(dataset, Path::new("t.json"), json.as_bytes())
    }

    #[test]
    fn zsre_shaped_record_loads() {
        let json = r#"[{"subject":"S","prompt":"P?","target_new":"T","ground_truth":["G"],
            "rephrase_prompt":"R?","cond":"x",
            "locality":{"Relation_Specificity":[{"prompt":"L","ground_truth":["l"]}]},
            "portability":{"Reasoning":[{"prompt":"Q","ground_truth":"a"}]}}]"#;
        let cases = parse(Dataset::ZsRE, json).unwrap();
        let c = &cases[0];
        assert_eq!(c.rephrase.as_deref(), Some("R?"));
        assert_eq!(c.ground_truth, Some(vec!["G".to_owned()]));
        assert_eq!(c.portability[&PortabilityKind::Reasoning][0].answer(), "a");
        assert_eq!(
            c.locality[&LocalityKind::RelationSpecificity][0].answer(),
            "l"
        );
    }

    #[test]
    fn errors_name_file_record_and_field() {
        let err = parse(Dataset::WikiRecent, r#"[{"subject":"S","prompt":"P","target_new":"T"},{"subject":"S","prompt":"P","target_new":3}]"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "t.json: record 1: field `target_new`: expected a string, found a number"
        );
        let err = parse(
            Dataset::ZsRE,
            r#"[{"subject":"S","prompt":"P","target_new":"T","ground_truth":["G"]}]"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "t.json: record 0: field `rephrase_prompt`: missing");
        let err = parse(Dataset::WikiRecent, r#"{"a":1}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "t.json: expected a JSON array of records, found an object"
        );
    }

    #[test]
    fn empty_sections_and_lists_mean_no_subtype() {
        let json = r#"[{"subject":"S","prompt":"P","target_new":"T","portability":{},"locality":{"Forgetfulness":[]}}]"#;
        let c = &parse(Dataset::WikiRecent, json).unwrap()[0];
        assert!(c.portability.is_empty());
        assert!(c.locality.is_empty());
        assert_eq!(c.ground_truth, None);
    }
}
