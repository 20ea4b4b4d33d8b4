//! The [`Scorer`] of the burn model: [`ModelScorer`] runs a `kne_model` [`Llama`] with its
//! [`Tokenizer`] for the KnowEdit metrics.
//!
//! - teacher-forced argmax: requests are sorted by length and grouped into right-padded
//!   batches ([`BatchConfig`]); only the hidden rows at the answer positions go through the
//!   final norm and LM head, and only their argmax ids are read back;
//! - generation: KV-cached, greedy or seeded top-k sampling ([`Decoding`]), decoded with
//!   special tokens skipped, prompt included (what EasyEdit's `generate_fast` returns).
//!
//! ```no_run
//! use burn::tensor::Device;
//! use kne_eval::ModelScorer;
//! use kne_eval::metrics::{EvalConfig, evaluate_case_with_model};
//! # let case: kne_eval::data::EditCase = unimplemented!();
//! let loaded = kne_model::load(&kne_model::paths::default_model_path(), &Device::flex())?;
//! let mut pre = ModelScorer::from_loaded(&loaded);
//! let mut post = ModelScorer::from_loaded(&loaded); // an edited model in real use
//! let scores = evaluate_case_with_model(&case, &mut pre, &mut post, &EvalConfig::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batching;
mod sampling;

pub use batching::BatchConfig;

use burn::tensor::{Int, Tensor, TensorData};
use kne_model::{Captures, Llama, LoadedModel, ModelError, Tokenizer, argmax_rows};

use crate::ScorerError;
use crate::metrics::{Decoding, GenerationConfig, Scorer, ScoringRequest};
use batching::plan_batches;
use sampling::{Pcg32, sample_top_k};

/// A [`Scorer`] over a borrowed model and tokenizer. Cheap to make: two scorers may share
/// one model (e.g. the unedited model as both "pre" and "post").
#[derive(Debug, Clone, Copy)]
pub struct ModelScorer<'m> {
    model: &'m Llama,
    tokenizer: &'m Tokenizer,
    batch: BatchConfig,
}

impl<'m> ModelScorer<'m> {
    /// A scorer with the default [`BatchConfig`].
    pub fn new(model: &'m Llama, tokenizer: &'m Tokenizer) -> Self {
        ModelScorer {
            model,
            tokenizer,
            batch: BatchConfig::default(),
        }
    }

    /// [`ModelScorer::new`] on a loaded model's weights and tokenizer.
    pub fn from_loaded(loaded: &'m LoadedModel) -> Self {
        Self::new(&loaded.model, &loaded.tokenizer)
    }

    /// The same scorer with other batch limits.
    pub fn with_batch(mut self, batch: BatchConfig) -> Self {
        self.batch = batch;
        self
    }

    /// The batch limits in use.
    pub fn batch_config(&self) -> BatchConfig {
        self.batch
    }

    /// The model.
    pub fn model(&self) -> &'m Llama {
        self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &'m Tokenizer {
        self.tokenizer
    }

    /// The id used to right-pad short rows (EOS, else 0). Its value never matters: causal
    /// attention keeps the real positions from seeing it.
    fn pad_id(&self) -> u32 {
        self.tokenizer.eos_id().unwrap_or(0)
    }

    /// Teacher-forced argmax at every request's
    /// [`prediction_positions`](ScoringRequest::prediction_positions) (the typed-error
    /// version of [`Scorer::argmax_at_answers`]). A request with no answer tokens gets an
    /// empty row and costs nothing.
    ///
    /// # Shapes
    /// - returns `[requests.len()][requests[i].answer_ids.len()]`
    ///
    /// # Errors
    /// [`ModelError::Invalid`] for a token id outside the vocabulary or an unreadable
    /// result.
    pub fn argmax_batch(&self, requests: &[ScoringRequest]) -> Result<Vec<Vec<u32>>, ModelError> {
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); requests.len()];
        // requests with nothing to predict need no forward
        let lens: Vec<usize> = requests
            .iter()
            .map(|r| {
                if r.prediction_positions().is_empty() {
                    0
                } else {
                    r.len()
                }
            })
            .collect();
        for batch in plan_batches(&lens, self.batch) {
            let preds = self.argmax_one_batch(requests, &batch)?;
            for (i, row) in batch.into_iter().zip(preds) {
                out[i] = row;
            }
        }
        Ok(out)
    }

    /// One right-padded forward over `requests[batch]`.
    fn argmax_one_batch(
        &self,
        requests: &[ScoringRequest],
        batch: &[usize],
    ) -> Result<Vec<Vec<u32>>, ModelError> {
        let seq = batch.iter().map(|&i| requests[i].len()).max().unwrap_or(0);
        let pad = self.pad_id();
        let rows: Vec<Vec<u32>> = batch
            .iter()
            .map(|&i| {
                let mut ids = requests[i].input_ids();
                ids.resize(seq, pad);
                ids
            })
            .collect();
        // flat positions (row · seq + position) of every answer prediction, row by row
        let mut flat: Vec<i64> = Vec::new();
        for (row, &i) in batch.iter().enumerate() {
            flat.extend(
                requests[i]
                    .prediction_positions()
                    .map(|p| (row * seq + p) as i64),
            );
        }
        let model = self.model;
        let ids = model.ids_tensor(&rows)?;
        let mut captures = Captures::new();
        let hidden = model.forward_blocks(
            model.embed(ids),
            0..model.layers.len(),
            None,
            None,
            &mut captures,
        );
        let [b, s, d] = hidden.dims();
        let n = flat.len();
        let index = Tensor::<1, Int>::from_data(TensorData::new(flat, [n]), &model.device());
        // [b·s, d] -> the n answer rows -> head on [1, n, d] -> argmax over the vocabulary
        let selected = hidden
            .reshape([b * s, d])
            .select(0, index)
            .reshape([1, n, d]);
        let argmax = model.head(selected).argmax(2);
        let ids: Vec<i64> = argmax
            .into_data()
            .try_into_vec_as::<i64>()
            .map_err(|e| ModelError::Invalid(format!("reading argmax ids: {e:?}")))?;
        let mut ids = ids.into_iter();
        batch
            .iter()
            .map(|&i| {
                (0..requests[i].answer_ids.len())
                    .map(|_| {
                        let id = ids.next().ok_or_else(|| {
                            ModelError::Invalid("argmax returned too few ids".into())
                        })?;
                        u32::try_from(id)
                            .map_err(|_| ModelError::Invalid(format!("argmax id {id}")))
                    })
                    .collect()
            })
            .collect()
    }

    /// Generates from `prompt_ids` as `cfg` says (KV cache) and returns the whole sequence,
    /// prompt included: tokens are added while the sequence is shorter than
    /// [`max_total_tokens`](GenerationConfig::max_total_tokens); with
    /// [`stop_at_eos`](GenerationConfig::stop_at_eos) it stops after emitting EOS.
    ///
    /// [`Decoding::TopK`] draws one uniform number per step from a PCG32 generator seeded
    /// with `seed` at the start of every call, so the text is a function of (model,
    /// prompt, cfg).
    ///
    /// # Errors
    /// [`ModelError::Invalid`] for an empty prompt or an id outside the vocabulary.
    pub fn generate_ids(
        &self,
        prompt_ids: &[u32],
        cfg: &GenerationConfig,
    ) -> Result<Vec<u32>, ModelError> {
        if prompt_ids.is_empty() {
            return Err(ModelError::Invalid(
                "cannot generate from an empty prompt".into(),
            ));
        }
        let model = self.model;
        let mut seq = prompt_ids.to_vec();
        if seq.len() >= cfg.max_total_tokens {
            return Ok(seq);
        }
        let mut rng = match cfg.decoding {
            Decoding::TopK { seed, .. } => Some(Pcg32::new(seed)),
            Decoding::Greedy => None,
        };
        let eos = self.tokenizer.eos_id();
        let mut cache = model.new_cache();
        let mut input = model.ids_tensor(&[prompt_ids])?;
        while seq.len() < cfg.max_total_tokens {
            let logits = model.forward_cached_last(input, &mut cache);
            let next = match (cfg.decoding, rng.as_mut()) {
                (Decoding::TopK { k, .. }, Some(rng)) => {
                    let row = logits
                        .into_data()
                        .try_into_vec_as::<f32>()
                        .map_err(|e| ModelError::Invalid(format!("reading logits: {e:?}")))?;
                    sample_top_k(&row, k, rng)
                        .ok_or_else(|| ModelError::Invalid("empty logits row".into()))?
                        as u32
                }
                _ => argmax_rows(logits)?[0],
            };
            seq.push(next);
            if cfg.stop_at_eos && Some(next) == eos {
                break;
            }
            input = model.ids_tensor(&[[next]])?;
        }
        Ok(seq)
    }

    /// The text of `ids` with special tokens (EOS, ChatML markers) left out, as
    /// `tok.decode(ids, skip_special_tokens=True)`.
    ///
    /// # Errors
    /// [`ModelError::Tokenizer`] for an id outside the vocabulary.
    pub fn decode_skip_special(&self, ids: &[u32]) -> Result<String, ModelError> {
        let tok = self.tokenizer;
        let vocab = tok.vocab_size();
        let err = |message: String| ModelError::Tokenizer {
            path: Default::default(),
            message,
        };
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= vocab) {
            return Err(err(format!(
                "token id {bad} is outside the vocabulary of {vocab}"
            )));
        }
        tok.inner()
            .decode(ids, true)
            .map_err(|e| err(format!("decoding {} ids: {e}", ids.len())))
    }
}

impl Scorer for ModelScorer<'_> {
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ScorerError> {
        Ok(self.tokenizer.encode(text)?)
    }

    fn argmax_at_answers(
        &mut self,
        requests: &[ScoringRequest],
    ) -> Result<Vec<Vec<u32>>, ScorerError> {
        Ok(self.argmax_batch(requests)?)
    }

    fn generate(&mut self, prompt: &str, cfg: &GenerationConfig) -> Result<String, ScorerError> {
        let prompt_ids = self.tokenizer.encode(prompt)?;
        let ids = self.generate_ids(&prompt_ids, cfg)?;
        Ok(self.decode_skip_special(&ids)?)
    }
}
