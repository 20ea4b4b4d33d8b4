//! `kne eval`: the KnowEdit metrics of an unedited model (method `none`), resumable.
//!
//! Writes into `--out`:
//! - `rows.jsonl`: one line per case, a [`CaseScores`] with the run's metadata ([`RowMeta`]),
//!   appended and fsynced case by case;
//! - `summary.csv` (`metric,mean,count`, mean ×100) and `summary.md` (the same as a table);
//! - `run.json`: how the numbers were made (command line, model and dataset with their
//!   SHA-256, limit, generation settings, wall times, code version, config hash);
//! - `pre_edit.json`: the unedited model's locality predictions per case
//!   ([`PreEditCache`]), for editor runs to reuse.
//!
//! Rerunning the same command skips the cases already in `rows.jsonl`; a different
//! config (model, dataset file, generation or batch settings) in the same folder is refused.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kne_eval::data::DataFormat;
use kne_eval::metrics::{
    CaseScores, Decoding, EvalConfig, GenerationConfig, PreEditCache, PunktParams, Summary,
    evaluate_case, summarize,
};
use kne_eval::{BatchConfig, ModelScorer};
use kne_model::paths;
use serde::Serialize;

use super::data_args::{DataArgs, LoadedData};
use super::model_args::ModelArgs;
use kne_bench::results::{
    Row, RowLog, RowMeta, code_version, config_hash, cpu_description, sha256_file, sha256_hex,
    summary_csv, summary_markdown, write_atomic, write_json_atomic,
};

/// The method name of an unedited model in result rows.
const METHOD: &str = "none";

/// How the fluency text is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DecodingArg {
    /// EasyEdit's `generate_fast`: sample from the `--top-k` most likely tokens (seeded).
    Topk,
    /// Argmax at every step.
    Greedy,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    data: DataArgs,
    /// Evaluate the first N cases of the file (default: all).
    #[arg(long)]
    limit: Option<usize>,
    /// Output folder (created; rerunning with the same folder resumes).
    #[arg(long)]
    out: PathBuf,
    /// Decoding of the fluency generation.
    #[arg(long, value_enum, default_value_t = DecodingArg::Topk)]
    decoding: DecodingArg,
    /// Candidates per step for `--decoding topk` (EasyEdit: 5).
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Seed of the top-k sampler (every generation starts from it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Length of the generated sequence, prompt included (EasyEdit: 100).
    #[arg(long, default_value_t = 100)]
    max_total_tokens: usize,
    /// Skip the fluency generation (the slow part of the evaluation).
    #[arg(long)]
    no_fluency: bool,
    /// Rows per teacher-forced forward batch.
    #[arg(long, default_value_t = BatchConfig::default().max_rows)]
    max_batch_rows: usize,
    /// Padded positions (rows × longest row) per teacher-forced forward batch.
    #[arg(long, default_value_t = BatchConfig::default().max_tokens)]
    max_batch_tokens: usize,
}

/// Everything that changes the numbers; its hash keys the rows.
#[derive(Serialize)]
struct RunConfig<'a> {
    method: &'a str,
    /// The name (`zsre`, or a `--data` file's): serialized as before for KnowEdit's.
    dataset: &'a str,
    dataset_sha256: &'a str,
    model_sha256: &'a str,
    eval: &'a EvalConfig,
    batch: BatchConfig,
}

/// `run.json`.
#[derive(Serialize)]
struct RunRecord<'a> {
    command: Vec<String>,
    method: &'a str,
    config_hash: &'a str,
    code_version: &'a str,
    model: String,
    model_sha256: &'a str,
    dataset: &'a str,
    dataset_format: Option<DataFormat>,
    dataset_file: String,
    dataset_sha256: &'a str,
    dataset_cases: usize,
    limit: usize,
    eval: &'a EvalConfig,
    batch: BatchConfig,
    device: &'a str,
    threads: usize,
    cases_run_now: usize,
    cases_resumed: usize,
    model_load_s: f64,
    wall_s: f64,
    case_wall_s_mean: Option<f64>,
    case_wall_s_total: f64,
    summary: &'a Summary,
}

impl EvalArgs {
    fn eval_config(&self) -> Result<EvalConfig> {
        ensure!(self.top_k > 0, "--top-k must be at least 1");
        ensure!(
            self.max_batch_rows > 0 && self.max_batch_tokens > 0,
            "--max-batch-rows and --max-batch-tokens must be at least 1"
        );
        let decoding = match self.decoding {
            DecodingArg::Topk => Decoding::TopK {
                k: self.top_k,
                seed: self.seed,
            },
            DecodingArg::Greedy => Decoding::Greedy,
        };
        Ok(EvalConfig {
            generation: (!self.no_fluency).then_some(GenerationConfig {
                max_total_tokens: self.max_total_tokens,
                decoding,
                stop_at_eos: false,
            }),
            keep_generated_text: true,
        })
    }

    fn batch(&self) -> BatchConfig {
        BatchConfig {
            max_rows: self.max_batch_rows,
            max_tokens: self.max_batch_tokens,
        }
    }
}

/// SHA-256 of a model file; for an HF folder, the SHA-256 of the `name  sha256` lines of
/// its files (sorted by name).
fn model_checksum(path: &Path) -> Result<String> {
    if !path.is_dir() {
        return sha256_file(path);
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot list {}", path.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", path.display()))?;
    names.retain(|p| p.is_file());
    names.sort();
    let mut lines = String::new();
    for p in &names {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        lines.push_str(&format!("{name}  {}\n", sha256_file(p)?));
    }
    Ok(sha256_hex(lines.as_bytes()))
}

/// Runs `kne eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let started = Instant::now();
    let eval_cfg = args.eval_config()?;
    let batch = args.batch();

    // inputs, checked before anything is written
    let model_path = args
        .model
        .model
        .clone()
        .unwrap_or_else(paths::default_model_path);
    ensure!(
        model_path.exists(),
        "model {} not found (the default model comes from `cargo xtask fetch-model`; or pass --model)",
        model_path.display()
    );
    // Nothing is read before the inputs are known good (a bad file is reported first).
    let LoadedData {
        source,
        file: dataset_file,
        format: dataset_format,
        cases,
    } = args.data.load()?;
    let dataset = source.name().to_owned();
    if eval_cfg.generation.is_some() {
        // fluency needs NLTK's English Punkt model (data, fetched with the datasets)
        PunktParams::english().context(
            "fluency needs NLTK's English Punkt parameters (`cargo xtask fetch-data`, or set \
             KNE_PUNKT); pass --no-fluency to skip fluency",
        )?;
    }
    let dataset_cases = cases.len();
    let limit = args.limit.unwrap_or(cases.len());
    ensure!(limit > 0, "--limit must be at least 1");
    if limit > cases.len() {
        eprintln!(
            "--limit {limit} is more than the {} cases of {}; evaluating all of them",
            cases.len(),
            dataset_file.display()
        );
    }
    let cases = &cases[..limit.min(cases.len())];
    let limit = cases.len();
    eprintln!("hashing the model and the dataset ...");
    let model_sha256 = model_checksum(&model_path)
        .with_context(|| format!("checksumming model {}", model_path.display()))?;
    let dataset_sha256 = sha256_file(&dataset_file)?;
    let hash = config_hash(&RunConfig {
        method: METHOD,
        dataset: &dataset,
        dataset_sha256: &dataset_sha256,
        model_sha256: &model_sha256,
        eval: &eval_cfg,
        batch,
    })?;
    let version = code_version();
    let model_shown = shown_path(&model_path);
    let dataset_shown = shown_path(&dataset_file);

    // earlier rows of this config (a different config is an error)
    let out = &args.out;
    let rows_path = out.join("rows.jsonl");
    let (mut log, previous) = RowLog::open::<CaseScores>(&rows_path, &hash)?;
    let done: BTreeMap<usize, ()> = previous.iter().map(|r| (r.data.index, ())).collect();
    let todo: Vec<_> = cases
        .iter()
        .filter(|c| !done.contains_key(&c.index))
        .collect();
    let resumed = limit - todo.len();
    if resumed > 0 {
        eprintln!(
            "{}: {resumed} of {limit} cases already done (config {hash}); running the other {}",
            log.path().display(),
            todo.len()
        );
    }

    let load_started = Instant::now();
    let loaded = args.model.load()?;
    let model_load_s = load_started.elapsed().as_secs_f64();
    let mut scorer = ModelScorer::from_loaded(&loaded).with_batch(batch);

    let cache_path = out.join("pre_edit.json");
    let mut cache = match PreEditCache::load(&cache_path) {
        Ok(c) if c.model == model_sha256 && c.dataset == dataset => c,
        Ok(_) => {
            eprintln!(
                "{}: made for another model or dataset; recomputing it",
                cache_path.display()
            );
            PreEditCache::new(model_sha256.clone(), dataset.clone())
        }
        Err(_) => PreEditCache::new(model_sha256.clone(), dataset.clone()),
    };

    let meta = |wall_s: f64| RowMeta {
        config_hash: hash.clone(),
        method: METHOD.to_owned(),
        model: model_shown.clone(),
        model_sha256: model_sha256.clone(),
        code_version: version.clone(),
        cpu: cpu_description(),
        wall_s,
    };
    let progress = Progress::new(todo.len());
    for case in &todo {
        let t = Instant::now();
        let pre = cache
            .get_or_compute(case, &mut scorer)
            .with_context(|| format!("{dataset}: case {}", case.index))?;
        let scores = evaluate_case(case, pre, &mut scorer, &eval_cfg)
            .with_context(|| format!("{dataset}: case {}", case.index))?;
        log.append(&Row {
            meta: meta(t.elapsed().as_secs_f64()),
            data: scores,
        })?;
        progress.inc();
    }
    progress.finish();
    // resumed cases: make sure the cache is complete too (locality forwards only)
    for case in cases {
        cache
            .get_or_compute(case, &mut scorer)
            .with_context(|| format!("{dataset}: case {}", case.index))?;
    }
    cache
        .save(&cache_path)
        .with_context(|| format!("saving {}", cache_path.display()))?;

    // the summary of every row in scope (this run's and earlier ones)
    let (_, rows) = RowLog::open::<CaseScores>(&rows_path, &hash)?;
    let mut by_index: BTreeMap<usize, Row<CaseScores>> = BTreeMap::new();
    for row in rows.into_iter().filter(|r| r.data.index < limit) {
        by_index.insert(row.data.index, row);
    }
    if by_index.len() != limit {
        bail!(
            "{}: {} of the {limit} cases have rows; rerun to finish",
            rows_path.display(),
            by_index.len()
        );
    }
    let scores: Vec<CaseScores> = by_index.values().map(|r| r.data.clone()).collect();
    let summary = summarize(&scores);
    let case_wall_s_total: f64 = by_index.values().map(|r| r.meta.wall_s).sum();
    let case_wall_s_mean = (limit > 0).then(|| case_wall_s_total / limit as f64);

    write_atomic(&out.join("summary.csv"), summary_csv(&summary).as_bytes())?;
    let generation = match &eval_cfg.generation {
        None => "none (--no-fluency)".to_owned(),
        Some(g) => format!(
            "{:?}, {} tokens in all (prompt included), EOS stop: {}",
            g.decoding, g.max_total_tokens, g.stop_at_eos
        ),
    };
    let about = [
        ("method", METHOD.to_owned()),
        ("model", format!("`{model_shown}` (sha256 {model_sha256})")),
        (
            "dataset",
            format!(
                "{dataset}{} — `{dataset_shown}` (sha256 {dataset_sha256}), first {limit} cases",
                dataset_format.map_or(String::new(), |f| format!(" ({f} layout)")),
            ),
        ),
        ("fluency generation", generation),
        (
            "wall time per case",
            case_wall_s_mean.map_or("–".into(), |s| format!("{s:.2} s")),
        ),
        ("config hash", format!("`{hash}`")),
        ("code version", format!("`{version}`")),
    ];
    let title = format!(
        "kne eval: {} on {} (method {METHOD})",
        model_name(&model_path),
        dataset
    );
    write_atomic(
        &out.join("summary.md"),
        summary_markdown(&title, &about, &summary).as_bytes(),
    )?;
    write_json_atomic(
        &out.join("run.json"),
        &RunRecord {
            command: command_line(),
            method: METHOD,
            config_hash: &hash,
            code_version: &version,
            model: model_shown.clone(),
            model_sha256: &model_sha256,
            dataset: &dataset,
            dataset_format,
            dataset_file: dataset_shown.clone(),
            dataset_sha256: &dataset_sha256,
            dataset_cases,
            limit,
            eval: &eval_cfg,
            batch,
            device: "burn-flex (CPU)",
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cases_run_now: todo.len(),
            cases_resumed: resumed,
            model_load_s,
            wall_s: started.elapsed().as_secs_f64(),
            case_wall_s_mean,
            case_wall_s_total,
            summary: &summary,
        },
    )?;
    print!("{}", summary_csv(&summary));
    eprintln!(
        "wrote {} ({} cases, {:.2} s per case)",
        out.display(),
        limit,
        case_wall_s_mean.unwrap_or(0.0)
    );
    Ok(())
}

/// `path` for the records: relative to the current folder when inside it (so committed
/// results do not name this machine's folders), else absolute; as given if it cannot be
/// resolved.
fn shown_path(path: &Path) -> String {
    let Ok(abs) = path.canonicalize() else {
        return path.display().to_string();
    };
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| abs.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(abs)
        .display()
        .to_string()
}

/// The command line, the program as its file name only (`kne`).
fn command_line() -> Vec<String> {
    let mut argv: Vec<String> = std::env::args().collect();
    if let Some(program) = argv.first_mut()
        && let Some(name) = Path::new(program.as_str()).file_name()
    {
        *program = name.to_string_lossy().into_owned();
    }
    argv
}

fn model_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Progress with ETA: an indicatif bar on a terminal, a line every ~5% otherwise.
struct Progress {
    bar: ProgressBar,
    total: usize,
    started: Instant,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} cases ({per_sec}) ETA {eta_precise}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            total,
            started: Instant::now(),
            tty,
        }
    }

    fn inc(&self) {
        self.bar.inc(1);
        if !self.tty {
            let done = self.bar.position() as usize;
            let step = (self.total / 20).max(1);
            if done.is_multiple_of(step) || done == self.total {
                let elapsed = self.started.elapsed().as_secs_f64();
                let eta = elapsed / done as f64 * (self.total - done) as f64;
                eprintln!(
                    "{done}/{} cases, {elapsed:.0} s elapsed, {:.2} s/case, ETA {eta:.0} s",
                    self.total,
                    elapsed / done as f64
                );
            }
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    mod test_dir {
        use std::path::PathBuf;

        /// A fresh, empty folder under the system temp dir for one test.
        pub fn fresh(name: &str) -> PathBuf {
            let dir = std::env::temp_dir().join(format!("kne-cli-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        }
    }

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: EvalArgs,
    }

    fn args(list: &[&str]) -> EvalArgs {
        let argv = std::iter::once("kne-eval").chain(list.iter().copied());
        Cli::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn missing_inputs_are_clear_errors_and_write_nothing() {
        let dir = test_dir::fresh("eval-missing");
        let out = dir.join("out");
        let out_s = out.to_str().unwrap();
        let err = run(args(&[
            "--model",
            "/nonexistent/m.gguf",
            "--dataset",
            "zsre",
            "--out",
            out_s,
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/m.gguf"), "{err:#}");
        let model = paths::default_model_path();
        let err = run(args(&[
            "--model",
            model.to_str().unwrap(),
            "--dataset",
            "wiki_cf",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            out_s,
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("test_cf.json"), "{err:#}");
        assert!(!out.exists());
        assert!(
            Cli::try_parse_from(["kne-eval", "--dataset", "counterfact", "--out", "x"]).is_err()
        );
    }

    /// Needs the default model and the KnowEdit data (as the kne-eval model tests do).
    #[test]
    fn resumes_the_same_config_and_refuses_another() {
        let dir = test_dir::fresh("eval-resume");
        let out = dir.join("out");
        let base = [
            "--dataset",
            "zsre",
            "--no-fluency",
            "--out",
            out.to_str().unwrap(),
        ];
        let with = |extra: &[&str]| args(&[&base[..], extra].concat());
        run(with(&["--limit", "2"])).unwrap();
        let rows = std::fs::read_to_string(out.join("rows.jsonl")).unwrap();
        assert_eq!(rows.lines().count(), 2);
        // a larger limit runs only the new case; the summary covers all three
        run(with(&["--limit", "3"])).unwrap();
        let rows = std::fs::read_to_string(out.join("rows.jsonl")).unwrap();
        assert_eq!(rows.lines().count(), 3);
        let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert!(csv.contains("\nlocality,100.0000,3\n"), "{csv}");
        assert!(csv.ends_with("cases,,3\n"), "{csv}");
        let run_json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(run_json["cases_run_now"], 1);
        assert_eq!(run_json["cases_resumed"], 2);
        assert_eq!(run_json["model_sha256"].as_str().unwrap().len(), 64);
        let cache = PreEditCache::load(&out.join("pre_edit.json")).unwrap();
        assert_eq!(cache.cases.len(), 3);
        // another config in the same folder is refused, and nothing is appended
        let err = run(with(&["--limit", "3", "--max-batch-rows", "2"])).unwrap_err();
        assert!(format!("{err:#}").contains("choose a new --out"), "{err:#}");
        let rows = std::fs::read_to_string(out.join("rows.jsonl")).unwrap();
        assert_eq!(rows.lines().count(), 3);
    }
}
