//! Applying an editor's change to the model, checked, and taking it back: the step every
//! edit goes through, in the harness as in [`Session::edit`](super::Session::edit).

use kne_edit::loss::TargetBatch;
use kne_edit::{
    AppliedDelta, EditError, EditRequest, EditStats, Editor, TokenizedRequest, WeightDelta,
};
use kne_model::LoadedModel;

/// An edit in force on a model: the change, what the editor reports about it, and what
/// [`AppliedEdit::revert`] needs to put the original weights back (bit for bit).
#[must_use = "an applied edit stays in the model until it is reverted"]
pub struct AppliedEdit {
    /// The change, to save ([`WeightDelta::save`]) or inspect.
    pub delta: WeightDelta,
    /// The editor's statistics (steps, final loss, parameters touched, wall time).
    pub stats: EditStats,
    applied: AppliedDelta,
}

impl AppliedEdit {
    /// Restores the weights the edit replaced.
    ///
    /// # Errors
    /// If the model no longer has a site the edit changed (it was swapped underneath).
    pub fn revert(self, loaded: &mut LoadedModel) -> Result<(), EditError> {
        self.applied.revert(&mut loaded.model)
    }
}

/// Why an edit was not applied; the model is as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedEdit {
    /// `edit failed` (the editor's error), `edit refused` (a delta that cannot be applied:
    /// non-finite values, unknown site) or `edit rolled back` (the edited model's loss on
    /// the requests is not finite).
    pub what: &'static str,
    pub reason: String,
}

impl std::fmt::Display for RefusedEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}; the model was left unchanged",
            self.what, self.reason
        )
    }
}

impl std::error::Error for RefusedEdit {}

/// Runs `editor` on `requests` (one batch), applies the change to `loaded` and checks that
/// the edited model still gives a finite loss on the requests. A failed or non-finite edit
/// is `Ok(Err(RefusedEdit))`, with the model bit-identical to before: not an error of a
/// run, which records it and goes on.
///
/// # Errors
/// Only if rolling a non-finite edit back fails (the model is then not to be trusted).
pub fn apply_edit(
    loaded: &mut LoadedModel,
    editor: &mut dyn Editor,
    requests: &[EditRequest],
) -> Result<Result<AppliedEdit, RefusedEdit>, EditError> {
    let refused = |what, reason: String| Ok(Err(RefusedEdit { what, reason }));
    let outcome = match editor.edit(loaded, requests) {
        Ok(outcome) => outcome,
        Err(e) => return refused("edit failed", e.to_string()),
    };
    let applied = match outcome.delta.apply(&mut loaded.model) {
        Ok(applied) => applied,
        Err(e) => return refused("edit refused", e.to_string()),
    };
    // A finite delta can still break the model (closed-form editors have no loss to watch).
    let loss = edited_loss(loaded, requests);
    if !matches!(loss, Ok(v) if v.is_finite()) {
        let reason = match loss {
            Ok(v) => format!("the edited model's loss on the edit requests is {v}"),
            Err(e) => format!("cannot compute the edited model's loss: {e}"),
        };
        applied.revert(&mut loaded.model)?;
        return refused("edit rolled back", reason);
    }
    Ok(Ok(AppliedEdit {
        delta: outcome.delta,
        stats: outcome.stats,
        applied,
    }))
}

/// Mean target NLL of `requests` on the (edited) model: one forward.
fn edited_loss(loaded: &LoadedModel, requests: &[EditRequest]) -> Result<f32, EditError> {
    let tokenized = TokenizedRequest::all(&loaded.tokenizer, requests)?;
    let batch = TargetBatch::new(&loaded.model, &tokenized)?;
    Ok(batch.nll(&loaded.model, None).into_scalar::<f32>())
}
