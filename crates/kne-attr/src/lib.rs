//! Locating the Knowledge Neuronal Ensemble.
//!
//! - [`attribute`]: token-level integrated-gradient attribution of every neuron of the
//!   selected sites (Eq. 3–5 of the paper), accumulated over the answer tokens of a fact and
//!   over a localization subset of facts ([`Scores`]).
//! - [`select`]: the global quantile threshold `t_p = Quantile_{1-p}` over all neurons of all
//!   selected sites (Eq. 6–7), or the same per site, giving an [`Ensemble`].
//! - [`shared_paths`]: which sites of a layer one attribution forward serves together.
//!
//! Runnable example: `examples/top_neurons.rs`, one fact attributed over the last layers
//! and the neurons a top-1 % selection keeps, by site
//! (`cargo run --release -p kne-attr --example top_neurons`).

mod attribution;
mod axis;
mod ensemble;
mod error;
mod quadrature;
mod scores;
mod selection;
pub mod shared_paths;

pub use attribution::{
    AttributionConfig, FactTokens, attribute, attribute_fact, attribute_onto,
    attribute_onto_with_workers, input_ids, predicting_ids,
};
pub use axis::NeuronAxis;
pub use ensemble::Ensemble;
pub use error::AttrError;
pub use quadrature::Quadrature;
pub use scores::Scores;
pub use selection::{SelectionScope, select, top_fraction_threshold};
pub use shared_paths::{Link, SharedPath, layer_paths};
