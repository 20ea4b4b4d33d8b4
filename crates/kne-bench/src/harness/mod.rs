//! The experiment harness behind `cargo xtask reproduce` / `kne reproduce`: experiments as
//! TOML ([`Experiment`]), their cells ([`plan`]), a resumable, shardable runner
//! ([`runner::run`]) and reports ([`report`]).

mod bootstrap;
pub mod caption;
pub mod claims;
pub mod compare;
pub mod cost;
pub mod data_file;
pub mod experiment;
mod localize;
pub mod plan;
mod plot;
pub mod report;
pub mod runner;
pub mod split;

pub use bootstrap::{bootstrap_ci, bootstrap_mean_ci, ols_slope};
pub use experiment::Experiment;
pub use runner::{RunOptions, run};
