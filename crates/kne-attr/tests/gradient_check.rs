//! Attribution against finite differences on the real model: with one Riemann step
//! (α = 1), `Attr(w_k) = w̄_k · ∂P/∂w_k` is the derivative of `P` along the neuron's own
//! weights, `d/dβ P(W with neuron k scaled by β)` at β = 1, which a central difference of two
//! forwards (through the weight-delta hook) measures independently of autodiff.

use std::sync::OnceLock;

use burn::tensor::Device;
use kne_attr::{AttributionConfig, FactTokens, NeuronAxis, attribute_fact};
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
