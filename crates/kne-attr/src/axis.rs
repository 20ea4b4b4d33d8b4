//! Which dimension of a site's weight counts as a "neuron".

use serde::{Deserialize, Serialize};

/// A neuron of a site `y = W x` (PyTorch `W: [d_out, d_in]`).
///
/// The paper defines neurons by the output dimension (Eq. 6 ranges over `d_2`, the output
/// size) while Eq. 10 writes the update as columns `ΔW[:, M]`; both readings are supported
/// and every result records which one it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NeuronAxis {
    /// One output unit: a row of PyTorch's `W` (a column of burn's `[d_in, d_out]`).
    #[default]
    Out,
    /// One input feature: a column of PyTorch's `W` (a row of burn's `[d_in, d_out]`).
    In,
}

impl NeuronAxis {
    /// Number of neurons of a site with burn-layout dims `[d_in, d_out]`.
    pub fn count(self, [d_in, d_out]: [usize; 2]) -> usize {
        match self {
            NeuronAxis::Out => d_out,
            NeuronAxis::In => d_in,
        }
    }

    /// Number of weights one neuron owns.
    pub fn neuron_len(self, [d_in, d_out]: [usize; 2]) -> usize {
        match self {
            NeuronAxis::Out => d_in,
            NeuronAxis::In => d_out,
        }
    }
}
