//! Seeds of `safetensors_config`: `config.json` and `model.safetensors` joined by
//! [`join_config`](crate::targets::join_config).

use std::collections::HashMap;

use half::{bf16, f16};
use kne_model::LlamaConfig;
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::targets::join_config;
use crate::tiny;

/// (file name, bytes) of every `safetensors_config` seed.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let untied = tiny::config();
    // Plain multi-head attention, so the defaults of the minimal config.json fit.
    let tied = LlamaConfig {
        tie_word_embeddings: true,
        num_key_value_heads: 2,
        ..tiny::config()
    };
    vec![
        (
            "tiny_f32",
            join_config(
                full_config_json(&untied).as_bytes(),
                &model(&untied, |_| Dtype::F32),
            ),
        ),
        (
            "tiny_tied_bf16_f16",
            join_config(
                minimal_config_json(&tied).as_bytes(),
                // Norms in F16, everything else in BF16: both conversions in one file.
                &model(&tied, |name| {
                    if name.contains("norm") {
                        Dtype::F16
                    } else {
                        Dtype::BF16
                    }
                }),
            ),
        ),
        (
            "config_only",
            join_config(full_config_json(&untied).as_bytes(), &safetensors(&[])),
        ),
    ]
}

/// A `config.json` with every field the loader reads, and a few it ignores.
pub fn full_config_json(c: &LlamaConfig) -> String {
    format!(
        r#"{{
  "architectures": ["LlamaForCausalLM"],
  "model_type": "llama",
  "hidden_act": "silu",
  "num_hidden_layers": {},
  "hidden_size": {},
  "intermediate_size": {},
  "num_attention_heads": {},
  "num_key_value_heads": {},
  "head_dim": {},
  "rope_theta": {:?},
  "rms_norm_eps": {:e},
  "vocab_size": {},
  "tie_word_embeddings": {},
  "max_position_embeddings": {},
  "torch_dtype": "float32"
}}"#,
        c.num_hidden_layers,
        c.hidden_size,
        c.intermediate_size,
        c.num_attention_heads,
        c.num_key_value_heads,
        c.head_dim,
        c.rope_theta,
        c.rms_norm_eps,
        c.vocab_size,
        c.tie_word_embeddings,
        c.max_position_embeddings,
    )
}

/// Only the required fields (KV heads, head_dim, rope, eps and context take defaults), so
/// `c` must have as many KV heads as query heads and `head_dim = hidden / heads`.
fn minimal_config_json(c: &LlamaConfig) -> String {
    format!(
        r#"{{"num_hidden_layers":{},"hidden_size":{},"intermediate_size":{},"num_attention_heads":{},"vocab_size":{},"tie_word_embeddings":{}}}"#,
        c.num_hidden_layers,
        c.hidden_size,
        c.intermediate_size,
        c.num_attention_heads,
        c.vocab_size,
        c.tie_word_embeddings,
    )
}

/// Every tensor of a model of `c`, each in the dtype `dtype(name)` picks.
fn model(c: &LlamaConfig, dtype: impl Fn(&str) -> Dtype) -> Vec<u8> {
    let tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = tiny::tensor_specs(c)
        .into_iter()
        .enumerate()
        .map(|(i, (name, shape))| {
            let values = tiny::values(i as u64, shape.iter().product());
            let ty = dtype(&name);
            let bytes = match ty {
                Dtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Dtype::F16 => values
                    .iter()
                    .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                    .collect(),
                Dtype::BF16 => values
                    .iter()
                    .flat_map(|&v| bf16::from_f32(v).to_le_bytes())
                    .collect(),
                other => unreachable!("the seeds do not write {other:?}"),
            };
            (name, ty, shape, bytes)
        })
        .collect();
    safetensors(&tensors)
}

/// A safetensors file of `(name, dtype, shape, bytes)`, with a `format` metadata entry.
pub fn safetensors(tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
        let view = TensorView::new(*dtype, shape.clone(), bytes).expect("consistent seed tensor");
        (name.clone(), view)
    });
    let metadata = HashMap::from([("format".to_owned(), "pt".to_owned())]);
    safetensors::serialize(views, Some(metadata)).expect("serialisable seed")
}
