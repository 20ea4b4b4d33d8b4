//! The tiny Llama every target and seed shares: its config, its HF tensor names and shapes,
//! and an in-memory [`TensorSource`] of deterministic values.

use std::path::Path;

use kne_model::load::{DenseTensor, TensorSource};
use kne_model::{LlamaConfig, ModelError};

/// Two layers, width 8, MLP 12, 2 query heads over 1 KV head of width 4, 16 tokens: small
/// enough that building it costs microseconds, shaped like the real thing (GQA, untied head).
pub fn config() -> LlamaConfig {
    LlamaConfig {
        num_hidden_layers: 2,
        hidden_size: 8,
        intermediate_size: 12,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 4,
        rope_theta: 10_000.0,
        rms_norm_eps: 1e-5,
        vocab_size: 16,
        tie_word_embeddings: false,
        max_position_embeddings: 32,
        gemma3: None,
        gptj: None,
    }
}

/// HF names and PyTorch shapes (`[out, in]`) of every tensor a model of `c` needs.
pub fn tensor_specs(c: &LlamaConfig) -> Vec<(String, Vec<usize>)> {
    let (d, f, v) = (c.hidden_size, c.intermediate_size, c.vocab_size);
    let q = c.num_attention_heads * c.head_dim;
    let kv = c.num_key_value_heads * c.head_dim;
    let mut specs = vec![
        ("model.embed_tokens.weight".to_owned(), vec![v, d]),
        ("model.norm.weight".to_owned(), vec![d]),
    ];
    if !c.tie_word_embeddings {
        specs.push(("lm_head.weight".to_owned(), vec![v, d]));
    }
    for l in 0..c.num_hidden_layers {
        let p = format!("model.layers.{l}");
        specs.extend([
            (format!("{p}.self_attn.q_proj.weight"), vec![q, d]),
            (format!("{p}.self_attn.k_proj.weight"), vec![kv, d]),
            (format!("{p}.self_attn.v_proj.weight"), vec![kv, d]),
            (format!("{p}.self_attn.o_proj.weight"), vec![d, q]),
            (format!("{p}.mlp.gate_proj.weight"), vec![f, d]),
            (format!("{p}.mlp.up_proj.weight"), vec![f, d]),
            (format!("{p}.mlp.down_proj.weight"), vec![d, f]),
            (format!("{p}.input_layernorm.weight"), vec![d]),
            (format!("{p}.post_attention_layernorm.weight"), vec![d]),
        ]);
    }
    specs
}

/// `n` deterministic values in [-0.5, 0.5) (an LCG seeded by `seed`; no dependency needed).
pub fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// The tensors of [`tensor_specs`] filled with [`values`], held in memory.
pub struct SyntheticSource {
    specs: Vec<(String, Vec<usize>)>,
}

impl SyntheticSource {
    pub fn new(config: &LlamaConfig) -> Self {
        Self {
            specs: tensor_specs(config),
        }
    }
}

impl TensorSource for SyntheticSource {
    fn get(&self, hf_name: &str) -> Result<Option<DenseTensor>, ModelError> {
        Ok(self
            .specs
            .iter()
            .enumerate()
            .find(|(_, (name, _))| name == hf_name)
            .map(|(i, (_, shape))| (shape.clone(), values(i as u64, shape.iter().product()))))
    }

    fn path(&self) -> &Path {
        Path::new("<synthetic tiny model>")
    }
}
