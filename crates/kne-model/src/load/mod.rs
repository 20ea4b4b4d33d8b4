//! Model sources. Every source answers by HF tensor name, in PyTorch layout, so one builder
//! (`Llama::from_source`) serves GGUF files and HF safetensors alike (and HF GPT-J
//! safetensors, by GPT-J's own names).

mod gguf_source;
mod safetensors_source;

pub use gguf_source::GgufSource;
pub use safetensors_source::SafetensorsSource;

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::{Llama, LlamaConfig, ModelError, Tokenizer};

/// A dense tensor: PyTorch shape (row-major) and f32 values.
pub type DenseTensor = (Vec<usize>, Vec<f32>);

/// Where weights come from. Names are HF names (Llama: `model.layers.3.mlp.down_proj.weight`;
/// GPT-J: `transformer.h.3.mlp.fc_out.weight`); linear weights are `[out, in]`, q/k rows in
/// HF order (for the architecture's RoPE convention).
pub trait TensorSource {
    /// The tensor, or `Ok(None)` when the source does not have it.
    fn get(&self, hf_name: &str) -> Result<Option<DenseTensor>, ModelError>;
    /// The file or folder, for error messages.
    fn path(&self) -> &Path;
}

/// The on-disk format a model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelFormat {
    Gguf,
    Safetensors,
}

/// A model with its tokenizer.
#[derive(Debug)]
pub struct LoadedModel {
    pub model: Llama,
    pub tokenizer: Tokenizer,
    pub path: PathBuf,
    pub format: ModelFormat,
}

/// Loads a model from a `.gguf` file, or from an HF folder holding `config.json` (Llama or
/// GPT-J), `tokenizer.json` and `model.safetensors` (or a sharded
/// `model.safetensors.index.json`).
pub fn load(path: &Path, device: &Device) -> Result<LoadedModel, ModelError> {
    if !path.exists() {
        return Err(ModelError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "model not found (the default model comes from `cargo xtask fetch-model`)",
            ),
        });
    }
    if path.is_dir() {
        let config = LlamaConfig::from_hf_json(&path.join("config.json"))?;
        let source = SafetensorsSource::open_dir(path)?;
        let model = Llama::from_source(&config, &source, device)?;
        let tokenizer = Tokenizer::from_tokenizer_json(&path.join("tokenizer.json"))?;
        Ok(LoadedModel {
            model,
            tokenizer,
            path: path.to_path_buf(),
            format: ModelFormat::Safetensors,
        })
    } else {
        let source = GgufSource::open(path)?;
        let config = LlamaConfig::from_gguf(source.gguf(), path)?;
        let model = Llama::from_source(&config, &source, device)?;
        let tokenizer = Tokenizer::from_gguf(source.gguf(), path)?;
        Ok(LoadedModel {
            model,
            tokenizer,
            path: path.to_path_buf(),
            format: ModelFormat::Gguf,
        })
    }
}
