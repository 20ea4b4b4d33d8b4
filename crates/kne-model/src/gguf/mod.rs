//! A bounds-checked reader for GGUF files (versions 2 and 3), with dequantisation of the
//! F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K tensor types to `f32`.
//!
//! The whole file is read into memory; every count, length and offset read from it is checked
//! against the bytes actually present before it is used, so a truncated or hostile file gives
//! a [`GgufError`], never a panic or a huge allocation.
//!
//! ```no_run
//! # use kne_model::gguf::GgufFile;
//! let gguf = GgufFile::open(&kne_model::paths::default_model_path())?;
//! let n_layers = gguf.meta_u64("llama.block_count")?;
//! let (shape, values) = gguf.tensor_f32("blk.0.attn_q.weight")?; // shape [576, 576]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod dequant;
pub mod dequant_k;
mod error;
mod file;
mod ggml_type;
mod header;
mod metadata;
pub mod quant;
pub mod quant_k;
mod reader;
mod tensor_info;

pub use error::GgufError;
pub use file::GgufFile;
pub use ggml_type::{BlockLayout, GgmlType};
pub use header::DEFAULT_ALIGNMENT;
pub use metadata::{MAX_ARRAY_NESTING, MetaValue};
pub use tensor_info::{MAX_DIMS, TensorInfo};
