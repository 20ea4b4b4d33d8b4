//! One decoder block, in three layouts:
//! - Llama: `h = x + attn(norm(x)); out = h + mlp(norm(h))`;
//! - Gemma-3, a norm on each branch's output as well:
//!   `h = x + norm(attn(norm(x))); out = h + norm(mlp(norm(h)))`;
//! - GPT-J, attention and MLP in parallel on one norm: `out = x + attn(ln(x)) + mlp(ln(x))`.

use burn::module::Module;
use burn::nn::RmsNorm;
use burn::tensor::Tensor;

use super::attention::Attention;
use super::mlp::Mlp;
use super::norm::Norm;
use crate::interventions::{Captures, Interventions};
use crate::kv_cache::KvCache;
use crate::rope::RopeTables;

#[derive(Module, Debug)]
pub struct DecoderBlock {
    /// The norm before attention (HF Llama `input_layernorm`, GPT-J `ln_1`, which the MLP
    /// reads too).
    pub attn_norm: Norm,
    pub attn: Attention,
    /// Gemma-3's norm of the attention output (HF `post_attention_layernorm`).
    pub post_attn_norm: Option<RmsNorm>,
    /// The norm before the MLP (HF Llama `post_attention_layernorm`, Gemma
    /// `pre_feedforward_layernorm`); `None` for GPT-J's parallel block, whose MLP reads
    /// `attn_norm`'s output.
    pub mlp_norm: Option<Norm>,
    pub mlp: Mlp,
    /// Gemma-3's norm of the MLP output (HF `post_feedforward_layernorm`).
    pub post_mlp_norm: Option<RmsNorm>,
}

impl DecoderBlock {
    /// # Shapes
    /// - `x`: `[batch, seq, hidden]` → `[batch, seq, hidden]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        layer: usize,
        rope: &RopeTables,
        cache: Option<&mut KvCache>,
        hooks: Option<&Interventions>,
        captures: &mut Captures,
    ) -> Tensor<3> {
        let normed = self.attn_norm.forward(x.clone());
        let a = self
            .attn
            .forward(normed.clone(), layer, rope, cache, hooks, captures);
        let Some(mlp_norm) = &self.mlp_norm else {
            // GPT-J: both branches read the same normed input; HF sums attn + mlp + x.
            let m = self.mlp.forward(normed, layer, hooks, captures);
            return a + m + x;
        };
        let a = match &self.post_attn_norm {
            Some(n) => n.forward(a),
            None => a,
        };
        let h = x + a;
        let m = self
            .mlp
            .forward(mlp_norm.forward(h.clone()), layer, hooks, captures);
        let m = match &self.post_mlp_norm {
            Some(n) => n.forward(m),
            None => m,
        };
        h + m
    }
}
