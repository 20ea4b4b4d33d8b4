//! Where a run's time went: seconds per case of every cell, split into the edit and the
//! rest (pre-edit lookup, apply/check, teacher-forced probes and fluency generation), from
//! the times every row records. Written as `cost.csv` / `cost.md` beside the summary (not
//! in it: times differ between two runs whose numbers are identical).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use super::experiment::Experiment;
use super::report::{Table, in_experiment_order, read_rows_as};
use crate::results::write_atomic;

/// The timing fields of a row.
#[derive(Deserialize)]
struct RowTimes {
    index: usize,
    wall_s: f64,
    edit: Option<EditTimes>,
}

#[derive(Deserialize)]
struct EditTimes {
    wall_seconds: f64,
}

/// Mean seconds per case of one cell, over its rows with an edit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellCost {
    pub cases: usize,
    /// Whole case: edit, checks, evaluation.
    pub wall_s: f64,
    /// The editor's `edit` alone.
    pub edit_s: f64,
}

impl CellCost {
    /// Everything but the edit: applying and checking the delta, the probes, fluency.
    pub fn score_s(&self) -> f64 {
        self.wall_s - self.edit_s
    }
}

fn cell_cost(cell_dir: &Path, limit: usize) -> Result<Option<CellCost>> {
    let mut seen = std::collections::BTreeSet::new();
    let (mut wall, mut edit, mut n) = (0.0, 0.0, 0usize);
    for row in read_rows_as::<RowTimes>(cell_dir)? {
        let Some(e) = row.edit else { continue };
        if row.index >= limit || !seen.insert(row.index) {
            continue;
        }
        wall += row.wall_s;
        edit += e.wall_seconds;
        n += 1;
    }
    Ok((n > 0).then(|| CellCost {
        cases: n,
        wall_s: wall / n as f64,
        edit_s: edit / n as f64,
    }))
}

/// Writes `cost.csv` and `cost.md` for the cells of `table` under `out`, datasets in the
/// experiment's order; `limit` is the report's case limit (rows at or past it are not
/// counted).
pub fn write_cost(experiment: &Experiment, table: &Table, out: &Path, limit: usize) -> Result<()> {
    let mut csv = String::from("dataset,cell,method,cases,wall_s,edit_s,score_s,total_s\n");
    let mut md = String::from(
        "# Cost per case\n\nMean seconds per evaluated case (rows with an edit), as every \
         row records them: *edit* is the editor's `edit`, *rest* applying and checking the \
         delta, the teacher-forced probes and fluency generation. Localization (KNE's \
         attribution) is not in the rows: the run log prints it per fact.\n\n\
         | dataset | cell | cases | s / case | edit | rest | total |\n|---|---|---|---|---|---|---|\n",
    );
    let mut per_method: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut grand = 0.0;
    for (dataset, cells) in in_experiment_order(experiment, table) {
        for (cell, _, _) in cells {
            let Some(c) = cell_cost(&out.join(dataset).join(&cell.label), limit)? else {
                continue;
            };
            let total = c.wall_s * c.cases as f64;
            grand += total;
            let entry = per_method.entry(cell.label.clone()).or_default();
            entry.0 += total;
            entry.1 += c.cases;
            let _ = writeln!(
                csv,
                "{dataset},{},{},{},{:.3},{:.3},{:.3},{total:.1}",
                cell.label,
                cell.method,
                c.cases,
                c.wall_s,
                c.edit_s,
                c.score_s()
            );
            let _ = writeln!(
                md,
                "| {dataset} | {} | {} | {:.1} | {:.1} | {:.1} | {} |",
                cell.label,
                c.cases,
                c.wall_s,
                c.edit_s,
                c.score_s(),
                hours_minutes(total)
            );
        }
    }
    md.push_str("\n| cell | cases | total | share |\n|---|---|---|---|\n");
    for (label, (total, cases)) in &per_method {
        let _ = writeln!(
            md,
            "| {label} | {cases} | {} | {:.0} % |",
            hours_minutes(*total),
            100.0 * total / grand.max(f64::MIN_POSITIVE)
        );
    }
    let _ = writeln!(md, "| all | | {} | 100 % |", hours_minutes(grand));
    write_atomic(&out.join("cost.csv"), csv.as_bytes())?;
    write_atomic(&out.join("cost.md"), md.as_bytes())?;
    Ok(())
}

fn hours_minutes(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    if minutes >= 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hours_and_minutes() {
        assert_eq!(hours_minutes(59.0), "1 min");
        assert_eq!(hours_minutes(3600.0 + 5.0 * 60.0), "1 h 05 min");
    }

    #[test]
    fn a_cell_costs_the_mean_of_its_edited_rows_below_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            r#"{"index":0,"wall_s":10.0,"edit":{"wall_seconds":8.0}}"#,
            r#"{"index":1,"wall_s":20.0,"edit":{"wall_seconds":12.0}}"#,
            // a repeated case (two shards) counts once; a failed edit has no time split
            r#"{"index":1,"wall_s":99.0,"edit":{"wall_seconds":99.0}}"#,
            r#"{"index":2,"wall_s":5.0,"edit":null}"#,
            r#"{"index":7,"wall_s":50.0,"edit":{"wall_seconds":1.0}}"#,
        ];
        std::fs::write(dir.path().join("rows.jsonl"), rows.join("\n")).unwrap();
        let cost = cell_cost(dir.path(), 5).unwrap().unwrap();
        assert_eq!(cost.cases, 2);
        assert_eq!(cost.wall_s, 15.0);
        assert_eq!(cost.edit_s, 10.0);
        assert_eq!(cost.score_s(), 5.0);
        assert!(cell_cost(&dir.path().join("none"), 5).unwrap().is_none());
    }
}
