//! The interface every editing method implements.

use kne_model::LoadedModel;
use serde::{Deserialize, Serialize};

use crate::{EditError, EditRequest, WeightDelta};

/// What an edit did, for the result rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EditStats {
    /// Optimisation steps taken (0 for closed-form methods).
    pub steps: usize,
    /// Loss before the first step and after the last (method-specific; NLL for KNE).
    pub initial_loss: Option<f32>,
    pub final_loss: Option<f32>,
    /// Weights the delta changes.
    pub changed_parameters: usize,
    pub wall_seconds: f64,
}

/// The weight change and how it was found.
#[derive(Debug, Clone)]
pub struct EditOutcome {
    pub delta: WeightDelta,
    pub stats: EditStats,
}

/// An editing method. `edit` leaves the model unchanged and returns the change; callers
/// apply it ([`WeightDelta::apply`]) and revert it after evaluation.
pub trait Editor {
    /// Short method name for result rows (`kne`, `ft`, `rome`, ...).
    fn name(&self) -> &str;

    /// Finds the weight change that writes `requests` (one batch) into `model`.
    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError>;
}
