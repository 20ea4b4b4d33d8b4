//! A linear layer that honours the intervention hook.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::Site;
use crate::interventions::{Captured, Captures, DeltaUnits, NeuronDelta, SiteHook};

/// `y = x W (+ b)` with `W` stored input-first, as burn's `Linear` does. The bias (GPT-J's
/// MLP) is not part of a site's weight: hooks act on `W`, and `b` is added after.
#[derive(Module, Debug)]
pub struct SiteLinear {
    /// # Shapes
    /// - `[d_in, d_out]` (the transpose of PyTorch's `[out, in]`)
    pub weight: Param<Tensor<2>>,
    /// # Shapes
    /// - `[d_out]`
    pub bias: Option<Param<Tensor<1>>>,
}

impl SiteLinear {
    /// Builds from a PyTorch-layout weight `[out, in]` given as row-major values.
    pub fn from_torch_layout(
        out_in: [usize; 2],
        values: Vec<f32>,
        bias: Option<Vec<f32>>,
        device: &burn::tensor::Device,
    ) -> Self {
        let [d_out, d_in] = out_in;
        let transposed = transpose(&values, d_out, d_in);
        let weight = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(transposed, [d_in, d_out]),
            device,
        );
        let bias = bias.map(|b| {
            Param::from_tensor(Tensor::<1>::from_data(
                burn::tensor::TensorData::new(b, [d_out]),
                device,
            ))
        });
        Self {
            weight: Param::from_tensor(weight),
            bias,
        }
    }

    /// `[d_in, d_out]`
    pub fn dims(&self) -> [usize; 2] {
        self.weight.dims()
    }

    /// The weight's values, row-major `[d_in, d_out]` (e.g. to check that an edit was rolled
    /// back bit for bit).
    pub fn weight_values(&self) -> Vec<f32> {
        self.weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .expect("a site's weight is f32")
    }

    /// Plain product, no hook.
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, d_in]` → `[batch, seq, d_out]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.product(x, self.weight.val())
    }

    /// Product with the site's hook applied: weight delta, per-row scale, capture.
    ///
    /// The hook acts on the weight alone: the per-row scale multiplies `x (W + ΔW)`, and a
    /// bias is added afterwards, so scaling the output by α is exactly scaling the weight by
    /// α (integrated gradients) even for a biased layer (GPT-J's `fc_in`, `fc_out`).
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, d_in]` → `[batch, seq, d_out]`
    pub fn forward_hooked(
        &self,
        x: Tensor<3>,
        site: Site,
        hook: Option<&SiteHook>,
        captures: &mut Captures,
    ) -> Tensor<3> {
        let Some(hook) = hook else {
            return self.forward(x);
        };
        let weight = match &hook.weight_delta {
            Some(delta) => self.weight.val() + delta.clone(),
            None => self.weight.val(),
        };
        let input = hook.capture.then(|| x.clone().detach());
        let z = match &hook.neuron_delta {
            Some(delta) => {
                let extra = neuron_delta_product(x.clone(), delta, y_width(&weight));
                matmul(x, weight) + extra
            }
            None => matmul(x, weight),
        };
        let output = input.is_some().then(|| self.add_bias(z.clone()).detach());
        let mut y = self.add_bias(match &hook.output_scale {
            Some(scale) => {
                let [batch] = scale.dims();
                z * scale.clone().reshape([batch, 1, 1])
            }
            None => z,
        });
        if let (Some(input), Some(output)) = (input, output) {
            // Without autodiff there is no gradient to expose; the output is still recorded.
            let probe = y.is_autodiff().then(|| {
                let probe = Tensor::<3>::zeros(y.shape(), &y.device()).require_grad();
                y = y.clone() + probe.clone();
                probe
            });
            captures.insert(
                site,
                Captured {
                    input,
                    output,
                    probe,
                },
            );
        }
        y
    }

    /// `x W + b` in one 2-D product (the plain path).
    fn product(&self, x: Tensor<3>, weight: Tensor<2>) -> Tensor<3> {
        let [batch, seq, d_in] = x.dims();
        let [_, d_out] = weight.dims();
        let y = x.reshape([batch * seq, d_in]).matmul(weight);
        let y = match &self.bias {
            Some(b) => y + b.val().unsqueeze(),
            None => y,
        };
        y.reshape([batch, seq, d_out])
    }

    /// # Shapes
    /// - `y`: `[batch, seq, d_out]` → same, plus the bias when there is one
    fn add_bias(&self, y: Tensor<3>) -> Tensor<3> {
        match &self.bias {
            Some(b) => y + b.val().unsqueeze(),
            None => y,
        }
    }
}

/// `x W`, no bias.
///
/// # Shapes
/// - `x`: `[batch, seq, d_in]`, `weight`: `[d_in, d_out]` → `[batch, seq, d_out]`
fn matmul(x: Tensor<3>, weight: Tensor<2>) -> Tensor<3> {
    let [batch, seq, d_in] = x.dims();
    let [_, d_out] = weight.dims();
    x.reshape([batch * seq, d_in])
        .matmul(weight)
        .reshape([batch, seq, d_out])
}

fn y_width(weight: &Tensor<2>) -> usize {
    weight.dims()[1]
}

/// `x ΔW` for a delta non-zero on a few neurons, without building `ΔW`.
///
/// # Shapes
/// - `x`: `[batch, seq, d_in]` → `[batch, seq, d_out]`
fn neuron_delta_product(x: Tensor<3>, delta: &NeuronDelta, d_out: usize) -> Tensor<3> {
    let [batch, seq, d_in] = x.dims();
    let x = x.reshape([batch * seq, d_in]);
    let y = match delta.units {
        // Only the n changed outputs get a contribution: [rows, n], scattered into d_out.
        DeltaUnits::Outputs => {
            let z = x.matmul(delta.values.clone());
            Tensor::<2>::zeros([batch * seq, d_out], &z.device()).select_assign(
                1,
                delta.indices.clone(),
                z,
                burn::tensor::ops::IndexingUpdateOp::Add,
            )
        }
        // Only the n changed inputs contribute: [rows, n] @ [n, d_out].
        DeltaUnits::Inputs => x
            .select(1, delta.indices.clone())
            .matmul(delta.values.clone()),
    };
    y.reshape([batch, seq, d_out])
}

/// Row-major `[rows, cols]` → row-major `[cols, rows]`.
pub(crate) fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; values.len()];
    // Blocked to stay cache-friendly on the 49152×576 embedding-sized matrices.
    const BLOCK: usize = 32;
    for r0 in (0..rows).step_by(BLOCK) {
        for c0 in (0..cols).step_by(BLOCK) {
            for r in r0..(r0 + BLOCK).min(rows) {
                for c in c0..(c0 + BLOCK).min(cols) {
                    out[c * rows + r] = values[r * cols + c];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod neuron_delta_tests {
    use burn::tensor::{Device, Int, Tensor, TensorData};

    use super::*;
    use crate::ModuleKind;

    fn tensor2(values: Vec<f32>, dims: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values, dims), device)
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2654435761u32) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// The sparse path equals adding the dense `ΔW` it stands for, for both unit kinds.
    #[test]
    fn neuron_delta_equals_the_dense_delta() {
        let device = Device::flex();
        let (d_in, d_out) = (5, 7);
        let layer = SiteLinear::from_torch_layout([d_out, d_in], values(35, 1), None, &device);
        let x = Tensor::<3>::from_data(
            TensorData::new(values(2 * 3 * d_in, 2), [2, 3, d_in]),
            &device,
        );
        let site = Site::new(0, ModuleKind::Up);
        let picked = [4usize, 1];
        let indices = Tensor::<1, Int>::from_data(TensorData::new(vec![4i64, 1], [2]), &device);
        for units in [DeltaUnits::Outputs, DeltaUnits::Inputs] {
            let (small_dims, small) = match units {
                DeltaUnits::Outputs => ([d_in, 2], values(d_in * 2, 3)),
                DeltaUnits::Inputs => ([2, d_out], values(2 * d_out, 3)),
            };
            // The dense ΔW with the same values at the picked neurons.
            let mut dense = vec![0.0f32; d_in * d_out];
            for (k, &neuron) in picked.iter().enumerate() {
                match units {
                    DeltaUnits::Outputs => {
                        for i in 0..d_in {
                            dense[i * d_out + neuron] = small[i * 2 + k];
                        }
                    }
                    DeltaUnits::Inputs => {
                        for j in 0..d_out {
                            dense[neuron * d_out + j] = small[k * d_out + j];
                        }
                    }
                }
            }
            let sparse_hook = SiteHook {
                neuron_delta: Some(NeuronDelta {
                    units,
                    indices: indices.clone(),
                    values: tensor2(small, small_dims, &device),
                }),
                ..SiteHook::default()
            };
            let dense_hook = SiteHook {
                weight_delta: Some(tensor2(dense, [d_in, d_out], &device)),
                ..SiteHook::default()
            };
            let mut captures = Captures::new();
            let a = layer.forward_hooked(x.clone(), site, Some(&sparse_hook), &mut captures);
            let b = layer.forward_hooked(x.clone(), site, Some(&dense_hook), &mut captures);
            let a = a.into_data().try_into_vec::<f32>().unwrap();
            let b = b.into_data().try_into_vec::<f32>().unwrap();
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-5, "{units:?}: {p} vs {q}");
            }
        }
    }
}
