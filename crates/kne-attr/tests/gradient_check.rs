//! Attribution against finite differences on the real model: with one Riemann step
//! (α = 1), `Attr(w_k) = w̄_k · ∂P/∂w_k` is the derivative of `P` along the neuron's own
//! weights, `d/dβ P(W with neuron k scaled by β)` at β = 1, which a central difference of two
//! forwards (through the weight-delta hook) measures independently of autodiff.

use std::sync::OnceLock;

use burn::tensor::Device;
use kne_attr::{AttributionConfig, FactTokens, NeuronAxis, Quadrature, attribute_fact};
use kne_model::{LoadedModel, ModuleKind, Site, paths};

#[path = "support/probability.rs"]
mod probability;
use probability::{finite_difference, total_probability};

fn model() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = paths::default_model_path();
        assert!(
            path.exists(),
            "run `cargo xtask fetch-model` ({} missing)",
            path.display()
        );
        kne_model::load(&path, &Device::flex()).unwrap()
    })
}

fn fact() -> FactTokens {
    let tok = &model().tokenizer;
    FactTokens {
        prompt_ids: tok.encode("The capital of France is").unwrap(),
        target_ids: tok.encode(" Paris, France").unwrap(),
    }
}

fn check(site: Site, axis: NeuronAxis) {
    let fact = fact();
    let config = AttributionConfig {
        steps: 1,
        axis,
        modules: vec![site.module],
        layers: Some(vec![site.layer]),
        max_rows: 64,
        ..AttributionConfig::default()
    };
    let tracked = model().model.frozen_autodiff();
    let scores = attribute_fact(&tracked, &fact, &config).unwrap();
    let values = &scores.sites[&site];
    // The three largest-magnitude neurons: their derivatives are well above f32 noise.
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()));
    for &k in &order[..3] {
        let fd = finite_difference(&model().model, &fact, site, axis, k);
        let attr = values[k];
        let rel = (attr - fd).abs() / fd.abs().max(1e-6);
        eprintln!("{site} {axis:?} neuron {k}: attribution {attr:.6e}, finite difference {fd:.6e}");
        assert!(rel < 2e-2, "{site} neuron {k}: {attr} vs {fd}");
    }
}

#[test]
fn output_neuron_attribution_is_the_directional_derivative() {
    check(Site::new(20, ModuleKind::Down), NeuronAxis::Out);
    check(Site::new(5, ModuleKind::Q), NeuronAxis::Out);
}

#[test]
fn input_neuron_attribution_is_the_directional_derivative() {
    check(Site::new(12, ModuleKind::Up), NeuronAxis::In);
}

#[test]
fn riemann_sum_of_all_neurons_approaches_the_path_integral() {
    // Completeness of integrated gradients: Σ_k Attr_k → P(W) − P(0·W) as m grows.
    let fact = fact();
    let site = Site::new(25, ModuleKind::Down);
    let tracked = model().model.frozen_autodiff();
    let total = |steps| {
        let config = AttributionConfig {
            steps,
            axis: NeuronAxis::Out,
            modules: vec![site.module],
            layers: Some(vec![site.layer]),
            max_rows: 64,
            ..AttributionConfig::default()
        };
        attribute_fact(&tracked, &fact, &config).unwrap().sites[&site]
            .iter()
            .sum::<f64>()
    };
    let w = model().model.site(site).unwrap().weight.val();
    let full = total_probability(&model().model, &fact, site, w.clone().mul_scalar(0.0));
    let zero = total_probability(&model().model, &fact, site, w.neg());
    let exact = full - zero;
    let coarse = (total(4) - exact).abs();
    let fine = (total(32) - exact).abs();
    eprintln!("P(W) − P(0) = {exact:.6}; |error| m=4: {coarse:.2e}, m=32: {fine:.2e}");
    assert!(fine < coarse.max(1e-4) && fine < 0.05 * exact.abs().max(1e-3));
}

#[test]
fn sites_batched_in_one_forward_score_as_separate_forwards() {
    let fact = fact();
    let tracked = model().model.frozen_autodiff();
    let config = |max_rows| AttributionConfig {
        steps: 3,
        axis: NeuronAxis::Out,
        modules: ModuleKind::ALL.to_vec(),
        layers: Some(vec![9]),
        max_rows,
        ..AttributionConfig::default()
    };
    let separate = attribute_fact(&tracked, &fact, &config(3)).unwrap();
    let batched = attribute_fact(&tracked, &fact, &config(21)).unwrap();
    assert_eq!(separate.sites.len(), 7);
    for (site, a) in &separate.sites {
        let b = &batched.sites[site];
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            diff <= 1e-3 * scale.max(1e-9),
            "{site}: max diff {diff} (scale {scale})"
        );
    }
}

#[test]
fn gauss_legendre_reaches_the_path_integral_with_fewer_points_than_riemann() {
    // Both rules approximate one integral; on this smooth path 4 Gauss–Legendre points are
    // closer to it (completeness, and neuron by neuron against a 16-point reference) than
    // the paper's 20 Riemann steps.
    let fact = fact();
    let site = Site::new(18, ModuleKind::Up);
    let tracked = model().model.frozen_autodiff();
    let scores = |steps, quadrature| {
        let config = AttributionConfig {
            steps,
            modules: vec![site.module],
            layers: Some(vec![site.layer]),
            quadrature,
            ..AttributionConfig::default()
        };
        attribute_fact(&tracked, &fact, &config).unwrap().sites[&site].clone()
    };
    let w = model().model.site(site).unwrap().weight.val();
    let full = total_probability(&model().model, &fact, site, w.clone().mul_scalar(0.0));
    let zero = total_probability(&model().model, &fact, site, w.neg());
    let exact = full - zero;
    let reference = scores(16, Quadrature::GaussLegendre);
    let gauss = scores(4, Quadrature::GaussLegendre);
    let riemann = scores(20, Quadrature::Riemann);
    let completeness = |s: &[f64]| (s.iter().sum::<f64>() - exact).abs();
    let distance = |s: &[f64]| {
        let d: f64 = s.iter().zip(&reference).map(|(a, b)| (a - b).powi(2)).sum();
        let n: f64 = reference.iter().map(|b| b * b).sum();
        (d / n).sqrt()
    };
    eprintln!(
        "P(W) − P(0) = {exact:.6}; completeness error GL-4 {:.2e}, Riemann-20 {:.2e}, GL-16 {:.2e}; \
         relative L2 to GL-16: GL-4 {:.2e}, Riemann-20 {:.2e}",
        completeness(&gauss),
        completeness(&riemann),
        completeness(&reference),
        distance(&gauss),
        distance(&riemann)
    );
    assert!(completeness(&reference) < 0.01 * exact.abs().max(1e-3));
    assert!(completeness(&gauss) < completeness(&riemann));
    assert!(distance(&gauss) < distance(&riemann));
}

/// (prompt, target) pairs as tokens.
fn facts_of(pairs: &[(&str, &str)]) -> Vec<FactTokens> {
    let tok = &model().tokenizer;
    pairs
        .iter()
        .map(|(p, t)| FactTokens {
            prompt_ids: tok.encode(p).unwrap(),
            target_ids: tok.encode(t).unwrap(),
        })
        .collect()
}

#[test]
fn resuming_from_a_partial_sum_is_bit_identical_to_one_pass() {
    // What an interrupted localization does: the sum over the first facts, saved and read
    // back, then the remaining facts added onto it.
    let facts = facts_of(&[
        ("The capital of France is", " Paris"),
        ("Danielle Darrieux's mother tongue is", " French"),
        ("The Eiffel Tower is located in", " Rome"),
    ]);
    let config = AttributionConfig {
        steps: 2,
        layers: Some(vec![28, 29]),
        quadrature: Quadrature::GaussLegendre,
        ..AttributionConfig::default()
    };
    let tracked = model().model.frozen_autodiff();
    let whole = kne_attr::attribute(&tracked, &facts, &config, |_| {}).unwrap();
    let first = kne_attr::attribute(&tracked, &facts[..1], &config, |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("partial.json");
    first.save(&saved).unwrap();
    let resumed = kne_attr::attribute_onto(
        kne_attr::Scores::load(&saved).unwrap(),
        &tracked,
        &facts[1..],
        &config,
        |_| {},
    )
    .unwrap();
    assert_eq!(resumed.facts, 3);
    assert_eq!(resumed, whole);
}

#[test]
fn parallel_facts_are_bit_identical() {
    // Facts attributed side by side, each on one thread, sum to the same bits as one
    // after the other on the caller's pool: the order of the additions is kept, and a
    // fact's products compute the same bits on one thread as on several. Progress comes
    // in order too.
    let facts = facts_of(&[
        ("The capital of France is", " Paris"),
        ("Danielle Darrieux's mother tongue is", " French"),
        ("The Eiffel Tower is located in", " Rome"),
        ("Toko Yasuda plays the", " guitar"),
        ("The official language of Brazil is", " Portuguese"),
    ]);
    let config = AttributionConfig {
        steps: 3,
        layers: Some(vec![27, 29]),
        ..AttributionConfig::default()
    };
    let tracked = model().model.frozen_autodiff();
    let run = |workers| {
        let mut order = Vec::new();
        let scores = kne_attr::attribute_onto_with_workers(
            config.empty_scores(),
            &tracked,
            &facts,
            &config,
            workers,
            |i| order.push(i),
        )
        .unwrap();
        assert_eq!(order, (0..facts.len()).collect::<Vec<_>>());
        scores
    };
    let one = kne_model::on_compute_pool(|| run(1));
    let three = kne_model::on_compute_pool(|| run(3));
    assert_eq!(one.facts, 5);
    let bits = |s: &kne_attr::Scores| -> Vec<u64> {
        s.sites.values().flatten().map(|v| v.to_bits()).collect()
    };
    assert_eq!(bits(&one), bits(&three));
}
