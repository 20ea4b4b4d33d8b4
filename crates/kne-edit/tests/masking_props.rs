//! Property tests of the masking math: scatter/gather, the α/√n scale, and deltas that
//! touch only their neurons and revert bit-identically.

use burn::tensor::{Device, Tensor, TensorData};
use kne_attr::NeuronAxis;
use kne_edit::SiteDelta;
use kne_edit::scatter::{gather_neurons, scatter_neurons};
use proptest::prelude::*;

fn axis() -> impl Strategy<Value = NeuronAxis> {
    prop_oneof![Just(NeuronAxis::Out), Just(NeuronAxis::In)]
}

/// A site shape, an axis, and a sorted set of distinct neuron ids with values.
fn case() -> impl Strategy<Value = (usize, usize, NeuronAxis, Vec<u32>, Vec<f32>)> {
    (1usize..9, 1usize..9, axis()).prop_flat_map(|(d_in, d_out, axis)| {
        let count = axis.count([d_in, d_out]);
        let len = axis.neuron_len([d_in, d_out]);
        prop::collection::btree_set(0..count as u32, 1..=count).prop_flat_map(move |ids| {
            let ids: Vec<u32> = ids.into_iter().collect();
            let n = ids.len();
            (
                Just(d_in),
                Just(d_out),
                Just(axis),
                Just(ids),
                prop::collection::vec(-4.0f32..4.0, n * len),
            )
        })
    })
}

fn tensor(values: Vec<f32>, shape: [usize; 2]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), &Device::flex())
}

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

proptest! {
    /// gather ∘ scatter is the identity on the neuron values; everything else is zero.
    #[test]
    fn scatter_then_gather_is_identity((d_in, d_out, axis, ids, values) in case()) {
        let n = ids.len();
        let len = axis.neuron_len([d_in, d_out]);
        let dense = scatter_neurons(tensor(values.clone(), [n, len]), &ids, axis, [d_in, d_out]);
        prop_assert_eq!(dense.dims(), [d_in, d_out]);
        prop_assert_eq!(host(gather_neurons(dense.clone(), &ids, axis)), values.clone());
        let dense = host(dense);
        let touched: usize = dense.iter().filter(|v| **v != 0.0).count();
        prop_assert!(touched <= n * len);
        // The host-side delta writes the same matrix.
        let mut zeros = vec![0.0f32; d_in * d_out];
        SiteDelta::Neurons { axis, indices: ids, neuron_len: len, values }.add_into(&mut zeros, d_out);
        prop_assert_eq!(zeros, dense);
    }

    /// Adding a neuron delta leaves every weight outside its neurons bit-identical.
    #[test]
    fn entries_outside_the_neurons_never_change(
        (d_in, d_out, axis, ids, values) in case(),
        base in prop::collection::vec(-3.0f32..3.0, 64),
    ) {
        let len = axis.neuron_len([d_in, d_out]);
        let original: Vec<f32> = (0..d_in * d_out).map(|i| base[i % base.len()] * if i % 3 == 0 { -0.0 } else { 1.0 }).collect();
        let mut weight = original.clone();
        SiteDelta::Neurons { axis, indices: ids.clone(), neuron_len: len, values }.add_into(&mut weight, d_out);
        for i in 0..d_in * d_out {
            let (row, col) = (i / d_out, i % d_out);
            let neuron = match axis { NeuronAxis::Out => col, NeuronAxis::In => row } as u32;
            if !ids.contains(&neuron) {
                prop_assert_eq!(weight[i].to_bits(), original[i].to_bits());
            }
        }
    }

    /// The scaled scatter is the scatter of the scaled values (α/√n of Eq. 11 is linear).
    #[test]
    fn scaling_commutes_with_scatter((d_in, d_out, axis, ids, values) in case(), alpha in 0.01f32..10.0) {
        let n = ids.len();
        let len = axis.neuron_len([d_in, d_out]);
        let scale = alpha / (n as f32).sqrt();
        let a = host(scatter_neurons(tensor(values.clone(), [n, len]), &ids, axis, [d_in, d_out]).mul_scalar(scale));
        let scaled: Vec<f32> = values.iter().map(|v| v * scale).collect();
        let b = host(scatter_neurons(tensor(scaled, [n, len]), &ids, axis, [d_in, d_out]));
        for (x, y) in a.iter().zip(&b) {
            prop_assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0));
        }
    }
}
