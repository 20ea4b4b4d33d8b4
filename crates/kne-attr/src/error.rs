//! The typed error of this crate.

/// Everything attribution and selection can refuse.
#[derive(Debug, thiserror::Error)]
pub enum AttrError {
    #[error(transparent)]
    Model(#[from] kne_model::ModelError),
    #[error("invalid attribution config: {0}")]
    Config(String),
    #[error("fact {index}: {message}")]
    Fact { index: usize, message: String },
    #[error("p = {0} is outside (0, 1): the ensemble keeps a fraction p of the neurons")]
    FractionOutOfRange(f64),
    #[error("no scores to select from (empty localization set or no sites)")]
    Empty,
    #[error("{path}: {message}")]
    File {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("the ensemble does not fit the model: {0}")]
    Misfit(String),
    #[error("attribution workers: {0}")]
    Workers(String),
    #[error("non-finite attribution score at {site} neuron {neuron}")]
    NonFinite {
        site: kne_model::Site,
        neuron: usize,
    },
}

impl From<String> for AttrError {
    /// A failure of the worker threads themselves ([`kne_model::ordered_jobs`]).
    fn from(message: String) -> Self {
        AttrError::Workers(message)
    }
}
