//! The independent side of the attribution gradient checks: the fact's total target
//! probability through forwards only, and its central difference along one neuron's
//! weights (shared by `gradient_check.rs` and `gptj_attribution.rs`).

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use kne_attr::{FactTokens, NeuronAxis};
use kne_model::{Interventions, Llama, Site};

/// Σ_j P(y_j | x, y_<j) on the plain model `m` with a weight delta at one site.
pub fn total_probability(m: &Llama, fact: &FactTokens, site: Site, delta: Tensor<2>) -> f64 {
    let ids = fact.input_ids();
    let hooks = Interventions::new().add_weight_delta(site, delta);
    let logits = m
        .forward_with(m.ids_tensor(&[&ids]).unwrap(), Some(&hooks))
        .logits;
    let span = fact.target_ids.len();
    let targets: Vec<i64> = fact.target_ids.iter().map(|&t| t as i64).collect();
    let targets = Tensor::<3, Int>::from_data(TensorData::new(targets, [1, span, 1]), &m.device());
    let p = softmax(logits.narrow(1, fact.prompt_ids.len() - 1, span), 2)
        .gather(2, targets)
        .sum();
    p.into_scalar::<f32>() as f64
}

/// Central difference of P along neuron `k`'s weights (scaled by 1 ± ε; a bias unchanged).
pub fn finite_difference(
    m: &Llama,
    fact: &FactTokens,
    site: Site,
    axis: NeuronAxis,
    k: usize,
) -> f64 {
    let w = m.site(site).unwrap().weight.val();
    let [d_in, d_out] = w.dims();
    let mask: Vec<f32> = (0..d_in * d_out)
        .map(|i| {
            let (row, col) = (i / d_out, i % d_out);
            let hit = match axis {
                NeuronAxis::Out => col == k,
                NeuronAxis::In => row == k,
            };
            if hit { 1.0 } else { 0.0 }
        })
        .collect();
    let neuron = w * Tensor::<2>::from_data(TensorData::new(mask, [d_in, d_out]), &m.device());
    let eps = 1e-2f32;
    let up = total_probability(m, fact, site, neuron.clone().mul_scalar(eps));
    let down = total_probability(m, fact, site, neuron.mul_scalar(-eps));
    (up - down) / (2.0 * eps as f64)
}
