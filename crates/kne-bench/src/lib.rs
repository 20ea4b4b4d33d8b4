//! The benchmark side of the toolkit: baseline editors (FT, FT-L, AdaLoRA, ROME, MEMIT)
//! behind `kne_edit::Editor`, the experiment harness, results and plots.
//!
//! For library users, [`session::Session`] is the toolkit in a few calls (open a model, build
//! an editor by name, edit, evaluate, revert), through the same functions as the harness.
//! Runnable example: `examples/mini_table.rs`, FT-M and KNE on your own edit file
//! (`cargo run --release -p kne-bench --example mini_table -- my_edits.json`).

pub mod baselines;
pub mod harness;
pub mod results;
pub mod session;
