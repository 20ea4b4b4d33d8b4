//! The caption of a report: every setting that shaped its numbers, stated from the
//! experiment file, its cells and the rows themselves (the model each row names).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use kne_eval::data::{DataSource, Dataset};
use serde::Deserialize;

use super::experiment::{Experiment, KneSettings};
use super::plan::Cell;
use super::report::read_rows_as;
use super::split::{LocalizationSource, reserves_holdout};

/// The fields of a result row that say where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct RowHead {
    pub config_hash: String,
    pub model: String,
    pub model_sha256: String,
}

/// The [`RowHead`]s of every row in a cell folder (every shard's file).
pub fn row_heads(cell_dir: &Path) -> Result<BTreeSet<RowHead>> {
    Ok(read_rows_as::<RowHead>(cell_dir)?.into_iter().collect())
}

/// What a caption states of each row: its model, the build that wrote it and the CPU (empty
/// in rows made before it was recorded).
#[derive(Debug, Deserialize)]
struct RowOrigin {
    model: String,
    model_sha256: String,
    code_version: String,
    #[serde(default)]
    cpu: String,
}

/// `a (n rows), b (m rows)` over a count per value.
fn counted(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(value, n)| format!("{value} ({n} rows)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the evaluated file is, and whether it stands in for another.
fn file_note(dataset: &DataSource, file: &str) -> String {
    match dataset {
        DataSource::KnowEdit(d @ Dataset::WikiRecent) if file == d.test_file() => format!(
            "`{file}` (KnowEdit's WikiData recent **train** file, standing in for the test file, \
             which could not be obtained)"
        ),
        DataSource::KnowEdit(_) => format!("`{file}` (KnowEdit)"),
        DataSource::File(f) => format!(
            "`{file}` (the experiment's own file, {} layout; sha256 in every row's config hash)",
            f.format.map_or("detected".to_owned(), |f| format!("`{f}`"))
        ),
    }
}

/// How the selection quantile of Eq. 6 is taken, in words.
fn scope_text(scope: kne_attr::SelectionScope) -> &'static str {
    match scope {
        kne_attr::SelectionScope::Global => {
            "scope global (one quantile pools every site, layer and module type, as Eq. 6)"
        }
        kne_attr::SelectionScope::PerModule => {
            "scope per module (one quantile per module type over its layers)"
        }
        kne_attr::SelectionScope::PerSite => "scope per site (one quantile per layer and module)",
    }
}

/// One line describing a KNE cell's settings.
fn kne_line(experiment: &Experiment, label: &str, kne: &KneSettings) -> String {
    let mut sources = Vec::new();
    for dataset in experiment.sources(Path::new("")).unwrap_or_default() {
        let name = dataset.name();
        let text = match kne.localize_from.resolve(&dataset, experiment.evaluate) {
            Ok(LocalizationSource::Train) => format!(
                "{name}: first {} records of `{}`",
                kne.localize,
                dataset
                    .knowedit()
                    .and_then(|d| d.train_file())
                    .unwrap_or("?")
            ),
            Ok(LocalizationSource::Holdout) => format!(
                "{name}: first {} of the {} held-out records",
                kne.localize, experiment.holdout
            ),
            Ok(LocalizationSource::Transductive) => format!(
                "{name}: the first {} **evaluated** cases (transductive)",
                kne.localize
            ),
            Err(e) => format!("{name}: {e}"),
        };
        sources.push(text);
    }
    let a = &kne.attribution;
    let modules: Vec<String> = a.modules.iter().map(|m| m.to_string()).collect();
    let e = &kne.edit;
    format!(
        "`{label}`: ensemble localized on {} facts ({}); attribution m = {} {}, axis {:?}, \
         sites {{{}}}{}; selection p = {}, {}; edit: Adam lr {}, at most {} steps, \
         α = {}, stop at target NLL < {}",
        kne.localize,
        sources.join("; "),
        a.steps,
        match a.quadrature {
            kne_attr::Quadrature::Riemann => "Riemann steps (Eq. 5; the paper: m = 20)",
            kne_attr::Quadrature::Midpoint => "midpoint steps (the paper: 20 right Riemann steps)",
            kne_attr::Quadrature::GaussLegendre =>
                "Gauss–Legendre points (the paper: 20 Riemann steps)",
        },
        a.axis,
        modules.join(", "),
        a.layers
            .as_ref()
            .map_or(String::new(), |l| format!(" in layers {l:?}")),
        kne.p,
        scope_text(kne.scope),
        e.learning_rate,
        e.steps,
        e.alpha,
        e.early_stop_loss,
    )
}

/// The caption of the report of `experiment` over the rows in `out`.
pub fn caption(experiment: &Experiment, cells: &[Cell], out: &Path, full: bool) -> Result<String> {
    let mut md = String::from("**Setup.**\n\n");
    // Models, builds and CPUs, as the rows name them (one read of every cell's rows). A
    // reference from one clean commit shows one build; rows from CPUs whose kernels differ
    // may differ in the last bits (`results::cpu_description`).
    let mut models = BTreeSet::new();
    let mut versions = BTreeMap::new();
    let mut cpus = BTreeMap::new();
    for dataset in &experiment.dataset_names() {
        for cell in cells {
            for row in read_rows_as::<RowOrigin>(&out.join(dataset).join(&cell.label))? {
                let name = Path::new(&row.model)
                    .file_name()
                    .map_or(row.model.clone(), |n| n.to_string_lossy().into_owned());
                models.insert(format!(
                    "`{name}` (sha256 {}…)",
                    &row.model_sha256[..12.min(row.model_sha256.len())]
                ));
                *versions
                    .entry(format!("`{}`", row.code_version))
                    .or_default() += 1;
                let cpu = if row.cpu.is_empty() {
                    "CPU not recorded".to_owned()
                } else {
                    row.cpu
                };
                *cpus.entry(cpu).or_default() += 1;
            }
        }
    }
    let _ = writeln!(
        md,
        "- Model: {}.",
        if models.is_empty() {
            "no rows yet".to_string()
        } else {
            models.into_iter().collect::<Vec<_>>().join(", ")
        }
    );
    if !versions.is_empty() {
        let _ = writeln!(
            md,
            "- Code and machine: {}; {}.",
            counted(&versions),
            counted(&cpus)
        );
    }
    let all = match experiment.full_cases {
        0 => "all".to_string(),
        n => n.to_string(),
    };
    let cases = if full {
        format!("{all} evaluable records (`--full`)")
    } else {
        format!(
            "the first {} evaluable records (quick default; `--full`: {all})",
            experiment.cases
        )
    };
    let _ = writeln!(
        md,
        "- Cases: {cases} of each file, edited in batches of {} on the restored model; seed {}.",
        experiment.batch_size, experiment.seed
    );
    let mut files = Vec::new();
    for dataset in experiment.sources(Path::new("")).unwrap_or_default() {
        let name = dataset.name();
        let file = experiment
            .evaluate
            .file_name(&dataset)
            .unwrap_or_else(|_| "?".to_owned());
        let holdout = if reserves_holdout(&dataset, experiment.evaluate) && experiment.holdout > 0 {
            format!(
                "; its last {} records are held out for localization and never evaluated",
                experiment.holdout
            )
        } else {
            String::new()
        };
        files.push(format!("{name}: {}{holdout}", file_note(&dataset, &file)));
    }
    let _ = writeln!(md, "- Data: {}.", files.join("; "));
    let kne_cells: Vec<&Cell> = cells.iter().filter(|c| c.method == "kne").collect();
    if !kne_cells.is_empty() {
        md.push_str("- KNE:\n");
        for cell in kne_cells {
            let _ = writeln!(md, "  - {}.", kne_line(experiment, &cell.label, &cell.kne));
        }
    }
    if cells.iter().any(|c| c.method != "kne") {
        // A model entry may bring its own file (a depth's layers, one setting of a sweep).
        let own: Vec<String> = experiment
            .models
            .iter()
            .filter_map(|m| {
                m.baselines
                    .as_ref()
                    .map(|b| format!("`{}`: `{}`", m.key, b.display()))
            })
            .collect();
        let default = format!("`{}`", experiment.baselines.display());
        let from = if own.is_empty() {
            default
        } else if own.len() == experiment.models.len() {
            own.join(", ")
        } else {
            format!("{}; other models {default}", own.join(", "))
        };
        let _ = writeln!(md, "- Baselines: hyper-parameters from {from}.");
    }
    match &experiment.eval.generation {
        Some(g) => {
            let _ = writeln!(
                md,
                "- Fluency: {:?}, {} tokens in all (prompt included), stop at EOS: {}; the \
                 weighted bi-/tri-gram entropy ×100.",
                g.decoding, g.max_total_tokens, g.stop_at_eos
            );
        }
        None => md.push_str("- Fluency: not measured.\n"),
    }
    for note in &experiment.notes {
        let _ = writeln!(md, "- {note}");
    }
    Ok(md)
}
