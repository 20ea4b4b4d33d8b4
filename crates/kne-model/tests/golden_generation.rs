//! Greedy generation (KV cache) against the reference's 20-token argmax continuations, and
//! the cached path against the uncached one.

mod support;

use kne_model::GreedyConfig;
use support::{fixture, logits_of, model, u32s};

#[test]
fn greedy_twenty_tokens_are_identical() {
    let m = model();
    for case in fixture()["greedy"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let prompt = u32s(&case["prompt_ids"]);
        let want = u32s(&case["new_ids"]);
        let got = m
            .model
            .generate_greedy(
                &prompt,
                GreedyConfig {
                    max_new_tokens: want.len(),
                    stop_token: None,
                },
            )
            .unwrap();
        assert_eq!(got, want, "{name}");
        assert_eq!(
            m.tokenizer.decode(&got).unwrap(),
            case["new_text"].as_str().unwrap(),
            "{name}: decoded text"
        );
    }
}

#[test]
fn stopping_at_eos_matches_the_reference_default() {
    let m = model();
    for case in fixture()["greedy"].as_array().unwrap() {
        let prompt = u32s(&case["prompt_ids"]);
        let want = u32s(&case["hf_generate_default_new_ids"]);
        let got = m
            .model
            .generate_greedy(
                &prompt,
                GreedyConfig {
                    max_new_tokens: 20,
                    stop_token: m.tokenizer.eos_id(),
                },
            )
            .unwrap();
        assert_eq!(got, want, "{}", case["name"]);
    }
}

#[test]
fn cached_decoding_gives_the_uncached_logits() {
    let m = model();
    let ids = u32s(&fixture()["prompts"][1]["ids"]);
    let (full, vocab) = logits_of(m, &ids);
    let mut cache = m.model.new_cache();
    let split = 6;
    let first = m.model.forward_cached(
        m.model.ids_tensor(&[ids[..split].to_vec()]).unwrap(),
        &mut cache,
    );
    let mut rows: Vec<f32> = first.into_data().try_into_vec::<f32>().unwrap();
    for &id in &ids[split..] {
        let step = m
            .model
            .forward_cached(m.model.ids_tensor(&[vec![id]]).unwrap(), &mut cache);
        rows.extend(step.into_data().try_into_vec::<f32>().unwrap());
    }
    assert_eq!(rows.len(), ids.len() * vocab);
    let max_diff = rows
        .iter()
        .zip(&full)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff < 1e-3, "cached vs uncached max |Δ| {max_diff}");
}
