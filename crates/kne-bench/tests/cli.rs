//! The `kne` binary as a user runs it.

use std::process::Command;

fn kne(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kne"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn logits_json_matches_the_reference_top_ids() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(kne_model::paths::golden_fixture_path()).unwrap(),
    )
    .unwrap();
    let prompt = &fixture["prompts"][0];
    let out = kne(&[
        "logits",
        "--prompt",
        prompt["text"].as_str().unwrap(),
        "--top",
        "5",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tokens"], prompt["ids"]);
    let positions = report["positions"].as_array().unwrap();
    assert_eq!(positions.len(), prompt["ids"].as_array().unwrap().len());
    for (pos, want) in positions.iter().zip(prompt["top5_ids"].as_array().unwrap()) {
        let got: Vec<&serde_json::Value> = pos["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| &pair[0])
            .collect();
        assert_eq!(got, want.as_array().unwrap().iter().collect::<Vec<_>>());
    }
}

#[test]
fn generate_continues_greedily() {
    let out = kne(&[
        "generate",
        "--prompt",
        "The capital of France is",
        "--max-new-tokens",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Paris.");
}

#[test]
fn a_missing_model_is_a_clear_error() {
    let out = kne(&[
        "logits",
        "--model",
        "/nonexistent/model.gguf",
        "--prompt",
        "x",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/model.gguf") && err.contains("fetch-model"),
        "{err}"
    );
}

/// Runs `kne` and returns its stderr, asserting it failed.
fn kne_fails(args: &[&str]) -> String {
    let out = kne(args);
    assert!(!out.status.success(), "kne {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn reproduce_with_a_missing_model_names_it_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let experiment = tmp.path().join("tiny.toml");
    std::fs::write(
        &experiment,
        std::fs::read_to_string(
            kne_model::paths::workspace_root().join("experiments/kne-smoke.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let err = kne_fails(&[
        "reproduce",
        "--experiment",
        experiment.to_str().unwrap(),
        "--model",
        "/nonexistent/model.gguf",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("/nonexistent/model.gguf") && err.contains("fetch-model"),
        "{err}"
    );
    assert!(!out.exists(), "a failed start writes nothing");
}

/// The text of `experiments/kne-default.toml`, which tests edit into their own settings.
fn default_kne_settings() -> String {
    std::fs::read_to_string(kne_model::paths::workspace_root().join("experiments/kne-default.toml"))
        .unwrap()
}

#[test]
fn bad_kne_settings_name_the_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let default = default_kne_settings();
    let config = tmp.path().join("settings.toml");
    let attr = |settings: &str| {
        std::fs::write(&config, settings).unwrap();
        kne_fails(&[
            "attr",
            "--dataset",
            "wiki_cf",
            "--config",
            config.to_str().unwrap(),
            "--out",
            tmp.path().join("ensemble.json").to_str().unwrap(),
        ])
    };
    for p in ["1.5", "0", "0.0", "-0.1"] {
        let err = attr(&default.replace("p = 0.01", &format!("p = {p}")));
        assert!(
            err.contains("settings.toml") && err.contains("field `p`") && err.contains("(0, 1)"),
            "p = {p}: {err}"
        );
    }
    let err = attr(&default.replace("\"down\"]", "\"foo\"]"));
    assert!(
        err.contains("settings.toml") && err.contains("modules") && err.contains("foo"),
        "{err}"
    );
    // Layers are checked against the model, before any attribution runs.
    let err = attr(&default.replace("max_rows = 64", "max_rows = 64\nlayers = [3, 99]"));
    assert!(
        err.contains("settings.toml")
            && err.contains("field `attribution`")
            && err.contains("`layers`: layer 99 does not exist (the model has 30 layers"),
        "{err}"
    );
    assert!(!tmp.path().join("ensemble.json").exists());
}

/// An ensemble file naming sites the model does not have.
#[test]
fn an_ensemble_with_an_unknown_site_names_the_file_and_site() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ensemble.json");
    let patch = tmp.path().join("patch.safetensors");
    let edit = |site: &str| {
        let ensemble = serde_json::json!({
            "axis": "out", "p": 0.01, "scope": "global", "localization_facts": 1,
            "model_parameters": 134515008_u64,
            "sites": { site: {
                "neurons": [1, 2], "site_neurons": 576, "neuron_len": 1536, "threshold": 0.5
            } }
        });
        std::fs::write(&path, ensemble.to_string()).unwrap();
        kne_fails(&[
            "edit",
            "--ensemble",
            path.to_str().unwrap(),
            "--prompt",
            "The capital of France is",
            "--target",
            "Rome",
            "--out",
            patch.to_str().unwrap(),
        ])
    };
    let err = edit("99.down");
    assert!(
        err.contains("ensemble.json")
            && err.contains("field `sites.99.down`")
            && err.contains("the model has 30 layers"),
        "{err}"
    );
    let err = edit("3.foo");
    assert!(
        err.contains("ensemble.json") && err.contains("`3.foo`: module `foo`"),
        "{err}"
    );
    // A site of the model with the wrong size (an ensemble made on another model).
    let err = edit("3.up");
    assert!(
        err.contains("ensemble.json")
            && err.contains("field `sites.3.up`")
            && err.contains("1536 of 576"),
        "{err}"
    );
    assert!(!patch.exists());
}

#[test]
fn an_empty_dataset_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("wiki_counterfact/test_cf.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "[]\n").unwrap();
    let out = tmp.path().join("out");
    let err = kne_fails(&[
        "eval",
        "--dataset",
        "wiki_cf",
        "--data-dir",
        tmp.path().to_str().unwrap(),
        "--no-fluency",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("no records"),
        "{err}"
    );
    assert!(!out.exists());
}

/// `kne select` on the scores `kne attr` saved gives attr's own ensemble, at another p a
/// smaller one, and a bad scope is named.
#[test]
fn select_from_saved_scores_reproduces_the_attr_ensemble() {
    let tmp = tempfile::tempdir().unwrap();
    let default = default_kne_settings();
    // Two facts, the top two layers, one Riemann step: seconds, not minutes.
    let settings = default
        .replace("localize = 8", "localize = 2")
        .replace("steps = 4", "steps = 1")
        .replace("max_rows = 64", "max_rows = 64\nlayers = [28, 29]");
    let config = tmp.path().join("settings.toml");
    std::fs::write(&config, settings).unwrap();
    let path = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();
    let ok = |args: &[&str]| {
        let out = kne(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        "attr",
        "--dataset",
        "wiki_cf",
        "--config",
        config.to_str().unwrap(),
        "--out",
        &path("attr.json"),
        "--scores-out",
        &path("scores.json"),
    ]);
    let select = |p: &str, scope: &str, out: &str| {
        kne(&[
            "select",
            "--scores",
            &path("scores.json"),
            "--p",
            p,
            "--scope",
            scope,
            "--out",
            &path(out),
        ])
    };
    assert!(select("0.01", "global", "again.json").status.success());
    let read = |name: &str| std::fs::read_to_string(tmp.path().join(name)).unwrap();
    assert_eq!(read("attr.json"), read("again.json"));
    assert!(select("0.001", "global", "smaller.json").status.success());
    let count = |name: &str| {
        kne_attr::Ensemble::load(&tmp.path().join(name))
            .unwrap()
            .neuron_count()
    };
    assert!(count("smaller.json") < count("attr.json"));
    let bad = select("0.01", "everywhere", "bad.json");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("`everywhere`"),
        "{err}"
    );
    assert!(!tmp.path().join("bad.json").exists());
}
