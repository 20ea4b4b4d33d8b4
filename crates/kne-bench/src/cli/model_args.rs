//! Options shared by every command that loads a model and reads a prompt.

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::Device;
use clap::Args;
use kne_model::{LoadedModel, paths};

#[derive(Args, Debug)]
pub struct ModelArgs {
    /// A `.gguf` file or an HF folder (config.json, tokenizer.json, *.safetensors).
    /// Default: `$KNE_MODEL`, else models/SmolLM2-135M-Instruct.Q4_1.gguf.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

impl ModelArgs {
    pub fn load(&self) -> anyhow::Result<LoadedModel> {
        let path = self.model.clone().unwrap_or_else(paths::default_model_path);
        kne_model::load(&path, &Device::flex())
            .with_context(|| format!("loading model {}", path.display()))
    }
}

#[derive(Args, Debug)]
pub struct PromptArgs {
    /// The prompt text.
    #[arg(long)]
    pub prompt: String,
    /// Wrap the prompt as one user message in the model's chat template (with the
    /// assistant generation prompt).
    #[arg(long)]
    pub chat: bool,
}

impl PromptArgs {
    /// Token ids of the prompt, chat-wrapped when asked.
    pub fn ids(&self, loaded: &LoadedModel) -> anyhow::Result<Vec<u32>> {
        let text = if self.chat {
            loaded.tokenizer.chat_prompt(&self.prompt)
        } else {
            self.prompt.clone()
        };
        let ids = loaded.tokenizer.encode(&text)?;
        anyhow::ensure!(!ids.is_empty(), "the prompt tokenises to nothing");
        Ok(ids)
    }
}
