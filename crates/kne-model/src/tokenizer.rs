//! The model's tokenizer: HF `tokenizers` built from GGUF metadata or a `tokenizer.json`,
//! plus the chat template.
//!
//! Encoding adds BOS only when the model asks for it (GGUF `tokenizer.ggml.add_bos_token`:
//! false for SmolLM2, whose reference prompts start without it; true for Gemma-3, as HF's
//! `tokenizer(text)` does); special tokens written in the text (`<|im_start|>`) are matched.
//!
//! ```no_run
//! # use kne_model::{gguf::GgufFile, tokenizer::Tokenizer};
//! let path = kne_model::paths::default_model_path();
//! let tok = Tokenizer::from_gguf(&GgufFile::open(&path)?, &path)?;
//! assert_eq!(tok.encode("The capital of France is")?, [504, 3575, 282, 4649, 314]);
//! # Ok::<(), kne_model::ModelError>(())
//! ```

mod chat;
mod from_gguf;
mod from_gguf_spm;
mod hf_config;

use std::path::{Path, PathBuf};

pub use chat::{ChatMessage, ChatTemplate, SMOLLM2_DEFAULT_SYSTEM};
use hf_config::HfTokenizerConfig;

use crate::ModelError;
use crate::gguf::GgufFile;

/// A BPE tokenizer (byte-level, or SentencePiece-style) with BOS/EOS ids and a ChatML chat
/// template.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    bos: Option<u32>,
    eos: Option<u32>,
    /// [`Tokenizer::encode`] starts with BOS.
    add_bos: bool,
    chat: ChatTemplate,
    /// The file it came from, for error messages.
    path: PathBuf,
}

impl Tokenizer {
    /// Builds the tokenizer from GGUF `tokenizer.*` metadata (only `tokenizer.ggml.model =
    /// gpt2`, byte-level BPE). The chat template is `tokenizer.chat_template` if present (it
    /// must be ChatML), else SmolLM2's.
    pub fn from_gguf(gguf: &GgufFile, path_for_errors: &Path) -> Result<Self, ModelError> {
        let err = |message: String| ModelError::Tokenizer {
            path: path_for_errors.to_path_buf(),
            message,
        };
        let inner = from_gguf::build(gguf).map_err(err)?;
        let vocab = inner.get_vocab_size(true);
        let id = |key: &str| -> Result<Option<u32>, ModelError> {
            let Some(value) = gguf.meta(key) else {
                return Ok(None);
            };
            match value.as_u64().and_then(|v| u32::try_from(v).ok()) {
                Some(id) if (id as usize) < vocab => Ok(Some(id)),
                _ => Err(err(format!(
                    "{key} = {value:?} is not a token id below {vocab}"
                ))),
            }
        };
        let (bos, eos) = (
            id("tokenizer.ggml.bos_token_id")?,
            id("tokenizer.ggml.eos_token_id")?,
        );
        let add_bos = match gguf.meta("tokenizer.ggml.add_bos_token") {
            None => false,
            Some(v) => v.as_bool().ok_or_else(|| {
                err(format!(
                    "tokenizer.ggml.add_bos_token is a {}",
                    v.type_name()
                ))
            })?,
        };
        if add_bos && bos.is_none() {
            return Err(err(
                "tokenizer.ggml.add_bos_token is true but there is no bos_token_id".into(),
            ));
        }
        let chat = match gguf.meta("tokenizer.chat_template") {
            None => ChatTemplate::smollm2(),
            Some(v) => {
                let template = v.as_str().ok_or_else(|| {
                    err(format!("tokenizer.chat_template is a {}", v.type_name()))
                })?;
                ChatTemplate::parse(template).map_err(err)?
            }
        };
        Ok(Self {
            inner,
            bos,
            eos,
            add_bos,
            chat,
            path: path_for_errors.to_path_buf(),
        })
    }

    /// Loads a HF `tokenizer.json`. BOS, EOS and the chat template come from
    /// `tokenizer_config.json` beside it when that exists; without a template there, SmolLM2's
    /// ChatML template is used.
    pub fn from_tokenizer_json(path: &Path) -> Result<Self, ModelError> {
        let err = |message: String| ModelError::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        if !path.is_file() {
            return Err(ModelError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "tokenizer.json not found",
                ),
            });
        }
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| err(e.to_string()))?;
        let config_path = path.with_file_name("tokenizer_config.json");
        let config = match std::fs::read_to_string(&config_path) {
            Ok(text) => {
                HfTokenizerConfig::parse(&text).map_err(|message| ModelError::Tokenizer {
                    path: config_path.clone(),
                    message,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HfTokenizerConfig::default(),
            Err(source) => {
                return Err(ModelError::Io {
                    path: config_path,
                    source,
                });
            }
        };
        let chat = match &config.chat_template {
            None => ChatTemplate::smollm2(),
            Some(t) => ChatTemplate::parse(t).map_err(|message| ModelError::Tokenizer {
                path: config_path.clone(),
                message,
            })?,
        };
        let lookup = |token: &Option<String>| token.as_deref().and_then(|t| inner.token_to_id(t));
        Ok(Self {
            bos: lookup(&config.bos_token),
            eos: lookup(&config.eos_token),
            // A tokenizer.json's post-processor adds BOS itself when the model wants it.
            add_bos: false,
            inner,
            chat,
            path: path.to_path_buf(),
        })
    }

    fn error(&self, message: impl Into<String>) -> ModelError {
        ModelError::Tokenizer {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Token ids of `text`; special tokens written in the text are matched; BOS first when
    /// the model asks for it ([`Tokenizer::adds_bos`]).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| self.error(format!("encoding {text:?}: {e}")))?;
        let ids = encoding.get_ids();
        Ok(match self.bos.filter(|_| self.add_bos) {
            Some(bos) => std::iter::once(bos).chain(ids.iter().copied()).collect(),
            None => ids.to_vec(),
        })
    }

    /// Whether [`Tokenizer::encode`] starts with BOS.
    pub fn adds_bos(&self) -> bool {
        self.add_bos
    }

    /// The text of `ids`, special tokens included. An id outside the vocabulary is an error
    /// (the HF tokenizer would silently drop it).
    pub fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        let vocab = self.vocab_size();
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= vocab) {
            return Err(self.error(format!(
                "token id {bad} is outside the vocabulary of {vocab}"
            )));
        }
        self.inner
            .decode(ids, false)
            .map_err(|e| self.error(format!("decoding {ids:?}: {e}")))
    }

    /// The vocabulary entry of `id` (byte-level form, e.g. `"Ġworld"`).
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of a vocabulary entry (byte-level form) or special token.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Number of ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    pub fn eos_id(&self) -> Option<u32> {
        self.eos
    }

    /// The chat template in use.
    pub fn chat_template(&self) -> &ChatTemplate {
        &self.chat
    }

    /// ChatML as SmolLM2's template renders it (the default system prompt is injected when the
    /// first message is not `system`).
    pub fn apply_chat_template(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> String {
        self.chat.render(messages, add_generation_prompt)
    }

    /// One user message -> the rendered chat prompt, with the generation prompt.
    pub fn chat_prompt(&self, user: &str) -> String {
        self.apply_chat_template(&[ChatMessage::new("user", user)], true)
    }

    /// The underlying HF tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}
