//! Every tensor of the real Gemma-3-270M Q4_K_M file dequantises, finite, bit for bit as
//! gguf-py's reference dequantiser (`tests/fixtures/gemma3-270m-dequant.json`, written by
//! `tools/gguf_dequant_reference.py`): same sha256 of the f32 values, same sampled values.
//!
//! Needs the model: `cargo xtask fetch-model gemma3-270m` (or `KNE_GEMMA_MODEL`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use kne_model::gguf::GgufFile;
use kne_model::paths;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixture() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gemma3-270m-dequant.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is valid JSON")
}

fn open_model() -> GgufFile {
    let path = paths::gemma_model_path();
    GgufFile::open(&path).unwrap_or_else(|e| {
        panic!(
            "{} is needed ({e}); run `cargo xtask fetch-model gemma3-270m` or set KNE_GEMMA_MODEL",
            path.display()
        )
    })
}

fn sha256_f32le(values: &[f32]) -> String {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex::encode(h.finalize().as_slice())
}

#[test]
fn every_tensor_matches_gguf_py_bit_for_bit() {
    let fx = fixture();
    let gguf = open_model();
    let tensors = fx["tensors"].as_array().expect("tensors");
    assert_eq!(gguf.tensors().len(), tensors.len(), "tensor count");

    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let (mut n_values, mut n_samples, mut max_err) = (0usize, 0usize, 0f32);
    for t in tensors {
        let name = t["name"].as_str().expect("name");
        let info = gguf
            .tensor_info(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            info.ggml_type.to_string(),
            t["type"].as_str().expect("type"),
            "{name}"
        );
        *types.entry(info.ggml_type.to_string()).or_default() += 1;
        let (shape, values) = gguf
            .tensor_f32(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let dims: Vec<usize> = t["dims"]
            .as_array()
            .expect("dims")
            .iter()
            .map(|d| d.as_u64().expect("dim") as usize)
            .collect();
        // Our shape is PyTorch order, ggml dims reversed.
        assert_eq!(
            shape.iter().rev().copied().collect::<Vec<_>>(),
            dims,
            "{name}"
        );
        assert!(
            values.iter().all(|v| v.is_finite()),
            "{name}: non-finite values"
        );
        n_values += values.len();

        if let Some(s) = t.get("samples") {
            let idx = s["index"].as_array().expect("index");
            let want = s["value"].as_array().expect("value");
            for (i, w) in idx.iter().zip(want) {
                let (i, w) = (
                    i.as_u64().expect("i") as usize,
                    w.as_f64().expect("v") as f32,
                );
                let err = (values[i] - w).abs();
                max_err = max_err.max(err);
                assert_eq!(
                    values[i].to_bits(),
                    w.to_bits(),
                    "{name}[{i}]: {} vs {w}",
                    values[i]
                );
                n_samples += 1;
            }
        }
        let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
        let want_sum = t["sum"].as_f64().expect("sum");
        assert!(
            (sum - want_sum).abs()
                <= 1e-9 * values.len() as f64 * t["max_abs"].as_f64().expect("max"),
            "{name}: sum {sum} vs {want_sum}"
        );
        assert_eq!(
            sha256_f32le(&values),
            t["sha256_f32le"].as_str().expect("sha"),
            "{name}: dequantised values differ from gguf-py's"
        );
    }
    let want_types: BTreeMap<String, usize> = [
        ("F32", 109),
        ("Q4_K", 27),
        ("Q5_0", 81),
        ("Q6_K", 9),
        ("Q8_0", 10),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(types, want_types);
    println!(
        "{} tensors ({types:?}), {n_values} values bit-identical to gguf-py; {n_samples} sampled values, max |error| {max_err}",
        tensors.len()
    );
}

/// A sanity statistic a wrong dequantiser would not keep: Gemma's token embeddings all have
/// nearly the same row norm (~1.03 in this file, by gguf-py as well).
#[test]
fn token_embedding_rows_have_plausible_norms() {
    let gguf = open_model();
    let (shape, e) = gguf.tensor_f32("token_embd.weight").expect("token_embd");
    assert_eq!(shape, vec![262_144, 640]);
    let norms: Vec<f32> = e
        .chunks_exact(640)
        .map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt())
        .collect();
    let (lo, hi) = norms
        .iter()
        .fold((f32::MAX, 0f32), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    let mean = norms.iter().sum::<f32>() / norms.len() as f32;
    println!("token_embd row norms: min {lo}, mean {mean}, max {hi}");
    assert!(lo > 0.9 && hi < 1.2, "row norms in [{lo}, {hi}]");
}

#[test]
fn the_fixture_is_of_this_file() {
    let fx = fixture();
    assert_eq!(fx["file"].as_str(), Some(paths::GEMMA_MODEL_FILE));
    // The xtask table pins the same digest; the file on disk is checked there at fetch time.
    assert_eq!(
        fx["file_sha256"].as_str(),
        Some("a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818")
    );
}
