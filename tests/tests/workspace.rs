//! What a new user meets first: the README's two commands and the experiment files they run.

use std::path::PathBuf;

use kne_bench::harness::{Experiment, plan::cells, split::EvaluatedFile};
use kne_model::paths::workspace_root;

fn root() -> PathBuf {
    workspace_root()
}

/// The commands of the README's first `sh` block, without their trailing comments.
fn readme_quick_start() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    readme
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The lines of `.ci/run` that run something (comments and blank lines dropped).
fn ci_script_lines() -> Vec<String> {
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    ci.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn readme_starts_with_the_main_job_then_the_tests() {
    let commands = readme_quick_start();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(commands[0], "cargo xtask reproduce table1");
    assert_eq!(commands[1], "cargo xtask test");
}

/// CI must do what a user's fresh clone does: run the README's test command as written,
/// and fetch nothing that command does not fetch itself.
#[test]
fn ci_runs_the_readme_test_command_verbatim_and_fetches_nothing_else() {
    let test_command = readme_quick_start()[1].clone();
    let lines = ci_script_lines();
    let runs_it = lines
        .iter()
        .any(|l| l.ends_with(&format!(" {test_command}")) || l == &test_command);
    assert!(runs_it, ".ci/run must run `{test_command}` verbatim");
    for line in &lines {
        for fetch in ["fetch-model", "fetch-data", "cargo test"] {
            assert!(
                !line.contains(fetch),
                ".ci/run runs `{fetch}` itself (`{line}`); the README's test command must do it"
            );
        }
    }
}

/// Every experiment file: `experiments/*.toml` less the baseline presets and KNE's default
/// settings, which are not experiments.
fn experiment_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("experiments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("baselines") && n != "kne-default")
        .collect();
    names.sort();
    names
}

#[test]
fn every_experiment_file_loads_and_plans() {
    let names = experiment_names();
    assert!(names.len() >= 12, "{names:?}");
    for name in names {
        let path = root().join("experiments").join(format!("{name}.toml"));
        let experiment = Experiment::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(experiment.name, name);
        // Research hygiene: a setting is tuned on the train file, never on test cases that a
        // table evaluates.
        if name.starts_with("tune-") {
            assert_eq!(
                experiment.evaluate,
                EvaluatedFile::Train,
                "{name} tunes a setting: it must evaluate the train file"
            );
        }
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
        [
            "ft",
            "ft-l",
            "adalora",
            "rome",
            "memit",
            "kne",
            "kne-transductive"
        ]
    );
    assert_eq!(
        table1.baselines,
        std::path::Path::new("experiments/baselines-easyedit.toml"),
        "Table 1 shows the easyedit preset"
    );
    let count = |t: &std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    >|
     -> usize { t.values().flat_map(|d| d.values()).map(|m| m.len()).sum() };
    // The paper's Table 1 is recorded beside ours: 3 datasets × 6 methods × 4 metrics, and
    // EasyEdit's corrected table for the five baselines.
    assert_eq!(count(&table1.paper), 72);
    assert_eq!(count(&table1.easyedit), 60);
}

/// No case a default table or figure evaluates was used to localize its main KNE cells, nor
/// to tune its settings: every KNE cell except `kne-transductive` localizes on records
/// outside the evaluated ones (in `--full` too), on the real dataset files.
#[test]
fn default_tables_localize_outside_the_evaluated_cases() {
    use kne_bench::harness::split::{DatasetSplit, LocalizationSource, LocalizeFrom};
    let data_dir = kne_eval::data::default_data_dir();
    let mut checked = 0;
    for name in [
        "table1", "table2", "fig2", "figB3", "figB4", "figB5", "tune-kne",
    ] {
        let experiment =
            Experiment::load(&root().join("experiments").join(format!("{name}.toml"))).unwrap();
        for full in [false, true] {
            for cell in cells(&experiment, full).unwrap() {
                if cell.method != "kne" {
                    continue;
                }
                let transductive = cell.kne.localize_from == LocalizeFrom::Transductive;
                assert!(
                    !transductive || cell.label.starts_with("kne-transductive"),
                    "{name}: cell `{}` localizes on the evaluated cases",
                    cell.label
                );
                for dataset in experiment.sources(&root()).unwrap() {
                    let source = cell
                        .kne
                        .localize_from
                        .resolve(&dataset, experiment.evaluate)
                        .unwrap();
                    let split = DatasetSplit::load(
                        dataset.clone(),
                        experiment.evaluate,
                        &data_dir,
                        &[source],
                        experiment.holdout,
                    )
                    .unwrap_or_else(|e| panic!("{e:#} (`cargo xtask fetch-data`)"));
                    let limit = match (full, experiment.full_cases) {
                        (false, _) => experiment.cases,
                        (true, 0) => usize::MAX,
                        (true, n) => n,
                    };
                    let evaluated = split.evaluated(limit);
                    let (facts, text) = split.localization(source, cell.kne.localize).unwrap();
                    assert_eq!(facts.len(), cell.kne.localize);
                    let train_file = dataset.knowedit().and_then(|d| d.train_file());
                    let same_file = !text.starts_with(train_file.unwrap_or("-"))
                        || experiment.evaluate == kne_bench::harness::split::EvaluatedFile::Train;
                    let overlap = same_file
                        && facts
                            .iter()
                            .any(|f| evaluated.iter().any(|e| e.index == f.index));
                    assert_eq!(
                        overlap,
                        transductive,
                        "{name} ({}): cell `{}` on {dataset}: localization {text}, {} evaluated",
                        if full { "--full" } else { "quick" },
                        cell.label,
                        evaluated.len()
                    );
                    if source != LocalizationSource::Transductive {
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked >= 20, "{checked}");
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
