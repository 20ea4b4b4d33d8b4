//! Building a [`Llama`] from a [`TensorSource`].

use burn::module::Param;
use burn::nn::RmsNorm;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Activation, Attention, DecoderBlock, Llama, Mlp, Norm};
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
        if config.gptj.is_some() {
            return Self::from_gptj_source(config, source, device);
        }
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
        let gemma = c.gemma3.as_ref();
        // Gemma's RMSNorm multiplies by `1 + w` (HF `Gemma3RMSNorm`); fold the 1 in here.
        let shift = if gemma.is_some() { 1.0 } else { 0.0 };
        let norm_of = |name: &str, width: usize| -> Result<RmsNorm, ModelError> {
            let (_, values) = fetch(name, &[width])?;
            let values: Vec<f32> = values.into_iter().map(|w| shift + w).collect();
            Ok(RmsNorm {
                gamma: Param::from_tensor(Tensor::from_data(
                    TensorData::new(values, [width]),
                    device,
                )),
                epsilon: c.rms_norm_eps,
            })
        };
        let norm = |name: &str| norm_of(name, d).map(Norm::Rms);

        let (_, embed) = fetch("model.embed_tokens.weight", &[v, d])?;
        let embed = Param::from_tensor(Tensor::from_data(TensorData::new(embed, [v, d]), device));
        // Grown one block at a time: the layer count comes from the file's header, and only
        // the tensors found for each block prove that the block exists.
        let mut layers = Vec::new();
        for l in 0..c.num_hidden_layers {
            let p = format!("model.layers.{l}");
            let gemma_norm = |name: &str, width| -> Result<Option<RmsNorm>, ModelError> {
                gemma
                    .map(|_| norm_of(&format!("{p}.{name}.weight"), width))
                    .transpose()
            };
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
                    q_norm: gemma_norm("self_attn.q_norm", c.head_dim)?,
                    k_norm: gemma_norm("self_attn.k_norm", c.head_dim)?,
                    scale: gemma.map(|g| 1.0 / f64::from(g.query_pre_attn_scalar).sqrt()),
                    sliding_window: gemma.filter(|g| g.is_local(l)).map(|g| g.sliding_window),
                },
                post_attn_norm: gemma_norm("post_attention_layernorm", d)?,
                mlp_norm: Some(match gemma {
                    Some(_) => norm(&format!("{p}.pre_feedforward_layernorm.weight"))?,
                    None => norm(&format!("{p}.post_attention_layernorm.weight"))?,
                }),
                mlp: Mlp {
                    gate: Some(linear(&format!("{p}.mlp.gate_proj.weight"), f, d)?),
                    up: linear(&format!("{p}.mlp.up_proj.weight"), f, d)?,
                    down: linear(&format!("{p}.mlp.down_proj.weight"), d, f)?,
                    activation: match gemma {
                        Some(_) => Activation::GeluTanh,
                        None => Activation::Silu,
                    },
                },
                post_mlp_norm: gemma_norm("post_feedforward_layernorm", d)?,
            });
        }
        let lm_head = if c.tie_word_embeddings {
            None
        } else {
            Some(lm_head(source, "lm_head.weight", v, d, device)?)
        };
        Ok(Llama {
            embed,
            layers,
            norm: norm("model.norm.weight")?,
            lm_head,
            lm_head_bias: None,
            config: config.clone(),
        })
    }
}

/// An untied LM head `[vocab, hidden]` in PyTorch layout, transposed to `[hidden, vocab]`.
pub(super) fn lm_head(
    source: &dyn TensorSource,
    name: &str,
    vocab: usize,
    hidden: usize,
    device: &Device,
) -> Result<Param<Tensor<2>>, ModelError> {
    let (_, w) = fetch(source, name, &[vocab, hidden])?;
    let w = crate::site_linear::transpose(&w, vocab, hidden);
    Ok(Param::from_tensor(Tensor::from_data(
        TensorData::new(w, [hidden, vocab]),
        device,
    )))
}

/// A required tensor with the expected shape, or an error naming it.
pub(super) fn fetch(
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
