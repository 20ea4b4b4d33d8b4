//! The typed error of this crate.

use std::path::PathBuf;

/// Everything editing can refuse or run into.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Model(#[from] kne_model::ModelError),
    #[error(transparent)]
    Attr(#[from] kne_attr::AttrError),
    #[error("invalid editor config: {0}")]
    Config(String),
    #[error("edit request {index}: {message}")]
    Request { index: usize, message: String },
    #[error("{site}: {message}")]
    Delta {
        site: kne_model::Site,
        message: String,
    },
    #[error("non-finite loss {loss} at step {step}; the edit was abandoned")]
    NonFinite { step: usize, loss: f32 },
    #[error("{path}: {message}")]
    Patch { path: PathBuf, message: String },
}

/// Refuses an empty edit batch: every editor needs at least one request.
pub fn require_requests<T>(requests: &[T]) -> Result<(), EditError> {
    if requests.is_empty() {
        return Err(EditError::Config(
            "an edit batch needs at least one request".into(),
        ));
    }
    Ok(())
}
