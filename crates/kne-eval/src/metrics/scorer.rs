//! The model side of the evaluation, as a trait: the metrics only need a tokenizer,
//! teacher-forced argmax predictions and text generation.

use serde::{Deserialize, Serialize};

use super::ScoringRequest;
use crate::ScorerError;

/// How the fluency text is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decoding {
    /// Argmax at every step.
    Greedy,
    /// Sample from the `k` most likely tokens, renormalised (EasyEdit's `generate_fast`
    /// uses k = 5). `seed` drives the sampler so that runs are repeatable.
    TopK {
        /// Number of candidate tokens per step.
        k: usize,
        /// Seed of the sampler (per generation call).
        seed: u64,
    },
}

/// How to generate the text whose fluency is measured.
///
/// [`Default`] is what EasyEdit's KnowEdit runs do (`test_generation_quality` ->
/// `generate_fast(max_out_len=100)`): top-5 sampling, a total length of 100 tokens
/// *including the prompt* (and BOS where the tokenizer adds one), no stop at EOS, and the
/// decoded text includes the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationConfig {
    /// Maximum length of the whole sequence, prompt tokens included (EasyEdit: 100).
    /// A prompt this long or longer generates nothing.
    pub max_total_tokens: usize,
    /// Greedy or top-k sampling (EasyEdit: top-k with k = 5).
    pub decoding: Decoding,
    /// Stop when the model emits EOS (EasyEdit: false; it keeps generating to the length
    /// limit and drops special tokens when decoding).
    pub stop_at_eos: bool,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            max_total_tokens: 100,
            decoding: Decoding::TopK { k: 5, seed: 0 },
            stop_at_eos: false,
        }
    }
}

impl GenerationConfig {
    /// Greedy decoding with EasyEdit's length limit (what `shared/spec/METHODS.md`
    /// describes; deterministic without a sampler).
    pub fn greedy() -> Self {
        GenerationConfig {
            decoding: Decoding::Greedy,
            ..Self::default()
        }
    }
}

/// What the evaluation needs from a model (implemented by the model crate for the burn
/// model; by stubs in tests).
///
/// Implementations may batch freely inside [`argmax_at_answers`](Scorer::argmax_at_answers):
/// [`evaluate_case`](super::evaluate_case) sends all of a case's teacher-forced requests
/// in one call.
pub trait Scorer {
    /// Tokenises `text` the way EasyEdit's `tok(text)` does: with the tokenizer's default
    /// special tokens (BOS for Llama-2, none for SmolLM2), no padding, no truncation.
    ///
    /// # Errors
    /// Any tokenizer failure.
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ScorerError>;

    /// For each request, runs the model on
    /// [`input_ids`](ScoringRequest::input_ids) and returns the argmax token at each of its
    /// [`prediction_positions`](ScoringRequest::prediction_positions).
    ///
    /// # Shapes
    /// - returns `[requests.len()][requests[i].answer_ids.len()]`
    ///
    /// # Errors
    /// Any model failure.
    fn argmax_at_answers(
        &mut self,
        requests: &[ScoringRequest],
    ) -> Result<Vec<Vec<u32>>, ScorerError>;

    /// Generates from `prompt` as `cfg` says and returns the decoded text of the *whole*
    /// sequence (prompt + continuation), special tokens skipped — what EasyEdit feeds to
    /// the fluency measure.
    ///
    /// # Errors
    /// Any model failure.
    fn generate(&mut self, prompt: &str, cfg: &GenerationConfig) -> Result<String, ScorerError>;
}
