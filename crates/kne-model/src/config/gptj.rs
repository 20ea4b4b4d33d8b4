//! GPT-J: what it changes in [`LlamaConfig`], and its HF `config.json`.

use serde::{Deserialize, Serialize};

use super::LlamaConfig;

/// What GPT-J does differently from Llama (see `llama/` for where each applies): one
/// LayerNorm (weight and bias) per block feeding attention and MLP *in parallel*
/// (`x + attn(ln(x)) + mlp(ln(x))`); an ungated MLP `fc_out(gelu_new(fc_in(x)))` with biases
/// (`fc_in` is the `up` site, `fc_out` the `down` site; there is no `gate`); attention
/// without biases or grouped keys; RoPE on the first [`GptjConfig::rotary_dim`] dims of each
/// head only, pairing adjacent dims (HF `rotate_every_two`), base 10000; a final LayerNorm
/// with bias; an untied LM head with a bias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GptjConfig {
    /// Leading dims of each head that RoPE rotates (HF `rotary_dim`; 6B: 64 of 256).
    pub rotary_dim: usize,
}

/// The fields of an HF GPT-J `config.json` we read; a missing one takes `GPTJConfig`'s
/// default, as transformers does.
#[derive(Deserialize)]
struct HfGptjConfig {
    n_embd: usize,
    n_layer: usize,
    n_head: usize,
    /// MLP width; `null` is `4 · n_embd`.
    #[serde(default)]
    n_inner: Option<usize>,
    #[serde(default = "default_rotary_dim")]
    rotary_dim: Option<usize>,
    #[serde(default = "default_n_positions")]
    n_positions: usize,
    #[serde(default = "default_eps")]
    layer_norm_epsilon: f64,
    vocab_size: usize,
    #[serde(default = "default_activation")]
    activation_function: String,
    #[serde(default)]
    tie_word_embeddings: bool,
}

fn default_rotary_dim() -> Option<usize> {
    Some(64)
}
fn default_n_positions() -> usize {
    2048
}
fn default_eps() -> f64 {
    1e-5
}
fn default_activation() -> String {
    "gelu_new".into()
}

/// GPT-J's RoPE base (fixed in the architecture, not in its config).
const GPTJ_ROPE_THETA: f32 = 10000.0;

/// Parses a GPT-J `config.json`; `Err` is a message for `ModelError::Format`.
pub(super) fn from_hf_json_str(text: &str) -> Result<LlamaConfig, String> {
    let hf: HfGptjConfig = serde_json::from_str(text).map_err(|e| format!("config.json: {e}"))?;
    // `gelu_new` and `gelu_pytorch_tanh` are the same tanh approximation of GELU.
    if !matches!(
        hf.activation_function.as_str(),
        "gelu_new" | "gelu_pytorch_tanh"
    ) {
        return Err(format!(
            "activation_function `{}` is not supported (expected gelu_new)",
            hf.activation_function
        ));
    }
    if hf.tie_word_embeddings {
        return Err("a GPT-J with tied word embeddings is not supported".into());
    }
    if hf.n_head == 0 || !hf.n_embd.is_multiple_of(hf.n_head) {
        return Err(format!(
            "n_embd {} is not a multiple of n_head {}",
            hf.n_embd, hf.n_head
        ));
    }
    let head_dim = hf.n_embd / hf.n_head;
    // transformers' null means "rotate the whole hidden width", which only runs with one head.
    let rotary_dim = hf
        .rotary_dim
        .ok_or("rotary_dim null is not supported (GPT-J checkpoints set it)")?;
    let intermediate_size = match hf.n_inner {
        Some(n) => n,
        None => hf
            .n_embd
            .checked_mul(4)
            .ok_or_else(|| format!("4 × n_embd {} overflows", hf.n_embd))?,
    };
    Ok(LlamaConfig {
        num_hidden_layers: hf.n_layer,
        hidden_size: hf.n_embd,
        intermediate_size,
        num_attention_heads: hf.n_head,
        num_key_value_heads: hf.n_head,
        head_dim,
        rope_theta: GPTJ_ROPE_THETA,
        rms_norm_eps: hf.layer_norm_epsilon,
        vocab_size: hf.vocab_size,
        tie_word_embeddings: false,
        max_position_embeddings: hf.n_positions,
        gemma3: None,
        gptj: Some(GptjConfig { rotary_dim }),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> Result<LlamaConfig, crate::ModelError> {
        LlamaConfig::from_hf_json_str(text, Path::new("config.json"))
    }

    /// GPT-J-6B's config.json (the fields we read; `n_inner` null).
    const GPTJ_6B: &str = r#"{"model_type": "gptj", "n_embd": 4096, "n_layer": 28,
        "n_head": 16, "n_inner": null, "rotary_dim": 64, "n_positions": 2048,
        "layer_norm_epsilon": 1e-05, "vocab_size": 50400, "activation_function": "gelu_new",
        "tie_word_embeddings": false, "bos_token_id": 50256}"#;

    #[test]
    fn gptj_6b_config_maps_onto_the_llama_fields() {
        let c = parse(GPTJ_6B).unwrap();
        assert_eq!(
            (c.num_hidden_layers, c.hidden_size, c.intermediate_size),
            (28, 4096, 16384)
        );
        assert_eq!(
            (c.num_attention_heads, c.num_key_value_heads, c.head_dim),
            (16, 16, 256)
        );
        assert_eq!((c.vocab_size, c.max_position_embeddings), (50400, 2048));
        assert_eq!((c.rope_theta, c.rms_norm_eps), (10000.0, 1e-5));
        assert_eq!(c.gptj, Some(GptjConfig { rotary_dim: 64 }));
        assert!(!c.tie_word_embeddings);
        assert_eq!(c.architecture(), "GPT-J");
        assert!(!c.modules().contains(&crate::ModuleKind::Gate));
        assert_eq!(c.modules().len(), 6);
    }

    #[test]
    fn missing_fields_take_transformers_defaults() {
        let c = parse(
            r#"{"model_type": "gptj", "n_embd": 256, "n_layer": 2, "n_head": 4, "vocab_size": 10}"#,
        )
        .unwrap();
        assert_eq!(c.intermediate_size, 1024);
        assert_eq!(c.gptj, Some(GptjConfig { rotary_dim: 64 }));
        assert_eq!(c.max_position_embeddings, 2048);
    }

    #[test]
    fn bad_gptj_configs_are_clear_errors() {
        let with = |from: &str, to: &str| {
            assert!(GPTJ_6B.contains(from), "{from}");
            parse(&GPTJ_6B.replace(from, to)).unwrap_err().to_string()
        };
        let err = with(r#""gelu_new""#, r#""relu""#);
        assert!(err.contains("activation_function `relu`"), "{err}");
        let err = with(r#""rotary_dim": 64"#, r#""rotary_dim": 300"#);
        assert!(err.contains("rotary_dim 300"), "{err}");
        let err = with(r#""rotary_dim": 64"#, r#""rotary_dim": 7"#);
        assert!(err.contains("rotary_dim 7"), "{err}");
        let err = with(r#""rotary_dim": 64"#, r#""rotary_dim": null"#);
        assert!(err.contains("rotary_dim null"), "{err}");
        let err = with(r#""n_head": 16"#, r#""n_head": 3"#);
        assert!(err.contains("n_head 3"), "{err}");
        let err = with(
            r#""tie_word_embeddings": false"#,
            r#""tie_word_embeddings": true"#,
        );
        assert!(err.contains("tied"), "{err}");
        let err = parse(r#"{"model_type": "gptj", "n_layer": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("n_embd"), "{err}");
    }
}
