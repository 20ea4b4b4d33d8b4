//! Scoring cases on the model as it is (edited or not), as the harness and
//! [`Session::evaluate`](super::Session::evaluate) do.

use anyhow::{Context, Result};
use kne_edit::EditRequest;
use kne_eval::ModelScorer;
use kne_eval::data::EditCase;
use kne_eval::metrics::{
    CaseScores, Decoding, EvalConfig, GenerationConfig, PreEditCache, evaluate_case,
};
use kne_model::LoadedModel;

/// The edit request a case asks for.
pub fn request_of(case: &EditCase) -> EditRequest {
    EditRequest {
        prompt: case.prompt.clone(),
        target: case.target_new.clone(),
        subject: case.subject.clone(),
    }
}

/// Scores every case of `cases` on `loaded` as it is: edit success, portability, locality
/// against the unedited model's predictions in `pre`, rephrase accuracy, and fluency when
/// `generation` is set (top-k sampling seeded with `seed + case index`, so that runs are
/// reproducible and cases independent).
///
/// # Errors
/// A case missing from `pre`, or a scoring error, naming the case.
pub fn score_cases(
    loaded: &LoadedModel,
    cases: &[&EditCase],
    pre: &PreEditCache,
    generation: Option<GenerationConfig>,
    seed: u64,
) -> Result<Vec<CaseScores>> {
    let mut scorer = ModelScorer::from_loaded(loaded);
    let mut rows = Vec::with_capacity(cases.len());
    for case in cases {
        let mut eval = EvalConfig {
            generation,
            keep_generated_text: true,
        };
        if let Some(g) = eval.generation.as_mut()
            && let Decoding::TopK { seed: s, .. } = &mut g.decoding
        {
            *s = seed.wrapping_add(case.index as u64);
        }
        let predictions = pre
            .get(case)
            .with_context(|| format!("case {}: pre-edit predictions missing", case.index))?;
        rows.push(
            evaluate_case(case, predictions, &mut scorer, &eval)
                .with_context(|| format!("{} case {}", case.dataset, case.index))?,
        );
    }
    Ok(rows)
}
