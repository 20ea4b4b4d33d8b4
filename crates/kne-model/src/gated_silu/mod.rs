//! SwiGLU's gate, `silu(gate) ⊙ up`, as one operation.
//!
//! On the Flex CPU backend (`f32`) it runs fused kernels ([`kernel`]) and, under autodiff, a
//! backward pass of its own ([`extension`]); elsewhere it is burn's `silu(gate) * up`.
//! Numerically the two agree to a few ulp (the sigmoid's `exp` is a polynomial here).

pub mod extension;
pub mod kernel;

use burn::backend::Dispatch;
use burn::tensor::activation::silu;
use burn::tensor::{DType, Tensor};

use crate::flex_buffers::is_flex;
pub use extension::GatedSiluBackend;

/// `silu(gate) ⊙ up`.
///
/// # Shapes
/// - `gate`, `up`: the same shape → that shape (operands that broadcast take burn's
///   composed path)
pub fn gated_silu<const D: usize>(gate: Tensor<D>, up: Tensor<D>) -> Tensor<D> {
    if runs_fused(&gate, &up) {
        let out =
            <Dispatch as GatedSiluBackend>::gated_silu(gate.into_dispatch(), up.into_dispatch());
        Tensor::from_dispatch(out)
    } else {
        silu(gate) * up
    }
}

/// The fused path: both operands on Flex (with or without autodiff), both `f32`, of the
/// same shape.
fn runs_fused<const D: usize>(gate: &Tensor<D>, up: &Tensor<D>) -> bool {
    gate.dtype() == DType::F32
        && up.dtype() == DType::F32
        && gate.shape() == up.shape()
        && is_flex(gate.device())
        && is_flex(up.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, Tolerance};

    /// Agreement up to the fused sigmoid's few ulp, and absolutely where the gate's gradient
    /// cancels (`1 + g (1 − s)` near `g ≈ −1.28`; operands here are O(1)).
    fn assert_close<const D: usize>(fused: Tensor<D>, composed: Tensor<D>) {
        let (fused, composed) = (fused.into_data(), composed.into_data());
        fused.assert_approx_eq::<f32>(&composed, Tolerance::rel_abs(1e-5, 1e-6));
    }

    fn operands(device: &Device, shape: [usize; 3]) -> (Tensor<3>, Tensor<3>) {
        let gate = Tensor::<3>::random(shape, Distribution::Normal(0.0, 4.0), device);
        let up = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), device);
        (gate, up)
    }

    #[test]
    fn forward_matches_silu_times_up() {
        let device = Device::flex();
        // 2·3·40 000 elements: more than one rayon chunk.
        let (gate, up) = operands(&device, [2, 3, 40_000]);
        assert!(runs_fused(&gate, &up));
        let composed = silu(gate.clone()) * up.clone();
        assert_close(gated_silu(gate, up), composed);
    }

    #[test]
    fn gradients_match_burns_composition() {
        let device = Device::flex().autodiff();
        let (gate, up) = operands(&device, [2, 5, 7_000]);
        let weight = Tensor::<3>::random([2, 5, 7_000], Distribution::Normal(0.0, 1.0), &device);
        let grads_of = |fused: bool| {
            let (gate, up) = (gate.clone().require_grad(), up.clone().require_grad());
            let out = if fused {
                gated_silu(gate.clone(), up.clone())
            } else {
                silu(gate.clone()) * up.clone()
            };
            let grads = (out.clone() * weight.clone()).sum().backward();
            (out, gate.grad(&grads).unwrap(), up.grad(&grads).unwrap())
        };
        let (out, grad_gate, grad_up) = grads_of(true);
        let (out_ref, grad_gate_ref, grad_up_ref) = grads_of(false);
        assert_close(out, out_ref);
        assert_close(grad_gate, grad_gate_ref);
        assert_close(grad_up, grad_up_ref);
    }

    #[test]
    fn only_the_tracked_operand_gets_a_gradient() {
        let device = Device::flex().autodiff();
        let (gate, up) = operands(&device, [1, 4, 16]);
        let gate = gate.require_grad();
        let grads = gated_silu(gate.clone(), up.clone()).sum().backward();
        assert!(gate.grad(&grads).is_some());
        assert!(up.grad(&grads).is_none());
    }

    #[test]
    fn strided_operands_are_read_in_logical_order() {
        let device = Device::flex();
        let gate = Tensor::<3>::random([3, 16, 8], Distribution::Normal(0.0, 4.0), &device);
        let up = Tensor::<3>::random([16, 8, 3], Distribution::Normal(0.0, 1.0), &device);
        let (gate, up) = (gate.swap_dims(1, 2), up.swap_dims(0, 2));
        assert_close(gated_silu(gate.clone(), up.clone()), silu(gate) * up);
    }

    #[test]
    fn operands_that_broadcast_take_the_composed_path() {
        let device = Device::flex();
        let (gate, _) = operands(&device, [2, 3, 4]);
        let up = Tensor::<3>::ones([1, 1, 4], &device);
        assert!(!runs_fused(&gate, &up));
        assert_close(gated_silu(gate.clone(), up), silu(gate));
    }
}
