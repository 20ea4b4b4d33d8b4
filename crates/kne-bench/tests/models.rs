//! Experiments that name their models (`[[models]]`, Table 2): per-model cells and settings,
//! clear errors for bad entries, and a run that keeps each model's rows and caches apart.

use std::path::{Path, PathBuf};

use kne_bench::harness::plan::cells;
use kne_bench::harness::{Experiment, report, run};

mod common;

use common::{
    assert_rows_have_numbers, comparable_rows, model_path, rows_text, run_options, tiny_experiment,
};

/// The tiny experiment on two entries of the default model: `a` with the experiment's
/// settings, `b` with its own learning rate and `extra` added to its entry.
fn two_models(cases: usize, extra: &str) -> String {
    let model = model_path().display().to_string();
    let entries = format!(
        r#"
[[models]]
key = "a"
name = "SmolLM2 as is"
path = "{model}"

[[models]]
key = "b"
name = "SmolLM2, its own learning rate"
path = "{model}"
{extra}
[models.kne.edit]
learning_rate = 0.01

[eval]"#
    );
    tiny_experiment(cases).replacen("\n[eval]", &entries, 1)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn each_model_has_its_cells_with_the_overrides_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let experiment = Experiment::load(&write(tmp.path(), "two.toml", &two_models(1, ""))).unwrap();
    let cells = cells(&experiment, false).unwrap();
    let labels: Vec<&str> = cells.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["kne@a", "kne@b"]);
    assert_eq!(cells[0].model.as_deref(), Some("a"));
    assert_eq!(
        cells[0].kne, experiment.kne,
        "no override: the experiment's settings"
    );
    assert_eq!(cells[1].kne.edit.learning_rate, 0.01);
    // Only the overridden field differs; its neighbours in [kne.edit] are kept.
    let mut b = cells[1].kne.clone();
    b.edit.learning_rate = experiment.kne.edit.learning_rate;
    assert_eq!(b, experiment.kne);
    assert_eq!(cells[1].kne.edit.steps, 20);
}

#[test]
fn bad_model_entries_name_the_field_and_model() {
    let tmp = tempfile::tempdir().unwrap();
    let err = |text: String| {
        let path = write(tmp.path(), "bad.toml", &text);
        format!("{:#}", Experiment::load(&path).unwrap_err())
    };
    let e = err(two_models(1, "").replace("learning_rate = 0.01", "learning_rat = 0.01"));
    assert!(
        e.contains("bad.toml") && e.contains("models.kne") && e.contains("`b`"),
        "{e}"
    );
    assert!(e.contains("learning_rat"), "{e}");
    let e = err(two_models(1, "[models.kne]\np = 1.5\n"));
    assert!(
        e.contains("bad.toml")
            && e.contains("model `b`")
            && e.contains("field `models.kne.p` = 1.5 is outside (0, 1)"),
        "{e}"
    );
    let e = err(two_models(1, "").replace("key = \"b\"", "key = \"a\""));
    assert!(e.contains("`a` appears twice"), "{e}");
    let e = err(two_models(1, "").replace("key = \"b\"", "key = \"b/c\""));
    assert!(e.contains("field `models.key` = `b/c`"), "{e}");
}

#[test]
fn a_missing_model_is_named_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let text = two_models(1, "");
    let model = model_path().display().to_string();
    // The second entry's file is missing: the run must stop before the first model runs.
    let last = text.rfind(&model).unwrap();
    let text = format!(
        "{}/nonexistent/gemma.gguf{}",
        &text[..last],
        &text[last + model.len()..]
    );
    let out = tmp.path().join("out");
    let err = format!(
        "{:#}",
        run(&run_options(
            write(tmp.path(), "two.toml", &text),
            &out,
            None
        ))
        .unwrap_err()
    );
    assert!(
        err.contains("two.toml")
            && err.contains("/nonexistent/gemma.gguf not found")
            && err.contains("`b`"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_two_model_run_keeps_rows_and_caches_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let two = write(tmp.path(), "two.toml", &two_models(1, ""));
    run(&run_options(two.clone(), tmp.path(), None)).unwrap();
    let ds = tmp.path().join("tiny/wiki_cf");
    for file in ["pre_edit@a.json", "pre_edit@b.json"] {
        assert!(ds.join(file).exists(), "{file}");
    }
    let a = rows_text(&ds.join("kne@a"));
    let b = rows_text(&ds.join("kne@b"));
    assert_rows_have_numbers(&a);
    assert_rows_have_numbers(&b);
    assert_ne!(
        comparable_rows(&a),
        comparable_rows(&b),
        "another learning rate gives another edit"
    );

    // Model `a` has the experiment's own settings: its numbers equal a run without [[models]].
    let single = write(tmp.path(), "single.toml", &tiny_experiment(1));
    let single_out = tmp.path().join("single");
    run(&run_options(single, &single_out, None)).unwrap();
    let numbers = |text: &str| -> Vec<String> {
        comparable_rows(text)
            .iter()
            .map(|row| {
                let mut v: serde_json::Value = serde_json::from_str(row).unwrap();
                let v = v.as_object_mut().unwrap();
                for key in ["cell", "config_hash"] {
                    v.remove(key);
                }
                serde_json::Value::Object(v.clone()).to_string()
            })
            .collect()
    };
    assert_eq!(
        numbers(&a),
        numbers(&rows_text(&single_out.join("tiny/wiki_cf/kne")))
    );

    let experiment = Experiment::load(&two).unwrap();
    report::write_reports(&experiment, &tmp.path().join("tiny"), false, "test").unwrap();
    let md = std::fs::read_to_string(tmp.path().join("tiny/summary.md")).unwrap();
    assert!(md.contains("kne@a") && md.contains("kne@b"), "{md}");
    // Settings compared on the same cases: each later entry is paired with the first.
    assert!(
        md.contains("paired difference to `kne@a`") && md.contains("| kne@b |"),
        "{md}"
    );
}
