//! Building a GPT-J as a [`Llama`] from HF GPT-J tensor names (`transformer.h.3.mlp.fc_in`).

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use super::build::{fetch, lm_head};
use super::{Activation, Attention, DecoderBlock, Llama, Mlp, Norm};
use crate::load::TensorSource;
use crate::site_linear::SiteLinear;
use crate::{LlamaConfig, ModelError};

impl Llama {
    /// GPT-J: one LayerNorm per block feeding attention and MLP in parallel, biased MLP and
    /// LM head, no `gate` (see [`crate::config::GptjConfig`]). `config` is validated.
    pub(super) fn from_gptj_source(
        config: &LlamaConfig,
        source: &dyn TensorSource,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let c = config;
        let (d, f, v) = (c.hidden_size, c.intermediate_size, c.vocab_size);
        let values = |name: &str, shape: &[usize]| fetch(source, name, shape).map(|(_, x)| x);
        // Biases ride along in `SiteLinear`: added after the (possibly intervened) product,
        // so hooks act on the weight alone.
        let linear = |name: &str, out: usize, inp: usize, bias: bool| {
            let weight = values(&format!("{name}.weight"), &[out, inp])?;
            let bias = match bias {
                true => Some(values(&format!("{name}.bias"), &[out])?),
                false => None,
            };
            Ok::<_, ModelError>(SiteLinear::from_torch_layout(
                [out, inp],
                weight,
                bias,
                device,
            ))
        };
        let layer_norm = |name: &str| {
            Ok::<_, ModelError>(Norm::layer(
                values(&format!("{name}.weight"), &[d])?,
                values(&format!("{name}.bias"), &[d])?,
                c.rms_norm_eps,
                device,
            ))
        };

        let embed = values("transformer.wte.weight", &[v, d])?;
        let embed = Param::from_tensor(Tensor::from_data(TensorData::new(embed, [v, d]), device));
        let mut layers = Vec::new();
        for l in 0..c.num_hidden_layers {
            let p = format!("transformer.h.{l}");
            layers.push(DecoderBlock {
                attn_norm: layer_norm(&format!("{p}.ln_1"))?,
                attn: Attention {
                    q: linear(&format!("{p}.attn.q_proj"), d, d, false)?,
                    k: linear(&format!("{p}.attn.k_proj"), d, d, false)?,
                    v: linear(&format!("{p}.attn.v_proj"), d, d, false)?,
                    o: linear(&format!("{p}.attn.out_proj"), d, d, false)?,
                    num_heads: c.num_attention_heads,
                    num_kv_heads: c.num_key_value_heads,
                    head_dim: c.head_dim,
                    q_norm: None,
                    k_norm: None,
                    scale: None,
                    sliding_window: None,
                },
                post_attn_norm: None,
                mlp_norm: None,
                mlp: Mlp {
                    gate: None,
                    up: linear(&format!("{p}.mlp.fc_in"), f, d, true)?,
                    down: linear(&format!("{p}.mlp.fc_out"), d, f, true)?,
                    activation: Activation::GeluTanh,
                },
                post_mlp_norm: None,
            });
        }
        let bias = values("lm_head.bias", &[v])?;
        Ok(Llama {
            embed,
            layers,
            norm: layer_norm("transformer.ln_f")?,
            lm_head: Some(lm_head(source, "lm_head.weight", v, d, device)?),
            lm_head_bias: Some(Param::from_tensor(Tensor::from_data(
                TensorData::new(bias, [v]),
                device,
            ))),
            config: config.clone(),
        })
    }
}
