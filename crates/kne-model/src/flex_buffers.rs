//! How the crate's own Flex kernels ([`crate::gated_silu`], [`crate::rms_norm`]) reach
//! tensors: which devices take them, and the `f32` buffers they read and write.

use burn::backend::DispatchDevice;
use burn::backend::flex::FlexTensor;
use burn::tensor::Device;

/// Whether `device` is the Flex CPU backend, with or without autodiff.
pub(crate) fn is_flex(device: Device) -> bool {
    matches!(device.inner().as_dispatch(), DispatchDevice::Flex(_))
}

/// `t` itself when its elements are one dense run in storage, a contiguous copy otherwise.
pub(crate) fn dense(t: FlexTensor) -> FlexTensor {
    if t.layout().contiguous_offsets().is_some() {
        t
    } else {
        t.to_contiguous()
    }
}

/// The elements of a dense `f32` tensor ([`dense`]).
///
/// # Panics
/// If `t` is not `f32` or not dense.
pub(crate) fn f32s(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("a dense f32 tensor")
}

/// `t`'s elements in row-major order, taking over its buffer when no one else holds it
/// (a copy otherwise).
///
/// # Panics
/// If `t` is not `f32`.
pub(crate) fn owned_f32(t: FlexTensor) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("an f32 tensor converts to Vec<f32>")
}
