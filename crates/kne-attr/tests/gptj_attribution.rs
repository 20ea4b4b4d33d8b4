//! Attribution on GPT-J (the tiny random one of `kne-model/tests/fixtures/gptj-tiny`), whose
//! `up` (`fc_in`) and `down` (`fc_out`) sites have biases: the attribution of a neuron is
//! still the derivative of `P` along the neuron's own *weights* (the bias stays put), and
//! the Riemann sum still approaches `P(W) − P(0·W)` with the bias kept. And `gate`, which
//! GPT-J lacks, is refused by name.

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use kne_attr::{AttributionConfig, FactTokens, NeuronAxis, attribute_fact};
use kne_model::{Interventions, LoadedModel, ModuleKind, Site};

fn model() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kne-model/tests/fixtures/gptj-tiny");
        kne_model::load(&path, &Device::flex()).unwrap()
    })
}

/// "Hello, world" and the model's own greedy continuation (`gptj-tiny-golden.json`), so the
/// target's probability is far from zero.
fn fact() -> FactTokens {
    FactTokens {
        prompt_ids: vec![72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100],
        target_ids: vec![85, 189],
    }
}

fn config(site: Site, axis: NeuronAxis, steps: usize) -> AttributionConfig {
    AttributionConfig {
        steps,
        axis,
        modules: vec![site.module],
        layers: Some(vec![site.layer]),
        max_rows: 64,
    }
}

/// Σ_j P(y_j | x, y_<j) with a weight delta at one site.
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

/// Central difference of P along neuron `k`'s weights (scaled by 1 ± ε; the bias unchanged).
fn finite_difference(fact: &FactTokens, site: Site, axis: NeuronAxis, k: usize) -> f64 {
    let m = &model().model;
    let w = m.site(site).unwrap().weight.val();
    let [d_in, d_out] = w.dims();
    let mask: Vec<f32> = (0..d_in * d_out)
        .map(|i| {
            let hit = match axis {
                NeuronAxis::Out => i % d_out == k,
                NeuronAxis::In => i / d_out == k,
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
    let tracked = model().model.frozen_autodiff();
    let scores = attribute_fact(&tracked, &fact, &config(site, axis, 1)).unwrap();
    let values = &scores.sites[&site];
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()));
    for &k in &order[..3] {
        let fd = finite_difference(&fact, site, axis, k);
        let attr = values[k];
        eprintln!("{site} {axis:?} neuron {k}: attribution {attr:.6e}, finite difference {fd:.6e}");
        assert!(
            (attr - fd).abs() < 2e-2 * fd.abs().max(1e-6),
            "{site} neuron {k}: {attr} vs {fd}"
        );
    }
}

#[test]
fn attribution_at_biased_sites_is_the_derivative_along_the_weights() {
    check(Site::new(0, ModuleKind::Up), NeuronAxis::Out);
    check(Site::new(1, ModuleKind::Down), NeuronAxis::Out);
    check(Site::new(1, ModuleKind::Q), NeuronAxis::Out);
    check(Site::new(0, ModuleKind::Down), NeuronAxis::In);
}

#[test]
fn riemann_sum_approaches_the_path_integral_with_the_bias_kept() {
    let fact = fact();
    let site = Site::new(1, ModuleKind::Up);
    let tracked = model().model.frozen_autodiff();
    let total = |steps| {
        attribute_fact(&tracked, &fact, &config(site, NeuronAxis::Out, steps))
            .unwrap()
            .sites[&site]
            .iter()
            .sum::<f64>()
    };
    let w = model().model.site(site).unwrap().weight.val();
    let exact = total_probability(&fact, site, w.clone().mul_scalar(0.0))
        - total_probability(&fact, site, w.neg());
    let (coarse, fine) = ((total(4) - exact).abs(), (total(32) - exact).abs());
    eprintln!("P(W) − P(0·W) = {exact:.6}; |error| m=4: {coarse:.2e}, m=32: {fine:.2e}");
    assert!(fine < coarse.max(1e-4) && fine < 0.05 * exact.abs().max(1e-3));
}

#[test]
fn a_gate_module_is_refused_on_gptj_and_every_listed_site_exists() {
    let m = &model().model;
    let all = AttributionConfig::default();
    let err = all.sites(m).unwrap_err().to_string();
    assert!(
        err.contains("GPT-J") && err.contains("no `gate`") && err.contains("q, k, v, o, up, down"),
        "{err}"
    );
    let six = AttributionConfig {
        modules: m.modules().to_vec(),
        ..AttributionConfig::default()
    };
    assert_eq!(six.sites(m).unwrap(), m.sites());
}
