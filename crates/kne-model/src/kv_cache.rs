//! Key/value cache for incremental decoding.

use burn::tensor::Tensor;

/// Keys and values of every layer for the positions already processed.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    /// Per layer: keys and values after RoPE, before head repetition.
    ///
    /// # Shapes
    /// - each: `[batch, kv_heads, cached_len, head_dim]`
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: vec![None; num_layers],
            len: 0,
        }
    }

    /// Number of positions cached (the position of the next token).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends new keys/values of `layer` and returns the full keys/values.
    ///
    /// # Shapes
    /// - `k`, `v`: `[batch, kv_heads, new, head_dim]` → `[batch, kv_heads, cached + new, head_dim]`
    pub fn append(&mut self, layer: usize, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let (k, v) = match self.layers[layer].take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        self.layers[layer] = Some((k.clone(), v.clone()));
        (k, v)
    }

    /// Records that `n` new positions went through every layer.
    pub fn advance(&mut self, n: usize) {
        self.len += n;
    }
}
