//! Shared by the golden tests: the fixture and the default model, loaded once per test binary.

#![allow(dead_code)]

use std::sync::OnceLock;

use burn::tensor::{Device, Tensor, TensorData};
use kne_model::{Interventions, Llama, LoadedModel, Site, paths};
use serde_json::Value;

/// The PyTorch reference fixture (`shared/fixtures/smollm2-135m-golden.json`).
pub fn fixture() -> &'static Value {
    static FIXTURE: OnceLock<Value> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = paths::golden_fixture_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "golden fixture {} is missing ({e}); set KNE_SHARED to the shared folder",
                path.display()
            )
        });
        serde_json::from_str(&text).expect("fixture is valid JSON")
    })
}

/// The default model on the plain (non-autodiff) CPU device.
pub fn model() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = paths::default_model_path();
        assert!(
            path.exists(),
            "model {} is missing: run `cargo xtask fetch-model` (or set KNE_MODEL)",
            path.display()
        );
        kne_model::load(&path, &Device::flex()).expect("default model loads")
    })
}

pub fn u32s(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as u32)
        .collect()
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Row-major logits `[seq, vocab]` of one sequence.
pub fn logits_of(model: &LoadedModel, ids: &[u32]) -> (Vec<f32>, usize) {
    let logits = model
        .model
        .forward(model.model.ids_tensor(&[ids]).expect("ids"));
    let [_, _, vocab] = logits.dims();
    (
        logits
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 logits"),
        vocab,
    )
}

pub fn logsumexp(row: &[f32]) -> f64 {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    max + row
        .iter()
        .map(|&x| (x as f64 - max).exp())
        .sum::<f64>()
        .ln()
}

/// The largest element-wise difference of two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The hook's contract at `site`, on the token row `ids` whose plain logits are `plain`:
/// a neutral hook (scale 1, zero delta, capture) changes nothing; a per-row scale of 0
/// equals zeroing the weight (a bias stays: the hook acts on weights), 1 equals the plain
/// run, each within `tol`; and zeroing the weight moves the logits by more than 1e-2.
pub fn assert_hook_contract(m: &Llama, ids: &[u32], plain: &[f32], site: Site, tol: f32) {
    let dev = m.device();
    let logits = |hooks: &Interventions, rows: usize| -> Vec<f32> {
        let batch = m.ids_tensor(&vec![ids; rows]).unwrap();
        m.forward_with(batch, Some(hooks))
            .logits
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let weight = m.site(site).unwrap().weight.val();
    let neutral = Interventions::new()
        .scale_output(site, Tensor::ones([1], &dev))
        .add_weight_delta(site, Tensor::zeros(weight.dims(), &dev))
        .capture(site);
    assert_eq!(
        logits(&neutral, 1),
        plain,
        "{site}: a neutral hook changes nothing"
    );
    let scaled = Interventions::new().scale_output(
        site,
        Tensor::from_data(TensorData::new(vec![0.0f32, 1.0], [2]), &dev),
    );
    let zeroed = Interventions::new().add_weight_delta(site, weight.neg());
    let (two, z) = (logits(&scaled, 2), logits(&zeroed, 1));
    let half = two.len() / 2;
    assert!(
        max_abs_diff(&two[..half], &z) < tol,
        "{site}: scale 0 = weight zeroed"
    );
    assert!(
        max_abs_diff(&two[half..], plain) < tol,
        "{site}: scale 1 = plain"
    );
    let moved = max_abs_diff(&z, plain);
    assert!(
        moved > 1e-2,
        "{site}: zeroing the weight moves the logits ({moved})"
    );
}
