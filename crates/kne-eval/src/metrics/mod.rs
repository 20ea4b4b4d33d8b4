//! The KnowEdit metrics, backend-free: request building, token accuracy, locality
//! agreement, fluency, per-case scoring through the [`Scorer`] trait, and averaging.
//!
//! Flow for one edit:
//! 1. before editing (or from a [`PreEditCache`]): [`compute_pre_edit`] on the unedited model;
//! 2. after editing: [`evaluate_case`] on the edited model -> [`CaseScores`];
//! 3. over all cases: [`summarize`] -> [`Summary`] (the table numbers, ×100).

mod accuracy;
mod case_scores;
mod evaluate;
mod fluency;
mod pre_edit;
mod request;
mod scorer;
mod summary;

pub use accuracy::{agreement, mean, token_accuracy};
pub use case_scores::CaseScores;
pub use evaluate::{EvalConfig, evaluate_case, evaluate_case_with_model};
pub use fluency::{
    FLUENCY_NS, FLUENCY_WEIGHTS, PUNKT_DIR_ENV, PUNKT_FILES, PunktError, PunktParams,
    default_punkt_dir, ngram_entropy, ngram_entropy_bits, normalize_generated_text, sent_tokenize,
    treebank_tokenize, weighted_ngram_entropy, word_tokenize,
};
pub use pre_edit::{CachedPrediction, PreEditCache, PreEditPredictions, compute_pre_edit};
pub use request::{ScoringRequest, build_request, joined_text, try_build_request};
pub use scorer::{Decoding, GenerationConfig, Scorer};
pub use summary::{Stat, Summary, summarize};
