//! What the harness tests share: a tiny experiment on SmolLM2 and an exact comparison of
//! result rows.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A tiny KNE experiment: `cases` wiki_cf cases, one fact localized at one layer, m = 2,
/// 30-token fluency generations. Quick to run; it checks the plumbing, not the method.
pub fn tiny_experiment(cases: usize) -> String {
    format!(
        r#"
name = "tiny"
title = "tiny harness test"
datasets = ["wiki_cf"]
methods = ["kne"]
cases = {cases}
batch_size = 1
seed = 7

[eval]
generation = {{ max_total_tokens = 30, decoding = {{ kind = "top_k", k = 5, seed = 0 }}, stop_at_eos = false }}

{TINY_KNE}
[paper.wiki_cf.kne]
es = 99.02
"#
    )
}

/// The `[kne]` tables of the tiny experiments: one fact localized at one layer, m = 2, an
/// edit stronger and shorter than the defaults (the tests check the plumbing, not the
/// method).
pub const TINY_KNE: &str = r#"
[kne]
p = 0.02
localize = 1

[kne.attribution]
steps = 2
layers = [18]

[kne.edit]
learning_rate = 0.05
steps = 20
"#;

/// The default model, or a panic telling how to fetch it.
pub fn model_path() -> PathBuf {
    let model = kne_model::paths::default_model_path();
    assert!(
        model.exists(),
        "run `cargo xtask fetch-model` ({} missing)",
        model.display()
    );
    model
}

/// A run of `experiment` on the default model and data into `out` (quick defaults).
pub fn run_options(
    experiment: PathBuf,
    out: &Path,
    shard: Option<(usize, usize)>,
) -> kne_bench::harness::RunOptions {
    kne_bench::harness::RunOptions {
        experiment,
        model: model_path(),
        data_dir: kne_eval::data::default_data_dir(),
        out_root: out.to_path_buf(),
        root: kne_model::paths::workspace_root(),
        full: false,
        shard,
        localize_only: false,
    }
}

/// The text of every rows file of a cell folder, in file-name order.
pub fn rows_text(dir: &Path) -> String {
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

/// The rows, sorted by case, each as canonical JSON text without its wall times (the only
/// fields allowed to differ between runs). Numbers are written as the shortest decimal
/// that reads back to the same float, so equal text means bit-identical values (and
/// `-0.0` stays distinct from `0.0`, which comparing parsed numbers would not catch).
///
/// Panics if a line is not a whole JSON object or a case appears twice.
pub fn comparable_rows(text: &str) -> Vec<String> {
    let mut rows: Vec<(u64, String)> = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a whole row ({e}): {l:?}"));
            v.as_object_mut().unwrap().remove("wall_s");
            if let Some(edit) = v.get_mut("edit").and_then(|e| e.as_object_mut()) {
                edit.remove("wall_seconds");
            }
            (v["index"].as_u64().unwrap(), v.to_string())
        })
        .collect();
    rows.sort();
    let before = rows.len();
    rows.dedup_by_key(|(i, _)| *i);
    assert_eq!(rows.len(), before, "a case has two rows:\n{text}");
    rows.into_iter().map(|(_, r)| r).collect()
}

/// Panics unless every row has the four metrics and the edit's losses as numbers, so an
/// exact comparison of rows is a comparison of numbers, not of empty fields.
pub fn assert_rows_have_numbers(text: &str) {
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for field in ["edit_success", "portability", "locality", "fluency"] {
            assert!(v[field].is_f64(), "`{field}` is not a number: {line}");
        }
        for field in ["initial_loss", "final_loss"] {
            assert!(v["edit"][field].is_f64(), "`edit.{field}` missing: {line}");
        }
    }
}
