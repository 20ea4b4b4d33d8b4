//! Running an experiment: every (dataset, cell, case), resumable and shardable.
//!
//! Layout under `results/<experiment>/<dataset>/`:
//! - `pre_edit[@model][.shard-i-of-n].json`: the unedited model's locality predictions
//!   (computed once; one file per model of an experiment with `[[models]]`);
//! - `scores-<hash>.json`: attribution scores of a localization setting (KNE cells);
//! - `<cell>/rows[.shard-i-of-n].jsonl`: one row per case, appended and fsynced as it finishes;
//! - `<cell>/ensemble.json`: the KNE ensemble used.
//!
//! A row carries the config hash of its cell; an existing rows file of another config is
//! refused, and finished cases are skipped, so an interrupted run resumes where it stopped.
//! A case whose edit failed has an error row ([`edit_and_score`]) and counts as finished:
//! the failure is deterministic, so a rerun would only repeat it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kne_edit::{EditRequest, EditStats, Editor};
use kne_eval::ModelScorer;
use kne_eval::data::{DataSource, EditCase};
use kne_eval::metrics::{CaseScores, PreEditCache};
use kne_model::LoadedModel;
use serde::{Deserialize, Serialize};

use super::experiment::Experiment;
use super::localize::{kne_editor, scores_for};
use super::plan::{Cell, cells};
use super::split::{DatasetSplit, EvaluatedFile, LocalizationSource};
use crate::baselines::{build_editor, load_baseline_configs};
use crate::results::{
    Row, RowLog, RowMeta, code_version, config_hash, cpu_description, rows_in_other_files,
    sha256_file,
};
use crate::session::{apply_edit, request_of, score_cases};

/// Where and how much to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub experiment: PathBuf,
    pub model: PathBuf,
    /// Folder holding `ZsRE/`, `wiki_counterfact/`, `wiki_recent/`.
    pub data_dir: PathBuf,
    /// Parent of the experiment's folder (`results/`).
    pub out_root: PathBuf,
    /// Workspace root, for relative paths in the experiment file.
    pub root: PathBuf,
    pub full: bool,
    /// `(i, n)`: this process runs the cases with `index % n == i`.
    pub shard: Option<(usize, usize)>,
    /// Only localize every KNE cell (attribution scores cached in the run folder), edit
    /// nothing: what `kne reproduce --jobs N` does before its shards start, so that the
    /// shards read one localization instead of each computing it.
    pub localize_only: bool,
}

/// The payload of a result row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRow {
    pub cell: String,
    #[serde(flatten)]
    pub scores: CaseScores,
    pub edit: Option<EditStats>,
    /// Why the case has no scores (a failed or non-finite edit, rolled back).
    pub error: Option<String>,
}

/// What a cell's config hash covers: everything that changes its numbers, and nothing
/// else (a baseline's rows stay valid when only KNE's settings change).
#[derive(Serialize)]
struct CellKey<'a> {
    experiment: &'a str,
    dataset: &'a str,
    label: &'a str,
    method: &'a str,
    /// Left out when `test`, so rows written before the field existed keep their hash.
    #[serde(skip_serializing_if = "is_test_file")]
    evaluate: EvaluatedFile,
    batch_size: usize,
    kne: Option<&'a super::experiment::KneSettings>,
    seed: u64,
    eval: &'a super::experiment::EvalSettings,
    baselines: Option<&'a crate::baselines::BaselineConfigs>,
    model_sha256: &'a str,
    /// The sha256 of a user's edit file (`data`); left out for KnowEdit's datasets, whose
    /// files are pinned by `datasets/manifest.sha256`, so that their hashes stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    data_sha256: Option<&'a str>,
}

fn is_test_file(file: &EvaluatedFile) -> bool {
    *file == EvaluatedFile::Test
}

/// One model of the run and what its cells need.
struct ModelRun {
    /// The `[[models]]` key; `None` for the run's `--model`.
    key: Option<String>,
    path: PathBuf,
    /// Baseline hyper-parameters, relative to the workspace root.
    baselines: PathBuf,
}

/// The experiment's models (its `[[models]]`, else the run's model), each checked to exist
/// so that a missing second model stops the run before the first writes anything.
fn models_of(experiment: &Experiment, options: &RunOptions) -> Result<Vec<ModelRun>> {
    let runs = if experiment.models.is_empty() {
        vec![ModelRun {
            key: None,
            path: options.model.clone(),
            baselines: experiment.baselines.clone(),
        }]
    } else {
        experiment
            .models
            .iter()
            .map(|m| ModelRun {
                key: Some(m.key.clone()),
                path: options.root.join(&m.path),
                baselines: m.baselines.clone().unwrap_or(experiment.baselines.clone()),
            })
            .collect()
    };
    for run in &runs {
        if !run.path.exists() {
            bail!(
                "{}: model {} not found{}",
                options.experiment.display(),
                run.path.display(),
                match &run.key {
                    Some(key) => format!(
                        " (field `models.path` of `{key}`; `cargo xtask fetch-model` fetches the known models)"
                    ),
                    None => " (`cargo xtask fetch-model` fetches the default model)".into(),
                }
            );
        }
    }
    Ok(runs)
}

pub fn run(options: &RunOptions) -> Result<()> {
    let experiment = Experiment::load(&options.experiment)?;
    let cells = cells(&experiment, options.full)?;
    let started = Instant::now();
    let mut failed = 0usize;
    for model in models_of(&experiment, options)? {
        let model_cells: Vec<&Cell> = cells.iter().filter(|c| c.model == model.key).collect();
        failed += run_model(options, &experiment, &model, &model_cells)?;
    }
    eprintln!(
        "{} done in {:.0} s{}",
        experiment.name,
        started.elapsed().as_secs_f64(),
        match failed {
            0 => String::new(),
            n => format!("; {n} case(s) failed to edit (error rows, counted in the reports)"),
        }
    );
    Ok(())
}

/// Runs the cells of one model; returns the number of failed edits.
fn run_model(
    options: &RunOptions,
    experiment: &Experiment,
    model: &ModelRun,
    cells: &[&Cell],
) -> Result<usize> {
    eprintln!("loading {}", model.path.display());
    let mut loaded = kne_model::load(&model.path, &burn::tensor::Device::flex())
        .with_context(|| format!("loading model {}", model.path.display()))?;
    // What needs the model to check (layers that exist) is checked before anything is written.
    for cell in cells.iter().filter(|c| c.method == "kne") {
        cell.kne.attribution.sites(&loaded.model).with_context(|| {
            format!(
                "{}: field `kne.attribution` (cell `{}`)",
                options.experiment.display(),
                cell.label
            )
        })?;
    }
    let model_sha256 = sha256_file(&model.path)?;
    let baselines = if cells.iter().any(|c| c.method != "kne") {
        Some(load_baseline_configs(&options.root.join(&model.baselines))?)
    } else {
        None
    };
    let out = options.out_root.join(&experiment.name);
    let suffix = match options.shard {
        Some((i, n)) => format!(".shard-{i}-of-{n}"),
        None => String::new(),
    };
    // One pre-edit cache per model: they would replace each other in one file.
    let pre_edit_name = match &model.key {
        Some(key) => format!("pre_edit@{key}{suffix}.json"),
        None => format!("pre_edit{suffix}.json"),
    };
    let mut failed = 0usize;
    for dataset in &experiment.sources(&options.root)? {
        let name = dataset.name();
        let data_sha256 = match dataset {
            DataSource::File(f) => Some(sha256_file(&f.path)?),
            DataSource::KnowEdit(_) => None,
        };
        // Every KNE cell's localization facts are checked before anything is written.
        let sources: Vec<LocalizationSource> = cells
            .iter()
            .filter(|c| c.method == "kne")
            .map(|c| {
                c.kne
                    .localize_from
                    .resolve(dataset, experiment.evaluate)
                    .with_context(|| format!("cell `{}`", c.label))
            })
            .collect::<Result<_>>()?;
        let split = DatasetSplit::load(
            dataset.clone(),
            experiment.evaluate,
            &options.data_dir,
            &sources,
            experiment.holdout,
        )?;
        for (cell, source) in cells.iter().filter(|c| c.method == "kne").zip(&sources) {
            split
                .localization(*source, cell.kne.localize)
                .with_context(|| format!("cell `{}`", cell.label))?;
        }
        let ds_dir = out.join(name);
        if options.localize_only {
            std::fs::create_dir_all(&ds_dir)
                .with_context(|| format!("creating {}", ds_dir.display()))?;
            for (cell, source) in cells.iter().filter(|c| c.method == "kne").zip(&sources) {
                let (facts, text) = split.localization(*source, cell.kne.localize)?;
                scores_for(&loaded, &model_sha256, name, (facts, &text), cell, &ds_dir)?;
            }
            continue;
        }
        let limit = if options.full {
            match experiment.full_cases {
                0 => usize::MAX,
                n => n,
            }
        } else {
            experiment.cases
        };
        let cases: Vec<&EditCase> = split
            .evaluated(limit)
            .iter()
            .filter(|c| options.shard.is_none_or(|(i, n)| c.index % n == i))
            .collect();
        std::fs::create_dir_all(&ds_dir)
            .with_context(|| format!("creating {}", ds_dir.display()))?;
        let pre = pre_edit_cache(
            &loaded,
            &model_sha256,
            name,
            &cases,
            &ds_dir.join(&pre_edit_name),
        )?;
        for &cell in cells {
            let cell_dir = ds_dir.join(&cell.label);
            let key = CellKey {
                experiment: &experiment.name,
                dataset: name,
                label: &cell.label,
                method: &cell.method,
                evaluate: experiment.evaluate,
                batch_size: cell.batch_size,
                kne: (cell.method == "kne").then_some(&cell.kne),
                seed: experiment.seed,
                eval: &experiment.eval,
                baselines: baselines.as_ref().filter(|_| cell.method != "kne"),
                model_sha256: &model_sha256,
                data_sha256: data_sha256.as_deref(),
            };
            let hash = config_hash(&key)?;
            let own = cell_dir.join(format!("rows{suffix}.jsonl"));
            let (mut log, mine) = RowLog::open::<CellRow>(&own, &hash)?;
            // Cases finished under another shard layout of this run count as done too.
            let others = rows_in_other_files::<CellRow>(&own, &hash)?;
            let done: BTreeSet<usize> = mine
                .iter()
                .chain(&others)
                .map(|r| r.data.scores.index)
                .collect();
            let todo: Vec<&EditCase> = cases
                .iter()
                .copied()
                .filter(|c| !done.contains(&c.index))
                .collect();
            if todo.is_empty() {
                continue;
            }
            let mut editor: Box<dyn Editor> = if cell.method == "kne" {
                let source = cell
                    .kne
                    .localize_from
                    .resolve(dataset, experiment.evaluate)?;
                let (facts, text) = split.localization(source, cell.kne.localize)?;
                let scores =
                    scores_for(&loaded, &model_sha256, name, (facts, &text), cell, &ds_dir)?;
                Box::new(kne_editor(&loaded, &scores, cell, &cell_dir)?)
            } else {
                let configs = baselines.as_ref().context("baseline configs")?;
                build_editor(&cell.method, configs, &options.root)
                    .with_context(|| format!("building editor `{}`", cell.method))?
            };
            let bar = ProgressBar::new(todo.len() as u64).with_style(
                ProgressStyle::with_template(
                    "{prefix:24} [{bar:30}] {pos}/{len} cases, {per_sec}, eta {eta}",
                )
                .expect("valid template"),
            );
            bar.set_prefix(format!("{name}/{}", cell.label));
            for batch in todo.chunks(cell.batch_size) {
                let batch_start = Instant::now();
                let rows =
                    edit_and_score(&mut loaded, editor.as_mut(), batch, &pre, experiment, cell)?;
                let wall_s = batch_start.elapsed().as_secs_f64() / batch.len() as f64;
                for data in rows {
                    if let Some(error) = &data.error {
                        failed += 1;
                        bar.println(format!(
                            "{name}/{} case {}: {error}",
                            cell.label, data.scores.index
                        ));
                    }
                    let meta = RowMeta {
                        config_hash: hash.clone(),
                        method: cell.method.clone(),
                        model: model.path.display().to_string(),
                        model_sha256: model_sha256.clone(),
                        code_version: code_version(),
                        cpu: cpu_description(),
                        wall_s,
                    };
                    log.append(&Row { meta, data })?;
                }
                bar.inc(batch.len() as u64);
                // A run in the background (`nohup … > log`) has no terminal to draw the bar
                // on: one plain line per batch says how far it is.
                if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    eprintln!(
                        "{name}/{}: {}/{} cases, {wall_s:.1} s per case",
                        cell.label,
                        bar.position(),
                        todo.len()
                    );
                }
            }
            bar.finish();
        }
    }
    Ok(failed)
}

/// The unedited model's predictions for `cases`, loaded from `path` or computed and saved.
fn pre_edit_cache(
    loaded: &LoadedModel,
    model_sha256: &str,
    dataset: &str,
    cases: &[&EditCase],
    path: &std::path::Path,
) -> Result<PreEditCache> {
    let mut cache = match PreEditCache::load(path) {
        Ok(cache) if cache.model == model_sha256 && cache.dataset == dataset => cache,
        _ => PreEditCache::new(model_sha256, dataset),
    };
    let missing = cases.iter().filter(|c| cache.get(c).is_none()).count();
    if missing > 0 {
        let mut scorer = ModelScorer::from_loaded(loaded);
        for case in cases {
            cache.get_or_compute(case, &mut scorer)?;
        }
        cache.save(path)?;
    }
    Ok(cache)
}

/// Edits one batch, scores each of its cases on the edited model, restores the model.
///
/// A failed edit is not an error of the run: the editor's error (e.g. a non-finite loss),
/// a delta [`WeightDelta::apply`](kne_edit::WeightDelta::apply) refuses (non-finite values
/// or weights, unknown site), or an edited model whose loss on the batch's own requests is
/// not finite each become one error row per case of the batch, naming the cases and the
/// reason; the model is left bit-identical to before and the caller goes on. An evaluation
/// error (not the edit's fault) restores the model and is returned.
pub fn edit_and_score(
    loaded: &mut LoadedModel,
    editor: &mut dyn Editor,
    batch: &[&EditCase],
    pre: &PreEditCache,
    experiment: &Experiment,
    cell: &Cell,
) -> Result<Vec<CellRow>> {
    let requests: Vec<EditRequest> = batch.iter().map(|c| request_of(c)).collect();
    let ids: Vec<String> = batch.iter().map(|c| c.index.to_string()).collect();
    let cases = format!(
        "case{} {}",
        if batch.len() == 1 { "" } else { "s" },
        ids.join(", ")
    );
    let edit = match apply_edit(loaded, editor, &requests)? {
        Ok(edit) => edit,
        Err(refused) => {
            let message = format!(
                "{} ({cases}): {}; the model was left unchanged",
                refused.what, refused.reason
            );
            return Ok(batch
                .iter()
                .map(|c| CellRow {
                    cell: cell.label.clone(),
                    scores: CaseScores::empty(c.dataset.clone(), c.index),
                    edit: None,
                    error: Some(message.clone()),
                })
                .collect());
        }
    };
    let result = score_cases(
        loaded,
        batch,
        pre,
        experiment.eval.generation,
        experiment.seed,
    );
    let stats = edit.stats.clone();
    edit.revert(loaded)?;
    Ok(result?
        .into_iter()
        .map(|scores| CellRow {
            cell: cell.label.clone(),
            scores,
            edit: Some(stats.clone()),
            error: None,
        })
        .collect())
}
