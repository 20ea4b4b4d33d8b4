//! What to edit, as text and as tokens.

use kne_attr::FactTokens;
use kne_model::{Llama, Tokenizer, argmax_rows};
use serde::{Deserialize, Serialize};

use crate::EditError;

/// One fact to write: `prompt` should be answered with `target` (`subject` is what ROME and
/// MEMIT locate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRequest {
    pub prompt: String,
    pub target: String,
    pub subject: String,
}

/// A request tokenised the way the evaluation reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizedRequest {
    pub prompt_ids: Vec<u32>,
    pub target_ids: Vec<u32>,
}

impl TokenizedRequest {
    /// EasyEdit's convention for decoder-only models (the one `kne-eval` scores with):
    /// tokenise `prompt + " " + target` in one call and split it at the length of the
    /// prompt tokenised alone, so the edit trains exactly the tokens the metric reads.
    pub fn new(tokenizer: &Tokenizer, prompt: &str, target: &str) -> Result<Self, EditError> {
        let joined = tokenizer.encode(&format!("{prompt} {target}"))?;
        let p = tokenizer.encode(prompt)?.len();
        if p == 0 || p >= joined.len() {
            return Err(EditError::Config(format!(
                "prompt {prompt:?} / target {target:?}: no target tokens after the prompt"
            )));
        }
        Ok(Self {
            prompt_ids: joined[..p].to_vec(),
            target_ids: joined[p..].to_vec(),
        })
    }

    /// Tokenises every request; errors name the request.
    pub fn all(tokenizer: &Tokenizer, requests: &[EditRequest]) -> Result<Vec<Self>, EditError> {
        requests
            .iter()
            .enumerate()
            .map(|(index, r)| {
                Self::new(tokenizer, &r.prompt, &r.target).map_err(|e| EditError::Request {
                    index,
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// `prompt_ids ++ target_ids` ([`FactTokens::input_ids`]).
    pub fn input_ids(&self) -> Vec<u32> {
        kne_attr::input_ids(&self.prompt_ids, &self.target_ids)
    }

    /// `prompt_ids ++ target_ids` without the last target token: the tokens whose
    /// next-token predictions are the targets, so a teacher-forced loss runs on these alone
    /// ([`FactTokens::predicting_ids`]).
    pub fn predicting_ids(&self) -> Vec<u32> {
        kne_attr::predicting_ids(&self.prompt_ids, &self.target_ids)
    }

    /// Teacher-forced accuracy of the target on `model`: the fraction of target tokens that
    /// are the argmax given the prompt and the target tokens before them (EasyEdit's edit
    /// success for one request; a quick check that an edit took).
    pub fn target_accuracy(&self, model: &Llama) -> Result<f64, EditError> {
        let logits = model.forward(model.ids_tensor(&[&self.input_ids()])?);
        let [_, seq, vocab] = logits.dims();
        let predictions = argmax_rows(logits.reshape([seq, vocab]))?;
        // The prediction for target token j is at the position before it.
        let first = self.prompt_ids.len() - 1;
        let hits = self
            .target_ids
            .iter()
            .enumerate()
            .filter(|(j, id)| predictions[first + j] == **id)
            .count();
        Ok(hits as f64 / self.target_ids.len() as f64)
    }
}

/// The same tokens as the fact attribution reads (attribution and editing see one split).
impl From<TokenizedRequest> for FactTokens {
    fn from(request: TokenizedRequest) -> Self {
        FactTokens {
            prompt_ids: request.prompt_ids,
            target_ids: request.target_ids,
        }
    }
}
