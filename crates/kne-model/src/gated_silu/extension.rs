//! `silu(g) ⊙ u` as a burn backend extension: one fused pass forward and one backward on the
//! Flex CPU backend, and one autodiff node (burn's composition makes four, and recomputes the
//! sigmoid in backward).

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

use super::kernel;
use crate::flex_buffers::{dense, f32s, owned_f32};
use crate::fused_node::fused_pair;

/// The routing ([`super::gated_silu`]) sends only `f32` operands of one shape here.
#[backend_extension(Flex, Autodiff)]
pub trait GatedSiluBackend: Backend {
    /// `silu(gate) ⊙ up`, element-wise.
    ///
    /// # Shapes
    /// - `gate`, `up`: the same shape → that shape
    fn gated_silu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self>;

    /// The gradients of [`Self::gated_silu`] with respect to `gate` and to `up`, given the
    /// gradient `grad` of its output.
    ///
    /// # Shapes
    /// - `gate`, `up`, `grad`: the same shape → (that shape, that shape)
    fn gated_silu_backward(
        gate: FloatTensor<Self>,
        up: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl GatedSiluBackend for Flex {
    fn gated_silu(gate: FlexTensor, up: FlexTensor) -> FlexTensor {
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

/// One autodiff node that keeps `gate` and `up` (backward needs both) and runs the inner
/// backend's fused backward.
impl<B: GatedSiluBackend, C: CheckpointStrategy> GatedSiluBackend for Autodiff<B, C> {
    fn gated_silu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        fused_pair::<B, C>("GatedSilu", gate, up, B::gated_silu, B::gated_silu_backward)
    }

    /// The inner backend's gradients, as untracked tensors (no second-order graph).
    fn gated_silu_backward(
        gate: FloatTensor<Self>,
        up: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (grad_gate, grad_up) = B::gated_silu_backward(
            gate.into_primitive(),
            up.into_primitive(),
            grad.into_primitive(),
        );
        (Self::from_inner(grad_gate), Self::from_inner(grad_up))
    }
}
