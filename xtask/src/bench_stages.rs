//! `results/bench/stages.md`: where the hours of a conclusive Table 1 run go (issue 17's
//! run: 100 cases per dataset, three datasets, six methods plus the transductive KNE row,
//! ensembles localized on 200 facts), from the per-stage bench rows of one run
//! (`benches/benches/stages.rs`) and the attribution rows of `benches/benches/pipeline.rs`.

use crate::bench_report::{Estimate, Machine};

/// The run being costed.
pub const DATASETS: f64 = 3.0;
pub const CASES: f64 = 100.0;
pub const LOCALIZATION_FACTS: f64 = 200.0;
/// Localizations per dataset: the disjoint one (`kne`) and the transductive one.
pub const LOCALIZATIONS: f64 = 2.0;
/// Edited methods in the order of the table; `kne` edits twice (both KNE rows).
pub const METHODS: [(&str, f64); 6] = [
    ("ft", 1.0),
    ("ft-l", 1.0),
    ("adalora", 1.0),
    ("rome", 1.0),
    ("memit", 1.0),
    ("kne", 2.0),
];
/// Evaluated cells per case (six methods and the transductive KNE row).
pub const CELLS: f64 = 7.0;
/// The run's wall-time goal.
pub const GOAL_HOURS: f64 = 4.0;

pub const PRE_EDIT_ID: &str = "stage/pre-edit predictions, 1 case";
pub const PROBES_ID: &str = "stage/probes, 1 case";
pub const EVALUATION_ID: &str = "stage/probes + fluency, 1 case";
pub const ATTRIBUTION_ALL_ID: &str = "attribution all sites/1 fact, 210 sites, m=20";
pub const ATTRIBUTION_LAYER_ID: &str = "attribution 1 fact, layer 15 (7 sites), m=20";
/// The same bench without shared paths (`share_paths = false`), side by side.
pub const ATTRIBUTION_LAYER_UNSHARED_ID: &str =
    "attribution 1 fact, layer 15 (7 sites, unshared paths), m=20";
/// The layer that bench attributes (named in [`ATTRIBUTION_LAYER_ID`]; its FLOPs are counted
/// from this number).
pub const ATTRIBUTION_LAYER: usize = 15;

fn edit_id(method: &str) -> String {
    format!("stage/edit {method}, 1 case")
}

/// One line of the table: a stage, its seconds per unit, and how many units the run has.
#[derive(Debug, Clone, PartialEq)]
pub struct StageCost {
    pub stage: String,
    pub seconds: f64,
    pub units: f64,
    pub unit: &'static str,
}

impl StageCost {
    pub fn hours(&self) -> f64 {
        self.seconds * self.units / 3600.0
    }
}

fn seconds(rows: &[Estimate], id: &str) -> Option<f64> {
    rows.iter()
        .find(|e| e.id == id)
        .map(|e| e.median_ms / 1000.0)
}

/// The stages of the run, or `None` when the run had no stage rows (`--stages` not given).
/// Localization uses the all-sites row when it ran, else 30 × the layer-15 row (the bench
/// documents layer 15 as about the mean layer), said in the stage's name.
pub fn costs(rows: &[Estimate]) -> Option<Vec<StageCost>> {
    let pre = seconds(rows, PRE_EDIT_ID)?;
    let probes = seconds(rows, PROBES_ID)?;
    let evaluation = seconds(rows, EVALUATION_ID)?;
    let cases = DATASETS * CASES;
    let mut out = Vec::new();
    let localization = seconds(rows, ATTRIBUTION_ALL_ID)
        .map(|s| {
            (
                s,
                "localization, 1 fact (all 210 sites, m = 20)".to_string(),
            )
        })
        .or_else(|| {
            seconds(rows, ATTRIBUTION_LAYER_ID).map(|s| {
                (
                    30.0 * s,
                    format!(
                        "localization, 1 fact (30 × the layer-{ATTRIBUTION_LAYER} row, m = 20)"
                    ),
                )
            })
        });
    if let Some((s, stage)) = localization {
        out.push(StageCost {
            stage,
            seconds: s,
            units: DATASETS * LOCALIZATIONS * LOCALIZATION_FACTS,
            unit: "facts",
        });
    }
    out.push(StageCost {
        stage: "pre-edit predictions".into(),
        seconds: pre,
        units: cases,
        unit: "cases",
    });
    for (method, times) in METHODS {
        if let Some(s) = seconds(rows, &edit_id(method)) {
            out.push(StageCost {
                stage: format!("edit {method}"),
                seconds: s,
                units: cases * times,
                unit: "edits",
            });
        }
    }
    out.push(StageCost {
        stage: "teacher-forced probes".into(),
        seconds: probes,
        units: cases * CELLS,
        unit: "evaluations",
    });
    out.push(StageCost {
        stage: "fluency generation".into(),
        seconds: (evaluation - probes).max(0.0),
        units: cases * CELLS,
        unit: "evaluations",
    });
    Some(out)
}

/// The markdown of `stages.md`, or `None` without stage rows.
pub fn markdown(rows: &[Estimate], machine: &Machine) -> Option<String> {
    let costs = costs(rows)?;
    let total: f64 = costs.iter().map(StageCost::hours).sum();
    let mut out = format!(
        "# Where a Table 1 run's hours go (`cargo xtask bench --stages`)\n\n\
         Measured {} on {} ({} cores), in one `cargo xtask bench` run: criterion medians of one \
         WikiData counterfact case per stage (`benches/benches/stages.rs`: `experiments/table1.toml`'s \
         settings, the `easyedit` baseline preset; KNE edits a pseudo-random ensemble of the \
         default size) and of attribution (`benches/benches/pipeline.rs`: the bench's test-file \
         fact, a one-token target; `train_cf.json` facts cost about 1.5× more, \
         `experiments/attribution-cost.md`). The run costed: {} cases × {} datasets, {} \
         evaluated cells per case (six methods and the transductive KNE row), {} localization \
         facts × {} localizations per dataset, everything one after the other on the bench's \
         threads.\n\n\
         | stage | s per unit | units | hours | share |\n|---|---|---|---|---|\n",
        machine.date,
        machine.cpu,
        machine.cores,
        CASES,
        DATASETS,
        CELLS,
        LOCALIZATION_FACTS,
        LOCALIZATIONS,
    );
    for c in &costs {
        out.push_str(&format!(
            "| {} | {:.2} | {} {} | {:.2} | {:.0} % |\n",
            c.stage,
            c.seconds,
            c.units,
            c.unit,
            c.hours(),
            100.0 * c.hours() / total
        ));
    }
    out.push_str(&format!(
        "| **all** | | | **{total:.1}** | 100 % |\n\n\
         Goal (issue 17): ≤ {GOAL_HOURS} h. Measured: {total:.1} h, {:.1}× the goal.\n",
        total / GOAL_HOURS
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, seconds: f64) -> Estimate {
        Estimate {
            id: id.into(),
            median_ms: seconds * 1000.0,
            lo_ms: seconds * 1000.0,
            hi_ms: seconds * 1000.0,
        }
    }

    fn machine() -> Machine {
        Machine {
            cpu: "test CPU".into(),
            cores: 2,
            rustc: "rustc".into(),
            date: "today".into(),
        }
    }

    #[test]
    fn layer_id_names_the_counted_layer() {
        assert!(ATTRIBUTION_LAYER_ID.contains(&format!("layer {ATTRIBUTION_LAYER} ")));
    }

    #[test]
    fn no_stage_rows_no_table() {
        assert!(markdown(&[row(ATTRIBUTION_LAYER_ID, 1.0)], &machine()).is_none());
    }

    #[test]
    fn hours_are_seconds_times_units() {
        let mut rows = vec![
            row(PRE_EDIT_ID, 0.5),
            row(PROBES_ID, 1.0),
            row(EVALUATION_ID, 4.0),
            row(ATTRIBUTION_LAYER_ID, 2.0),
        ];
        for (method, _) in METHODS {
            rows.push(row(&edit_id(method), 10.0));
        }
        let costs = costs(&rows).unwrap();
        let hours = |stage: &str| {
            costs
                .iter()
                .find(|c| c.stage.starts_with(stage))
                .unwrap()
                .hours()
        };
        // 3 datasets × 2 localizations × 200 facts × 60 s = 72 000 s = 20 h.
        assert!((hours("localization") - 20.0).abs() < 1e-9);
        // 300 cases × 0.5 s.
        assert!((hours("pre-edit") - 150.0 / 3600.0).abs() < 1e-12);
        // KNE edits for both of its rows.
        assert!((hours("edit kne") - 6000.0 / 3600.0).abs() < 1e-12);
        assert!((hours("edit ft-l") - 3000.0 / 3600.0).abs() < 1e-12);
        // 300 cases × 7 cells × (4 − 1) s of generation.
        assert!((hours("fluency") - 6300.0 / 3600.0).abs() < 1e-12);
        let md = markdown(&rows, &machine()).unwrap();
        assert!(md.contains("30 × the layer-15 row"), "{md}");
        // The all-sites row wins when it ran.
        rows.push(row(ATTRIBUTION_ALL_ID, 90.0));
        let md = markdown(&rows, &machine()).unwrap();
        assert!(md.contains("all 210 sites"), "{md}");
        assert!(
            md.contains(
                "| localization, 1 fact (all 210 sites, m = 20) | 90.00 | 1200 facts | 30.00 |"
            ),
            "{md}"
        );
    }
}
