//! The real KnowEdit files load completely, with the record and sub-type counts of
//! `shared/datasets/PROVENANCE.md`. The data directory is `$KNE_DATA`, else
//! `<workspace>/data/knowedit`, else `<workspace>/../shared/datasets/knowedit`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kne_eval::data::{
    Dataset, EditCase, LocalityKind, PortabilityKind, default_data_dir, load_cases,
};

fn load(dataset: Dataset, file: &str) -> Vec<EditCase> {
    let path: PathBuf = default_data_dir().join(file);
    assert!(
        path.is_file(),
        "KnowEdit file {} not found (set KNE_DATA to the knowedit directory)",
        path.display()
    );
    load_cases(dataset, &path).unwrap_or_else(|e| panic!("{e}"))
}

/// (records having the sub-type, probes of the sub-type) per key.
fn counts(cases: &[EditCase]) -> BTreeMap<&'static str, (usize, usize)> {
    let mut out = BTreeMap::new();
    for c in cases {
        for (k, v) in &c.portability {
            let e = out.entry(k.key()).or_insert((0, 0));
            e.0 += 1;
            e.1 += v.len();
        }
        for (k, v) in &c.locality {
            let e = out.entry(k.key()).or_insert((0, 0));
            e.0 += 1;
            e.1 += v.len();
        }
    }
    out
}

fn assert_indices(cases: &[EditCase], dataset: Dataset) {
    for (i, c) in cases.iter().enumerate() {
        assert_eq!((c.index, c.dataset.as_str()), (i, dataset.name()));
        assert!(
            c.portability
                .values()
                .chain(c.locality.values())
                .flatten()
                .all(|p| p.is_scored())
        );
    }
}

#[test]
fn zsre_test_all() {
    let cases = load(Dataset::ZsRE, Dataset::ZsRE.test_file());
    assert_eq!(cases.len(), 1301);
    assert_indices(&cases, Dataset::ZsRE);
    assert!(
        cases
            .iter()
            .all(|c| c.rephrase.is_some() && c.ground_truth.is_some() && c.portability.len() == 1)
    );
    let n = counts(&cases);
    assert_eq!(n["Reasoning"], (771, 771));
    assert_eq!(n["Logical_Generalization"], (267, 267));
    assert_eq!(n["Subject_Aliasing"], (263, 263));
    assert_eq!(n["Relation_Specificity"], (1301, 2602));
    assert!(!n.contains_key("Forgetfulness"));
    let first = &cases[0];
    assert_eq!(first.subject, "Epaspidoceras");
    assert_eq!(first.target_new, "Noctuidae");
    assert_eq!(
        first.portability[&PortabilityKind::Reasoning][0].answer(),
        "Owlet moths"
    );
    assert_eq!(
        first.locality[&LocalityKind::RelationSpecificity][0].answer(),
        "genus"
    );
}

#[test]
fn wiki_counterfact_test() {
    let cases = load(
        Dataset::WikiCounterfact,
        Dataset::WikiCounterfact.test_file(),
    );
    assert_eq!(cases.len(), 839);
    assert_indices(&cases, Dataset::WikiCounterfact);
    assert!(
        cases
            .iter()
            .all(|c| c.rephrase.is_some() && c.ground_truth.as_ref().is_some_and(|g| g.len() == 1))
    );
    assert_eq!(
        cases.iter().filter(|c| c.portability.is_empty()).count(),
        77
    );
    let n = counts(&cases);
    assert_eq!(n["Reasoning"], (337, 2082));
    assert_eq!(n["Subject_Aliasing"], (658, 2358));
    assert_eq!(n["Logical_Generalization"], (207, 405));
    assert_eq!(n["Relation_Specificity"], (829, 5486));
    assert_eq!(n["Forgetfulness"], (468, 468));
    // alias lists: the scored answer is the first alias of the first answer
    let leo = cases
        .iter()
        .find(|c| c.subject == "Leonardo DiCaprio")
        .expect("the PROVENANCE example record");
    assert_eq!(
        leo.portability[&PortabilityKind::Reasoning][0].answer(),
        "Syrian pound"
    );
}

#[test]
fn wiki_counterfact_train() {
    let cases = load(Dataset::WikiCounterfact, "wiki_counterfact/train_cf.json");
    assert_eq!(cases.len(), 1427);
    assert!(cases.iter().all(|c| c.rephrase.is_none()));
    assert_eq!(cases.iter().filter(|c| c.portability.is_empty()).count(), 8);
    let n = counts(&cases);
    assert_eq!(n["Reasoning"].0, 483);
    assert_eq!(n["Subject_Aliasing"].0, 1409);
    assert_eq!(n["Logical_Generalization"].0, 302);
    assert_eq!(n["Relation_Specificity"].0, 1253);
    assert_eq!(n["Forgetfulness"].0, 781);
}

#[test]
fn wiki_recent_train() {
    let cases = load(Dataset::WikiRecent, Dataset::WikiRecent.test_file());
    assert_eq!(cases.len(), 570);
    assert_indices(&cases, Dataset::WikiRecent);
    assert!(
        cases
            .iter()
            .all(|c| c.ground_truth.is_none() && c.rephrase.is_none())
    );
    // portability missing in record 246 and empty in 466 others; locality empty in 155
    assert!(cases[246].portability.is_empty());
    assert_eq!(
        cases.iter().filter(|c| c.portability.is_empty()).count(),
        467
    );
    assert_eq!(cases.iter().filter(|c| c.locality.is_empty()).count(), 155);
    let n = counts(&cases);
    assert_eq!(n["Logical_Generalization"], (58, 223));
    assert_eq!(n["Reasoning"], (88, 476));
    assert_eq!(n["Subject_Aliasing"], (36, 52));
    assert_eq!(n["Relation_Specificity"], (403, 1641));
    assert_eq!(n["Forgetfulness"], (298, 298));
}
