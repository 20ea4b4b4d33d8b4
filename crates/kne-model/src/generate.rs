//! Greedy decoding with a KV cache.

use burn::tensor::{Int, Tensor, TensorData};

use crate::{Llama, ModelError};

/// Greedy decoding settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GreedyConfig {
    /// Tokens to generate at most.
    pub max_new_tokens: usize,
    /// Stop after emitting this token (it is included in the output); `None` never stops early.
    pub stop_token: Option<u32>,
}

impl Llama {
    /// Greedy continuation of `prompt` (argmax at each step; ties go to the lowest id, as in
    /// PyTorch). Returns the new token ids only.
    pub fn generate_greedy(
        &self,
        prompt: &[u32],
        config: GreedyConfig,
    ) -> Result<Vec<u32>, ModelError> {
        let mut cache = self.new_cache();
        let mut input = self.ids_tensor(&[prompt])?;
        let mut out = Vec::with_capacity(config.max_new_tokens);
        while out.len() < config.max_new_tokens {
            let logits = self.forward_cached_last(input, &mut cache);
            let next = argmax_rows(logits)?[0];
            out.push(next);
            if Some(next) == config.stop_token {
                break;
            }
            input = Tensor::<2, Int>::from_data(
                TensorData::new(vec![next as i64], [1, 1]),
                &self.device(),
            );
        }
        Ok(out)
    }
}

/// Index of the largest value of every row (first index on ties).
///
/// # Shapes
/// - `logits`: `[rows, vocab]` → `rows` ids
pub fn argmax_rows(logits: Tensor<2>) -> Result<Vec<u32>, ModelError> {
    let [rows, vocab] = logits.dims();
    let values = logits
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::Invalid(format!("reading logits: {e:?}")))?;
    Ok((0..rows)
        .map(|r| {
            let row = &values[r * vocab..(r + 1) * vocab];
            let mut best = 0;
            for (i, &x) in row.iter().enumerate() {
                if x > row[best] {
                    best = i;
                }
            }
            best as u32
        })
        .collect())
}
