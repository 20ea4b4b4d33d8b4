//! Teacher-forced scoring requests: how a prompt and an answer are joined and tokenised,
//! and which logit positions are read.

use std::convert::Infallible;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// One teacher-forced forward pass: the model reads `prompt_ids ++ answer_ids` and the
/// scorer returns its argmax token at each answer position.
///
/// Built by [`build_request`] the way EasyEdit builds it for decoder-only models.
///
/// # Shapes
/// - input: `[prompt_ids.len() + answer_ids.len()]` token ids
/// - predictions: `[answer_ids.len()]`; prediction `j` is the argmax of the logits at input
///   position `prompt_ids.len() - 1 + j` (logits at `t - 1` predict token `t`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringRequest {
    /// The prompt part of the input (never empty when built by [`build_request`]).
    pub prompt_ids: Vec<u32>,
    /// The answer tokens being teacher-forced and scored (may be empty, then the request
    /// has no score).
    pub answer_ids: Vec<u32>,
}

impl ScoringRequest {
    /// The full input sequence, `prompt_ids ++ answer_ids`.
    pub fn input_ids(&self) -> Vec<u32> {
        let mut ids = Vec::with_capacity(self.len());
        ids.extend_from_slice(&self.prompt_ids);
        ids.extend_from_slice(&self.answer_ids);
        ids
    }

    /// Length of the full input sequence.
    pub fn len(&self) -> usize {
        self.prompt_ids.len() + self.answer_ids.len()
    }

    /// Whether the input sequence is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The input positions whose logits predict the answer tokens:
    /// `prompt_len - 1 .. prompt_len - 1 + answer_len` (empty if the prompt is empty).
    pub fn prediction_positions(&self) -> Range<usize> {
        match self.prompt_ids.len() {
            0 => 0..0,
            p => p - 1..p - 1 + self.answer_ids.len(),
        }
    }

    /// Picks the predictions out of a full argmax row over the input sequence
    /// (`argmax_row.len() == self.len()`, or at least covering the prediction positions).
    /// Returns `None` if the row is too short.
    pub fn select_predictions(&self, argmax_row: &[u32]) -> Option<Vec<u32>> {
        argmax_row
            .get(self.prediction_positions())
            .map(<[u32]>::to_vec)
    }
}

/// The text EasyEdit tokenises for a prompt and its answer: `prompt + " " + answer`.
pub fn joined_text(prompt: &str, answer: &str) -> String {
    format!("{prompt} {answer}")
}

/// Builds a [`ScoringRequest`] as EasyEdit's `test_prediction_acc` does for decoder-only
/// models:
///
/// 1. tokenise the joined text `prompt + " " + answer` (one call, with whatever special
///    tokens the tokenizer adds by default: BOS for Llama-2, none for SmolLM2);
/// 2. tokenise `prompt` alone and take its length `p`;
/// 3. the answer tokens are the joined tokens from index `p` on; the prompt part is the
///    joined tokens before `p` (not the separately tokenised prompt, which can differ at
///    the boundary).
///
/// The answer is therefore *not* tokenised on its own: its first token is whatever the
/// tokenizer makes of `" " + answer` after the prompt (e.g. `Ġ...` / `▁...`).
///
/// Guards EasyEdit does not need: if the prompt tokenises to nothing, `p` is taken as 1
/// (the first joined token becomes the prompt, so at least one position is readable); if
/// `p` exceeds the joined length, the answer part is empty (no score).
pub fn build_request(
    tokenize: impl Fn(&str) -> Vec<u32>,
    prompt: &str,
    answer: &str,
) -> ScoringRequest {
    let result: Result<_, Infallible> = try_build_request(|s| Ok(tokenize(s)), prompt, answer);
    match result {
        Ok(r) => r,
    }
}

/// [`build_request`] with a fallible tokenizer.
///
/// # Errors
/// The tokenizer's error.
pub fn try_build_request<E>(
    mut tokenize: impl FnMut(&str) -> Result<Vec<u32>, E>,
    prompt: &str,
    answer: &str,
) -> Result<ScoringRequest, E> {
    let mut joined = tokenize(&joined_text(prompt, answer))?;
    let prompt_len = tokenize(prompt)?.len().max(1).min(joined.len());
    let answer_ids = joined.split_off(prompt_len);
    Ok(ScoringRequest {
        prompt_ids: joined,
        answer_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy tokenizer: BOS (=1) then one id per whitespace-separated word, the id being
    /// the word's length + 100 (so "Paris" -> 105).
    fn toy(text: &str) -> Vec<u32> {
        std::iter::once(1)
            .chain(text.split_whitespace().map(|w| 100 + w.len() as u32))
            .collect()
    }

    #[test]
    fn joins_with_one_space_and_splits_after_prompt_tokens() {
        let r = build_request(toy, "The capital of France is", "Paris Ville");
        assert_eq!(r.prompt_ids, vec![1, 103, 107, 102, 106, 102]);
        assert_eq!(r.answer_ids, vec![105, 105]);
        // logits at 5 and 6 predict tokens 6 and 7
        assert_eq!(r.prediction_positions(), 5..7);
        assert_eq!(r.input_ids().len(), 8);
        let row: Vec<u32> = (0..8).collect();
        assert_eq!(r.select_predictions(&row), Some(vec![5, 6]));
        assert_eq!(r.select_predictions(&row[..6]), None);
    }

    #[test]
    fn joined_text_inserts_exactly_one_space() {
        assert_eq!(joined_text("a is", "b"), "a is b");
    }

    #[test]
    fn boundary_merges_follow_the_prompt_length_not_the_joined_split() {
        // a tokenizer that merges "x y" into one token: the joined text has fewer tokens
        // than prompt + answer; EasyEdit still splits at len(tok(prompt)).
        let merge = |s: &str| -> Vec<u32> {
            if s == "x y" {
                vec![7]
            } else {
                s.bytes().map(u32::from).collect()
            }
        };
        let r = build_request(merge, "x", "y");
        assert_eq!(r.prompt_ids, vec![7]);
        assert!(r.answer_ids.is_empty());
        assert_eq!(r.prediction_positions(), 0..0);
    }

    #[test]
    fn empty_prompt_keeps_one_prompt_token() {
        let bare = |s: &str| -> Vec<u32> { s.split_whitespace().map(|w| w.len() as u32).collect() };
        let r = build_request(bare, "", "abc de");
        assert_eq!(r.prompt_ids, vec![3]);
        assert_eq!(r.answer_ids, vec![2]);
    }
}
