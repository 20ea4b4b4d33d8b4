//! Hyper-parameters of a Llama-family model, read from GGUF metadata or an HF `config.json`;
//! Gemma-3 and GPT-J are the same type with their departures switched on.

mod gptj;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use gptj::GptjConfig;

use crate::gguf::GgufFile;
use crate::{ModelError, ModuleKind};

/// Architecture of a Llama-family decoder (Llama-2, SmolLM2), of Gemma-3 when
/// [`LlamaConfig::gemma3`] is set, or of GPT-J when [`LlamaConfig::gptj`] is set.
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
    /// Epsilon of the norms: RMSNorm's (1e-5); for GPT-J its LayerNorms'
    /// (`layer_norm_epsilon`).
    pub rms_norm_eps: f64,
    /// Vocabulary size (49152).
    pub vocab_size: usize,
    /// LM head shares the token embedding (true for SmolLM2, false for Llama-2).
    pub tie_word_embeddings: bool,
    /// Longest context the model was trained for (8192).
    pub max_position_embeddings: usize,
    /// Gemma-3's departures from Llama; `None` for the Llama family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemma3: Option<Gemma3Config>,
    /// GPT-J's departures from Llama; `None` for the Llama family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gptj: Option<GptjConfig>,
}

/// What Gemma-3 does differently from Llama (see `llama/` for where each applies):
/// embeddings scaled by `sqrt(hidden)`; RMSNorm weights `w` applied as `1 + w`; RMSNorm of
/// q and k per head; norms after attention and after the MLP as well as before; GeGLU with
/// tanh-approximated GELU; local layers with sliding-window attention and their own RoPE
/// base; attention scores scaled by `query_pre_attn_scalar^-1/2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gemma3Config {
    /// Keys a local layer's query sees, itself included (270M: 512).
    pub sliding_window: usize,
    /// Every `n`-th layer is global (layer `l` is global iff `(l + 1) % n == 0`), the others
    /// local (6).
    pub sliding_window_pattern: usize,
    /// RoPE base of the local layers (10000); the global layers use `rope_theta`.
    pub rope_local_theta: f32,
    /// Scores are scaled by `query_pre_attn_scalar^-1/2` (270M: 256).
    pub query_pre_attn_scalar: f32,
}

impl Gemma3Config {
    /// Whether layer `layer` attends within the sliding window (a local layer).
    pub fn is_local(&self, layer: usize) -> bool {
        !(layer + 1).is_multiple_of(self.sliding_window_pattern)
    }
}

/// The GGUF defaults of Gemma-3 that llama.cpp's converter does not write (llama.cpp and
/// transformers hard-code them too): every 6th layer global, local RoPE base 10000.
const GEMMA3_SLIDING_WINDOW_PATTERN: u64 = 6;
const GEMMA3_ROPE_LOCAL_THETA: f32 = 10000.0;

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
    /// Reads the `<arch>.*` keys of a GGUF file (`general.architecture` = `llama` or
    /// `gemma3`).
    pub fn from_gguf(gguf: &GgufFile, path: &Path) -> Result<Self, ModelError> {
        let wrap = |source| ModelError::Gguf {
            path: path.to_path_buf(),
            source,
        };
        let format = |message: String| ModelError::Format {
            path: path.to_path_buf(),
            message,
        };
        let arch = gguf.meta_str("general.architecture").map_err(wrap)?;
        if arch != "llama" && arch != "gemma3" {
            return Err(format(format!(
                "general.architecture is `{arch}`; this loader handles `llama` and `gemma3` models"
            )));
        }
        let key = |k: &str| format!("{arch}.{k}");
        let u = |k: &str| -> Result<usize, ModelError> {
            let k = key(k);
            let v = gguf.meta_u64(&k).map_err(wrap)?;
            usize::try_from(v).map_err(|_| format(format!("{k} = {v} does not fit in usize")))
        };
        let hidden_size = u("embedding_length")?;
        let num_attention_heads = u("attention.head_count")?;
        let vocab_size = match gguf.meta_u64(&key("vocab_size")) {
            Ok(v) => v as usize,
            Err(_) => gguf
                .tensor_info("token_embd.weight")
                .and_then(|t| t.dims.get(1).copied())
                .ok_or_else(|| format(format!("no {arch}.vocab_size and no token_embd.weight")))?
                as usize,
        };
        let default_head_dim = hidden_size / num_attention_heads.max(1);
        let head_dim = match arch {
            // Gemma's heads are wider than hidden / heads (270M: 256 vs 160).
            "gemma3" => u("attention.key_length")?,
            _ => u("rope.dimension_count").unwrap_or(default_head_dim),
        };
        let gemma3 = if arch == "gemma3" {
            if let Some(t) = gguf
                .meta(&key("rope.scaling.type"))
                .filter(|t| t.as_str() != Some("none"))
            {
                return Err(format(format!(
                    "{arch}.rope.scaling.type = {t:?}: RoPE scaling is not supported"
                )));
            }
            let pattern = gguf
                .meta_u64(&key("attention.sliding_window_pattern"))
                .unwrap_or(GEMMA3_SLIDING_WINDOW_PATTERN);
            Some(Gemma3Config {
                sliding_window: u("attention.sliding_window")?,
                sliding_window_pattern: pattern as usize,
                rope_local_theta: gguf
                    .meta_f32(&key("rope.freq_base_swa"))
                    .unwrap_or(GEMMA3_ROPE_LOCAL_THETA),
                // llama.cpp scales by head_dim^-1/2 (all sizes but 27B); transformers'
                // default query_pre_attn_scalar is 256 = head_dim of 270M.
                query_pre_attn_scalar: head_dim as f32,
            })
        } else {
            None
        };
        let config = Self {
            num_hidden_layers: u("block_count")?,
            hidden_size,
            intermediate_size: u("feed_forward_length")?,
            num_attention_heads,
            num_key_value_heads: u("attention.head_count_kv").unwrap_or(num_attention_heads),
            head_dim,
            rope_theta: gguf.meta_f32(&key("rope.freq_base")).unwrap_or(10000.0),
            rms_norm_eps: gguf
                .meta_f32(&key("attention.layer_norm_rms_epsilon"))
                .map_err(wrap)? as f64,
            vocab_size,
            tie_word_embeddings: gguf.tensor_info("output.weight").is_none(),
            max_position_embeddings: u("context_length").unwrap_or(4096),
            gemma3,
            gptj: None,
        };
        config.validate(path)?;
        Ok(config)
    }

    /// Reads an HF `config.json` (`model_type` llama or absent, or gptj).
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
        let bad_json = |e: serde_json::Error| ModelError::Format {
            path: path.to_path_buf(),
            message: format!("config.json: {e}"),
        };
        // GPT-J names its fields differently (`n_embd`, ...), so the type decides the parser.
        #[derive(Deserialize)]
        struct ModelType {
            model_type: Option<String>,
        }
        let kind: ModelType = serde_json::from_str(text).map_err(bad_json)?;
        if kind.model_type.as_deref() == Some("gptj") {
            let config = gptj::from_hf_json_str(text).map_err(|message| ModelError::Format {
                path: path.to_path_buf(),
                message,
            })?;
            config.validate(path)?;
            return Ok(config);
        }
        let hf: HfConfig = serde_json::from_str(text).map_err(bad_json)?;
        if let Some(t) = hf.model_type.as_deref().filter(|t| *t != "llama") {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "model_type is `{t}`; this loader handles `llama` and `gptj` models"
                ),
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
            gemma3: None,
            gptj: None,
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
        if let Some(g) = &self.gemma3
            && (g.sliding_window == 0
                || g.sliding_window_pattern == 0
                || !g.query_pre_attn_scalar.is_finite()
                || g.query_pre_attn_scalar <= 0.0)
        {
            return Err(bad(format!("degenerate Gemma-3 settings: {g:?}")));
        }
        if let Some(g) = &self.gptj {
            if self.gemma3.is_some() {
                return Err(bad("a config cannot be both Gemma-3 and GPT-J".into()));
            }
            // GPT-J's attention maps hidden → hidden; RoPE turns pairs of a head's first dims.
            if self.num_attention_heads.checked_mul(self.head_dim) != Some(self.hidden_size)
                || self.num_key_value_heads != self.num_attention_heads
            {
                return Err(bad(format!(
                    "GPT-J needs heads × head_dim = hidden and no grouped keys: {} × {} vs {}, \
                     {} key/value heads",
                    self.num_attention_heads,
                    self.head_dim,
                    self.hidden_size,
                    self.num_key_value_heads
                )));
            }
            if g.rotary_dim == 0 || !g.rotary_dim.is_multiple_of(2) || g.rotary_dim > self.head_dim
            {
                return Err(bad(format!(
                    "GPT-J rotary_dim {} must be even and within head_dim {}",
                    g.rotary_dim, self.head_dim
                )));
            }
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

    /// The module kinds each block of this architecture has, in block order: all seven for
    /// Llama and Gemma-3; GPT-J's MLP has no gate (`fc_in` is `up`, `fc_out` is `down`).
    pub fn modules(&self) -> &'static [ModuleKind] {
        const GPTJ: [ModuleKind; 6] = [
            ModuleKind::Q,
            ModuleKind::K,
            ModuleKind::V,
            ModuleKind::O,
            ModuleKind::Up,
            ModuleKind::Down,
        ];
        if self.gptj.is_some() {
            &GPTJ
        } else {
            &ModuleKind::ALL
        }
    }

    /// The architecture's name, for messages.
    pub fn architecture(&self) -> &'static str {
        match (&self.gemma3, &self.gptj) {
            (Some(_), _) => "Gemma-3",
            (_, Some(_)) => "GPT-J",
            _ => "Llama",
        }
    }

    /// `[d_in, d_out]` of a site's linear layer (for a module in [`LlamaConfig::modules`]).
    pub fn site_dims(&self, module: ModuleKind) -> [usize; 2] {
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
