//! Rotary position embedding in the HF convention (`rotate_half`: pairs i and i + d/2).
//!
//! GGUF files store q/k rows permuted for llama.cpp's adjacent-pair rotation; the GGUF
//! loader un-permutes them, so one convention serves every source and neuron ids match HF.

use burn::tensor::{Device, Tensor, TensorData};

/// Cosine and sine tables for a run of positions.
#[derive(Debug, Clone)]
pub struct RopeTables {
    /// # Shapes
    /// - `[1, 1, seq, head_dim]`
    pub cos: Tensor<4>,
    /// # Shapes
    /// - `[1, 1, seq, head_dim]`
    pub sin: Tensor<4>,
}

impl RopeTables {
    /// Tables for positions `start..start + len`, computed in f32 as HF does
    /// (`inv_freq = 1 / theta^(2i/d)`, angle = position · inv_freq, halves repeated).
    pub fn new(theta: f32, head_dim: usize, start: usize, len: usize, device: &Device) -> Self {
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / theta.powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let mut cos = Vec::with_capacity(len * head_dim);
        let mut sin = Vec::with_capacity(len * head_dim);
        for p in start..start + len {
            // HF concatenates the angles with themselves: cos/sin of the two halves match.
            for _half in 0..2 {
                for f in &inv_freq {
                    let angle = p as f32 * f;
                    cos.push(angle.cos());
                    sin.push(angle.sin());
                }
            }
        }
        let shape = [1, 1, len, head_dim];
        Self {
            cos: Tensor::from_data(TensorData::new(cos, shape), device),
            sin: Tensor::from_data(TensorData::new(sin, shape), device),
        }
    }

    /// Rotates `x` by the tables.
    ///
    /// # Shapes
    /// - `x`: `[batch, heads, seq, head_dim]` → same
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, _, d] = x.dims();
        let half = d / 2;
        let x1 = x.clone().narrow(3, 0, half);
        let x2 = x.clone().narrow(3, half, half);
        let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
        x * self.cos.clone() + rotated * self.sin.clone()
    }
}
