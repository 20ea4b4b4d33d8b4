//! Building a [`Llama`] from a [`TensorSource`].

use burn::module::Param;
use burn::nn::RmsNorm;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Attention, DecoderBlock, Llama, Mlp};
use crate::load::{DenseTensor, TensorSource};
use crate::site_linear::SiteLinear;
use crate::{LlamaConfig, ModelError};

impl Llama {
    /// Builds the model from HF-named tensors, checking every shape against `config`.
    pub fn from_source(
        config: &LlamaConfig,
        source: &dyn TensorSource,
        device: &Device,
    ) -> Result<Self, ModelError> {
        // The fields are public, so a config may not have come through a loader's check.
        config.validate(source.path())?;
        let c = config;
        let (d, f, v) = (c.hidden_size, c.intermediate_size, c.vocab_size);
        let q_out = c.num_attention_heads * c.head_dim;
        let kv_out = c.num_key_value_heads * c.head_dim;
        let fetch = |name: &str, shape: &[usize]| fetch(source, name, shape);
        let linear = |name: &str, out: usize, inp: usize| -> Result<SiteLinear, ModelError> {
            let (_, values) = fetch(name, &[out, inp])?;
            Ok(SiteLinear::from_torch_layout(
                [out, inp],
                values,
                None,
                device,
            ))
        };
        let norm = |name: &str| -> Result<RmsNorm, ModelError> {
            let (_, values) = fetch(name, &[d])?;
            Ok(RmsNorm {
                gamma: Param::from_tensor(Tensor::from_data(TensorData::new(values, [d]), device)),
                epsilon: c.rms_norm_eps,
            })
        };

        let (_, embed) = fetch("model.embed_tokens.weight", &[v, d])?;
        let embed = Param::from_tensor(Tensor::from_data(TensorData::new(embed, [v, d]), device));
        // Grown one block at a time: the layer count comes from the file's header, and only
        // the tensors found for each block prove that the block exists.
        let mut layers = Vec::new();
        for l in 0..c.num_hidden_layers {
            let p = format!("model.layers.{l}");
            layers.push(DecoderBlock {
                attn_norm: norm(&format!("{p}.input_layernorm.weight"))?,
                attn: Attention {
                    q: linear(&format!("{p}.self_attn.q_proj.weight"), q_out, d)?,
                    k: linear(&format!("{p}.self_attn.k_proj.weight"), kv_out, d)?,
                    v: linear(&format!("{p}.self_attn.v_proj.weight"), kv_out, d)?,
                    o: linear(&format!("{p}.self_attn.o_proj.weight"), d, q_out)?,
                    num_heads: c.num_attention_heads,
                    num_kv_heads: c.num_key_value_heads,
                    head_dim: c.head_dim,
                },
                mlp_norm: norm(&format!("{p}.post_attention_layernorm.weight"))?,
                mlp: Mlp {
                    gate: linear(&format!("{p}.mlp.gate_proj.weight"), f, d)?,
                    up: linear(&format!("{p}.mlp.up_proj.weight"), f, d)?,
                    down: linear(&format!("{p}.mlp.down_proj.weight"), d, f)?,
                },
            });
        }
        let lm_head = if c.tie_word_embeddings {
            None
        } else {
            let (_, w) = fetch("lm_head.weight", &[v, d])?;
            let w = crate::site_linear::transpose(&w, v, d);
            Some(Param::from_tensor(Tensor::from_data(
                TensorData::new(w, [d, v]),
                device,
            )))
        };
        Ok(Llama {
            embed,
            layers,
            norm: norm("model.norm.weight")?,
            lm_head,
            config: config.clone(),
        })
    }
}

/// A required tensor with the expected shape, or an error naming it.
fn fetch(
    source: &dyn TensorSource,
    name: &str,
    shape: &[usize],
) -> Result<DenseTensor, ModelError> {
    let (got, values) = source.get(name)?.ok_or_else(|| ModelError::Format {
        path: source.path().to_path_buf(),
        message: format!("missing tensor {name}"),
    })?;
    if got != shape || values.len() != shape.iter().product::<usize>() {
        return Err(ModelError::Format {
            path: source.path().to_path_buf(),
            message: format!("tensor {name}: shape {got:?}, expected {shape:?}"),
        });
    }
    Ok((got, values))
}
