//! One decoder block: `h = x + attn(norm(x)); out = h + mlp(norm(h))` (Llama), with a
//! norm on each branch's output as well for Gemma-3:
//! `h = x + norm(attn(norm(x))); out = h + norm(mlp(norm(h)))`.

use burn::module::Module;
use burn::nn::RmsNorm;
use burn::tensor::Tensor;

use super::attention::Attention;
use super::mlp::Mlp;
use crate::interventions::{Captures, Interventions};
use crate::kv_cache::KvCache;
use crate::rope::RopeTables;

#[derive(Module, Debug)]
pub struct DecoderBlock {
    pub attn_norm: RmsNorm,
    pub attn: Attention,
    /// Gemma-3's norm of the attention output (HF `post_attention_layernorm`).
    pub post_attn_norm: Option<RmsNorm>,
    /// The norm before the MLP (HF Llama `post_attention_layernorm`, Gemma
    /// `pre_feedforward_layernorm`).
    pub mlp_norm: RmsNorm,
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
        let a = self.attn.forward(
            self.attn_norm.forward(x.clone()),
            layer,
            rope,
            cache,
            hooks,
            captures,
        );
        let a = match &self.post_attn_norm {
            Some(n) => n.forward(a),
            None => a,
        };
        let h = x + a;
        let m = self
            .mlp
            .forward(self.mlp_norm.forward(h.clone()), layer, hooks, captures);
        let m = match &self.post_mlp_norm {
            Some(n) => n.forward(m),
            None => m,
        };
        h + m
    }
}
