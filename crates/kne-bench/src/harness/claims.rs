//! `results/claims.md`: each claim of the paper, checked against our runs.
//!
//! A claim is judged only from experiments that have rows; the verdict says how strong the
//! evidence is: *supported* (the comparison holds and the bootstrap 95 % intervals do not
//! overlap), *consistent* (it holds on the means, intervals overlap), *not supported* (it does
//! not hold on the means), *not run* (no rows yet).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::experiment::Experiment;
use super::report::{MetricStat, Table, collect};

const ES: usize = 0;
const PORTABILITY: usize = 1;
const LOCALITY: usize = 2;

/// A comparison `a > b` (or `a >= b - margin`) with its strength.
fn verdict(a: MetricStat, b: MetricStat, margin: f64) -> &'static str {
    match (a.mean, b.mean) {
        (Some(x), Some(y)) if x + margin >= y => match (a.ci, b.ci) {
            (Some((lo, _)), Some((_, hi))) if lo > hi => "supported",
            _ => "consistent (intervals overlap)",
        },
        (Some(_), Some(_)) => "not supported",
        _ => "not run",
    }
}

fn fmt(s: MetricStat) -> String {
    match (s.mean, s.ci) {
        (Some(m), Some((lo, hi))) => format!("{m:.1} [{lo:.1}, {hi:.1}]"),
        (Some(m), None) => format!("{m:.1}"),
        _ => "–".into(),
    }
}

fn stat(table: &Table, dataset: &str, label: &str, metric: usize) -> Option<MetricStat> {
    table
        .get(dataset)?
        .iter()
        .find(|(c, _, _)| c.label == label)
        .map(|(_, s, _)| s[metric])
        .filter(|s| s.mean.is_some())
}

/// The best (highest-mean) baseline of a dataset for a metric.
fn best_baseline(table: &Table, dataset: &str, metric: usize) -> Option<(String, MetricStat)> {
    table
        .get(dataset)?
        .iter()
        .filter(|(c, _, _)| c.method != "kne")
        .filter_map(|(c, s, _)| s[metric].mean.map(|m| (m, c.label.clone(), s[metric])))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, l, s)| (l, s))
}

fn load(root: &Path, results: &Path, name: &str) -> Option<(Experiment, Table)> {
    let experiment =
        Experiment::load(&root.join("experiments").join(format!("{name}.toml"))).ok()?;
    let table = collect(&experiment, &results.join(name), false).ok()?;
    let has_rows = table.values().flatten().any(|(_, s, _)| s[ES].count > 0);
    has_rows.then_some((experiment, table))
}

/// Sign of the trend of a metric along a sweep: +1 rising, -1 falling (first vs last point).
fn trend(table: &Table, dataset: &str, metric: usize) -> Option<(f64, f64)> {
    let cells = table.get(dataset)?;
    let first = cells.first()?.1[metric].mean?;
    let last = cells.last()?.1[metric].mean?;
    Some((first, last))
}

/// Writes `results/claims.md` from whatever experiments have rows.
pub fn write_claims(root: &Path, results: &Path) -> Result<String> {
    let mut md = String::from(
        "# The paper's claims, checked on our runs\n\nModel: SmolLM2-135M-Instruct; table 2 adds Gemma-3-270M (the paper: Llama-2-7b-chat / GPT-J-6B). Verdicts: \
         *supported* = holds and the bootstrap 95 % intervals separate; *consistent* = holds on the means \
         only; *not supported* = does not hold on the means; *not run* = no rows yet. Numbers: mean ×100 \
         [95 % interval]. Rewritten after every `cargo xtask reproduce` / `cargo xtask merge`.\n\n| claim | evidence | verdict |\n|---|---|---|\n",
    );
    let table1 = load(root, results, "table1");
    for dataset in ["wiki_cf", "zsre", "wiki_recent"] {
        for (metric, name, margin) in [
            (ES, "Edit Succ.", 0.0),
            (PORTABILITY, "Portability", 0.0),
            (LOCALITY, "Locality (within 5 points)", 5.0),
        ] {
            let claim = match metric {
                ES => format!("KNE has the best {name} ({dataset})"),
                PORTABILITY => format!("KNE's {name} ≥ the best baseline's ({dataset})"),
                _ => format!("KNE's {name} is comparable to the best baseline's ({dataset})"),
            };
            let row = table1.as_ref().and_then(|(_, t)| {
                Some((
                    stat(t, dataset, "kne", metric)?,
                    best_baseline(t, dataset, metric)?,
                ))
            });
            let (evidence, v) = match (row, &table1) {
                (Some((kne, (label, best))), _) => (
                    format!("KNE {} vs {label} {}", fmt(kne), fmt(best)),
                    verdict(kne, best, margin),
                ),
                (None, Some(_)) => ("no evaluated case has this metric".into(), "no data"),
                (None, None) => ("table1".into(), "not run"),
            };
            let _ = writeln!(md, "| {claim} | {evidence} | {v} |");
        }
    }
    // Table 2: KNE edits the second model family as well as the first.
    let table2 = load(root, results, "table2");
    for dataset in ["wiki_cf", "zsre", "wiki_recent"] {
        let row = table2.as_ref().and_then(|(e, t)| {
            let [first, second] = [e.models.first()?, e.models.get(1)?];
            let a = stat(t, dataset, &format!("kne@{}", second.key), ES)?;
            let b = stat(t, dataset, &format!("kne@{}", first.key), ES)?;
            Some((second.name.clone(), a, first.name.clone(), b))
        });
        let (evidence, v) = match row {
            Some((an, a, bn, b)) => {
                let close = matches!((a.mean, b.mean), (Some(x), Some(y)) if x >= y - 5.0);
                (
                    format!("ES {an} {} vs {bn} {}", fmt(a), fmt(b)),
                    if close {
                        "consistent (within 5 points)"
                    } else {
                        "not supported"
                    },
                )
            }
            None => ("table2".into(), "not run"),
        };
        let _ = writeln!(
            md,
            "| KNE's Edit Succ. holds on a second model family (table 2, {dataset}) | {evidence} | {v} |"
        );
    }
    // Figure 2: key sites (gate/up) give better locality than the value site (down).
    let fig2 = load(root, results, "fig2");
    for key in ["module=gate", "module=up"] {
        let row = fig2.as_ref().and_then(|(_, t)| {
            Some((
                stat(t, "wiki_cf", key, LOCALITY)?,
                stat(t, "wiki_cf", "module=down", LOCALITY)?,
            ))
        });
        let (evidence, v) = match row {
            Some((a, b)) => (
                format!("{key} {} vs module=down {}", fmt(a), fmt(b)),
                verdict(a, b, 0.0),
            ),
            None => ("fig2".into(), "not run"),
        };
        let _ = writeln!(
            md,
            "| Editing {} gives better locality than editing down (fig 2) | {evidence} | {v} |",
            key.trim_start_matches("module=")
        );
    }
    // Figure B.3: a quarter of the localization set is about as good as all of it.
    let b3 = load(root, results, "figB3");
    let row = b3.as_ref().and_then(|(_, t)| {
        let cells = t.get("wiki_cf")?;
        let last = cells.last()?;
        let quarter = cells
            .iter()
            .find(|(c, _, _)| c.kne.localize * 4 <= last.0.kne.localize + 1)?;
        Some((
            quarter.0.label.clone(),
            quarter.1[ES],
            last.0.label.clone(),
            last.1[ES],
        ))
    });
    let (evidence, v) = match row {
        Some((ql, q, ll, l)) => {
            let close = matches!((q.mean, l.mean), (Some(a), Some(b)) if (a - b).abs() <= 5.0);
            (
                format!("ES {ql} {} vs {ll} {}", fmt(q), fmt(l)),
                if close {
                    "consistent (within 5 points)"
                } else {
                    "not supported"
                },
            )
        }
        None => ("figB3".into(), "not run"),
    };
    let _ = writeln!(
        md,
        "| Localizing on a quarter of the facts ≈ localizing on all (fig B.3) | {evidence} | {v} |"
    );
    // Figure B.4: more parameters → ES up, locality down.
    let b4 = load(root, results, "figB4");
    for (metric, name, rising) in [
        (ES, "Edit Succ. rises", true),
        (LOCALITY, "Locality falls", false),
    ] {
        let row = b4.as_ref().and_then(|(_, t)| trend(t, "wiki_cf", metric));
        let (evidence, v) = match row {
            Some((a, b)) => (
                format!("smallest p {a:.1} → largest p {b:.1}"),
                if (b > a) == rising {
                    "consistent"
                } else {
                    "not supported"
                },
            ),
            None => ("figB4".into(), "not run"),
        };
        let _ = writeln!(
            md,
            "| With more edited parameters, {name} (fig B.4) | {evidence} | {v} |"
        );
    }
    // Figure B.5: larger batches → ES down, locality up at first.
    let b5 = load(root, results, "figB5");
    for (metric, name, rising) in [
        (ES, "Edit Succ. falls", false),
        (LOCALITY, "Locality rises", true),
    ] {
        let row = b5.as_ref().and_then(|(_, t)| trend(t, "wiki_cf", metric));
        let (evidence, v) = match row {
            Some((a, b)) => (
                format!("batch 1 {a:.1} → largest batch {b:.1}"),
                if (b > a) == rising {
                    "consistent"
                } else {
                    "not supported"
                },
            ),
            None => ("figB5".into(), "not run"),
        };
        let _ = writeln!(
            md,
            "| With larger batches, {name} (fig B.5) | {evidence} | {v} |"
        );
    }
    crate::results::write_atomic(&results.join("claims.md"), md.as_bytes())?;
    Ok(md)
}
