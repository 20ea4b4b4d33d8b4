//! A researcher's own edit files, in each layout `kne` reads, through `kne eval --data` and
//! through `kne reproduce` with `data = "…"` in the experiment (issue 18).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{model_path, rows_text};

fn sample(name: &str) -> PathBuf {
    kne_model::paths::workspace_root()
        .join("datasets/samples")
        .join(name)
}

fn kne(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kne"))
        .args(args)
        .output()
        .unwrap()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The layouts, with the sample file and the rows' dataset name.
const LAYOUTS: [(&str, &str); 4] = [
    ("knowedit", "my_edits_knowedit.json"),
    ("easyedit", "my_edits_easyedit.json"),
    ("easyedit", "my_edits_mend.json"),
    ("counterfact", "my_edits_counterfact.json"),
];

#[test]
fn eval_reads_each_layout_and_names_the_rows_after_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    for (format, file) in LAYOUTS {
        let out = tmp.path().join(file);
        let path = sample(file);
        let output = kne(&[
            "eval",
            "--data",
            path.to_str().unwrap(),
            "--no-fluency",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stem = file.trim_end_matches(".json");
        let run = read_json(&out.join("run.json"));
        assert_eq!(run["dataset"], stem, "{file}");
        assert_eq!(run["dataset_format"], format, "{file}");
        let rows: Vec<serde_json::Value> = std::fs::read_to_string(out.join("rows.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!rows.is_empty(), "{file}");
        for row in &rows {
            assert_eq!(row["dataset"], stem, "{file}");
            let es = row["edit_success"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&es), "{file}: {row}");
        }
        // Every sample's first record has a rephrase prompt: Generalization is reported.
        assert!(rows[0]["rephrase"].is_number(), "{file}: {}", rows[0]);
        let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert!(summary.contains("rephrase"), "{file}: {summary}");
    }
    // --format forces a layout; the wrong one is an error naming the file and field.
    let path = sample("my_edits_counterfact.json");
    let output = kne(&[
        "eval",
        "--data",
        path.to_str().unwrap(),
        "--format",
        "easyedit",
        "--out",
        tmp.path().join("forced").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        err.contains("my_edits_counterfact.json") && err.contains("record 0"),
        "{err}"
    );
    assert!(!tmp.path().join("forced").exists(), "nothing is written");
    // --dataset and --data are exclusive.
    let output = kne(&[
        "eval",
        "--dataset",
        "zsre",
        "--data",
        path.to_str().unwrap(),
        "--out",
        "x",
    ]);
    assert!(!output.status.success());
}

/// A tiny KNE experiment on a file: one case evaluated, the ensemble localized on the
/// file's last record (its held-out slice), m = 2 at one layer.
fn own_data_experiment(data: &Path, format: &str) -> String {
    format!(
        r#"
name = "own"
title = "own data"
data = {{ path = "{}", format = "{format}" }}
methods = ["kne"]
cases = 1
holdout = 1

[eval]
{}"#,
        data.display(),
        common::TINY_KNE
    )
}

#[test]
fn reproduce_runs_an_experiment_on_each_layout() {
    let tmp = tempfile::tempdir().unwrap();
    for (format, file) in LAYOUTS {
        let toml = tmp.path().join(format!("{file}.toml"));
        std::fs::write(&toml, own_data_experiment(&sample(file), format)).unwrap();
        let out = tmp.path().join(file);
        let mut options = common::run_options(toml.clone(), &out, None);
        options.model = model_path();
        kne_bench::harness::run(&options).unwrap_or_else(|e| panic!("{file}: {e:#}"));
        let experiment = kne_bench::harness::Experiment::load(&toml).unwrap();
        kne_bench::harness::report::write_reports(&experiment, &out.join("own"), false, "test")
            .unwrap();
        let stem = file.trim_end_matches(".json");
        let cell = out.join("own").join(stem).join("kne");
        let text = rows_text(&cell);
        assert_eq!(text.lines().count(), 1, "{file}: one case evaluated");
        let row: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(row["dataset"], stem);
        assert_eq!(
            row["index"], 0,
            "{file}: the held-out record is never evaluated"
        );
        assert!(row["edit_success"].is_number(), "{file}: {row}");
        let summary = std::fs::read_to_string(out.join("own/summary.md")).unwrap();
        assert!(
            summary.contains(stem) && summary.contains("the experiment's own file"),
            "{file}: {summary}"
        );
    }
}
