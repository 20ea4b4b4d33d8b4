//! Shared by the golden tests: the fixture and the default model, loaded once per test binary.

#![allow(dead_code)]

use std::sync::OnceLock;

use burn::tensor::Device;
use kne_model::{LoadedModel, paths};
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
