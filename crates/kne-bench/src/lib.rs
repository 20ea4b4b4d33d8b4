//! The benchmark side of the toolkit: baseline editors (FT, FT-L, AdaLoRA, ROME, MEMIT)
//! behind `kne_edit::Editor`, the experiment harness, results and plots.

pub mod baselines;
pub mod harness;
pub mod results;
