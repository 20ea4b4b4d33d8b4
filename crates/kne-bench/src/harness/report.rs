//! Summaries of an experiment's rows: CSV, a markdown table with the paper's numbers beside
//! ours (and bootstrap 95 % intervals), and PNG plots for sweeps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use kne_eval::metrics::CaseScores;

use super::bootstrap::bootstrap_mean_ci;
use super::experiment::Experiment;
use super::plan::{Cell, cells};
use super::plot::plot_sweep;
use super::runner::CellRow;
use crate::results::{Row, write_atomic};

/// A metric of a case's scores.
pub type MetricOf = fn(&CaseScores) -> Option<f64>;

/// How many metrics a report has.
pub const N_METRICS: usize = 5;

/// The paper's four metrics, then EasyEdit's Generalization (the edit's accuracy on the
/// rephrased prompt, where the data has one): (key in `[paper]`, heading, accessor).
pub const METRICS: [(&str, &str, MetricOf); N_METRICS] = [
    ("es", "Edit Succ.", |s| s.edit_success),
    ("portability", "Portability", |s| s.portability),
    ("locality", "Locality", |s| s.locality),
    ("fluency", "Fluency", |s| s.fluency),
    ("generalization", "Generalization", |s| s.rephrase),
];

/// One metric of one cell: mean ×100 over the cases that have it, its interval, count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricStat {
    pub mean: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub count: usize,
}

impl MetricStat {
    pub fn of(values: &[f64]) -> Self {
        let mean =
            (!values.is_empty()).then(|| 100.0 * values.iter().sum::<f64>() / values.len() as f64);
        let ci = bootstrap_mean_ci(values, 0.95, 2000, 0).map(|(lo, hi)| (100.0 * lo, 100.0 * hi));
        Self {
            mean,
            ci,
            count: values.len(),
        }
    }
}

/// Every row of a cell folder's rows files (every shard's, in file-name order), parsed as
/// `T` (a whole [`Row`], or the few fields a caller needs).
pub fn read_rows_as<T: serde::de::DeserializeOwned>(cell_dir: &Path) -> Result<Vec<T>> {
    let mut rows = Vec::new();
    for file in crate::results::rows_files(cell_dir)? {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            rows.push(serde_json::from_str(line).with_context(|| {
                format!("{}: line {}: not a result row", file.display(), n + 1)
            })?);
        }
    }
    Ok(rows)
}

/// Rows of one cell, from every shard's file, one per case (the first if a case repeats).
pub fn read_cell_rows(cell_dir: &Path) -> Result<Vec<CellRow>> {
    let mut by_case: BTreeMap<usize, CellRow> = BTreeMap::new();
    for row in read_rows_as::<Row<CellRow>>(cell_dir)? {
        by_case.entry(row.data.scores.index).or_insert(row.data);
    }
    Ok(by_case.into_values().collect())
}

/// Per dataset and cell, the four metrics and the number of failed edits.
pub type Table = BTreeMap<String, Vec<CellStats>>;

/// One cell of a dataset: its metrics and its number of failed edits.
pub type CellStats = (Cell, [MetricStat; N_METRICS], usize);

/// Cases a report counts: rows of case indices below this.
pub fn case_limit(experiment: &Experiment, full: bool) -> usize {
    match (full, experiment.full_cases) {
        (false, _) => experiment.cases,
        (true, 0) => usize::MAX,
        (true, n) => n,
    }
}

/// Rows of the cases the run plans (the first `cases`, or `full_cases` with `--full`), so a
/// smaller rerun of a folder that holds more rows reports what it says.
pub fn collect(experiment: &Experiment, out: &Path, full: bool) -> Result<Table> {
    let cells = cells(experiment, full)?;
    let limit = case_limit(experiment, full);
    let mut table = Table::new();
    for dataset in &experiment.dataset_names() {
        let mut row = Vec::new();
        for cell in &cells {
            let mut rows = read_cell_rows(&out.join(dataset).join(&cell.label))?;
            rows.retain(|r| r.scores.index < limit);
            let errors = rows.iter().filter(|r| r.error.is_some()).count();
            let stats = METRICS.map(|(_, _, get)| {
                let values: Vec<f64> = rows.iter().filter_map(|r| get(&r.scores)).collect();
                MetricStat::of(&values)
            });
            row.push((cell.clone(), stats, errors));
        }
        table.insert(dataset.clone(), row);
    }
    Ok(table)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.4}"))
}

/// Writes `summary.csv`, `summary.md` and (for sweeps) one PNG per dataset into `out`.
pub fn write_reports(
    experiment: &Experiment,
    out: &Path,
    full: bool,
    command: &str,
) -> Result<Table> {
    let table = collect(experiment, out, full)?;
    let mut csv = String::from(
        "dataset,cell,method,metric,mean,ci95_low,ci95_high,cases,failed_edits,paper,easyedit\n",
    );
    for (dataset, cells) in in_experiment_order(experiment, &table) {
        for (cell, stats, errors) in cells {
            for ((key, _, _), stat) in METRICS.iter().zip(stats) {
                let paper = reference_value(&experiment.paper, dataset, &cell.label, key);
                let easyedit = reference_value(&experiment.easyedit, dataset, &cell.label, key);
                let _ = writeln!(
                    csv,
                    "{dataset},{},{},{key},{},{},{},{},{errors},{},{}",
                    cell.label,
                    cell.method,
                    fmt_opt(stat.mean),
                    fmt_opt(stat.ci.map(|c| c.0)),
                    fmt_opt(stat.ci.map(|c| c.1)),
                    stat.count,
                    fmt_opt(paper),
                    fmt_opt(easyedit),
                );
            }
        }
    }
    write_atomic(&out.join("summary.csv"), csv.as_bytes())?;
    let caption = super::caption::caption(experiment, &cells(experiment, full)?, out, full)?;
    let mut md = markdown(experiment, &table, command, &caption);
    if experiment.sweep.is_some() || experiment.models.len() > 1 {
        md.push_str(&paired_to_first(&table, out, full, experiment)?);
    }
    write_atomic(&out.join("summary.md"), md.as_bytes())?;
    super::cost::write_cost(experiment, &table, out, case_limit(experiment, full))?;
    if experiment.sweep.is_some() {
        for (dataset, cells) in &table {
            plot_sweep(
                experiment,
                dataset,
                cells,
                &out.join(format!("{dataset}.png")),
            )?;
        }
    }
    Ok(table)
}

/// A reference table's number (`[paper]` or `[easyedit]` of the experiment).
type References = BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>;

fn reference_value(
    references: &References,
    dataset: &str,
    cell: &str,
    metric: &str,
) -> Option<f64> {
    references.get(dataset)?.get(cell)?.get(metric).copied()
}

/// For a sweep (or several model entries, e.g. one per setting of a baseline): each cell's
/// paired difference to the first, per metric (same cases on both sides, bootstrap 95 %
/// interval), which is what a choice between settings rests on.
fn paired_to_first(
    table: &Table,
    out: &Path,
    full: bool,
    experiment: &Experiment,
) -> Result<String> {
    use super::claims::{paired, per_case_values};
    let limit = case_limit(experiment, full);
    let mut md = String::new();
    for (dataset, cells) in in_experiment_order(experiment, table) {
        let Some((first, _, _)) = cells.first() else {
            continue;
        };
        let values_of = |label: &str| -> Result<_> {
            Ok(per_case_values(
                &read_cell_rows(&out.join(dataset).join(label))?,
                limit,
            ))
        };
        let base = values_of(&first.label)?;
        let _ = write!(
            md,
            "\n### {dataset}: paired difference to `{}` (×100, [95 % interval], cases)\n\n| cell |",
            first.label
        );
        for (_, heading, _) in METRICS {
            let _ = write!(md, " {heading} |");
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(METRICS.len()));
        md.push('\n');
        for (cell, _, _) in cells.iter().skip(1) {
            let values = values_of(&cell.label)?;
            let _ = write!(md, "| {} |", cell.label);
            for m in 0..METRICS.len() {
                let text = paired(&values[m], &base[m]).map_or("–".into(), |p| {
                    format!("{} ({})", p.difference_text(), p.cases)
                });
                let _ = write!(md, " {text} |");
            }
            md.push('\n');
        }
    }
    Ok(md)
}

/// The datasets of `table` in the experiment's order (the paper's: WikiData counterfact,
/// ZsRE, WikiData recent), not alphabetical.
pub(super) fn in_experiment_order<'a>(
    experiment: &Experiment,
    table: &'a Table,
) -> Vec<(&'a String, &'a Vec<CellStats>)> {
    experiment
        .dataset_names()
        .iter()
        .filter_map(|d| table.get_key_value(d))
        .collect()
}

fn markdown(experiment: &Experiment, table: &Table, command: &str, caption: &str) -> String {
    let mut md = format!(
        "# {}\n\nProduced by `{command}`.\n\n{caption}\n",
        experiment.title
    );
    md.push_str("Each cell: our mean over the evaluated cases ×100 [bootstrap 95 % interval]");
    if !experiment.paper.is_empty() {
        md.push_str("; *paper*: the KNE paper's number");
    }
    if !experiment.easyedit.is_empty() {
        md.push_str("; *EE*: EasyEdit's corrected number (METHODS.md §6.2)");
    }
    md.push_str(
        "; *n*: the number of cases with that metric's probes, where fewer than the cell's \
         (a record without portability or locality prompts has no such score). \
         Fluency is the weighted bi-/tri-gram entropy ×100.\n",
    );
    for (dataset, cells) in in_experiment_order(experiment, table) {
        let _ = write!(md, "\n## {dataset}\n\n| Metric |");
        for (cell, _, _) in cells {
            let heading = experiment.headings.get(&cell.label).unwrap_or(&cell.label);
            let _ = write!(md, " {heading} |");
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(cells.len()));
        md.push('\n');
        for (m, (key, heading, _)) in METRICS.iter().enumerate() {
            // A metric no cell has and no reference gives (Generalization without rephrase
            // prompts) is left out.
            let present = cells.iter().any(|(cell, stats, _)| {
                stats[m].mean.is_some()
                    || [&experiment.paper, &experiment.easyedit]
                        .iter()
                        .any(|r| reference_value(r, dataset, &cell.label, key).is_some())
            });
            if !present {
                continue;
            }
            let _ = write!(md, "| {heading} |");
            for (cell, stats, _) in cells {
                let mut text = stat_text(stats[m], stats[0].count);
                for (name, references) in
                    [("paper", &experiment.paper), ("EE", &experiment.easyedit)]
                {
                    if let Some(v) = reference_value(references, dataset, &cell.label, key) {
                        let _ = write!(text, "<br>*{name}* {v:.2}");
                    }
                }
                let _ = write!(md, " {text} |");
            }
            md.push('\n');
        }
        md.push_str("| cases (failed edits) |");
        for (_, stats, errors) in cells {
            let _ = write!(md, " {} ({errors}) |", stats[0].count + errors);
        }
        md.push('\n');
    }
    md
}

/// A metric's mean [interval], with its case count `n` when fewer cases have it than the
/// `edited` cases of its cell.
fn stat_text(s: MetricStat, edited: usize) -> String {
    let mut text = match (s.mean, s.ci) {
        (Some(mean), Some((lo, hi))) => format!("{mean:.2} [{lo:.1}, {hi:.1}]"),
        (Some(mean), None) => format!("{mean:.2}"),
        _ => return "–".into(),
    };
    if s.count < edited {
        let _ = write!(text, "<br>n = {}", s.count);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_are_reported_in_the_experiments_order() {
        let experiment: Experiment = toml::from_str(
            r#"
name = "order"
title = "order"
datasets = ["wiki_cf", "zsre", "wiki_recent"]
methods = ["ft"]
cases = 1
batch_size = 1
seed = 0

[eval]

[kne]
p = 0.01
localize = 1

[kne.attribution]

[kne.edit]
"#,
        )
        .unwrap();
        let mut table = Table::new();
        for d in ["wiki_recent", "zsre", "wiki_cf"] {
            table.insert(d.to_string(), Vec::new());
        }
        let order: Vec<&str> = in_experiment_order(&experiment, &table)
            .into_iter()
            .map(|(d, _)| d.as_str())
            .collect();
        assert_eq!(order, ["wiki_cf", "zsre", "wiki_recent"]);
        let md = markdown(&experiment, &table, "test", "");
        let at = |d: &str| md.find(&format!("## {d}\n")).unwrap();
        assert!(
            at("wiki_cf") < at("zsre") && at("zsre") < at("wiki_recent"),
            "{md}"
        );
    }

    #[test]
    fn a_metric_on_fewer_cases_than_its_cell_shows_its_count() {
        let all = MetricStat::of(&[1.0, 0.5, 0.0]);
        let some = MetricStat::of(&[0.5]);
        let text = stat_text(all, 3);
        assert!(
            text.starts_with("50.00 [") && !text.contains("n ="),
            "{text}"
        );
        assert_eq!(stat_text(some, 3), "50.00<br>n = 1");
        assert_eq!(stat_text(MetricStat::of(&[]), 3), "–");
    }
}
