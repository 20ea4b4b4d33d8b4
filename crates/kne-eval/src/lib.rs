//! `kne-eval`: the KnowEdit evaluation of the KNE reproduction.
//!
//! This crate owns
//! - **data** ([`data`]): loaders for the KnowEdit test sets (ZsRE, WikiData counterfact,
//!   WikiData recent) into one [`EditCase`](data::EditCase) type, with errors that name the
//!   file, record and field;
//! - **metrics** ([`metrics`]): Edit Succ., rephrase, portability (per sub-type), locality
//!   (per sub-type) and fluency, defined as `shared/spec/METHODS.md` says and computed the
//!   way EasyEdit computes them for decoder-only models (details and sources in
//!   `EASYEDIT_NOTES.md`), per case ([`CaseScores`](metrics::CaseScores)) and averaged
//!   ([`Summary`](metrics::Summary)); the pre-edit locality cache.
//!
//! It knows nothing of how an edit was made. The metrics know nothing of the tensor
//! backend: the model enters only through the [`Scorer`](metrics::Scorer) trait (tokenize,
//! teacher-forced argmax at answer positions, generation); [`ModelScorer`] implements it
//! for the burn model of `kne-model` (batched, KV-cached generation).
//!
//! Besides KnowEdit, [`data::EditFile`] reads a researcher's own file in EasyEdit's flat
//! layout or ROME's CounterFact layout ([`data::DataFormat`], detected from the records).
//! Runnable example: `examples/score_case.rs`, the metrics of each case of such a file on
//! the unedited model (`cargo run --release -p kne-eval --example score_case -- FILE`).

pub mod data;
mod error;
pub mod metrics;
pub mod model_scorer;

pub use error::{EvalError, ScorerError};
pub use model_scorer::{BatchConfig, ModelScorer};
