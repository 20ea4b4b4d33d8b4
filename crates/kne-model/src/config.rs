//! Hyper-parameters of a Llama-family model, read from GGUF metadata or an HF `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::gguf::GgufFile;

/// Architecture of a Llama-family decoder (Llama-2, SmolLM2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    /// Number of decoder blocks (SmolLM2-135M: 30).
    pub num_hidden_layers: usize,
    /// Residual width (576).
    pub hidden_size: usize,
    /// MLP width (1536).
    pub intermediate_size: usize,
    /// Query heads (9).
    pub num_attention_heads: usize,
    /// Key/value heads, for grouped-query attention (3).
    pub num_key_value_heads: usize,
    /// Per-head width; `hidden_size / num_attention_heads` when absent (64).
    pub head_dim: usize,
    /// RoPE base frequency (100000).
    pub rope_theta: f32,
    /// RMSNorm epsilon (1e-5).
    pub rms_norm_eps: f64,
    /// Vocabulary size (49152).
    pub vocab_size: usize,
    /// LM head shares the token embedding (true for SmolLM2, false for Llama-2).
    pub tie_word_embeddings: bool,
    /// Longest context the model was trained for (8192).
    pub max_position_embeddings: usize,
}

/// The subset of an HF `config.json` we read; everything else is ignored.
#[derive(Deserialize)]
struct HfConfig {
    model_type: Option<String>,
    num_hidden_layers: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    #[serde(default = "default_rope_theta")]
    rope_theta: f32,
    #[serde(default = "default_eps")]
    rms_norm_eps: f64,
    vocab_size: usize,
    #[serde(default)]
    tie_word_embeddings: bool,
    #[serde(default = "default_max_pos")]
    max_position_embeddings: usize,
    hidden_act: Option<String>,
}

fn default_rope_theta() -> f32 {
    10000.0
}
fn default_eps() -> f64 {
    1e-6
}
fn default_max_pos() -> usize {
    4096
}

impl LlamaConfig {
    /// Reads `llama.*` keys of a GGUF file.
    pub fn from_gguf(gguf: &GgufFile, path: &Path) -> Result<Self, ModelError> {
        let wrap = |source| ModelError::Gguf {
            path: path.to_path_buf(),
            source,
        };
        let arch = gguf.meta_str("general.architecture").map_err(wrap)?;
        if arch != "llama" {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "general.architecture is `{arch}`; this loader handles `llama` models"
                ),
            });
        }
        let u = |key: &str| -> Result<usize, ModelError> {
            let v = gguf.meta_u64(key).map_err(wrap)?;
            usize::try_from(v).map_err(|_| ModelError::Format {
                path: path.to_path_buf(),
                message: format!("{key} = {v} does not fit in usize"),
            })
        };
        let hidden_size = u("llama.embedding_length")?;
        let num_attention_heads = u("llama.attention.head_count")?;
        let vocab_size = match gguf.meta_u64("llama.vocab_size") {
            Ok(v) => v as usize,
            Err(_) => gguf
                .tensor_info("token_embd.weight")
                .and_then(|t| t.dims.get(1).copied())
                .ok_or_else(|| ModelError::Format {
                    path: path.to_path_buf(),
                    message: "no llama.vocab_size and no token_embd.weight".into(),
                })? as usize,
        };
        let config = Self {
            num_hidden_layers: u("llama.block_count")?,
            hidden_size,
            intermediate_size: u("llama.feed_forward_length")?,
            num_attention_heads,
            num_key_value_heads: u("llama.attention.head_count_kv").unwrap_or(num_attention_heads),
            head_dim: u("llama.rope.dimension_count")
                .unwrap_or(hidden_size / num_attention_heads.max(1)),
            rope_theta: gguf.meta_f32("llama.rope.freq_base").unwrap_or(10000.0),
            rms_norm_eps: gguf
                .meta_f32("llama.attention.layer_norm_rms_epsilon")
                .map_err(wrap)? as f64,
            vocab_size,
            tie_word_embeddings: gguf.tensor_info("output.weight").is_none(),
            max_position_embeddings: u("llama.context_length").unwrap_or(4096),
        };
        config.validate(path)?;
        Ok(config)
    }

    /// Reads an HF `config.json` (`model_type` llama or absent).
    pub fn from_hf_json(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_hf_json_str(&text, path)
    }

    /// Parses the text of an HF `config.json`, as [`LlamaConfig::from_hf_json`] does after
    /// reading it; `path` is only used in error messages (the fuzz targets call this).
    pub fn from_hf_json_str(text: &str, path: &Path) -> Result<Self, ModelError> {
        let hf: HfConfig = serde_json::from_str(text).map_err(|e| ModelError::Format {
            path: path.to_path_buf(),
            message: format!("config.json: {e}"),
        })?;
        if let Some(t) = hf.model_type.as_deref().filter(|t| *t != "llama") {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                message: format!("model_type is `{t}`; this loader handles `llama` models"),
            });
        }
        if let Some(act) = hf.hidden_act.as_deref().filter(|a| *a != "silu") {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                message: format!("hidden_act `{act}` is not supported (expected silu)"),
            });
        }
        let config = Self {
            num_hidden_layers: hf.num_hidden_layers,
            hidden_size: hf.hidden_size,
            intermediate_size: hf.intermediate_size,
            num_attention_heads: hf.num_attention_heads,
            num_key_value_heads: hf.num_key_value_heads.unwrap_or(hf.num_attention_heads),
            head_dim: hf
                .head_dim
                .unwrap_or(hf.hidden_size / hf.num_attention_heads.max(1)),
            rope_theta: hf.rope_theta,
            rms_norm_eps: hf.rms_norm_eps,
            vocab_size: hf.vocab_size,
            tie_word_embeddings: hf.tie_word_embeddings,
            max_position_embeddings: hf.max_position_embeddings,
        };
        config.validate(path)?;
        Ok(config)
    }

    /// Rejects shapes the model code cannot run (zero sizes, heads not dividing, products of
    /// sizes that overflow).
    pub fn validate(&self, path: &Path) -> Result<(), ModelError> {
        let bad = |message: String| ModelError::Format {
            path: path.to_path_buf(),
            message,
        };
        if self.num_hidden_layers == 0 || self.hidden_size == 0 || self.vocab_size == 0 {
            return Err(bad(format!("degenerate model sizes: {self:?}")));
        }
        if self.num_attention_heads == 0
            || self.num_key_value_heads == 0
            || !self
                .num_attention_heads
                .is_multiple_of(self.num_key_value_heads)
        {
            return Err(bad(format!(
                "{} attention heads cannot be grouped over {} key/value heads",
                self.num_attention_heads, self.num_key_value_heads
            )));
        }
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) {
            return Err(bad(format!("head_dim {} must be even", self.head_dim)));
        }
        // Every size the model builder and the editors multiply must fit a usize, so that
        // [`LlamaConfig::site_dims`] and the weight shapes never overflow.
        let products = [
            (
                "num_attention_heads × head_dim",
                self.num_attention_heads,
                self.head_dim,
            ),
            (
                "num_key_value_heads × head_dim",
                self.num_key_value_heads,
                self.head_dim,
            ),
            (
                "vocab_size × hidden_size",
                self.vocab_size,
                self.hidden_size,
            ),
            (
                "hidden_size × intermediate_size",
                self.hidden_size,
                self.intermediate_size,
            ),
        ];
        for (what, a, b) in products {
            if a.checked_mul(b).is_none() {
                return Err(bad(format!("{what} = {a} × {b} overflows")));
            }
        }
        let q = self.num_attention_heads * self.head_dim;
        if self.hidden_size.checked_mul(q).is_none() {
            return Err(bad(format!(
                "hidden_size × (num_attention_heads × head_dim) = {} × {q} overflows",
                self.hidden_size
            )));
        }
        Ok(())
    }

    /// `[d_in, d_out]` of a site's linear layer.
    pub fn site_dims(&self, module: crate::ModuleKind) -> [usize; 2] {
        use crate::ModuleKind::*;
        let (d, f) = (self.hidden_size, self.intermediate_size);
        let q = self.num_attention_heads * self.head_dim;
        let kv = self.num_key_value_heads * self.head_dim;
        match module {
            Q => [d, q],
            K | V => [d, kv],
            O => [q, d],
            Gate | Up => [d, f],
            Down => [f, d],
        }
    }
}
