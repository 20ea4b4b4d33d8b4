//! Grouped-query self-attention with RoPE.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use crate::interventions::{Captures, Interventions};
use crate::kv_cache::KvCache;
use crate::rope::RopeTables;
use crate::site_linear::SiteLinear;
use crate::{ModuleKind, Site};

#[derive(Module, Debug)]
pub struct Attention {
    pub q: SiteLinear,
    pub k: SiteLinear,
    pub v: SiteLinear,
    pub o: SiteLinear,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
}

impl Attention {
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
        let [batch, seq, _] = x.dims();
        let (h, kvh, hd) = (self.num_heads, self.num_kv_heads, self.head_dim);
        let proj = |lin: &SiteLinear, module, x: Tensor<3>, captures: &mut Captures| {
            let site = Site::new(layer, module);
            lin.forward_hooked(x, site, hooks.and_then(|i| i.get(&site)), captures)
        };
        let split_heads =
            |t: Tensor<3>, heads: usize| t.reshape([batch, seq, heads, hd]).swap_dims(1, 2);

        let q = split_heads(proj(&self.q, ModuleKind::Q, x.clone(), captures), h);
        let k = split_heads(proj(&self.k, ModuleKind::K, x.clone(), captures), kvh);
        let v = split_heads(proj(&self.v, ModuleKind::V, x, captures), kvh);
        let q = rope.apply(q);
        let k = rope.apply(k);
        let (k, v) = match cache {
            Some(cache) => cache.append(layer, k, v),
            None => (k, v),
        };
        let k = repeat_kv(k, h / kvh);
        let v = repeat_kv(v, h / kvh);
        let options = AttentionModuleOptions {
            is_causal: true,
            ..Default::default()
        };
        // Causal masking is aligned bottom-right, so cached prefixes work unchanged.
        let context = attention(q, k, v, None, None, options);
        let context = context.swap_dims(1, 2).reshape([batch, seq, h * hd]);
        proj(&self.o, ModuleKind::O, context, captures)
    }
}

/// Repeats each key/value head `n_rep` times (HF `repeat_kv`: head j serves query heads
/// j·n_rep .. (j+1)·n_rep).
///
/// # Shapes
/// - `x`: `[batch, kv_heads, seq, head_dim]` → `[batch, kv_heads · n_rep, seq, head_dim]`
fn repeat_kv(x: Tensor<4>, n_rep: usize) -> Tensor<4> {
    if n_rep == 1 {
        return x;
    }
    let [b, kvh, s, d] = x.dims();
    x.unsqueeze_dim::<5>(2)
        .expand([b, kvh, n_rep, s, d])
        .reshape([b, kvh * n_rep, s, d])
}
