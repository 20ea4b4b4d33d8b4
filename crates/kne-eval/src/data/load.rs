//! Loading KnowEdit JSON files into [`EditCase`]s.
//!
//! The file is parsed once into a `serde_json::Value` tree; each record is then converted
//! field by field, so a malformed record is reported with its index and field path without
//! a second parse. Unknown keys (e.g. ZsRE's `cond`) are ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::probe::AnswerShape;
use super::{Dataset, EditCase, LocalityKind, PortabilityKind, Probe};
use crate::EvalError;

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
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_cases(dataset, path, &bytes)
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
    let root: Value = serde_json::from_slice(bytes).map_err(|source| EvalError::Json {
        path: path.to_owned(),
        source,
    })?;
    let Value::Array(records) = root else {
        return Err(EvalError::NotAnArray {
            path: path.to_owned(),
            found: kind_of(&root),
        });
    };
    if records.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_owned(),
        });
    }
    records
        .iter()
        .enumerate()
        .map(|(index, value)| RecordReader { path, index }.read(dataset, value))
        .collect()
}

/// "a string", "an object", ... for error messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Converts one record, knowing where it is for error messages.
struct RecordReader<'a> {
    path: &'a Path,
    index: usize,
}

impl RecordReader<'_> {
    fn error(&self, field: impl Into<String>, problem: impl Into<String>) -> EvalError {
        EvalError::Record {
            path: self.path.to_owned(),
            index: self.index,
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn read(&self, dataset: Dataset, value: &Value) -> Result<EditCase, EvalError> {
        let Value::Object(obj) = value else {
            return Err(self.error(
                "<record>",
                format!("expected an object, found {}", kind_of(value)),
            ));
        };
        let subject = self.required_string(obj, "subject")?;
        let prompt = self.required_string(obj, "prompt")?;
        let target_new = self.required_string(obj, "target_new")?;

        let ground_truth = match obj.get("ground_truth") {
            None | Some(Value::Null) => match dataset {
                Dataset::WikiRecent => None,
                Dataset::ZsRE | Dataset::WikiCounterfact => {
                    return Err(self.error("ground_truth", "missing"));
                }
            },
            Some(v) => Some(self.string_or_strings(v, "ground_truth")?),
        };

        let rephrase = match (
            self.optional_string(obj, "rephrase_prompt")?,
            self.optional_string(obj, "rephrase")?,
        ) {
            (Some(r), _) | (None, Some(r)) => Some(r),
            (None, None) if dataset == Dataset::ZsRE => {
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
            dataset,
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

    fn required_string(&self, obj: &Map<String, Value>, field: &str) -> Result<String, EvalError> {
        match obj.get(field) {
            None => Err(self.error(field, "missing")),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.error(
                field,
                format!("expected a string, found {}", kind_of(other)),
            )),
        }
    }

    fn optional_string(
        &self,
        obj: &Map<String, Value>,
        field: &str,
    ) -> Result<Option<String>, EvalError> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(
                field,
                format!("expected a string, found {}", kind_of(other)),
            )),
        }
    }

    fn string_or_strings(&self, value: &Value, field: &str) -> Result<Vec<String>, EvalError> {
        match value {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.error(
                        format!("{field}[{i}]"),
                        format!("expected a string, found {}", kind_of(other)),
                    )),
                })
                .collect(),
            other => Err(self.error(
                field,
                format!(
                    "expected a string or a list of strings, found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    /// Reads `portability` or `locality`: an object from sub-type key to a list of probes.
    fn probe_section<K: Ord>(
        &self,
        obj: &Map<String, Value>,
        section: &str,
        kind_of_key: impl Fn(&str) -> Option<K>,
        expected_keys: impl Fn() -> String,
    ) -> Result<BTreeMap<K, Vec<Probe>>, EvalError> {
        let mut out = BTreeMap::new();
        let entries = match obj.get(section) {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::Object(entries)) => entries,
            Some(other) => {
                return Err(self.error(
                    section,
                    format!("expected an object, found {}", kind_of(other)),
                ));
            }
        };
        for (key, items) in entries {
            let field = format!("{section}.{key}");
            let kind = kind_of_key(key).ok_or_else(|| {
                self.error(
                    &field,
                    format!("unknown sub-type (expected one of: {})", expected_keys()),
                )
            })?;
            let Value::Array(items) = items else {
                return Err(self.error(
                    &field,
                    format!("expected a list of probes, found {}", kind_of(items)),
                ));
            };
            let probes = items
                .iter()
                .enumerate()
                .map(|(i, item)| self.probe(item, &format!("{field}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if !probes.is_empty() {
                out.insert(kind, probes);
            }
        }
        Ok(out)
    }

    fn probe(&self, item: &Value, field: &str) -> Result<Probe, EvalError> {
        let Value::Object(obj) = item else {
            return Err(self.error(
                field,
                format!(
                    "expected an object {{prompt, ground_truth}}, found {}",
                    kind_of(item)
                ),
            ));
        };
        let prompt = match obj.get("prompt") {
            None => return Err(self.error(format!("{field}.prompt"), "missing")),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(self.error(
                    format!("{field}.prompt"),
                    format!("expected a string, found {}", kind_of(other)),
                ));
            }
        };
        let gt_field = format!("{field}.ground_truth");
        let Some(gt) = obj.get("ground_truth") else {
            return Err(self.error(gt_field, "missing"));
        };
        let shape = AnswerShape::deserialize(gt).map_err(|_| {
            self.error(
                &gt_field,
                format!(
                    "expected a string, a list of strings or a list of lists of strings, found {}",
                    kind_of(gt)
                ),
            )
        })?;
        let answers = shape
            .into_answers()
            .map_err(|problem| self.error(&gt_field, problem))?;
        Ok(Probe { prompt, answers })
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
