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
