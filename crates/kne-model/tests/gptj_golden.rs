//! A tiny random GPT-J (`tests/fixtures/gptj-tiny/`: HF config.json + model.safetensors +
//! a 256-byte BPE tokenizer.json) loaded through `kne_model::load`, against transformers
//! float32 (`tests/fixtures/gptj-tiny-golden.json`; both written by
//! `tools/gptj_tiny_reference.py`): logits at every position, greedy continuations (KV
//! cache), token ids. Its LayerNorms and biases are random, so each one's handling counts.
//! And the hook reaches GPT-J's sites under the Llama names (`fc_in` = `up`,
//! `fc_out` = `down`, `out_proj` = `o`); `gate` is refused.

mod support;

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::Device;
use kne_model::{
    GptjConfig, GreedyConfig, Interventions, LoadedModel, ModelFormat, ModuleKind, Site,
};
use serde_json::Value;
use support::{assert_hook_contract, logits_of, max_abs_diff, u32s};

/// Logits agree with transformers within this (absolute): same f32 weights, 2 layers,
/// logits of std ~1; only the order of f32 operations differs.
const LOGIT_TOL: f32 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture() -> &'static Value {
    static FIXTURE: OnceLock<Value> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let text = std::fs::read_to_string(fixtures().join("gptj-tiny-golden.json"))
            .expect("gptj-tiny-golden.json");
        serde_json::from_str(&text).expect("fixture is valid JSON")
    })
}

fn gptj() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        kne_model::load(&fixtures().join("gptj-tiny"), &Device::flex()).expect("tiny GPT-J loads")
    })
}

fn flat_logits(rows: &Value) -> Vec<f32> {
    rows.as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter())
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn the_config_is_the_tiny_gptj() {
    let loaded = gptj();
    assert_eq!(loaded.format, ModelFormat::Safetensors);
    let c = loaded.model.config();
    assert_eq!(c.gptj, Some(GptjConfig { rotary_dim: 8 }));
    assert_eq!(
        (c.num_hidden_layers, c.hidden_size, c.intermediate_size),
        (2, 64, 128)
    );
    assert_eq!(
        (c.num_attention_heads, c.num_key_value_heads, c.head_dim),
        (4, 4, 16)
    );
    assert_eq!((c.vocab_size, c.tie_word_embeddings), (256, false));
    assert_eq!(loaded.tokenizer.vocab_size(), 256);
}

#[test]
fn token_ids_match_the_hf_tokenizer() {
    for t in fixture()["texts"].as_array().unwrap() {
        let text = t["text"].as_str().unwrap();
        assert_eq!(
            gptj().tokenizer.encode(text).unwrap(),
            u32s(&t["ids"]),
            "{text:?}"
        );
    }
}

#[test]
fn logits_match_transformers() {
    let mut worst = 0.0f32;
    for s in fixture()["sequences"].as_array().unwrap() {
        let ids = u32s(&s["ids"]);
        let (got, vocab) = logits_of(gptj(), &ids);
        assert_eq!(vocab, 256);
        let want = flat_logits(&s["logits"]);
        let diff = max_abs_diff(&got, &want);
        assert!(diff < LOGIT_TOL, "{ids:?}: max |Δlogit| {diff}");
        worst = worst.max(diff);
    }
    eprintln!("GPT-J tiny: max |Δlogit| vs transformers = {worst:e}");
}

/// A batch of two rows gives each row's own logits (no cross-row leakage in the parallel
/// block or the partial RoPE).
#[test]
fn a_batch_equals_its_rows() {
    let m = &gptj().model;
    let a = u32s(&fixture()["sequences"][0]["ids"]);
    let b: Vec<u32> = a.iter().rev().copied().collect();
    let both = m
        .forward(m.ids_tensor(&[a.clone(), b.clone()]).unwrap())
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let half = both.len() / 2;
    assert!(max_abs_diff(&both[..half], &logits_of(gptj(), &a).0) < 1e-5);
    assert!(max_abs_diff(&both[half..], &logits_of(gptj(), &b).0) < 1e-5);
}

#[test]
fn greedy_generation_matches_transformers() {
    for s in fixture()["sequences"].as_array().unwrap() {
        let want = u32s(&s["greedy"]);
        let got = gptj()
            .model
            .generate_greedy(
                &u32s(&s["ids"]),
                GreedyConfig {
                    max_new_tokens: want.len(),
                    stop_token: None,
                },
            )
            .unwrap();
        assert_eq!(got, want, "{:?}", s["ids"]);
    }
}

/// The KV-cache path (RoPE tables starting past the cached prefix) gives the uncached logits.
#[test]
fn cached_forward_equals_the_full_forward() {
    let m = &gptj().model;
    let ids = u32s(&fixture()["sequences"][1]["ids"]);
    let (full, _) = logits_of(gptj(), &ids);
    let mut cache = m.new_cache();
    let mut got = Vec::new();
    for chunk in [&ids[..5], &ids[5..6], &ids[6..]] {
        let logits = m.forward_cached(m.ids_tensor(&[chunk]).unwrap(), &mut cache);
        got.extend(logits.into_data().try_into_vec::<f32>().unwrap());
    }
    let diff = max_abs_diff(&got, &full);
    assert!(diff < 1e-5, "cached vs full: {diff}");
}

#[test]
fn sites_are_the_llama_names_without_gate() {
    let m = &gptj().model;
    let c = m.config();
    assert_eq!(m.modules(), c.modules());
    assert_eq!(m.sites().len(), 2 * 6);
    assert!(m.sites().iter().all(|s| s.module != ModuleKind::Gate));
    for site in m.sites() {
        let lin = m.site(site).unwrap();
        assert_eq!(lin.dims(), c.site_dims(site.module), "{site}");
        // fc_in and fc_out carry their biases; attention has none.
        let biased = matches!(site.module, ModuleKind::Up | ModuleKind::Down);
        assert_eq!(lin.bias.is_some(), biased, "{site}");
    }
    assert_eq!(
        m.site(Site::new(1, ModuleKind::Up)).unwrap().dims(),
        [64, 128]
    );
}

#[test]
fn a_gate_site_is_refused_with_a_clear_error() {
    let mut m = gptj().model.clone();
    let gate = Site::new(0, ModuleKind::Gate);
    let err = m.site(gate).unwrap_err().to_string();
    assert!(
        err.contains("0.gate") && err.contains("GPT-J") && err.contains("no `gate`"),
        "{err}"
    );
    assert!(err.contains("q, k, v, o, up, down"), "{err}");
    let err = m.site_mut(gate).unwrap_err().to_string();
    assert!(err.contains("no `gate`"), "{err}");
    // A layer past the last is still named as such.
    let err = m
        .site(Site::new(2, ModuleKind::Up))
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 layers"), "{err}");
}

#[test]
fn the_hook_reaches_gptj_sites_and_acts_on_weights_not_biases() {
    let m = &gptj().model;
    let ids = u32s(&fixture()["sequences"][0]["ids"]);
    let (plain, _) = logits_of(gptj(), &ids);
    // Scale 0 on row 0 is the weight zeroed, bias kept (integrated gradients' path scales
    // the weight, not the bias).
    for module in [
        ModuleKind::Q,
        ModuleKind::O,
        ModuleKind::Up,
        ModuleKind::Down,
    ] {
        assert_hook_contract(m, &ids, &plain, Site::new(1, module), 1e-5);
    }

    // The captured output is the module's output, bias included: x W + b.
    let site = Site::new(0, ModuleKind::Up);
    let out = m.forward_with(
        m.ids_tensor(&[&ids]).unwrap(),
        Some(&Interventions::new().capture(site)),
    );
    let c = &out.captures[&site];
    let lin = m.site(site).unwrap();
    let [_, seq, d_in] = c.input.dims();
    let xw = c
        .input
        .clone()
        .reshape([seq, d_in])
        .matmul(lin.weight.val());
    let bias = lin.bias.as_ref().unwrap().val().unsqueeze::<2>();
    let want = (xw + bias).into_data().try_into_vec::<f32>().unwrap();
    let got = c.output.clone().into_data().try_into_vec::<f32>().unwrap();
    assert!(max_abs_diff(&got, &want) < 1e-5);
}
