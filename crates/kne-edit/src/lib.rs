//! Editing: the [`Editor`] trait every method implements (KNE here, the baselines in
//! `kne-bench`), the sparse and revertible [`WeightDelta`] an edit produces, and the KNE
//! editor itself (Eq. 8–11 of the paper).
//!
//! Runnable example: `examples/edit_one_fact.rs`, KNE localizes an ensemble, edits one fact,
//! shows the greedy answer before, after and once reverted
//! (`cargo run --release -p kne-edit --example edit_one_fact`).

mod delta;
mod editor;
mod error;
pub mod kne;
pub mod loss;
mod patch;
mod request;
pub mod scatter;

pub use delta::{AppliedDelta, SiteDelta, WeightDelta};
pub use editor::{EditOutcome, EditStats, Editor};
pub use error::{EditError, require_requests};
pub use kne::{DeltaForm, KneConfig, KneEditor};
pub use request::{EditRequest, TokenizedRequest};
