//! Reading one JSON record field by field, with errors that name the file, the record's
//! index and the field path; shared by the loaders of every [`DataFormat`](super::DataFormat).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Probe;
use super::probe::AnswerShape;
use crate::EvalError;

/// The records of a data file: a non-empty JSON array. `path` is only used in errors.
///
/// # Errors
/// [`EvalError::Json`], [`EvalError::NotAnArray`], [`EvalError::Empty`].
pub(super) fn records(path: &Path, bytes: &[u8]) -> Result<Vec<Value>, EvalError> {
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
    Ok(records)
}

/// Reads a file's bytes, naming the file on failure.
///
/// # Errors
/// [`EvalError::Io`].
pub(super) fn read_bytes(path: &Path) -> Result<Vec<u8>, EvalError> {
    std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })
}

/// "a string", "an object", ... for error messages.
pub(super) fn kind_of(value: &Value) -> &'static str {
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
pub(super) struct RecordReader<'a> {
    pub(super) path: &'a Path,
    pub(super) index: usize,
}

impl RecordReader<'_> {
    pub(super) fn error(&self, field: impl Into<String>, problem: impl Into<String>) -> EvalError {
        EvalError::Record {
            path: self.path.to_owned(),
            index: self.index,
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub(super) fn required_string(
        &self,
        obj: &Map<String, Value>,
        field: &str,
    ) -> Result<String, EvalError> {
        match obj.get(field) {
            None => Err(self.error(field, "missing")),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.error(
                field,
                format!("expected a string, found {}", kind_of(other)),
            )),
        }
    }

    pub(super) fn optional_string(
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

    pub(super) fn string_or_strings(
        &self,
        value: &Value,
        field: &str,
    ) -> Result<Vec<String>, EvalError> {
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
    pub(super) fn probe_section<K: Ord>(
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

    pub(super) fn probe(&self, item: &Value, field: &str) -> Result<Probe, EvalError> {
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

impl RecordReader<'_> {
    /// The record as an object.
    pub(super) fn object<'v>(&self, value: &'v Value) -> Result<&'v Map<String, Value>, EvalError> {
        match value {
            Value::Object(obj) => Ok(obj),
            other => Err(self.error(
                "<record>",
                format!("expected an object, found {}", kind_of(other)),
            )),
        }
    }

    /// The first present field of `names` (aliases of one field), with the name found.
    pub(super) fn first_of<'v>(
        &self,
        obj: &'v Map<String, Value>,
        names: &[&'static str],
    ) -> Option<(&'static str, &'v Value)> {
        names
            .iter()
            .find_map(|&n| obj.get(n).filter(|v| !v.is_null()).map(|v| (n, v)))
    }

    /// A string field under any of `names`; `missing` names the field when none is present.
    pub(super) fn required_string_of(
        &self,
        obj: &Map<String, Value>,
        names: &[&'static str],
    ) -> Result<String, EvalError> {
        self.optional_string_of(obj, names)?
            .ok_or_else(|| self.error(names.join("` or `"), "missing"))
    }

    /// A string field under any of `names`, `None` when none is present.
    pub(super) fn optional_string_of(
        &self,
        obj: &Map<String, Value>,
        names: &[&'static str],
    ) -> Result<Option<String>, EvalError> {
        match self.first_of(obj, names) {
            None => Ok(None),
            Some((_, Value::String(s))) => Ok(Some(s.clone())),
            Some((name, other)) => {
                Err(self.error(name, format!("expected a string, found {}", kind_of(other))))
            }
        }
    }
}
