//! One Table 1 case, stage by stage, for each method as `experiments/table1.toml` runs it
//! (the `easyedit` baseline preset, KNE's `[kne.edit]`, EasyEdit's fluency generation):
//! the pre-edit predictions, the edit of each method, the teacher-forced probes, and the
//! probes with fluency generation. `cargo xtask bench --stages` runs it (set
//! `KNE_BENCH_STAGES`; about 15 minutes on 2 cores, most of it ROME and AdaLoRA) and
//! writes `results/bench/stages.md`: where a Table 1 run's hours go.

#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use criterion::{Criterion, criterion_group};
use kne_bench::baselines::{build_editor, load_baseline_configs};
use kne_bench::harness::experiment::Experiment;
use kne_benches::{first_case, load, pseudo_random_ensemble, request};
use kne_edit::{Editor, KneEditor};
use kne_eval::metrics::{EvalConfig, compute_pre_edit, evaluate_case};
use kne_eval::model_scorer::ModelScorer;
use kne_model::{on_compute_pool, paths};

/// Set to run these benches (`cargo xtask bench --stages` sets it).
const STAGES_VAR: &str = "KNE_BENCH_STAGES";

/// The experiment whose case is measured.
const EXPERIMENT: &str = "experiments/table1.toml";

fn stages(c: &mut Criterion) {
    if std::env::var_os(STAGES_VAR).is_none() {
        eprintln!("skipping the per-stage benches of one Table 1 case (set {STAGES_VAR}=1)");
        return;
    }
    let root = paths::workspace_root();
    let experiment = Experiment::load(&root.join(EXPERIMENT)).unwrap();
    let loaded = load();
    let case = first_case();
    let requests = [request(&case)];
    let mut scorer = ModelScorer::from_loaded(&loaded);
    let mut group = c.benchmark_group("stage");
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_secs(1));

    group.bench_function("pre-edit predictions, 1 case", |b| {
        b.iter(|| compute_pre_edit(&case, &mut scorer).unwrap())
    });
    let pre = compute_pre_edit(&case, &mut scorer).unwrap();
    let probes = EvalConfig {
        generation: None,
        keep_generated_text: false,
    };
    group.bench_function("probes, 1 case", |b| {
        b.iter(|| evaluate_case(&case, &pre, &mut scorer, &probes).unwrap())
    });
    let with_fluency = EvalConfig {
        generation: experiment.eval.generation,
        keep_generated_text: false,
    };
    group.bench_function("probes + fluency, 1 case", |b| {
        b.iter(|| evaluate_case(&case, &pre, &mut scorer, &with_fluency).unwrap())
    });

    let configs = load_baseline_configs(&root.join(&experiment.baselines)).unwrap();
    for method in ["ft", "ft-l", "adalora", "rome", "memit"] {
        let mut editor = build_editor(method, &configs, &root).unwrap();
        group.bench_function(format!("edit {method}, 1 case"), |b| {
            b.iter(|| editor.edit(&loaded, &requests).unwrap())
        });
    }
    // KNE's cost depends on the ensemble's size (p = 0.01 of every neuron) and on how soon
    // the loss stops it; a pseudo-random ensemble of that size stands in for a localized one.
    let mut kne =
        KneEditor::new(experiment.kne.edit.clone(), pseudo_random_ensemble(&loaded)).unwrap();
    group.bench_function("edit kne, 1 case", |b| {
        b.iter(|| kne.edit(&loaded, &requests).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(20));
    targets = stages
}

fn main() {
    kne_alloc::keep_freed_pages();
    kne_model::init_compute_pool();
    // The whole bench runs on one pool thread, as the `kne` binary runs a command: the
    // editors (not `Send`) are built there and keep their caches (ROME's and MEMIT's
    // context prefixes) across iterations, as they do across a cell's cases.
    on_compute_pool(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
