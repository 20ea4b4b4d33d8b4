//! A linear layer that honours the intervention hook.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::Site;
use crate::interventions::{Captured, Captures, SiteHook};

/// `y = x W (+ b)` with `W` stored input-first, as burn's `Linear` does.
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

    /// Plain product, no hook.
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, d_in]` → `[batch, seq, d_out]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.product(x, self.weight.val())
    }

    /// Product with the site's hook applied: weight delta, per-row scale, capture.
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
        let y = self.product(x, weight);
        let output = y.clone();
        let mut y = match &hook.output_scale {
            Some(scale) => {
                let [batch] = scale.dims();
                y * scale.clone().reshape([batch, 1, 1])
            }
            None => y,
        };
        if let Some(input) = input {
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
                    output: output.detach(),
                    probe,
                },
            );
        }
        y
    }

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
