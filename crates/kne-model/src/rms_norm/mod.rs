//! RMSNorm, `x / sqrt(mean(x²) + ε) ⊙ γ` over the last dimension, as one operation.
//!
//! On the Flex CPU backend (`f32`) it runs one-pass kernels ([`kernel`]) and, under
//! autodiff, a backward pass of its own ([`extension`]); elsewhere it is burn's `RmsNorm`.
//! The two agree to rounding (the mean is summed in another order).

pub mod extension;
pub mod kernel;

use burn::backend::Dispatch;
use burn::nn::RmsNorm;
use burn::tensor::{DType, Tensor};

use crate::flex_buffers::is_flex;
pub use extension::RmsNormBackend;

/// `norm.forward(x)`, on the fused kernels where they apply.
///
/// # Shapes
/// - `x`: `[..., width]` → same
pub fn rms_norm<const D: usize>(norm: &RmsNorm, x: Tensor<D>) -> Tensor<D> {
    let gamma = norm.gamma.val();
    if runs_fused(&x, &gamma) {
        let out = <Dispatch as RmsNormBackend>::rms_norm(
            x.into_dispatch(),
            gamma.into_dispatch(),
            norm.epsilon,
        );
        Tensor::from_dispatch(out)
    } else {
        norm.forward(x)
    }
}

/// The fused path: both on Flex (with or without autodiff), both `f32`, `x`'s rows as wide
/// as `γ`.
fn runs_fused<const D: usize>(x: &Tensor<D>, gamma: &Tensor<1>) -> bool {
    x.dtype() == DType::F32
        && gamma.dtype() == DType::F32
        && x.dims()[D - 1] == gamma.dims()[0]
        && is_flex(x.device())
        && is_flex(gamma.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Device, Distribution, Tolerance};

    fn norm(width: usize, device: &Device) -> RmsNorm {
        let gamma = Tensor::<1>::random([width], Distribution::Uniform(0.5, 1.5), device);
        RmsNorm {
            gamma: Param::from_tensor(gamma),
            epsilon: 1e-5,
        }
    }

    fn assert_close<const D: usize>(fused: Tensor<D>, composed: Tensor<D>) {
        let (fused, composed) = (fused.into_data(), composed.into_data());
        fused.assert_approx_eq::<f32>(&composed, Tolerance::rel_abs(1e-5, 1e-6));
    }

    #[test]
    fn forward_matches_burns_rms_norm() {
        let device = Device::flex();
        let norm = norm(576, &device);
        let x = Tensor::<3>::random([4, 40, 576], Distribution::Normal(0.0, 2.0), &device);
        assert!(runs_fused(&x, &norm.gamma.val()));
        assert_close(rms_norm(&norm, x.clone()), norm.forward(x));
    }

    #[test]
    fn gradients_match_burns_rms_norm() {
        let device = Device::flex().autodiff();
        let norm = norm(64, &device);
        let x = Tensor::<4>::random([2, 3, 70, 64], Distribution::Normal(0.0, 2.0), &device);
        let weight = Tensor::<4>::random([2, 3, 70, 64], Distribution::Normal(0.0, 1.0), &device);
        let grads_of = |fused: bool| {
            let x = x.clone().require_grad();
            let norm = RmsNorm {
                gamma: Param::from_tensor(norm.gamma.val().detach().require_grad()),
                epsilon: norm.epsilon,
            };
            let y = if fused {
                rms_norm(&norm, x.clone())
            } else {
                norm.forward(x.clone())
            };
            let grads = (y.clone() * weight.clone()).sum().backward();
            let gamma_grad = norm.gamma.val().grad(&grads).unwrap();
            (y, x.grad(&grads).unwrap(), gamma_grad)
        };
        let (y, grad_x, grad_gamma) = grads_of(true);
        let (y_ref, grad_x_ref, grad_gamma_ref) = grads_of(false);
        assert_close(y, y_ref);
        assert_close(grad_x, grad_x_ref);
        // Summed over 420 rows in two different orders.
        grad_gamma
            .into_data()
            .assert_approx_eq::<f32>(&grad_gamma_ref.into_data(), Tolerance::rel_abs(1e-4, 1e-5));
    }

    #[test]
    fn a_frozen_gamma_gets_no_gradient() {
        let device = Device::flex().autodiff();
        let mut norm = norm(8, &device);
        norm.gamma = norm.gamma.set_require_grad(false);
        let x = Tensor::<2>::random([3, 8], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let grads = rms_norm(&norm, x.clone()).sum().backward();
        assert!(x.grad(&grads).is_some());
        assert!(norm.gamma.val().grad(&grads).is_none());
    }

    #[test]
    fn a_strided_input_is_read_in_logical_order() {
        let device = Device::flex();
        let norm = norm(16, &device);
        let x = Tensor::<3>::random([16, 5, 3], Distribution::Normal(0.0, 1.0), &device)
            .swap_dims(0, 2);
        assert_close(rms_norm(&norm, x.clone()), norm.forward(x));
    }
}
