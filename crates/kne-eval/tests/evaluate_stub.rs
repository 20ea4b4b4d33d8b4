//! `evaluate_case` on a stub model, every number computed by hand.

mod common;

use std::collections::BTreeMap;

use common::Stub;
use kne_eval::EvalError;
use kne_eval::data::{Dataset, EditCase, LocalityKind, PortabilityKind, Probe};
use kne_eval::metrics::{
    EvalConfig, PreEditCache, compute_pre_edit, evaluate_case, evaluate_case_with_model, summarize,
};

fn probe(prompt: &str, answer: &str) -> Probe {
    Probe {
        prompt: prompt.to_owned(),
        answers: vec![vec![answer.to_owned(), "alias".to_owned()]],
    }
}

fn case() -> EditCase {
    let mut portability = BTreeMap::new();
    portability.insert(
        PortabilityKind::Reasoning,
        vec![probe("r1 is", "b"), probe("r2 is", "c")],
    );
    portability.insert(
        PortabilityKind::SubjectAliasing,
        vec![probe("s1 is", "b c")],
    );
    let mut locality = BTreeMap::new();
    locality.insert(
        LocalityKind::RelationSpecificity,
        vec![probe("l1 is", "c d"), probe("l2 is", "x y")],
    );
    locality.insert(LocalityKind::Forgetfulness, vec![probe("f1 is", "c")]);
    EditCase {
        dataset: Dataset::WikiCounterfact.into(),
        index: 7,
        subject: "A".into(),
        prompt: "Where is A ?".into(),
        target_new: "b c d".into(),
        ground_truth: Some(vec!["z".into()]),
        rephrase: Some("A is where ?".into()),
        portability,
        locality,
    }
}

const THE_CAT: f64 = 0.990_316_864_818_222_9; // see metrics::fluency::entropy tests

#[test]
fn hand_computed_case() {
    let case = case();
    let mut pre = Stub::new(&[]); // the unedited model predicts every answer token
    let mut post = Stub::new(&["c"]); // the edited one gets every "c" wrong
    post.generated = "the cat the cat the cat".into();
    let scores =
        evaluate_case_with_model(&case, &mut pre, &mut post, &EvalConfig::default()).unwrap();

    // target "b c d": b right, c wrong, d right
    assert_eq!(scores.edit_success, Some(2.0 / 3.0));
    assert_eq!(scores.rephrase, Some(2.0 / 3.0));
    // Reasoning: "b" 1, "c" 0 -> 0.5; Subject_Aliasing: "b c" -> 0.5
    assert_eq!(scores.reasoning, Some(0.5));
    assert_eq!(scores.subject_aliasing, Some(0.5));
    assert_eq!(scores.logical_generalization, None);
    assert_eq!(scores.portability, Some(0.5));
    // Relation_Specificity: "c d" agrees on 1 of 2, "x y" on 2 of 2 -> 0.75; Forgetfulness "c" -> 0
    assert_eq!(scores.relation_specificity, Some(0.75));
    assert_eq!(scores.forgetfulness, Some(0.0));
    assert_eq!(scores.locality, Some(0.375));
    assert!((scores.fluency.unwrap() - THE_CAT).abs() < 1e-12);
    assert_eq!(scores.generated.as_deref(), Some("the cat the cat the cat"));
    // all teacher-forced requests in one batch per model
    assert_eq!((pre.calls, post.calls), (1, 1));

    let summary = summarize(&[scores]);
    assert!((summary.edit_success.mean.unwrap() - 200.0 / 3.0).abs() < 1e-9);
    assert_eq!(summary.locality.mean, Some(37.5));
    assert!((summary.fluency.mean.unwrap() - 99.031_686_481_8).abs() < 1e-6);
}

#[test]
fn unedited_model_has_locality_100() {
    let case = case();
    let mut model = Stub::new(&["c", "x"]); // wrong on some ground-truth tokens: irrelevant
    let pre = compute_pre_edit(&case, &mut model).unwrap();
    let cfg = EvalConfig {
        generation: None,
        ..EvalConfig::default()
    };
    let scores = evaluate_case(&case, &pre, &mut model, &cfg).unwrap();
    assert_eq!(scores.relation_specificity, Some(1.0));
    assert_eq!(scores.forgetfulness, Some(1.0));
    assert_eq!(scores.fluency, None);
    let summary = summarize(&[scores]);
    assert_eq!(summary.locality.mean, Some(100.0));
    assert_eq!(summary.relation_specificity.mean, Some(100.0));
    assert_eq!(summary.forgetfulness.mean, Some(100.0));
}

#[test]
fn cache_round_trips_and_detects_mismatch() {
    let case = case();
    let mut pre = Stub::new(&[]);
    let mut cache = PreEditCache::new("stub-model", Dataset::WikiCounterfact);
    cache.get_or_compute(&case, &mut pre).unwrap();
    cache.get_or_compute(&case, &mut pre).unwrap();
    assert_eq!(pre.calls, 1, "second lookup is served from the cache");

    let path = std::env::temp_dir().join(format!("kne-eval-cache-{}.json", std::process::id()));
    cache.save(&path).unwrap();
    let loaded = PreEditCache::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded, cache);

    let cfg = EvalConfig {
        generation: None,
        ..EvalConfig::default()
    };
    let mut post = Stub::new(&[]);
    let scores = evaluate_case(&case, loaded.get(&case).unwrap(), &mut post, &cfg).unwrap();
    assert_eq!(scores.locality, Some(1.0));

    // another tokenizer: the cached answer tokens no longer match
    let mut other = Stub::new(&[]);
    other.id_shift = 1;
    let err = evaluate_case(&case, loaded.get(&case).unwrap(), &mut other, &cfg).unwrap_err();
    assert!(
        matches!(err, EvalError::CacheMismatch { index: 7, .. }),
        "{err}"
    );

    // another case
    let mut second = case.clone();
    second.index = 8;
    assert!(loaded.get(&second).is_none());
    let err = evaluate_case(&second, loaded.get(&case).unwrap(), &mut post, &cfg).unwrap_err();
    assert!(err.to_string().contains("wiki_cf case 7"), "{err}");
}

#[test]
fn wrong_prediction_shapes_are_errors() {
    let case = case();
    let pre = compute_pre_edit(&case, &mut Stub::new(&[])).unwrap();
    let mut post = Stub::new(&[]);
    post.drop_a_row = true;
    let err = evaluate_case(&case, &pre, &mut post, &EvalConfig::default()).unwrap_err();
    assert!(matches!(err, EvalError::ScorerShape { .. }), "{err}");
}

#[test]
fn cases_without_probes_or_rephrase() {
    let mut case = case();
    case.rephrase = None;
    case.portability.clear();
    case.locality.clear();
    let mut model = Stub::new(&[]);
    let pre = compute_pre_edit(&case, &mut model).unwrap();
    assert_eq!(model.calls, 0, "nothing to predict");
    let scores = evaluate_case(
        &case,
        &pre,
        &mut model,
        &EvalConfig {
            generation: None,
            ..EvalConfig::default()
        },
    )
    .unwrap();
    assert_eq!(scores.edit_success, Some(1.0));
    assert_eq!(
        (scores.rephrase, scores.portability, scores.locality),
        (None, None, None)
    );
    let json = serde_json::to_string(&scores).unwrap();
    assert!(
        json.contains("\"dataset\":\"wiki_cf\"") && !json.contains("generated"),
        "{json}"
    );
}
