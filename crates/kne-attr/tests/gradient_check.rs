//! Attribution against finite differences on the real model: with one Riemann step
//! (α = 1), `Attr(w_k) = w̄_k · ∂P/∂w_k` is the derivative of `P` along the neuron's own
//! weights, `d/dβ P(W with neuron k scaled by β)` at β = 1, which a central difference of two
//! forwards (through the weight-delta hook) measures independently of autodiff.

use std::sync::OnceLock;

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use kne_attr::{AttributionConfig, FactTokens, NeuronAxis, attribute_fact};
use kne_model::{Interventions, LoadedModel, ModuleKind, Site, paths};

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

/// Σ_j P(y_j | x, y_<j) on the plain model with a weight delta at one site.
fn total_probability(fact: &FactTokens, site: Site, delta: Tensor<2>) -> f64 {
    let m = &model().model;
    let ids: Vec<u32> = fact
        .prompt_ids
        .iter()
        .chain(&fact.target_ids)
        .copied()
        .collect();
    let hooks = Interventions::new().add_weight_delta(site, delta);
    let logits = m
        .forward_with(m.ids_tensor(&[&ids]).unwrap(), Some(&hooks))
        .logits;
    let span = fact.target_ids.len();
    let targets: Vec<i64> = fact.target_ids.iter().map(|&t| t as i64).collect();
    let targets = Tensor::<3, Int>::from_data(TensorData::new(targets, [1, span, 1]), &m.device());
    let p = softmax(logits.narrow(1, fact.prompt_ids.len() - 1, span), 2)
        .gather(2, targets)
        .sum();
    p.into_scalar::<f32>() as f64
}

/// Central difference of P along neuron `k`'s weights (scaled by 1 ± ε).
fn finite_difference(fact: &FactTokens, site: Site, axis: NeuronAxis, k: usize) -> f64 {
    let m = &model().model;
    let w = m.site(site).unwrap().weight.val();
    let [d_in, d_out] = w.dims();
    let mask: Vec<f32> = (0..d_in * d_out)
        .map(|i| {
            let (row, col) = (i / d_out, i % d_out);
            let hit = match axis {
                NeuronAxis::Out => col == k,
                NeuronAxis::In => row == k,
            };
            if hit { 1.0 } else { 0.0 }
        })
        .collect();
    let neuron = w * Tensor::<2>::from_data(TensorData::new(mask, [d_in, d_out]), &m.device());
    let eps = 1e-2f32;
    let up = total_probability(fact, site, neuron.clone().mul_scalar(eps));
    let down = total_probability(fact, site, neuron.mul_scalar(-eps));
    (up - down) / (2.0 * eps as f64)
}

fn check(site: Site, axis: NeuronAxis) {
    let fact = fact();
    let config = AttributionConfig {
        steps: 1,
        axis,
        modules: vec![site.module],
        layers: Some(vec![site.layer]),
        max_rows: 64,
    };
    let tracked = model().model.frozen_autodiff();
    let scores = attribute_fact(&tracked, &fact, &config).unwrap();
    let values = &scores.sites[&site];
    // The three largest-magnitude neurons: their derivatives are well above f32 noise.
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()));
    for &k in &order[..3] {
        let fd = finite_difference(&fact, site, axis, k);
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
        };
        attribute_fact(&tracked, &fact, &config).unwrap().sites[&site]
            .iter()
            .sum::<f64>()
    };
    let w = model().model.site(site).unwrap().weight.val();
    let full = total_probability(&fact, site, w.clone().mul_scalar(0.0));
    let zero = total_probability(&fact, site, w.neg());
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
