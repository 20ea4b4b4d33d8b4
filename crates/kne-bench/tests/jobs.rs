//! `kne reproduce --jobs N`: the cases as N shard processes after one localization, with
//! the same rows and reports as one process.

use std::process::Command;

mod common;

use common::{assert_rows_have_numbers, comparable_rows, model_path, rows_text, tiny_experiment};

fn reproduce(experiment: &std::path::Path, run: &std::path::Path, jobs: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_kne"))
        .args(["reproduce", "--experiment"])
        .arg(experiment)
        .arg("--model")
        .arg(model_path())
        .arg("--run")
        .arg(run)
        .args(["--jobs", jobs])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "--jobs {jobs}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn jobs_give_the_rows_and_reports_of_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let experiment = tmp.path().join("tiny.toml");
    let text = tiny_experiment(3).replace(r#"methods = ["kne"]"#, r#"methods = ["ft", "kne"]"#);
    std::fs::write(&experiment, text).unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    reproduce(&experiment, &one, "1");
    reproduce(&experiment, &two, "2");
    for cell in ["ft", "kne"] {
        let dir = |run: &std::path::Path| run.join("tiny/wiki_cf").join(cell);
        let (a, b) = (rows_text(&dir(&one)), rows_text(&dir(&two)));
        assert_rows_have_numbers(&a);
        assert_eq!(comparable_rows(&a).len(), 3, "{cell}");
        assert_eq!(comparable_rows(&a), comparable_rows(&b), "{cell}");
        // Two shard files: the cases really ran as two processes.
        let shards = std::fs::read_dir(dir(&two))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with("rows.shard-")
            })
            .count();
        assert_eq!(shards, 2, "{cell}");
    }
    // One localization, read by both shards: the same ensemble as one process.
    let ensemble =
        |run: &std::path::Path| std::fs::read(run.join("tiny/wiki_cf/kne/ensemble.json")).unwrap();
    assert_eq!(ensemble(&one), ensemble(&two));
    // The reports are written at the end, as by one process.
    let summary =
        |run: &std::path::Path| std::fs::read_to_string(run.join("tiny/summary.csv")).unwrap();
    assert_eq!(summary(&one), summary(&two));
}
