//! ROME's CounterFact records ([`DataFormat::Counterfact`](super::DataFormat::Counterfact)).
//!
//! `requested_rewrite.prompt` is a template with one `{}` for the subject; the edit prompt is
//! the template filled in. `target_new`/`target_true` are `{"str": …, "id": …}` objects
//! (plain strings are accepted). The first of `paraphrase_prompts` is the rephrase prompt
//! (an [`EditCase`] has one); every `neighborhood_prompts` entry (a string, or ROME's
//! `{"prompt": …}` form) becomes a [`LocalityKind::Neighborhood`] probe answered with
//! `target_true`, the old object those subjects share. `attribute_prompts` and
//! `generation_prompts` are not read (no KnowEdit metric uses them).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::record::{RecordReader, kind_of};
use super::{EditCase, LocalityKind, Probe};
use crate::EvalError;

/// Converts CounterFact records, every case named `name`.
pub(super) fn counterfact_cases(
    name: &str,
    path: &Path,
    records: &[Value],
) -> Result<Vec<EditCase>, EvalError> {
    records
        .iter()
        .enumerate()
        .map(|(index, value)| RecordReader { path, index }.counterfact(name, value))
        .collect()
}

impl RecordReader<'_> {
    fn counterfact(&self, name: &str, value: &Value) -> Result<EditCase, EvalError> {
        let obj = self.object(value)?;
        let rewrite = match obj.get("requested_rewrite") {
            None => return Err(self.error("requested_rewrite", "missing")),
            Some(Value::Object(r)) => r,
            Some(other) => {
                return Err(self.error(
                    "requested_rewrite",
                    format!("expected an object, found {}", kind_of(other)),
                ));
            }
        };
        let subject = self
            .required_string(rewrite, "subject")
            .map_err(|e| self.nested(e))?;
        let template = self
            .required_string(rewrite, "prompt")
            .map_err(|e| self.nested(e))?;
        let holes = template.matches("{}").count();
        if holes != 1 {
            return Err(self.error(
                "requested_rewrite.prompt",
                format!("expected one `{{}}` for the subject, found {holes}"),
            ));
        }
        let prompt = template.replace("{}", &subject);
        let target_new = self
            .target(rewrite, "target_new")?
            .ok_or_else(|| self.error("requested_rewrite.target_new", "missing"))?;
        let target_true = self.target(rewrite, "target_true")?;

        let rephrase = self.strings(obj, "paraphrase_prompts")?.into_iter().next();
        let neighborhood = self.strings(obj, "neighborhood_prompts")?;
        let mut locality = BTreeMap::new();
        if !neighborhood.is_empty() {
            let Some(answer) = &target_true else {
                return Err(self.error(
                    "requested_rewrite.target_true",
                    "missing, though `neighborhood_prompts` are given (their answer)",
                ));
            };
            let probes = neighborhood
                .into_iter()
                .map(|prompt| Probe {
                    prompt,
                    answers: vec![vec![answer.clone()]],
                })
                .collect();
            locality.insert(LocalityKind::Neighborhood, probes);
        }
        Ok(EditCase {
            dataset: name.to_owned(),
            index: self.index,
            subject,
            prompt,
            target_new,
            ground_truth: target_true.map(|t| vec![t]),
            rephrase,
            portability: BTreeMap::new(),
            locality,
        })
    }

    /// Prefixes the field path of an error from inside `requested_rewrite`.
    fn nested(&self, error: EvalError) -> EvalError {
        match error {
            EvalError::Record { field, problem, .. } => {
                self.error(format!("requested_rewrite.{field}"), problem)
            }
            other => other,
        }
    }

    /// `target_new` / `target_true`: `{"str": …}` or a string; `None` when absent.
    fn target(&self, rewrite: &Map<String, Value>, key: &str) -> Result<Option<String>, EvalError> {
        let field = format!("requested_rewrite.{key}");
        match rewrite.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Object(t)) => match t.get("str") {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                None => Err(self.error(format!("{field}.str"), "missing")),
                Some(other) => Err(self.error(
                    format!("{field}.str"),
                    format!("expected a string, found {}", kind_of(other)),
                )),
            },
            Some(other) => Err(self.error(
                field,
                format!(
                    "expected an object {{str, id}} or a string, found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    /// A list of prompts: strings or `{"prompt": …}` objects; empty when absent.
    fn strings(&self, obj: &Map<String, Value>, field: &str) -> Result<Vec<String>, EvalError> {
        let items = match obj.get(field) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.error(
                    field,
                    format!("expected a list of prompts, found {}", kind_of(other)),
                ));
            }
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Object(o) => match o.get("prompt") {
                    Some(Value::String(s)) => Ok(s.clone()),
                    _ => Err(self.error(format!("{field}[{i}].prompt"), "expected a string")),
                },
                other => Err(self.error(
                    format!("{field}[{i}]"),
                    format!("expected a string, found {}", kind_of(other)),
                )),
            })
            .collect()
    }
}
