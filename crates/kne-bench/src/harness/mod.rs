//! The experiment harness behind `cargo xtask reproduce` / `kne reproduce`: experiments as
//! TOML ([`Experiment`]), their cells ([`plan`]), a resumable, shardable runner
//! ([`runner::run`]) and reports ([`report`]).

mod bootstrap;
pub mod claims;
pub mod experiment;
mod localize;
pub mod plan;
mod plot;
pub mod report;
pub mod runner;

pub use bootstrap::bootstrap_mean_ci;
pub use experiment::Experiment;
pub use runner::{RunOptions, run};
