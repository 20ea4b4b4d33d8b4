//! Attribution on GPT-J (the tiny random one of `kne-model/tests/fixtures/gptj-tiny`), whose
//! `up` (`fc_in`) and `down` (`fc_out`) sites have biases: the attribution of a neuron is
//! still the derivative of `P` along the neuron's own *weights* (the bias stays put), and
//! the Riemann sum still approaches `P(W) − P(0·W)` with the bias kept. And `gate`, which
//! GPT-J lacks, is refused by name.

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::Device;
use kne_attr::{AttributionConfig, FactTokens, NeuronAxis, attribute_fact};
use kne_model::{LoadedModel, ModuleKind, Site};

#[path = "support/probability.rs"]
mod probability;
use probability::{finite_difference, total_probability};

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
        ..AttributionConfig::default()
    }
}

fn check(site: Site, axis: NeuronAxis) {
    let fact = fact();
    let tracked = model().model.frozen_autodiff();
    let scores = attribute_fact(&tracked, &fact, &config(site, axis, 1)).unwrap();
    let values = &scores.sites[&site];
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()));
    for &k in &order[..3] {
        let fd = finite_difference(&model().model, &fact, site, axis, k);
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
    let exact = total_probability(&model().model, &fact, site, w.clone().mul_scalar(0.0))
        - total_probability(&model().model, &fact, site, w.neg());
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
