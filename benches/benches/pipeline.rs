//! The steps the experiments repeat thousands of times, on the default model: attribution
//! of one fact (Eq. 5), a KNE edit (Eq. 8–11), and the teacher-forced evaluation of one
//! KnowEdit case. Needs the model (`cargo xtask fetch-model`) and the data
//! (`cargo xtask fetch-data`); `cargo xtask bench` fetches both.

// The allocator and pool set-up of the `kne` binary (crates/kne-bench/src/main.rs): the
// iterations run on a pool thread, as the binary runs its commands.
#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use criterion::{Criterion, criterion_group};
use kne_attr::{AttributionConfig, FactTokens};
use kne_benches::{first_case, load, pseudo_random_ensemble, request};
use kne_edit::{DeltaForm, Editor, KneConfig, KneEditor, TokenizedRequest};
use kne_eval::metrics::{EvalConfig, compute_pre_edit, evaluate_case};
use kne_eval::model_scorer::ModelScorer;
use kne_model::{LoadedModel, on_compute_pool};

/// The first case's prompt and target as attribution reads them.
fn first_fact(loaded: &LoadedModel) -> FactTokens {
    let case = first_case();
    let tokens = TokenizedRequest::new(&loaded.tokenizer, &case.prompt, &case.target_new).unwrap();
    FactTokens {
        prompt_ids: tokens.prompt_ids,
        target_ids: tokens.target_ids,
    }
}

/// Attribution of one fact over the seven sites of one middle layer with m = 20 (the
/// knowledge-neuron default). A full localization fact repeats this for all 30 layers; a
/// layer's cost grows with the number of layers above it, so layer 15 is about the mean.
fn attribution(c: &mut Criterion) {
    let loaded = load();
    let fact = first_fact(&loaded);
    // `cargo xtask bench` counts this row's FLOPs for a 13 + 1 token fact.
    assert_eq!(
        (fact.prompt_ids.len(), fact.target_ids.len()),
        (13, 1),
        "the bench's fact changed shape: update xtask/src/attribution_flop.rs"
    );
    let config = AttributionConfig {
        steps: 20,
        layers: Some(vec![15]),
        ..AttributionConfig::default()
    };
    let tracked = loaded.model.frozen_autodiff();
    c.bench_function("attribution 1 fact, layer 15 (7 sites), m=20", |b| {
        on_compute_pool(|| b.iter(|| kne_attr::attribute_fact(&tracked, &fact, &config).unwrap()))
    });
    // The same without shared paths (one forward per site, 7 instead of 4): the ratio of
    // `kne_attr::shared_paths`, measured side by side.
    let unshared = AttributionConfig {
        share_paths: false,
        ..config
    };
    c.bench_function(
        "attribution 1 fact, layer 15 (7 sites, unshared paths), m=20",
        |b| {
            on_compute_pool(|| {
                b.iter(|| kne_attr::attribute_fact(&tracked, &fact, &unshared).unwrap())
            })
        },
    );
}

/// Set to run [`attribution_all_sites`] (about 12 minutes on 2 cores; `cargo xtask bench
/// --full-attribution` sets it).
const FULL_ATTRIBUTION_VAR: &str = "KNE_BENCH_FULL_ATTRIBUTION";

/// One localization fact as the experiments run it at the knowledge-neuron default m = 20:
/// all seven sites of all 30 layers. Criterion's minimum of 10 samples makes this ~12
/// minutes, so it runs only when `KNE_BENCH_FULL_ATTRIBUTION` is set.
fn attribution_all_sites(c: &mut Criterion) {
    if std::env::var_os(FULL_ATTRIBUTION_VAR).is_none() {
        eprintln!("skipping the all-sites attribution bench (set {FULL_ATTRIBUTION_VAR}=1)");
        return;
    }
    let loaded = load();
    let fact = first_fact(&loaded);
    let config = AttributionConfig {
        steps: 20,
        ..AttributionConfig::default()
    };
    let tracked = loaded.model.frozen_autodiff();
    let mut group = c.benchmark_group("attribution all sites");
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(600));
    group.bench_function("1 fact, 210 sites, m=20", |b| {
        on_compute_pool(|| b.iter(|| kne_attr::attribute_fact(&tracked, &fact, &config).unwrap()))
    });
    group.finish();
}

/// KNE edits of one case with 1 and with 10 Adam steps (no early stop): the difference
/// divided by 9 is the cost of one step; the 1-step edit adds the fixed setup (prefix
/// below the lowest edited layer, one extra loss evaluation, extracting the delta). The
/// 10-step edit also runs with the dense ΔW hook, for the sparse-vs-dense ratio.
fn kne_edit(c: &mut Criterion) {
    let loaded = load();
    let case = first_case();
    let requests = [request(&case)];
    let ensemble = pseudo_random_ensemble(&loaded);
    let mut group = c.benchmark_group("kne edit");
    for steps in [1, 10] {
        let config = KneConfig {
            steps,
            early_stop_loss: 0.0,
            ..KneConfig::default()
        };
        let mut editor = KneEditor::new(config.clone(), ensemble.clone()).unwrap();
        group.bench_function(format!("1 case, p=0.01, {steps} steps"), |b| {
            on_compute_pool(|| b.iter(|| editor.edit(&loaded, &requests).unwrap()))
        });
        if steps == 10 {
            // The same edit with Eq. 10's dense ΔW in the hook: the ratio is what the
            // sparse `NeuronDelta` saves, measured in one run.
            editor.delta_form = DeltaForm::Dense;
            group.bench_function(format!("1 case, p=0.01, {steps} steps, dense ΔW"), |b| {
                on_compute_pool(|| b.iter(|| editor.edit(&loaded, &requests).unwrap()))
            });
        }
    }
    group.finish();
}

/// Edit success, rephrase, portability and locality of one case, teacher-forced, batched
/// as the harness does it (fluency generation excluded; `generation` benches cover it).
fn evaluation(c: &mut Criterion) {
    let loaded = load();
    let case = first_case();
    let mut scorer = ModelScorer::from_loaded(&loaded);
    let pre = compute_pre_edit(&case, &mut scorer).unwrap();
    let config = EvalConfig {
        generation: None,
        keep_generated_text: false,
    };
    c.bench_function("teacher-forced evaluation of 1 case", |b| {
        on_compute_pool(|| b.iter(|| evaluate_case(&case, &pre, &mut scorer, &config).unwrap()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(20));
    targets = attribution, attribution_all_sites, kne_edit, evaluation
}
fn main() {
    kne_alloc::keep_freed_pages();
    kne_model::init_compute_pool();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
