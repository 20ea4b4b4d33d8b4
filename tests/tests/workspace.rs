//! What a new user meets first: the README's two commands and the experiment files they run.

use std::path::PathBuf;

use kne_bench::harness::{Experiment, plan::cells};
use kne_model::paths::workspace_root;

fn root() -> PathBuf {
    workspace_root()
}

#[test]
fn readme_starts_with_the_main_job_then_the_tests() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(
        commands[0].starts_with("cargo xtask reproduce table1"),
        "{commands:?}"
    );
    assert!(
        commands[1].starts_with("cargo test --workspace --release"),
        "{commands:?}"
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo test --workspace --release"),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn every_experiment_file_loads_and_plans() {
    for name in ["table1", "table2", "fig2", "figB3", "figB4", "figB5"] {
        let path = root().join("experiments").join(format!("{name}.toml"));
        let experiment = Experiment::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(experiment.name, name);
        let quick = cells(&experiment, false).unwrap();
        assert!(!quick.is_empty(), "{name}: no cells");
        let labels: std::collections::BTreeSet<_> = quick.iter().map(|c| &c.label).collect();
        assert_eq!(
            labels.len(),
            quick.len(),
            "{name}: cell labels must be unique"
        );
    }
    let table1 = Experiment::load(&root().join("experiments/table1.toml")).unwrap();
    assert_eq!(
        table1.methods,
        ["ft", "ft-l", "adalora", "rome", "memit", "kne"]
    );
    // The paper's Table 1 is recorded beside ours: 3 datasets × 6 methods × 4 metrics.
    let values: usize = table1
        .paper
        .values()
        .flat_map(|d| d.values())
        .map(|m| m.len())
        .sum();
    assert_eq!(values, 72);
}
