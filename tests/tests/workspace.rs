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

/// Every baseline layer index of `configs` (ft, ft-l, adalora, rome, memit).
fn baseline_layers(configs: &kne_bench::baselines::BaselineConfigs) -> Vec<usize> {
    let mut layers = configs.ft.layers.clone();
    layers.extend(&configs.ft_l.layers);
    layers.extend(&configs.adalora.layers);
    layers.push(configs.rome.layer);
    layers.extend(&configs.memit.layers);
    layers
}

#[test]
fn every_models_baselines_name_layers_it_has() {
    use kne_bench::baselines::load_baseline_configs;
    use kne_model::LlamaConfig;
    use kne_model::gguf::GgufFile;
    let layers_of = |path: &std::path::Path| {
        assert!(
            path.exists(),
            "{} missing (`cargo xtask fetch-model`, `cargo xtask fetch-model gemma3-270m`)",
            path.display()
        );
        let gguf = GgufFile::open(path).unwrap();
        LlamaConfig::from_gguf(&gguf, path)
            .unwrap()
            .num_hidden_layers
    };
    // The default model with the default file, then each model table 2 names with its own.
    let mut pairs = vec![(
        kne_model::paths::default_model_path(),
        root().join("experiments/baselines.toml"),
    )];
    let table2 = Experiment::load(&root().join("experiments/table2.toml")).unwrap();
    for m in &table2.models {
        let file = m.baselines.clone().unwrap_or(table2.baselines.clone());
        pairs.push((root().join(&m.path), root().join(file)));
    }
    assert_eq!(pairs.len(), 3);
    for (model, file) in pairs {
        let n = layers_of(&model);
        let configs = load_baseline_configs(&file).unwrap();
        for layer in baseline_layers(&configs) {
            assert!(
                layer < n,
                "{}: layer {layer}, but {} has {n} layers",
                file.display(),
                model.display()
            );
        }
    }
}
