//! `silu(g) ⊙ u` as a burn backend extension: one fused pass forward and one backward on the
//! Flex CPU backend, and one autodiff node (burn's composition makes four, and recomputes the
//! sigmoid in backward).

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, TensorData};

use super::kernel;
use crate::flex_buffers::{dense, f32s, owned_f32};
use crate::fused_node::fused_pair;

#[backend_extension(Flex, Autodiff)]
pub trait GatedSiluBackend: Backend {
    /// `silu(gate) ⊙ up`, element-wise.
    ///
    /// # Shapes
    /// - `gate`, `up`: the same shape → that shape
    fn gated_silu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        composed_forward::<Self>(gate, up)
    }

    /// The gradients of [`Self::gated_silu`] with respect to `gate` and to `up`, given the
    /// gradient `grad` of its output.
    ///
    /// # Shapes
    /// - `gate`, `up`, `grad`: the same shape → (that shape, that shape)
    fn gated_silu_backward(
        gate: FloatTensor<Self>,
        up: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        composed_backward::<Self>(gate, up, grad)
    }
}

/// `silu(gate) ⊙ up` from the backend's own operations.
fn composed_forward<B: Backend>(gate: FloatTensor<B>, up: FloatTensor<B>) -> FloatTensor<B> {
    let silu = B::float_mul(gate.clone(), B::sigmoid(gate));
    B::float_mul(silu, up)
}

/// The gradients of `silu(gate) ⊙ up` from the backend's own operations.
fn composed_backward<B: Backend>(
    gate: FloatTensor<B>,
    up: FloatTensor<B>,
    grad: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let sigmoid = B::sigmoid(gate.clone());
    let silu = B::float_mul(gate, sigmoid.clone());
    let grad_up = B::float_mul(grad.clone(), silu.clone());
    // d silu / dg = s + g s (1 - s) = s + silu - silu · s
    let silu_slope = B::float_sub(
        B::float_add(sigmoid.clone(), silu.clone()),
        B::float_mul(silu, sigmoid),
    );
    let grad_gate = B::float_mul(B::float_mul(grad, up), silu_slope);
    (grad_gate, grad_up)
}

/// The fused kernels. `f32` only: other dtypes take the trait's composed default.
impl GatedSiluBackend for Flex {
    fn gated_silu(gate: FlexTensor, up: FlexTensor) -> FlexTensor {
        if !all_f32(&[&gate, &up]) {
            return composed_forward::<Self>(gate, up);
        }
        let shape = up.shape();
        let gate = dense(gate);
        // Zero-copy when `up` is not shared (inference); a copy that is the output otherwise.
        let mut out = owned_f32(up);
        kernel::forward(f32s(&gate), &mut out);
        FlexTensor::from_data(TensorData::new(out, shape))
    }

    fn gated_silu_backward(
        gate: FlexTensor,
        up: FlexTensor,
        grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        if !all_f32(&[&gate, &up, &grad]) {
            return composed_backward::<Self>(gate, up, grad);
        }
        let shape = gate.shape();
        let (gate, up) = (dense(gate), dense(up));
        // The output's gradient is consumed here: its buffer becomes the gate's gradient.
        let mut grad_gate = owned_f32(grad);
        let mut grad_up = vec![0.0f32; grad_gate.len()];
        kernel::backward(f32s(&gate), f32s(&up), &mut grad_gate, &mut grad_up);
        (
            FlexTensor::from_data(TensorData::new(grad_gate, shape.clone())),
            FlexTensor::from_data(TensorData::new(grad_up, shape)),
        )
    }
}

fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

/// One autodiff node that keeps `gate` and `up` (backward needs both) and runs the inner
/// backend's fused backward.
impl<B: GatedSiluBackend, C: CheckpointStrategy> GatedSiluBackend for Autodiff<B, C> {
    fn gated_silu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        fused_pair::<B, C>("GatedSilu", gate, up, B::gated_silu, B::gated_silu_backward)
    }
}
