//! A fresh run against the committed reference (`results/<experiment>/`), cell by cell:
//! a metric is *reproduced* when the new mean lies inside the reference's bootstrap 95 %
//! interval. Cells whose rows were made with other settings (another config hash) are named
//! as such, since their numbers need not agree.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::caption::row_heads;
use super::experiment::Experiment;
use super::report::{METRICS, MetricStat, collect};
use crate::results::write_atomic;

/// The verdict of one metric of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// The new mean lies inside the reference's interval.
    Reproduced,
    /// It lies outside.
    Differs,
    /// The reference has no value (or no interval) for it.
    NoReference,
    /// The new run has no value for it.
    NotRun,
}

impl Agreement {
    pub fn of(new: MetricStat, reference: MetricStat) -> Self {
        match (new.mean, reference.mean, reference.ci) {
            (None, _, _) => Agreement::NotRun,
            (Some(_), None, _) | (Some(_), Some(_), None) => Agreement::NoReference,
            (Some(m), Some(_), Some((lo, hi))) => {
                // Means are printed with 4 decimals; a tolerance keeps a bit-identical
                // rerun "reproduced" at an interval's edge.
                if m >= lo - 1e-9 && m <= hi + 1e-9 {
                    Agreement::Reproduced
                } else {
                    Agreement::Differs
                }
            }
        }
    }

    fn text(self) -> &'static str {
        match self {
            Agreement::Reproduced => "reproduced",
            Agreement::Differs => "**differs**",
            Agreement::NoReference => "no reference",
            Agreement::NotRun => "not run",
        }
    }
}

/// The config hashes of the rows in a cell folder (every shard's file).
pub fn cell_config_hashes(cell_dir: &Path) -> Result<BTreeSet<String>> {
    Ok(row_heads(cell_dir)?
        .into_iter()
        .map(|h| h.config_hash)
        .collect())
}

/// What [`compare`] found: the markdown report and the count of each verdict.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub markdown: String,
    pub reproduced: usize,
    pub differs: Vec<String>,
    pub other_settings: Vec<String>,
}

/// Compares the run in `run_dir` (an experiment folder) with `reference_dir`; writes
/// `run_dir/comparison.md`.
pub fn compare(
    experiment: &Experiment,
    run_dir: &Path,
    reference_dir: &Path,
    full: bool,
) -> Result<Comparison> {
    let new = collect(experiment, run_dir, full)?;
    let reference = collect(experiment, reference_dir, full)?;
    let mut out = Comparison::default();
    let mut md = format!(
        "# {} — this run against the reference\n\nRun: `{}`. Reference: `{}`.\n\
         A metric is *reproduced* when this run's mean lies inside the reference's bootstrap \
         95 % interval. Each entry: this run's mean (the reference's mean [interval]).\n",
        experiment.title,
        run_dir.display(),
        reference_dir.display()
    );
    for (dataset, cells) in &new {
        let _ = write!(md, "\n## {dataset}\n\n| cell | settings | cases (ref.) |");
        for (_, heading, _) in METRICS {
            let _ = write!(md, " {heading} |");
        }
        md.push_str("\n|---|---|---|");
        md.push_str(&"---|".repeat(METRICS.len()));
        md.push('\n');
        for (cell, stats, _) in cells {
            let ref_stats = reference
                .get(dataset)
                .and_then(|r| r.iter().find(|(c, _, _)| c.label == cell.label))
                .map(|(_, s, _)| *s);
            let new_hashes = cell_config_hashes(&run_dir.join(dataset).join(&cell.label))?;
            let ref_hashes = cell_config_hashes(&reference_dir.join(dataset).join(&cell.label))?;
            let settings = if ref_hashes.is_empty() {
                "no reference"
            } else if new_hashes == ref_hashes {
                "same"
            } else {
                out.other_settings.push(format!("{dataset}/{}", cell.label));
                "**other**"
            };
            let _ = write!(
                md,
                "| {} | {settings} | {} ({}) |",
                cell.label,
                stats[0].count,
                ref_stats.map_or(0, |s| s[0].count)
            );
            for (m, (key, _, _)) in METRICS.iter().enumerate() {
                let reference = ref_stats.map(|s| s[m]).unwrap_or(MetricStat {
                    mean: None,
                    ci: None,
                    count: 0,
                });
                let agreement = Agreement::of(stats[m], reference);
                match agreement {
                    Agreement::Reproduced => out.reproduced += 1,
                    Agreement::Differs => {
                        out.differs.push(format!("{dataset}/{}/{key}", cell.label))
                    }
                    _ => {}
                }
                let ours = stats[m].mean.map_or("–".into(), |v| format!("{v:.1}"));
                let theirs = match (reference.mean, reference.ci) {
                    (Some(v), Some((lo, hi))) => format!(" ({v:.1} [{lo:.1}, {hi:.1}])"),
                    (Some(v), None) => format!(" ({v:.1})"),
                    _ => String::new(),
                };
                let _ = write!(md, " {ours}{theirs} {} |", agreement.text());
            }
            md.push('\n');
        }
    }
    let _ = write!(
        md,
        "\n**{} metric(s) reproduced; {} differ{}.**{}\n",
        out.reproduced,
        out.differs.len(),
        if out.differs.is_empty() {
            String::new()
        } else {
            format!(": {}", out.differs.join(", "))
        },
        if out.other_settings.is_empty() {
            String::new()
        } else {
            format!(
                " The reference of {} was made with other settings (another config hash), so \
                 its numbers need not agree.",
                out.other_settings.join(", ")
            )
        }
    );
    write_atomic(&run_dir.join("comparison.md"), md.as_bytes())?;
    out.markdown = md;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mean: Option<f64>, ci: Option<(f64, f64)>) -> MetricStat {
        MetricStat { mean, ci, count: 5 }
    }

    #[test]
    fn a_mean_inside_the_reference_interval_is_reproduced() {
        let reference = stat(Some(50.0), Some((40.0, 60.0)));
        assert_eq!(
            Agreement::of(stat(Some(60.0), None), reference),
            Agreement::Reproduced
        );
        assert_eq!(
            Agreement::of(stat(Some(60.1), None), reference),
            Agreement::Differs
        );
        assert_eq!(
            Agreement::of(stat(None, None), reference),
            Agreement::NotRun
        );
        assert_eq!(
            Agreement::of(stat(Some(1.0), None), stat(None, None)),
            Agreement::NoReference
        );
    }
}
