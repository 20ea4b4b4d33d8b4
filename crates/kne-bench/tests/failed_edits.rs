//! Issue 8, item 2: an edit that goes non-finite (loss, delta values, or the edited model)
//! becomes an error row per case naming the case and the reason, the model is left
//! bit-identical, the reports count the failure and the cases after it still run.

use std::collections::VecDeque;
use std::path::Path;

use kne_attr::NeuronAxis;
use kne_bench::harness::plan::{Cell, cells};
use kne_bench::harness::runner::{CellRow, edit_and_score};
use kne_bench::harness::{Experiment, report, run};
use kne_edit::{EditError, EditOutcome, EditRequest, EditStats, Editor, SiteDelta, WeightDelta};
use kne_eval::ModelScorer;
use kne_eval::data::{Dataset, EditCase, load_cases};
use kne_eval::metrics::PreEditCache;
use kne_model::{LoadedModel, ModuleKind, Site};

mod common;

use common::{model_path, run_options};

/// A tiny KNE experiment whose edit diverges: a learning rate of 1e30 makes the first Adam
/// step move every ensemble weight by ~1e30, so the second step's loss is not finite.
const DIVERGING: &str = r#"
name = "diverging"
title = "non-finite KNE edits"
datasets = ["wiki_cf"]
methods = ["kne"]
cases = 3
seed = 7

[eval]

[kne]
p = 0.02
localize = 1

[kne.attribution]
steps = 2
layers = [18]

[kne.edit]
learning_rate = 1e30
steps = 5
"#;

fn experiment(dir: &Path, text: &str) -> (std::path::PathBuf, Experiment) {
    let path = dir.join("diverging.toml");
    std::fs::write(&path, text).unwrap();
    let experiment = Experiment::load(&path).unwrap();
    (path, experiment)
}

#[test]
fn a_diverging_kne_edit_becomes_error_rows_and_the_sweep_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, parsed) = experiment(tmp.path(), DIVERGING);
    let out = tmp.path().join("out");
    run(&run_options(path, &out, None)).expect("a failed edit is not a failed run");
    let text = std::fs::read_to_string(out.join("diverging/wiki_cf/kne/rows.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.len(),
        3,
        "every case has its row: the sweep went on\n{text}"
    );
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["index"], i);
        let error = row["error"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error row: {row}"));
        assert!(
            error.contains(&format!("case {i}"))
                && error.contains("non-finite loss")
                && error.contains("left unchanged"),
            "{error}"
        );
        assert!(
            row["edit"].is_null() && row["edit_success"].is_null(),
            "{row}"
        );
    }
    // The reports count the failures instead of averaging over them.
    let table = report::write_reports(&parsed, &out.join("diverging"), false, "test").unwrap();
    let (_, stats, errors) = &table["wiki_cf"][0];
    assert_eq!((*errors, stats[0].count, stats[0].mean), (3, 0, None));
    let csv = std::fs::read_to_string(out.join("diverging/summary.csv")).unwrap();
    assert!(csv.contains("wiki_cf,kne,kne,es,,,,0,3,"), "{csv}");
    let md = std::fs::read_to_string(out.join("diverging/summary.md")).unwrap();
    assert!(md.contains("| cases (failed edits) | 3 (3) |"), "{md}");
}

/// What the test editor does on one call.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A small finite change: the edit succeeds.
    None,
    /// The method itself gives up (as KNE does on a non-finite loss).
    EditorError,
    /// A delta holding NaN: `WeightDelta::apply` must refuse it.
    NanDelta,
    /// Finite weights of f32::MAX at one neuron: the forward overflows, so only the
    /// edited model's loss reveals it.
    Overflow,
}

/// An editor behind the `Editor` trait that fails on command.
struct FaultyEditor {
    faults: VecDeque<Fault>,
}

const SITE: Site = Site {
    layer: 0,
    module: ModuleKind::Down,
};

impl Editor for FaultyEditor {
    fn name(&self) -> &str {
        "faulty"
    }

    fn edit(
        &mut self,
        _model: &LoadedModel,
        _requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let value = match self.faults.pop_front().expect("a fault per call") {
            Fault::None => 1e-3,
            Fault::EditorError => {
                return Err(EditError::NonFinite {
                    step: 4,
                    loss: f32::INFINITY,
                });
            }
            Fault::NanDelta => f32::NAN,
            Fault::Overflow => f32::MAX,
        };
        let mut delta = WeightDelta::default();
        delta.sites.insert(
            SITE,
            SiteDelta::Neurons {
                axis: NeuronAxis::Out,
                indices: vec![3],
                neuron_len: 1536,
                values: vec![value; 1536],
            },
        );
        let stats = EditStats {
            changed_parameters: delta.changed_parameters(),
            ..EditStats::default()
        };
        Ok(EditOutcome { delta, stats })
    }
}

/// Bits of the last position's logits of a fixed prompt: the whole model's behaviour.
fn logit_bits(loaded: &LoadedModel) -> Vec<u32> {
    let ids = loaded.tokenizer.encode("The capital of France is").unwrap();
    let logits = loaded
        .model
        .forward(loaded.model.ids_tensor(&[&ids]).unwrap());
    let values = logits.into_data().try_into_vec::<f32>().unwrap();
    values.into_iter().map(f32::to_bits).collect()
}

fn site_bits(loaded: &LoadedModel) -> Vec<u32> {
    let values = loaded.model.site(SITE).unwrap().weight_values();
    values.into_iter().map(f32::to_bits).collect()
}

#[test]
fn failed_edits_leave_the_model_bit_identical_and_later_cases_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, experiment) = experiment(tmp.path(), DIVERGING);
    let cell: Cell = cells(&experiment, false).unwrap().remove(0);
    let mut loaded = kne_model::load(&model_path(), &burn::tensor::Device::flex()).unwrap();
    let dataset = Dataset::WikiCounterfact;
    let all = load_cases(
        dataset,
        kne_eval::data::default_data_dir().join(dataset.test_file()),
    )
    .unwrap();
    let cases: Vec<&EditCase> = all.iter().take(5).collect();
    let mut pre = PreEditCache::new("test", dataset);
    {
        let mut scorer = ModelScorer::from_loaded(&loaded);
        for case in &cases {
            pre.get_or_compute(case, &mut scorer).unwrap();
        }
    }
    let logits = logit_bits(&loaded);
    let weights = site_bits(&loaded);

    let faults = [
        Fault::None,
        Fault::EditorError,
        Fault::NanDelta,
        Fault::Overflow,
        Fault::None,
    ];
    let mut editor = FaultyEditor {
        faults: faults.into_iter().collect(),
    };
    let mut rows: Vec<CellRow> = Vec::new();
    for (case, fault) in cases.iter().zip(faults) {
        let batch = edit_and_score(
            &mut loaded,
            &mut editor,
            std::slice::from_ref(case),
            &pre,
            &experiment,
            &cell,
        )
        .unwrap_or_else(|e| {
            panic!(
                "case {}: {fault:?} must not abort the run: {e:#}",
                case.index
            )
        });
        assert_eq!(
            site_bits(&loaded),
            weights,
            "after {fault:?}: weights restored"
        );
        assert_eq!(
            logit_bits(&loaded),
            logits,
            "after {fault:?}: model restored"
        );
        rows.extend(batch);
    }
    assert_eq!(rows.len(), 5);
    let error = |i: usize| rows[i].error.clone().unwrap_or_default();
    for i in [0, 4] {
        assert!(rows[i].error.is_none(), "case {i}: {:?}", rows[i].error);
        assert!(rows[i].scores.edit_success.is_some() && rows[i].edit.is_some());
    }
    assert!(
        error(1).starts_with("edit failed (case 1): non-finite loss inf at step 4"),
        "{}",
        error(1)
    );
    assert!(
        error(2).starts_with("edit refused (case 2): 0.down: non-finite value NaN"),
        "{}",
        error(2)
    );
    assert!(
        error(3).starts_with(
            "edit rolled back (case 3): the edited model's loss on the edit requests is NaN"
        ) || error(3).starts_with(
            "edit rolled back (case 3): the edited model's loss on the edit requests is inf"
        ),
        "{}",
        error(3)
    );
    for (i, row) in rows.iter().enumerate().take(4).skip(1) {
        assert!(
            error(i).ends_with("the model was left unchanged"),
            "{}",
            error(i)
        );
        assert_eq!(row.scores.index, i);
        assert!(row.scores.edit_success.is_none() && row.edit.is_none());
    }

    // The last case scores exactly as it does with no failure before it.
    let mut clean = FaultyEditor {
        faults: [Fault::None].into_iter().collect(),
    };
    let alone = edit_and_score(
        &mut loaded,
        &mut clean,
        &cases[4..],
        &pre,
        &experiment,
        &cell,
    )
    .unwrap();
    assert_eq!(alone, rows[4..]);

    // A failed batch gives one row per case, each naming the whole batch.
    let mut nan = FaultyEditor {
        faults: [Fault::NanDelta].into_iter().collect(),
    };
    let batch = edit_and_score(
        &mut loaded,
        &mut nan,
        &cases[1..3],
        &pre,
        &experiment,
        &cell,
    )
    .unwrap();
    assert_eq!(batch.len(), 2);
    for (row, index) in batch.iter().zip([1, 2]) {
        assert_eq!(row.scores.index, index);
        let e = row.error.as_deref().unwrap();
        assert!(e.starts_with("edit refused (cases 1, 2): "), "{e}");
    }
    assert_eq!(logit_bits(&loaded), logits);
}
