//! RMSNorm as a burn backend extension: one pass forward and one backward on Flex, one
//! autodiff node that keeps the input and `γ`.

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

use super::kernel;
use crate::flex_buffers::{dense, f32s, owned_f32};
use crate::fused_node::fused_pair;

/// The routing ([`super::rms_norm`]) sends only `f32` tensors here.
#[backend_extension(Flex, Autodiff)]
pub trait RmsNormBackend: Backend {
    /// `x / sqrt(mean(x²) + ε) ⊙ γ` over the last dimension.
    ///
    /// # Shapes
    /// - `x`: `[..., width]`, `gamma`: `[width]` → `[..., width]`
    fn rms_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self>;

    /// The gradients of [`Self::rms_norm`] with respect to `x` and `γ`, given the output's
    /// gradient `grad`.
    ///
    /// # Shapes
    /// - `x`, `grad`: `[..., width]`, `gamma`: `[width]` → (`[..., width]`, `[width]`)
    fn rms_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        epsilon: f64,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl RmsNormBackend for Flex {
    fn rms_norm(x: FlexTensor, gamma: FlexTensor, epsilon: f64) -> FlexTensor {
        let shape = x.shape();
        let gamma = dense(gamma);
        // Zero-copy when no one else holds `x`; otherwise the copy becomes the output.
        let mut y = owned_f32(x);
        kernel::forward(&mut y, f32s(&gamma), epsilon as f32);
        FlexTensor::from_data(TensorData::new(y, shape))
    }

    fn rms_norm_backward(
        x: FlexTensor,
        gamma: FlexTensor,
        epsilon: f64,
        grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        let (shape, gamma_shape) = (x.shape(), gamma.shape());
        let (x, gamma) = (dense(x), dense(gamma));
        let mut grad_x = owned_f32(grad);
        let mut grad_gamma = vec![0.0f32; gamma_shape.num_elements()];
        let (x, gamma_values) = (f32s(&x), f32s(&gamma));
        kernel::backward(
            x,
            gamma_values,
            epsilon as f32,
            &mut grad_x,
            &mut grad_gamma,
        );
        (
            FlexTensor::from_data(TensorData::new(grad_x, shape)),
            FlexTensor::from_data(TensorData::new(grad_gamma, gamma_shape)),
        )
    }
}

/// One autodiff node that keeps `x` and `γ` and runs the inner backend's fused backward.
impl<B: RmsNormBackend, C: CheckpointStrategy> RmsNormBackend for Autodiff<B, C> {
    fn rms_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self> {
        fused_pair::<B, C>(
            "RmsNorm",
            x,
            gamma,
            move |x, gamma| B::rms_norm(x, gamma, epsilon),
            move |x, gamma, grad| B::rms_norm_backward(x, gamma, epsilon, grad),
        )
    }

    /// The inner backend's gradients, as untracked tensors (no second-order graph).
    fn rms_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        epsilon: f64,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (grad_x, grad_gamma) = B::rms_norm_backward(
            x.into_primitive(),
            gamma.into_primitive(),
            epsilon,
            grad.into_primitive(),
        );
        (Self::from_inner(grad_x), Self::from_inner(grad_gamma))
    }
}
