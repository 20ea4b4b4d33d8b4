//! ROME/MEMIT context prefixes: short texts the model writes itself, prepended to the edit
//! prompt so the key and the value generalise over contexts.
//!
//! EasyEdit (`rome_main.py::get_context_templates`, `memit_main.py::get_context_templates`)
//! samples them with `generate_fast` (top-k = 5) from the five openers "The", "Therefore",
//! "Because", "I", "You": for each `(length, n)` of `context_template_length_params`,
//! `n / 5` texts per opener of `length` tokens in total; a template is the text with braces
//! removed, then `". {}"`. Here the same, sampled with a seeded [`SplitMix64`] so a config
//! always gives the same prefixes, decoded, newlines turned into spaces.

use std::path::PathBuf;

use burn::tensor::{Int, Tensor, TensorData};
use kne_edit::EditError;
use kne_model::LoadedModel;

use super::common::to_vec;
use super::rng::SplitMix64;

/// The openers EasyEdit starts every generated context from.
pub const OPENERS: [&str; 5] = ["The", "Therefore", "Because", "I", "You"];

/// Top-k of EasyEdit's `generate_fast`.
const TOP_K: usize = 5;

/// Sampled prefixes (without the `". "` separator), grouped by `(length, n)` entry.
pub fn generate_contexts(
    model: &LoadedModel,
    length_params: &[[usize; 2]],
    seed: u64,
) -> Result<Vec<Vec<String>>, EditError> {
    let mut rng = SplitMix64::new(seed);
    let m = &model.model;
    let mut groups = Vec::new();
    for &[length, n] in length_params {
        let mut texts = Vec::new();
        for _ in 0..n / OPENERS.len() {
            for opener in OPENERS {
                let mut ids = model.tokenizer.encode(opener)?;
                let mut cache = m.new_cache();
                let mut input = m.ids_tensor(&[ids.clone()])?;
                while ids.len() < length {
                    let logits = to_vec(m.forward_cached_last(input, &mut cache))?;
                    let next = sample_top_k(&logits, TOP_K, &mut rng);
                    ids.push(next);
                    input = Tensor::<2, Int>::from_data(
                        TensorData::new(vec![next as i64], [1, 1]),
                        &m.device(),
                    );
                }
                let text = model.tokenizer.decode(&ids)?;
                texts.push(text.replace(['{', '}'], "").replace(['\n', '\r'], " "));
            }
        }
        groups.push(texts);
    }
    Ok(groups)
}

/// Draws from the softmax of the `k` largest logits.
fn sample_top_k(logits: &[f32], k: usize, rng: &mut SplitMix64) -> u32 {
    let mut top: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    for (i, &x) in logits.iter().enumerate() {
        if top.len() < k || x > top[top.len() - 1].1 {
            let at = top.iter().position(|&(_, y)| x > y).unwrap_or(top.len());
            top.insert(at, (i, x));
            top.truncate(k);
        }
    }
    let max = top[0].1 as f64;
    let weights: Vec<f64> = top.iter().map(|&(_, x)| (x as f64 - max).exp()).collect();
    top[rng.categorical(&weights)].0 as u32
}

/// An editor's context prefixes, sampled once per model file and reused for every edit.
#[derive(Debug, Clone, Default)]
pub struct ContextPrefixes {
    cached: Option<(PathBuf, Vec<Vec<String>>)>,
}

impl ContextPrefixes {
    /// `[[""], [prefixes of the first (length, n)], …]`: the bare prompt's group, then one
    /// group per non-empty entry of `length_params` ([`generate_contexts`], [`prefix_of`]).
    pub fn groups(
        &mut self,
        model: &LoadedModel,
        length_params: &[[usize; 2]],
        seed: u64,
    ) -> Result<Vec<Vec<String>>, EditError> {
        if let Some((path, groups)) = &self.cached
            && *path == model.path
        {
            return Ok(groups.clone());
        }
        let mut groups = vec![vec![prefix_of(None)]];
        for sampled in generate_contexts(model, length_params, seed)? {
            if !sampled.is_empty() {
                groups.push(sampled.iter().map(|t| prefix_of(Some(t))).collect());
            }
        }
        self.cached = Some((model.path.clone(), groups.clone()));
        Ok(groups)
    }
}

/// The prefix a template puts before the prompt: `""` for the bare prompt (`"{}"`), else
/// `"<text>. "`.
pub fn prefix_of(text: Option<&str>) -> String {
    match text {
        None => String::new(),
        Some(t) => format!("{t}. "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_sampling_only_draws_the_top_k() {
        let logits = [0.0, 5.0, 1.0, 4.0, -3.0, 3.0, 2.0];
        let mut rng = SplitMix64::new(1);
        for _ in 0..200 {
            let t = sample_top_k(&logits, 3, &mut rng);
            assert!([1, 3, 5].contains(&t), "{t}");
        }
    }
}
