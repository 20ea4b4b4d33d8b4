//! Grouped-query self-attention with RoPE; for Gemma-3 also RMSNorm of q and k per head, a
//! fixed score scale, and (local layers) a sliding window.

use burn::module::Module;
use burn::nn::RmsNorm;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor, TensorData};

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
    /// Gemma-3: RMSNorm over each query head, before RoPE.
    pub q_norm: Option<RmsNorm>,
    /// Gemma-3: RMSNorm over each key head, before RoPE.
    pub k_norm: Option<RmsNorm>,
    /// Score scale; `None` is `1 / sqrt(head_dim)`.
    #[module(skip)]
    pub scale: Option<f64>,
    /// Local layers: a query sees only the last `window` keys, itself included.
    #[module(skip)]
    pub sliding_window: Option<usize>,
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
        let (q, k) = match (&self.q_norm, &self.k_norm) {
            (Some(qn), Some(kn)) => (qn.forward(q), kn.forward(k)),
            _ => (q, k),
        };
        let q = rope.apply(q);
        let k = rope.apply(k);
        let (k, v) = match cache {
            Some(cache) => cache.append(layer, k, v),
            None => (k, v),
        };
        let k = repeat_kv(k, h / kvh);
        let v = repeat_kv(v, h / kvh);
        let kv_len = k.dims()[2];
        let mask = self
            .sliding_window
            .filter(|&w| kv_len > w)
            .map(|w| window_mask(batch, h, seq, kv_len, w, &q.device()));
        let options = AttentionModuleOptions {
            // Causal masking is aligned bottom-right, so cached prefixes work unchanged; a
            // window mask carries causality itself.
            is_causal: mask.is_none(),
            scale: self.scale,
            ..Default::default()
        };
        let context = attention(q, k, v, mask, None, options);
        let context = context.swap_dims(1, 2).reshape([batch, seq, h * hd]);
        proj(&self.o, ModuleKind::O, context, captures)
    }
}

/// The causal sliding-window mask (`true` = hidden), bottom-right aligned: query `i` sits at
/// position `kv_len - seq + i` and sees keys `p - window < key <= p`.
///
/// # Shapes
/// - returns `[batch, heads, seq, kv_len]`
fn window_mask(
    batch: usize,
    heads: usize,
    seq: usize,
    kv_len: usize,
    window: usize,
    device: &burn::tensor::Device,
) -> Tensor<4, Bool> {
    let mut hidden = Vec::with_capacity(seq * kv_len);
    for i in 0..seq {
        let p = kv_len - seq + i;
        hidden.extend((0..kv_len).map(|key| key > p || p - key >= window));
    }
    Tensor::<4, Bool>::from_data(TensorData::new(hidden, [1, 1, seq, kv_len]), device)
        .expand([batch, heads, seq, kv_len])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_mask_hides_the_future_and_the_distant_past() {
        // 3 new queries after 2 cached positions (at 2, 3, 4), window 2: each sees itself
        // and the key before it.
        let device = burn::tensor::Device::flex();
        let m = window_mask(1, 2, 3, 5, 2, &device);
        assert_eq!(m.dims(), [1, 2, 3, 5]);
        let hidden = m.into_data().try_into_vec::<bool>().expect("bools");
        let seen: Vec<String> = hidden[..15]
            .chunks(5)
            .map(|r| r.iter().map(|&h| if h { '.' } else { 'x' }).collect())
            .collect();
        assert_eq!(seen, vec![".xx..", "..xx.", "...xx"]);
        assert_eq!(hidden[..15], hidden[15..], "every head the same");
    }
}
