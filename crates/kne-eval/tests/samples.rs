//! The hand-written samples in `datasets/samples/` load, and each malformed one fails with
//! an error naming the file, the record and the field.

use std::path::PathBuf;

use kne_eval::EvalError;
use kne_eval::data::{Dataset, LocalityKind, PortabilityKind, load_cases};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/samples")
        .join(name)
}

fn error(dataset: Dataset, name: &str) -> String {
    let err = load_cases(dataset, sample(name)).expect_err("sample is malformed");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&sample(name).display().to_string()),
        "{msg}"
    );
    msg[sample(name).display().to_string().len()..].to_owned()
}

fn parse_err(dataset: Dataset, json: &str) -> String {
    kne_eval::data::parse_cases(dataset, std::path::Path::new("s.json"), json.as_bytes())
        .unwrap_err()
        .to_string()
}

#[test]
fn valid_samples_load() {
    let zsre = load_cases(Dataset::ZsRE, sample("zsre_valid.json")).unwrap();
    assert_eq!(zsre.len(), 2);
    assert_eq!(
        zsre[1].ground_truth,
        Some(vec!["Lyon".to_owned(), "Lugdunum".to_owned()])
    );
    assert_eq!(
        zsre[1].portability[&PortabilityKind::SubjectAliasing][0].answer(),
        "Paris"
    );

    let cf = load_cases(Dataset::WikiCounterfact, sample("wiki_cf_valid.json")).unwrap();
    assert_eq!(cf.len(), 2);
    assert_eq!(
        cf[0].rephrase.as_deref(),
        Some("Leonardo DiCaprio's country of citizenship is known as")
    );
    let forget = &cf[0].locality[&LocalityKind::Forgetfulness][0];
    assert_eq!(forget.answers.len(), 2);
    assert_eq!(forget.answer(), "United States of America");
    assert!(cf[1].portability.is_empty());

    let recent = load_cases(Dataset::WikiRecent, sample("wiki_recent_valid.json")).unwrap();
    assert_eq!(recent.len(), 2);
    assert!(recent[0].locality.is_empty() && recent[1].portability.is_empty());
    assert_eq!(
        recent[0].portability[&PortabilityKind::LogicalGeneralization][0].answer(),
        "North America"
    );
}

#[test]
fn malformed_samples_name_record_and_field() {
    assert_eq!(
        error(Dataset::ZsRE, "malformed_target_new.json"),
        ": record 1: field `target_new`: expected a string, found a number"
    );
    assert_eq!(
        error(Dataset::WikiRecent, "malformed_missing_prompt.json"),
        ": record 0: field `prompt`: missing"
    );
    assert_eq!(
        error(Dataset::WikiCounterfact, "malformed_probe_answer.json"),
        ": record 0: field `portability.Reasoning[1].ground_truth`: expected a string, a list of strings or a list of lists of strings, found a number"
    );
    assert_eq!(
        error(Dataset::WikiRecent, "malformed_empty_answers.json"),
        ": record 0: field `locality.Forgetfulness[0].ground_truth`: expected at least one answer, found an empty list"
    );
    assert_eq!(
        error(Dataset::WikiCounterfact, "malformed_unknown_kind.json"),
        ": record 0: field `portability.reasoning`: unknown sub-type (expected one of: Reasoning, Subject_Aliasing, Logical_Generalization)"
    );
    assert_eq!(
        error(Dataset::WikiRecent, "malformed_not_array.json"),
        ": expected a JSON array of records, found an object"
    );
    assert!(
        error(Dataset::WikiRecent, "malformed_invalid_json.json").starts_with(": invalid JSON: ")
    );
    assert_eq!(
        parse_err(Dataset::ZsRE, " [ ] "),
        "s.json: no records (an empty JSON array); is this the right file?"
    );
    // dataset-specific requirements: ZsRE needs a rephrase prompt, counterfact a ground truth
    assert_eq!(
        parse_err(
            Dataset::ZsRE,
            r#"[{"subject":"A","prompt":"P","target_new":"T","ground_truth":["G"]}]"#
        ),
        "s.json: record 0: field `rephrase_prompt`: missing"
    );
    assert_eq!(
        error(Dataset::WikiCounterfact, "wiki_recent_valid.json"),
        ": record 0: field `ground_truth`: missing"
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let err = load_cases(Dataset::ZsRE, sample("no_such_file.json")).unwrap_err();
    assert!(matches!(err, EvalError::Io { .. }));
    assert!(err.to_string().contains("no_such_file.json: cannot read"));
}
