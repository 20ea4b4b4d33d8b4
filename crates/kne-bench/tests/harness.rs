//! The reproduce harness end to end on SmolLM2 with a tiny experiment: rows and reports
//! are written, a rerun resumes without duplicating rows, shards merge to the same
//! summary, and two runs of one config give bit-identical rows, scores and ensembles.

use std::path::{Path, PathBuf};

use kne_bench::harness::{Experiment, report, run};

mod common;

use common::{assert_rows_have_numbers, comparable_rows, rows_text, run_options, tiny_experiment};

fn setup(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, tiny_experiment(3)).unwrap();
    path
}

/// The attribution scores and ensemble files of a run's dataset folder, by name.
fn localization_files(dataset_dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dataset_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("scores-")
        })
        .chain([dataset_dir.join("kne/ensemble.json")])
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn runs_resumes_shards_and_repeats_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let experiment = setup(tmp.path());

    let first = tmp.path().join("first");
    run(&run_options(experiment.clone(), &first, None)).unwrap();
    let cell = first.join("tiny/wiki_cf/kne");
    let text = rows_text(&cell);
    assert_eq!(text.lines().count(), 3, "one row per case");

    // A rerun finds every case done: no row is added.
    run(&run_options(experiment.clone(), &first, None)).unwrap();
    assert_eq!(rows_text(&cell), text, "resume must not duplicate rows");
    // A shard resumed in the same run folder finds the unsharded run's cases done too.
    run(&run_options(experiment.clone(), &first, Some((0, 2)))).unwrap();
    assert_eq!(
        rows_text(&cell),
        text,
        "a shard must not redo cases another layout finished"
    );

    // Reports: CSV with the paper column, markdown with our number and the paper's.
    let parsed = Experiment::load(&experiment).unwrap();
    let table = report::write_reports(&parsed, &first.join("tiny"), false, "test").unwrap();
    let (_, stats, errors) = &table["wiki_cf"][0];
    assert_eq!(*errors, 0);
    assert_eq!(stats[0].count, 3);
    let es = stats[0].mean.unwrap();
    assert!(es > 50.0, "KNE edit success {es}");
    let md = std::fs::read_to_string(first.join("tiny/summary.md")).unwrap();
    assert!(md.contains("*paper* 99.02"), "{md}");
    // Counterfact test records have rephrased prompts: Generalization is reported.
    assert_eq!(stats[4].count, 3);
    assert!(md.contains("| Generalization |"), "{md}");
    // The caption states where the ensemble came from: the train file, not evaluated cases.
    assert!(
        md.contains("first 1 records of `wiki_counterfact/train_cf.json`"),
        "{md}"
    );
    assert!(md.contains("SmolLM2-135M-Instruct.Q4_1.gguf"), "{md}");
    // ...which build and CPU wrote the rows, counted.
    let cpu = kne_bench::results::cpu_description();
    assert!(
        md.contains(&format!(
            "- Code and machine: `{}` (",
            kne_bench::results::CODE_VERSION
        )) && md.contains(&format!("{cpu} (")),
        "{md}"
    );
    // ...and how it was attributed and selected, beside the paper's m.
    assert!(md.contains("(Eq. 5; the paper: m = 20)"), "{md}");
    assert!(
        md.contains("scope global (one quantile pools every site"),
        "{md}"
    );
    let csv = std::fs::read_to_string(first.join("tiny/summary.csv")).unwrap();
    assert!(csv.contains("wiki_cf,kne,kne,es,"), "{csv}");
    // Where the time went, from the rows' own times.
    let cost = std::fs::read_to_string(first.join("tiny/cost.md")).unwrap();
    assert!(cost.contains("| wiki_cf | kne | 3 |"), "{cost}");

    // The same config again, in two shards: identical rows (determinism), merged.
    let second = tmp.path().join("second");
    run(&run_options(experiment.clone(), &second, Some((0, 2)))).unwrap();
    run(&run_options(experiment, &second, Some((1, 2)))).unwrap();
    let sharded = rows_text(&second.join("tiny/wiki_cf/kne"));
    assert_rows_have_numbers(&text);
    assert_eq!(
        comparable_rows(&sharded),
        comparable_rows(&text),
        "rows must be bit-identical"
    );
    // ... and so are the attribution scores and the ensemble (f64/f32 written exactly).
    let scores = localization_files(&first.join("tiny/wiki_cf"));
    assert_eq!(
        scores.len(),
        2,
        "{:?}",
        scores.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in scores
        .iter()
        .zip(localization_files(&second.join("tiny/wiki_cf")))
    {
        let diff: Vec<_> = a
            .lines()
            .zip(b.lines())
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .take(5)
            .collect();
        assert!(
            diff.is_empty() && a.len() == b.len(),
            "{name} differs: {diff:?}"
        );
    }
    // The second run, compared with the first as its reference: every metric reproduced,
    // made with the same settings.
    let comparison = kne_bench::harness::compare::compare(
        &parsed,
        &second.join("tiny"),
        &first.join("tiny"),
        false,
    )
    .unwrap();
    assert!(comparison.differs.is_empty(), "{}", comparison.markdown);
    assert!(
        comparison.other_settings.is_empty(),
        "{}",
        comparison.markdown
    );
    assert!(comparison.reproduced >= 3, "{}", comparison.markdown);
    assert!(second.join("tiny/comparison.md").exists());
}

/// `Experiment::load`'s error for the tiny experiment with `from` replaced by `to`.
fn load_error(dir: &Path, from: &str, to: &str) -> String {
    let text = tiny_experiment(3);
    assert!(text.contains(from), "{from}");
    let path = dir.join("bad.toml");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    format!("{:#}", Experiment::load(&path).unwrap_err())
}

#[test]
fn a_bad_experiment_file_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for p in ["1.5", "1.0", "0", "0.0", "-0.1", "nan"] {
        let err = load_error(dir, "p = 0.02", &format!("p = {p}"));
        assert!(
            err.contains("bad.toml") && err.contains("field `kne.p`") && err.contains("(0, 1)"),
            "p = {p}: {err}"
        );
    }
    let err = load_error(dir, "[\"wiki_cf\"]", "[\"wiki_xx\"]");
    assert!(
        err.contains("bad.toml") && err.contains("datasets") && err.contains("wiki_xx"),
        "{err}"
    );
    let err = load_error(
        dir,
        "layers = [18]",
        "layers = [18]\nmodules = [\"up\", \"foo\"]",
    );
    assert!(
        err.contains("bad.toml") && err.contains("modules") && err.contains("foo"),
        "{err}"
    );
    // Swept values are checked like the settings they replace.
    let sweep = |values: &str| format!("[sweep]\nparameter = \"p\"\nvalues = {values}\n\n[paper");
    let err = load_error(dir, "[paper", &sweep("[0.01, 1.5]"));
    assert!(
        err.contains("bad.toml")
            && err.contains("field `sweep.values`: cell `p=1.5`")
            && err.contains("field `kne.p` = 1.5 is outside (0, 1)"),
        "{err}"
    );
    let err = load_error(
        dir,
        "[paper",
        "[sweep]\nparameter = \"module\"\nvalues = [\"up\", \"mlp\"]\n\n[paper",
    );
    assert!(
        err.contains("bad.toml") && err.contains("field `sweep.values`") && err.contains("`mlp`"),
        "{err}"
    );
    // Any [kne] setting can be swept by its dotted path; one that names nothing is refused.
    let sweep = |parameter: &str, values: &str| {
        format!("[sweep]\nparameter = \"{parameter}\"\nvalues = {values}\n\n[paper")
    };
    let err = load_error(dir, "[paper", &sweep("edit.learning_rte", "[0.1]"));
    assert!(
        err.contains("bad.toml") && err.contains("`kne.edit.learning_rte` names no setting"),
        "{err}"
    );
    let err = load_error(
        dir,
        "[paper",
        &sweep("settings", "[{ scope = \"everywhere\" }]"),
    );
    assert!(
        err.contains("bad.toml") && err.contains("everywhere"),
        "{err}"
    );
    let path = dir.join("scope.toml");
    let text =
        tiny_experiment(3).replace("[paper", &sweep("scope", "[\"per_module\", \"global\"]"));
    std::fs::write(&path, text).unwrap();
    let labels: Vec<String> =
        kne_bench::harness::plan::cells(&Experiment::load(&path).unwrap(), false)
            .unwrap()
            .into_iter()
            .map(|c| c.label)
            .collect();
    assert_eq!(labels, ["scope=per_module", "scope=global"]);
    // An unknown localization source is refused by name.
    let err = load_error(dir, "p = 0.02", "p = 0.02\nlocalize_from = \"sometimes\"");
    assert!(
        err.contains("bad.toml") && err.contains("sometimes"),
        "{err}"
    );
}

#[test]
fn a_layer_the_model_lacks_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.toml");
    std::fs::write(
        &path,
        tiny_experiment(3).replace("layers = [18]", "layers = [18, 30]"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let err = format!("{:#}", run(&run_options(path, &out, None)).unwrap_err());
    assert!(
        err.contains("tiny.toml")
            && err.contains("field `kne.attribution`")
            && err.contains("`layers`: layer 30 does not exist (the model has 30 layers, 0 to 29)"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
}
