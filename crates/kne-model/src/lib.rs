//! Decoder-only transformers (the Llama family: Llama-2, SmolLM2; Gemma-3; GPT-J) on burn 0.22.
//!
//! Owns the loaders (GGUF with dequantisation, HF safetensors + `config.json`), the
//! tokenizer, greedy generation and the one intervention hook ([`Interventions`]) through
//! which attribution, editing and the baselines reach inside the model.
//!
//! ```no_run
//! use burn::tensor::Device;
//! let loaded = kne_model::load(&kne_model::paths::default_model_path(), &Device::flex())?;
//! let ids = loaded.tokenizer.encode("The capital of France is")?;
//! let logits = loaded.model.forward(loaded.model.ids_tensor(&[ids])?);
//! # Ok::<(), kne_model::ModelError>(())
//! ```
//!
//! Runnable example: `examples/next_token.rs`, the most likely next tokens after a prompt
//! (`cargo run --release -p kne-model --example next_token -- "The capital of France is"`).

pub mod atomic_write;
pub mod compute_pool;
pub mod config;
pub mod error;
mod flex_buffers;
mod fused_node;
pub mod gated_silu;
pub mod generate;
pub mod gguf;
pub mod interventions;
pub mod kv_cache;
pub mod llama;
pub mod load;
pub mod parallel_jobs;
pub mod paths;
pub mod rms_norm;
pub mod rope;
pub mod site;
pub mod site_linear;
pub mod tokenizer;

pub use atomic_write::write_atomic;
pub use compute_pool::{init_compute_pool, on_compute_pool};
pub use config::{Gemma3Config, GptjConfig, LlamaConfig};
pub use error::ModelError;
pub use generate::{GreedyConfig, argmax_rows};
pub use interventions::{Captured, Captures, DeltaUnits, Interventions, NeuronDelta, SiteHook};
pub use kv_cache::KvCache;
pub use llama::{ForwardOutput, Llama};
pub use load::{LoadedModel, ModelFormat, TensorSource, load};
pub use parallel_jobs::{job_workers, ordered_jobs};
pub use site::{ModuleKind, Site};
pub use site_linear::SiteLinear;
pub use tokenizer::Tokenizer;
