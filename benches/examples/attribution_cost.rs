//! Where one localization fact's time goes (`experiments/attribution-cost.md`): token
//! counts and seconds per layer (m = 20, all seven modules) for the bench's fact (test case
//! 0) and the first `N` facts of `train_cf.json`.
//!
//! ```sh
//! cargo run --release -p kne-benches --example attribution_cost -- N
//! ```
//!
//! `LAYERS=a,b,…` picks the layers (default 0, 15, 29); `ONLY=i,j,…` keeps just those
//! records of the first `N` (and drops the test fact). With `WORKERS` set it instead
//! attributes the `N + 1` facts over those layers one after the other and two side by side
//! ([`kne_attr::attribute_onto_with_workers`]), twice, printing seconds and a hash of the
//! summed scores' bits.

#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use std::time::Instant;

use burn::tensor::Device;
use kne_attr::{AttributionConfig, FactTokens, Scores};
use kne_edit::TokenizedRequest;
use kne_eval::data::{Dataset, default_data_dir, load_cases};
use kne_model::{on_compute_pool, paths};

fn main() {
    kne_alloc::keep_freed_pages();
    kne_model::init_compute_pool();
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("a count"))
        .unwrap_or(3);
    let loaded = kne_model::load(&paths::default_model_path(), &Device::flex()).unwrap();
    let dataset = Dataset::WikiCounterfact;
    let dir = default_data_dir();
    let test = load_cases(dataset, dir.join(dataset.test_file())).unwrap();
    let train = load_cases(dataset, dir.join(dataset.train_file().unwrap())).unwrap();
    // `ONLY=i,j`: just those train_cf.json records (no test fact).
    let only: Option<Vec<usize>> = std::env::var("ONLY").ok().map(|s| {
        s.split(',')
            .map(|x| x.parse().expect("a record index"))
            .collect()
    });
    let test_fact = only.is_none().then(|| ("test 0".to_string(), &test[0]));
    let facts: Vec<(String, FactTokens)> = test_fact
        .into_iter()
        .chain(
            train
                .iter()
                .take(n)
                .enumerate()
                .filter(|(i, _)| only.as_ref().is_none_or(|o| o.contains(i)))
                .map(|(i, c)| (format!("train {i}"), c)),
        )
        .map(|(name, c)| {
            let t = TokenizedRequest::new(&loaded.tokenizer, &c.prompt, &c.target_new).unwrap();
            let fact = FactTokens {
                prompt_ids: t.prompt_ids,
                target_ids: t.target_ids,
            };
            (name, fact)
        })
        .collect();
    let layers = std::env::var("LAYERS")
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or(vec![0, 15, 29]);
    let tracked = loaded.model.frozen_autodiff();
    on_compute_pool(|| {
        if std::env::var_os("WORKERS").is_some() {
            side_by_side(&tracked, &facts, &layers);
        } else {
            per_layer(&tracked, &facts, &layers);
        }
    });
}

/// A hash of every score's bits: equal hashes, equal scores (up to a collision).
fn bits_of(scores: &Scores) -> u64 {
    scores
        .sites
        .values()
        .flatten()
        .fold(0u64, |h, v| h.rotate_left(5) ^ v.to_bits())
}

/// Seconds of each fact at each layer.
fn per_layer(model: &kne_model::Llama, facts: &[(String, FactTokens)], layers: &[usize]) {
    for (name, fact) in facts {
        let mut line = format!(
            "{name}: prompt {} target {} |",
            fact.prompt_ids.len(),
            fact.target_ids.len()
        );
        for &layer in layers {
            let config = AttributionConfig {
                layers: Some(vec![layer]),
                ..AttributionConfig::default()
            };
            let start = Instant::now();
            let scores = kne_attr::attribute_fact(model, fact, &config).unwrap();
            line += &format!(
                " L{layer} {:.2} s ({:016x})",
                start.elapsed().as_secs_f64(),
                bits_of(&scores)
            );
        }
        println!("{line}");
    }
}

/// All facts over `layers`, one after the other and two side by side, twice.
fn side_by_side(model: &kne_model::Llama, facts: &[(String, FactTokens)], layers: &[usize]) {
    let facts: Vec<FactTokens> = facts.iter().map(|(_, f)| f.clone()).collect();
    let config = AttributionConfig {
        layers: Some(layers.to_vec()),
        ..AttributionConfig::default()
    };
    for round in 0..2 {
        for workers in [1, 2] {
            let start = Instant::now();
            let scores = kne_attr::attribute_onto_with_workers(
                config.empty_scores(),
                model,
                &facts,
                &config,
                workers,
                |_| {},
            )
            .unwrap();
            println!(
                "round {round} workers {workers}: {} facts, layers {layers:?}: {:.2} s ({:016x})",
                facts.len(),
                start.elapsed().as_secs_f64(),
                bits_of(&scores)
            );
        }
    }
}
