//! One pre-norm decoder block: `h = x + attn(norm(x)); out = h + mlp(norm(h))`.

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
    pub mlp_norm: RmsNorm,
    pub mlp: Mlp,
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
        let h = x + a;
        let m = self
            .mlp
            .forward(self.mlp_norm.forward(h.clone()), layer, hooks, captures);
        h + m
    }
}
