//! The reproduce harness end to end on SmolLM2 with a tiny experiment: rows and reports
//! are written, a rerun resumes without duplicating rows, shards merge to the same
//! summary, and two runs of one config give identical rows.

use std::path::{Path, PathBuf};

use kne_bench::harness::{Experiment, RunOptions, report, run};
use kne_model::paths;

const EXPERIMENT: &str = r#"
name = "tiny"
title = "tiny harness test"
datasets = ["wiki_cf"]
methods = ["kne"]
cases = 3
batch_size = 1
seed = 7

[eval]
generation = { max_total_tokens = 30, decoding = { kind = "top_k", k = 5, seed = 0 }, stop_at_eos = false }

[kne]
p = 0.02
localize = 1

[kne.attribution]
steps = 2
layers = [18]

[kne.edit]
# Stronger and shorter than the defaults: the test checks the plumbing, not the method.
learning_rate = 0.05
steps = 20

[paper.wiki_cf.kne]
es = 99.02
"#;

fn setup(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, EXPERIMENT).unwrap();
    path
}

fn options(experiment: PathBuf, out: &Path, shard: Option<(usize, usize)>) -> RunOptions {
    let model = paths::default_model_path();
    assert!(
        model.exists(),
        "run `cargo xtask fetch-model` ({} missing)",
        model.display()
    );
    RunOptions {
        experiment,
        model,
        data_dir: kne_eval::data::default_data_dir(),
        out_root: out.to_path_buf(),
        root: paths::workspace_root(),
        full: false,
        shard,
    }
}

fn rows_text(dir: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// Rows without the wall times (the only fields allowed to differ between runs).
fn without_wall_time(text: &str) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("wall_s");
            if let Some(edit) = v.get_mut("edit").and_then(|e| e.as_object_mut()) {
                edit.remove("wall_seconds");
            }
            v
        })
        .collect();
    rows.sort_by_key(|v| v["index"].as_u64());
    rows
}

#[test]
fn runs_resumes_shards_and_repeats_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let experiment = setup(tmp.path());

    let first = tmp.path().join("first");
    run(&options(experiment.clone(), &first, None)).unwrap();
    let cell = first.join("tiny/wiki_cf/kne");
    let text = rows_text(&cell);
    assert_eq!(text.lines().count(), 3, "one row per case");

    // A rerun finds every case done: no row is added.
    run(&options(experiment.clone(), &first, None)).unwrap();
    assert_eq!(rows_text(&cell), text, "resume must not duplicate rows");

    // Reports: CSV with the paper column, markdown with our number and the paper's.
    let parsed = Experiment::load(&experiment).unwrap();
    let table = report::write_reports(&parsed, &first.join("tiny"), false, "test").unwrap();
    let (_, stats, errors) = &table["wiki_cf"][0];
    assert_eq!(*errors, 0);
    assert_eq!(stats[0].count, 3);
    let es = stats[0].mean.unwrap();
    assert!(es > 50.0, "KNE edit success {es}");
    let md = std::fs::read_to_string(first.join("tiny/summary.md")).unwrap();
    assert!(md.contains("(99.02)"), "{md}");
    let csv = std::fs::read_to_string(first.join("tiny/summary.csv")).unwrap();
    assert!(csv.contains("wiki_cf,kne,kne,es,"), "{csv}");

    // The same config again, in two shards: identical rows (determinism), merged.
    let second = tmp.path().join("second");
    run(&options(experiment.clone(), &second, Some((0, 2)))).unwrap();
    run(&options(experiment, &second, Some((1, 2)))).unwrap();
    let sharded = rows_text(&second.join("tiny/wiki_cf/kne"));
    assert_eq!(without_wall_time(&sharded), without_wall_time(&text));
}

#[test]
fn a_bad_experiment_file_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.toml");
    std::fs::write(&path, EXPERIMENT.replace("p = 0.02", "p = 1.5")).unwrap();
    let err = format!("{:#}", Experiment::load(&path).unwrap_err());
    assert!(err.contains("bad.toml") && err.contains("kne.p"), "{err}");
    std::fs::write(&path, EXPERIMENT.replace("[\"wiki_cf\"]", "[\"wiki_xx\"]")).unwrap();
    let err = format!("{:#}", Experiment::load(&path).unwrap_err());
    assert!(err.contains("datasets") && err.contains("wiki_xx"), "{err}");
}
