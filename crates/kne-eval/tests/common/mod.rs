//! A stub [`Scorer`] for the metric tests: a word-level toy tokenizer and a "model" that
//! predicts every answer token right except the ones it is told to get wrong.

use std::collections::HashSet;

use kne_eval::ScorerError;
use kne_eval::metrics::{GenerationConfig, Scorer, ScoringRequest};

/// Token id of a word: a stable byte hash (ids 10..10010). BOS is 1.
pub fn word_id(word: &str) -> u32 {
    10 + word
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 10_000
}

/// The stub model.
pub struct Stub {
    /// Answer tokens this model predicts wrong (it predicts 0 there).
    pub wrong: HashSet<u32>,
    /// What `generate` returns.
    pub generated: String,
    /// Number of `argmax_at_answers` calls.
    pub calls: usize,
    /// Add this to every token id (to simulate another tokenizer).
    pub id_shift: u32,
    /// Return one prediction row too few (to test shape checks).
    pub drop_a_row: bool,
}

impl Stub {
    pub fn new(wrong_words: &[&str]) -> Self {
        Stub {
            wrong: wrong_words.iter().map(|w| word_id(w)).collect(),
            generated: String::new(),
            calls: 0,
            id_shift: 0,
            drop_a_row: false,
        }
    }
}

impl Scorer for Stub {
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ScorerError> {
        Ok(std::iter::once(1)
            .chain(text.split_whitespace().map(|w| word_id(w) + self.id_shift))
            .collect())
    }

    fn argmax_at_answers(
        &mut self,
        requests: &[ScoringRequest],
    ) -> Result<Vec<Vec<u32>>, ScorerError> {
        self.calls += 1;
        let mut rows: Vec<Vec<u32>> = requests
            .iter()
            .map(|r| {
                r.answer_ids
                    .iter()
                    .map(|&t| if self.wrong.contains(&t) { 0 } else { t })
                    .collect()
            })
            .collect();
        if self.drop_a_row {
            rows.pop();
        }
        Ok(rows)
    }

    fn generate(&mut self, _prompt: &str, _cfg: &GenerationConfig) -> Result<String, ScorerError> {
        Ok(self.generated.clone())
    }
}
