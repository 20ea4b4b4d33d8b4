//! Moving neurons in and out of a weight matrix (Eq. 10: `ΔW[:, M] = W_kne`).
//!
//! Weights are in burn's layout `[d_in, d_out]`. An output neuron `k` owns column `k`
//! (`d_in` weights), an input neuron `c` owns row `c` (`d_out` weights). Neuron values are
//! always `[n, neuron_len]`.

use burn::tensor::ops::IndexingUpdateOp;
use burn::tensor::{Int, Tensor, TensorData};
use kne_attr::NeuronAxis;
use kne_model::{DeltaUnits, NeuronDelta};

/// Neuron ids as an index tensor for `select` / `select_assign`.
pub fn index_tensor(indices: &[u32], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let v: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(v, [indices.len()]), device)
}

/// A zero matrix with the neurons' weights set to `values`; differentiable in `values`.
///
/// # Shapes
/// - `values`: `[n, neuron_len]` → `[d_in, d_out]`
pub fn scatter_neurons(
    values: Tensor<2>,
    indices: &[u32],
    axis: NeuronAxis,
    [d_in, d_out]: [usize; 2],
) -> Tensor<2> {
    let device = values.device();
    let idx = index_tensor(indices, &device);
    match axis {
        NeuronAxis::Out => Tensor::<2>::zeros([d_out, d_in], &device)
            .select_assign(0, idx, values, IndexingUpdateOp::Add)
            .transpose(),
        NeuronAxis::In => Tensor::<2>::zeros([d_in, d_out], &device).select_assign(
            0,
            idx,
            values,
            IndexingUpdateOp::Add,
        ),
    }
}

/// The neurons' weights of `weight`.
///
/// # Shapes
/// - `weight`: `[d_in, d_out]` → `[n, neuron_len]`
pub fn gather_neurons(weight: Tensor<2>, indices: &[u32], axis: NeuronAxis) -> Tensor<2> {
    let idx = index_tensor(indices, &weight.device());
    match axis {
        NeuronAxis::Out => weight.transpose().select(0, idx),
        NeuronAxis::In => weight.select(0, idx),
    }
}

/// Flat index in a row-major `[d_in, d_out]` buffer of weight `j` of neuron `k`.
pub fn flat_index(axis: NeuronAxis, d_out: usize, k: usize, j: usize) -> usize {
    match axis {
        NeuronAxis::Out => j * d_out + k,
        NeuronAxis::In => k * d_out + j,
    }
}

/// The hook's sparse form of [`scatter_neurons`]: the same `ΔW`, applied through the `n`
/// neurons only (`index` from [`index_tensor`] of the neuron ids); differentiable in `values`.
///
/// # Shapes
/// - `values`: `[n, neuron_len]`, `index`: `[n]`
pub fn neuron_delta(values: Tensor<2>, index: Tensor<1, Int>, axis: NeuronAxis) -> NeuronDelta {
    match axis {
        // An output neuron owns a column of [d_in, d_out]: the delta's values are [d_in, n].
        NeuronAxis::Out => NeuronDelta {
            units: DeltaUnits::Outputs,
            indices: index,
            values: values.transpose(),
        },
        NeuronAxis::In => NeuronDelta {
            units: DeltaUnits::Inputs,
            indices: index,
            values,
        },
    }
}
