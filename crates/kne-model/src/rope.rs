//! Rotary position embedding, in HF's two conventions.
//!
//! - [`RopeStyle::Half`] (Llama, Gemma: `rotate_half`): dim `i` pairs with `i + d/2`. GGUF
//!   files store Llama's q/k rows permuted for llama.cpp's adjacent-pair rotation; the GGUF
//!   loader un-permutes them, so one convention serves every source and neuron ids match HF.
//! - [`RopeStyle::Interleaved`] (GPT-J: `rotate_every_two`): dims `2i` and `2i + 1` pair, and
//!   only the first `rotary_dim` dims of a head rotate; the rest pass through. Kept as is
//!   (rather than permuting q/k rows into the half convention at load) so that a q/k neuron
//!   id means the same row as in the HF checkpoint.

use burn::tensor::{Device, Tensor, TensorData};

/// Which dims of a head rotate together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Dim `i` with `i + d/2` (HF `rotate_half`).
    Half,
    /// Dim `2i` with `2i + 1` (HF GPT-J `rotate_every_two`).
    Interleaved,
}

/// Cosine and sine tables for a run of positions.
#[derive(Debug, Clone)]
pub struct RopeTables {
    /// # Shapes
    /// - `[1, 1, seq, rotary_dim]`
    pub cos: Tensor<4>,
    /// # Shapes
    /// - `[1, 1, seq, rotary_dim]`
    pub sin: Tensor<4>,
    pub style: RopeStyle,
    /// Leading dims of each head that rotate (the whole head for Llama and Gemma).
    pub rotary_dim: usize,
}

impl RopeTables {
    /// Half-split tables over the whole head for positions `start..start + len`, computed in
    /// f32 as HF does (`inv_freq = 1 / theta^(2i/d)`, angle = position · inv_freq).
    pub fn new(theta: f32, head_dim: usize, start: usize, len: usize, device: &Device) -> Self {
        Self::with_style(RopeStyle::Half, theta, head_dim, start, len, device)
    }

    /// Tables rotating the first `rotary_dim` dims of a head in `style`; the frequencies run
    /// over `rotary_dim` (GPT-J: `inv_freq = 1 / theta^(2i/rotary_dim)`).
    pub fn with_style(
        style: RopeStyle,
        theta: f32,
        rotary_dim: usize,
        start: usize,
        len: usize,
        device: &Device,
    ) -> Self {
        let half = rotary_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / theta.powf((2 * i) as f32 / rotary_dim as f32))
            .collect();
        let mut cos = Vec::with_capacity(len * rotary_dim);
        let mut sin = Vec::with_capacity(len * rotary_dim);
        for p in start..start + len {
            let angles = inv_freq.iter().map(|f| p as f32 * f);
            match style {
                // HF concatenates the angles with themselves: the two halves match.
                RopeStyle::Half => {
                    for angle in angles.clone().chain(angles) {
                        cos.push(angle.cos());
                        sin.push(angle.sin());
                    }
                }
                // GPT-J repeats each angle for the two dims of its pair.
                RopeStyle::Interleaved => {
                    for angle in angles {
                        cos.extend([angle.cos(); 2]);
                        sin.extend([angle.sin(); 2]);
                    }
                }
            }
        }
        let shape = [1, 1, len, rotary_dim];
        Self {
            cos: Tensor::from_data(TensorData::new(cos, shape), device),
            sin: Tensor::from_data(TensorData::new(sin, shape), device),
            style,
            rotary_dim,
        }
    }

    /// Rotates the first `rotary_dim` dims of every head of `x` by the tables.
    ///
    /// # Shapes
    /// - `x`: `[batch, heads, seq, head_dim]` → same
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, _, d] = x.dims();
        if self.rotary_dim < d {
            let pass = x.clone().narrow(3, self.rotary_dim, d - self.rotary_dim);
            let rot = self.rotate(x.narrow(3, 0, self.rotary_dim));
            return Tensor::cat(vec![rot, pass], 3);
        }
        self.rotate(x)
    }

    /// # Shapes
    /// - `x`: `[batch, heads, seq, rotary_dim]` → same
    fn rotate(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, h, s, d] = x.dims();
        let partner = match self.style {
            // (x1, x2) → (-x2, x1) over the two halves.
            RopeStyle::Half => {
                let half = d / 2;
                let x1 = x.clone().narrow(3, 0, half);
                let x2 = x.clone().narrow(3, half, half);
                Tensor::cat(vec![x2.neg(), x1], 3)
            }
            // (x_2i, x_2i+1) → (-x_2i+1, x_2i) within each pair.
            RopeStyle::Interleaved => {
                let pairs = x.clone().reshape([b, h, s, d / 2, 2]);
                let even = pairs.clone().narrow(4, 0, 1);
                let odd = pairs.narrow(4, 1, 1);
                Tensor::cat(vec![odd.neg(), even], 4).reshape([b, h, s, d])
            }
        };
        x * self.cos.clone() + partner * self.sin.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// Interleaved, partial: at position 1 with theta 1 pair (0, 1) turns by 1 radian, pair
    /// (2, 3) by 1/theta^(2/4) = 1 radian too, and dims 4.. pass through.
    #[test]
    fn interleaved_partial_rotation_turns_adjacent_pairs_only() {
        let device = Device::flex();
        let t = RopeTables::with_style(RopeStyle::Interleaved, 1.0, 4, 1, 1, &device);
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 2.0, 5.0, 6.0], [1, 1, 1, 6]),
            &device,
        );
        let (c, s) = (1f32.cos(), 1f32.sin());
        let want = [c, s, -2.0 * s, 2.0 * c, 5.0, 6.0];
        for (got, want) in values(t.apply(x)).iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    /// Half style over a whole head: dim 0 pairs with dim d/2.
    #[test]
    fn half_rotation_pairs_the_halves() {
        let device = Device::flex();
        let t = RopeTables::new(1.0, 4, 1, 1, &device);
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 0.0], [1, 1, 1, 4]),
            &device,
        );
        let (c, s) = (1f32.cos(), 1f32.sin());
        let want = [c, 0.0, s, 0.0];
        for (got, want) in values(t.apply(x)).iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
}
