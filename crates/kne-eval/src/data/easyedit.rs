//! EasyEdit's flat edit records ([`DataFormat::EasyEdit`](super::DataFormat::EasyEdit)).
//!
//! The layout EasyEdit's `BaseEditor.edit(prompts=…, target_new=…, …)` takes, one record per
//! edit, as in its CounterFact and ZsRE files; the MEND ZsRE spelling of the same fields is
//! read too. The locality prompts become [`LocalityKind::Neighborhood`] probes, the key
//! EasyEdit's runners give them. EasyEdit's `portability` object (`New Question`/`New
//! Answer`) is not read: its sub-type is not stated; use the KnowEdit layout for
//! portability probes.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::record::{RecordReader, kind_of};
use super::{EditCase, LocalityKind, Probe};
use crate::EvalError;

/// Field names, flat spelling first, then MEND's.
const PROMPT: &[&str] = &["prompt", "src"];
const TARGET_NEW: &[&str] = &["target_new", "alt"];
const GROUND_TRUTH: &[&str] = &["ground_truth", "answers"];
const REPHRASE: &[&str] = &["rephrase_prompt", "rephrase"];
const LOCALITY_PROMPT: &[&str] = &["locality_prompt", "loc"];
const LOCALITY_ANSWER: &[&str] = &["locality_ground_truth", "loc_ans"];

/// Converts flat records, every case named `name`.
pub(super) fn easyedit_cases(
    name: &str,
    path: &Path,
    records: &[Value],
) -> Result<Vec<EditCase>, EvalError> {
    records
        .iter()
        .enumerate()
        .map(|(index, value)| RecordReader { path, index }.easyedit(name, value))
        .collect()
}

impl RecordReader<'_> {
    fn easyedit(&self, name: &str, value: &Value) -> Result<EditCase, EvalError> {
        let obj = self.object(value)?;
        let subject = self.required_string(obj, "subject")?;
        let prompt = self.required_string_of(obj, PROMPT)?;
        let target_new = self.required_string_of(obj, TARGET_NEW)?;
        let ground_truth = self
            .first_of(obj, GROUND_TRUTH)
            .map(|(field, v)| self.string_or_strings(v, field))
            .transpose()?;
        let rephrase = self.optional_string_of(obj, REPHRASE)?;
        let mut locality = BTreeMap::new();
        let probes = self.flat_probes(obj)?;
        if !probes.is_empty() {
            locality.insert(LocalityKind::Neighborhood, probes);
        }
        Ok(EditCase {
            dataset: name.to_owned(),
            index: self.index,
            subject,
            prompt,
            target_new,
            ground_truth,
            rephrase,
            portability: BTreeMap::new(),
            locality,
        })
    }

    /// The locality probes: one prompt and its answer (a string, or a list of aliases), or a
    /// list of prompts and a list of as many answers.
    fn flat_probes(&self, obj: &Map<String, Value>) -> Result<Vec<Probe>, EvalError> {
        let Some((prompt_field, prompts)) = self.first_of(obj, LOCALITY_PROMPT) else {
            if let Some((field, _)) = self.first_of(obj, LOCALITY_ANSWER) {
                return Err(self.error(
                    LOCALITY_PROMPT[0],
                    format!("missing, though `{field}` is given"),
                ));
            }
            return Ok(Vec::new());
        };
        let Some((answer_field, answers)) = self.first_of(obj, LOCALITY_ANSWER) else {
            return Err(self.error(
                LOCALITY_ANSWER[0],
                format!("missing, though `{prompt_field}` is given"),
            ));
        };
        match prompts {
            Value::String(p) => Ok(vec![Probe {
                prompt: p.clone(),
                answers: vec![self.aliases(answers, answer_field)?],
            }]),
            Value::Array(ps) => {
                let Value::Array(ans) = answers else {
                    return Err(self.error(
                        answer_field,
                        format!(
                            "expected a list (one answer per prompt of `{prompt_field}`), found {}",
                            kind_of(answers)
                        ),
                    ));
                };
                if ans.len() != ps.len() {
                    return Err(self.error(
                        answer_field,
                        format!(
                            "{} answers for {} prompts of `{prompt_field}`",
                            ans.len(),
                            ps.len()
                        ),
                    ));
                }
                ps.iter()
                    .zip(ans)
                    .enumerate()
                    .map(|(i, (p, a))| {
                        let Value::String(p) = p else {
                            return Err(self.error(
                                format!("{prompt_field}[{i}]"),
                                format!("expected a string, found {}", kind_of(p)),
                            ));
                        };
                        Ok(Probe {
                            prompt: p.clone(),
                            answers: vec![self.aliases(a, &format!("{answer_field}[{i}]"))?],
                        })
                    })
                    .collect()
            }
            other => Err(self.error(
                prompt_field,
                format!(
                    "expected a string or a list of strings, found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    /// One answer: a string, or a non-empty list of its aliases.
    fn aliases(&self, value: &Value, field: &str) -> Result<Vec<String>, EvalError> {
        let aliases = self.string_or_strings(value, field)?;
        if aliases.is_empty() {
            return Err(self.error(field, "expected at least one answer, found an empty list"));
        }
        Ok(aliases)
    }
}
