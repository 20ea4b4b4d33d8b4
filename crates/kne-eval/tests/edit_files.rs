//! A researcher's own edit files: each of the three layouts in `datasets/samples/my_edits_*`
//! is recognised and becomes the `EditCase`s written out below by hand; malformed files fail
//! with the file, the record and the field.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kne_eval::data::{
    DataFormat, DataSource, EditCase, EditFile, LocalityKind, PortabilityKind, Probe,
    parse_edit_file,
};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/samples")
        .join(name)
}

fn probe(prompt: &str, answers: &[&[&str]]) -> Probe {
    Probe {
        prompt: prompt.to_owned(),
        answers: answers
            .iter()
            .map(|a| a.iter().map(|s| (*s).to_owned()).collect())
            .collect(),
    }
}

fn case(name: &str, index: usize, subject: &str, prompt: &str, target_new: &str) -> EditCase {
    EditCase {
        dataset: name.to_owned(),
        index,
        subject: subject.to_owned(),
        prompt: prompt.to_owned(),
        target_new: target_new.to_owned(),
        ground_truth: None,
        rephrase: None,
        portability: BTreeMap::new(),
        locality: BTreeMap::new(),
    }
}

fn load(name: &str) -> (DataFormat, Vec<EditCase>) {
    let loaded = EditFile::new(sample(name)).unwrap().load().unwrap();
    (loaded.format, loaded.cases)
}

#[test]
fn knowedit_layout_with_only_the_required_fields() {
    let (format, cases) = load("my_edits_knowedit.json");
    assert_eq!(format, DataFormat::KnowEdit);
    let mut first = case(
        "my_edits_knowedit",
        0,
        "Sample Person",
        "The native language of Sample Person is",
        "Dutch",
    );
    first.ground_truth = Some(vec!["French".into()]);
    first.rephrase = Some("Sample Person grew up speaking".into());
    first.portability.insert(
        PortabilityKind::SubjectAliasing,
        vec![probe("The native language of S. Person is", &[&["Dutch"]])],
    );
    first.locality.insert(
        LocalityKind::RelationSpecificity,
        vec![probe("The occupation of Sample Person is", &[&["writer"]])],
    );
    let second = case(
        "my_edits_knowedit",
        1,
        "Example Town",
        "Example Town is located in the country of",
        "Norway",
    );
    assert_eq!(cases, vec![first, second]);
}

#[test]
fn easyedit_flat_layout_single_and_listed_locality() {
    let (format, cases) = load("my_edits_easyedit.json");
    assert_eq!(format, DataFormat::EasyEdit);
    let name = "my_edits_easyedit";
    let mut first = case(
        name,
        0,
        "Sample Person",
        "The native language of Sample Person is",
        "Dutch",
    );
    first.ground_truth = Some(vec!["French".into()]);
    first.rephrase = Some("Sample Person grew up speaking".into());
    first.locality.insert(
        LocalityKind::Neighborhood,
        vec![probe(
            "The native language of Another Person is",
            &[&["French"]],
        )],
    );
    let mut second = case(
        name,
        1,
        "Example Town",
        "Example Town is located in the country of",
        "Norway",
    );
    second.ground_truth = Some(vec!["Sweden".into()]);
    second.rephrase = Some("Example Town can be found in".into());
    second.locality.insert(
        LocalityKind::Neighborhood,
        vec![
            probe("Other Town is located in the country of", &[&["Sweden"]]),
            probe("Third Town lies in", &[&["Sweden", "Kingdom of Sweden"]]),
        ],
    );
    assert_eq!(cases, vec![first, second]);
}

#[test]
fn easyedit_mend_spelling() {
    let (format, cases) = load("my_edits_mend.json");
    assert_eq!(format, DataFormat::EasyEdit);
    let mut expected = case(
        "my_edits_mend",
        0,
        "Sample Person",
        "What is the native language of Sample Person?",
        "Dutch",
    );
    expected.ground_truth = Some(vec!["French".into()]);
    expected.rephrase = Some("Which language did Sample Person grow up speaking?".into());
    expected.locality.insert(
        LocalityKind::Neighborhood,
        vec![probe(
            "nq question: who wrote the sample novel",
            &[&["Another Person"]],
        )],
    );
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0], expected);
    assert_eq!(cases[1].index, 1);
    assert_eq!(cases[1].target_new, "Nokia");
}

#[test]
fn rome_counterfact_layout() {
    let (format, cases) = load("my_edits_counterfact.json");
    assert_eq!(format, DataFormat::Counterfact);
    let mut expected = case(
        "my_edits_counterfact",
        0,
        "Sample Person",
        "The mother tongue of Sample Person is",
        "Dutch",
    );
    expected.ground_truth = Some(vec!["French".into()]);
    expected.rephrase = Some("Rain fell all day. Sample Person spoke the language".into());
    expected.locality.insert(
        LocalityKind::Neighborhood,
        vec![
            probe("The mother tongue of Another Person is", &[&["French"]]),
            probe("Third Person, a native", &[&["French"]]),
        ],
    );
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0], expected);
    // Record 1: an empty `attribute_prompts` list; its neighbour keeps the true target.
    assert_eq!(cases[1].target_new, "Nokia");
    assert_eq!(
        cases[1].locality[&LocalityKind::Neighborhood],
        vec![probe("Another Phone is a product of", &[&["Apple"]])]
    );
}

#[test]
fn a_forced_format_overrides_detection_and_a_source_loads_the_same() {
    let path = sample("my_edits_easyedit.json");
    // Read as KnowEdit, the flat locality keys are ignored (unknown keys are).
    let forced = EditFile::new(&path)
        .unwrap()
        .with_format(DataFormat::KnowEdit)
        .load()
        .unwrap();
    assert_eq!(forced.format, DataFormat::KnowEdit);
    assert!(forced.cases.iter().all(|c| c.locality.is_empty()));
    let file = EditFile::new(&path).unwrap().with_name("mine").unwrap();
    let source = DataSource::File(file.clone());
    assert_eq!(source.name(), "mine");
    let via_source = source.load(std::path::Path::new("/nonexistent")).unwrap();
    assert_eq!(via_source, file.load().unwrap().cases);
    assert!(via_source.iter().all(|c| c.dataset == "mine"));
}

fn error_of(name: &str) -> String {
    let path = sample(name);
    let msg = EditFile::new(&path)
        .unwrap()
        .load()
        .unwrap_err()
        .to_string();
    let prefix = path.display().to_string();
    assert!(msg.starts_with(&prefix), "{msg}");
    msg[prefix.len()..].to_owned()
}

#[test]
fn malformed_files_name_record_and_field() {
    assert_eq!(
        error_of("malformed_counterfact_template.json"),
        ": record 0: field `requested_rewrite.prompt`: expected one `{}` for the subject, found 0"
    );
    assert_eq!(
        error_of("malformed_easyedit_locality.json"),
        ": record 0: field `locality_ground_truth`: expected a list (one answer per prompt of \
         `locality_prompt`), found a string"
    );
    let parse = |json: &str| {
        parse_edit_file(std::path::Path::new("m.json"), json.as_bytes(), "m", None)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        parse(
            r#"[{"subject":"S","prompt":"P","target_new":"T","locality_prompt":["a","b"],"locality_ground_truth":["x"]}]"#
        ),
        "m.json: record 0: field `locality_ground_truth`: 1 answers for 2 prompts of `locality_prompt`"
    );
    assert_eq!(
        parse(r#"[{"subject":"S","src":"P","loc":"L"}]"#),
        "m.json: record 0: field `target_new` or `alt`: missing"
    );
    assert_eq!(
        parse(
            r#"[{"requested_rewrite":{"prompt":"{} is","subject":"S","target_new":{"id":"Q1"}}}]"#
        ),
        "m.json: record 0: field `requested_rewrite.target_new.str`: missing"
    );
    assert_eq!(
        parse(
            r#"[{"requested_rewrite":{"prompt":"{} is","subject":"S","target_new":"T"},"neighborhood_prompts":["N"]}]"#
        ),
        "m.json: record 0: field `requested_rewrite.target_true`: missing, though \
         `neighborhood_prompts` are given (their answer)"
    );
    assert_eq!(
        parse(r#"[{"requested_rewrite":{"prompt":"{} is","target_new":"T"}}]"#),
        "m.json: record 0: field `requested_rewrite.subject`: missing"
    );
    // A later record in another layout fails on its own fields: nothing is half-loaded.
    assert_eq!(
        parse(r#"[{"subject":"S","prompt":"P","target_new":"T"},{"requested_rewrite":{}}]"#),
        "m.json: record 1: field `subject`: missing"
    );
}
