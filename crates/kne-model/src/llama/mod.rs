//! The Llama-family decoder (Llama-2, SmolLM2): GQA, RoPE, RMSNorm, SwiGLU, optionally tied
//! embeddings; and Gemma-3 and GPT-J, the same skeleton with the departures listed at
//! [`crate::config::Gemma3Config`] and [`crate::config::GptjConfig`] (switched on by
//! `LlamaConfig::gemma3` and `LlamaConfig::gptj`).

mod attention;
mod block;
mod build;
mod build_gptj;
mod mlp;
mod norm;

pub use attention::Attention;
pub use block::DecoderBlock;
pub use mlp::{Activation, Mlp};
pub use norm::Norm;

use burn::module::{Module, Param};
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::interventions::{Captures, Interventions};
use crate::kv_cache::KvCache;
use crate::rope::{RopeStyle, RopeTables};
use crate::site_linear::SiteLinear;
use crate::{LlamaConfig, ModelError, ModuleKind, Site};

/// A Llama-family causal language model.
#[derive(Module, Debug)]
pub struct Llama {
    /// # Shapes
    /// - `[vocab, hidden]`
    pub embed: Param<Tensor<2>>,
    pub layers: Vec<DecoderBlock>,
    pub norm: Norm,
    /// Untied LM head; `None` when tied to `embed`.
    ///
    /// # Shapes
    /// - `[hidden, vocab]`
    pub lm_head: Option<Param<Tensor<2>>>,
    /// GPT-J's LM head bias.
    ///
    /// # Shapes
    /// - `[vocab]`
    pub lm_head_bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    pub config: LlamaConfig,
}

/// Logits and whatever the interventions captured.
#[derive(Debug)]
pub struct ForwardOutput {
    /// # Shapes
    /// - `[batch, seq, vocab]`
    pub logits: Tensor<3>,
    pub captures: Captures,
}

impl Llama {
    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.embed.val().device()
    }

    /// Token ids as a tensor on the model's device.
    ///
    /// # Shapes
    /// - `rows`: `batch` rows of equal length `seq` → `[batch, seq]`
    pub fn ids_tensor<R: AsRef<[u32]>>(&self, rows: &[R]) -> Result<Tensor<2, Int>, ModelError> {
        let seq = rows.first().map_or(0, |r| r.as_ref().len());
        if seq == 0 || rows.iter().any(|r| r.as_ref().len() != seq) {
            return Err(ModelError::Invalid(
                "token rows must be non-empty and of equal length".into(),
            ));
        }
        let vocab = self.config.vocab_size as u32;
        if let Some(bad) = rows
            .iter()
            .flat_map(|r| r.as_ref())
            .find(|&&id| id >= vocab)
        {
            return Err(ModelError::Invalid(format!(
                "token id {bad} is outside the vocabulary of {vocab}"
            )));
        }
        let flat: Vec<i64> = rows
            .iter()
            .flat_map(|r| r.as_ref())
            .map(|&id| id as i64)
            .collect();
        Ok(Tensor::from_data(
            TensorData::new(flat, [rows.len(), seq]),
            &self.device(),
        ))
    }

    /// Token embeddings.
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]` → `[batch, seq, hidden]`
    pub fn embed(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let e = embedding(self.embed.val(), ids);
        match &self.config.gemma3 {
            // HF casts sqrt(hidden) to the weights' dtype (f32) before multiplying.
            Some(_) => e * ((self.config.hidden_size as f64).sqrt() as f32),
            None => e,
        }
    }

    /// Runs blocks `layers` on hidden states whose first position is `start_pos`.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, hidden]` → same
    pub fn forward_blocks(
        &self,
        mut hidden: Tensor<3>,
        layers: std::ops::Range<usize>,
        mut cache: Option<&mut KvCache>,
        hooks: Option<&Interventions>,
        captures: &mut Captures,
    ) -> Tensor<3> {
        let [_, seq, _] = hidden.dims();
        let start_pos = cache.as_ref().map_or(0, |c| c.len());
        // GPT-J rotates adjacent pairs of a head's first `rotary_dim` dims.
        let (style, rotary_dim) = match &self.config.gptj {
            Some(g) => (RopeStyle::Interleaved, g.rotary_dim),
            None => (RopeStyle::Half, self.config.head_dim),
        };
        let tables = |theta| {
            RopeTables::with_style(style, theta, rotary_dim, start_pos, seq, &hidden.device())
        };
        let rope = tables(self.config.rope_theta);
        // Gemma-3's local layers rotate with their own base.
        let local = self
            .config
            .gemma3
            .as_ref()
            .map(|g| (g, tables(g.rope_local_theta)));
        for layer in layers {
            let rope = match &local {
                Some((g, local)) if g.is_local(layer) => local,
                _ => &rope,
            };
            hidden = self.layers[layer].forward(
                hidden,
                layer,
                rope,
                cache.as_deref_mut(),
                hooks,
                captures,
            );
        }
        hidden
    }

    /// Final norm and LM head.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, hidden]` → `[batch, seq, vocab]`
    pub fn head(&self, hidden: Tensor<3>) -> Tensor<3> {
        let [batch, seq, d] = hidden.dims();
        let h = self.norm.forward(hidden).reshape([batch * seq, d]);
        let logits = match &self.lm_head {
            Some(w) => h.matmul(w.val()),
            // A trained tied embedding gets two gradients, the lookup's `[vocab, hidden]`
            // and the head's. `h Eᵀ` would give the head's as the transposed view of a
            // `[hidden, vocab]` product, and adding the two would be a strided pass over
            // 28 M floats; `(E hᵀ)ᵀ` gives it contiguous.
            None if self.embed.val().is_require_grad() => {
                self.embed.val().matmul(h.transpose()).transpose()
            }
            None => h.matmul(self.embed.val().transpose()),
        };
        let [_, vocab] = logits.dims();
        let logits = match &self.lm_head_bias {
            Some(b) => logits + b.val().unsqueeze(),
            None => logits,
        };
        logits.reshape([batch, seq, vocab])
    }

    /// Plain forward: logits at every position.
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]` → `[batch, seq, vocab]`
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        self.forward_with(ids, None).logits
    }

    /// Forward with interventions (attribution, editing, baselines).
    ///
    /// # Shapes
    /// - `ids`: `[batch, seq]`; logits `[batch, seq, vocab]`
    pub fn forward_with(
        &self,
        ids: Tensor<2, Int>,
        hooks: Option<&Interventions>,
    ) -> ForwardOutput {
        let mut captures = Captures::new();
        let hidden = self.embed(ids);
        let hidden = self.forward_blocks(hidden, 0..self.layers.len(), None, hooks, &mut captures);
        ForwardOutput {
            logits: self.head(hidden),
            captures,
        }
    }

    /// Forward of new tokens after the cached prefix, extending the cache; logits at every
    /// new position.
    ///
    /// # Shapes
    /// - `ids`: `[batch, new]` → `[batch, new, vocab]`
    pub fn forward_cached(&self, ids: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<3> {
        self.head(self.hidden_cached(ids, cache))
    }

    /// Like [`Llama::forward_cached`] but the LM head runs on the last position only (the
    /// head is a fifth of the model's FLOPs; generation needs one row of it).
    ///
    /// # Shapes
    /// - `ids`: `[batch, new]` → `[batch, vocab]`
    pub fn forward_cached_last(&self, ids: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<2> {
        let hidden = self.hidden_cached(ids, cache);
        let [batch, new, _] = hidden.dims();
        let logits = self.head(hidden.narrow(1, new - 1, 1));
        let [_, _, vocab] = logits.dims();
        logits.reshape([batch, vocab])
    }

    /// # Shapes
    /// - `ids`: `[batch, new]` → `[batch, new, hidden]`
    fn hidden_cached(&self, ids: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<3> {
        let [_, new] = ids.dims();
        let mut captures = Captures::new();
        let hidden = self.embed(ids);
        let hidden = self.forward_blocks(
            hidden,
            0..self.layers.len(),
            Some(cache),
            None,
            &mut captures,
        );
        cache.advance(new);
        hidden
    }

    /// The same weights with autodiff enabled and every weight frozen: gradients reach only
    /// what an [`Interventions`] adds (capture probes, tracked weight deltas). This is how
    /// attribution and KNE editing run the model.
    pub fn frozen_autodiff(&self) -> Self {
        self.clone().train().no_grad()
    }

    /// The same weights with autodiff enabled and every weight trainable (full fine-tuning).
    pub fn trainable_autodiff(&self) -> Self {
        self.clone().train()
    }

    /// A fresh cache sized for this model.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    /// The linear layer at `site`, or an error naming the site (a layer past the last, or a
    /// module the architecture lacks: GPT-J has no `gate`).
    pub fn site(&self, site: Site) -> Result<&SiteLinear, ModelError> {
        let block = self.layers.get(site.layer).ok_or_else(|| {
            ModelError::UnknownSite(format!(
                "{site}: the model has {} layers",
                self.layers.len()
            ))
        })?;
        match site.module {
            ModuleKind::Q => Ok(&block.attn.q),
            ModuleKind::K => Ok(&block.attn.k),
            ModuleKind::V => Ok(&block.attn.v),
            ModuleKind::O => Ok(&block.attn.o),
            ModuleKind::Gate => block.mlp.gate.as_ref().ok_or_else(|| self.missing(site)),
            ModuleKind::Up => Ok(&block.mlp.up),
            ModuleKind::Down => Ok(&block.mlp.down),
        }
    }

    /// Mutable access to the linear layer at `site` (editors write weights through this).
    pub fn site_mut(&mut self, site: Site) -> Result<&mut SiteLinear, ModelError> {
        let n = self.layers.len();
        let block = self
            .layers
            .get_mut(site.layer)
            .ok_or_else(|| ModelError::UnknownSite(format!("{site}: the model has {n} layers")))?;
        let missing = || missing_module(&self.config, site);
        match site.module {
            ModuleKind::Q => Ok(&mut block.attn.q),
            ModuleKind::K => Ok(&mut block.attn.k),
            ModuleKind::V => Ok(&mut block.attn.v),
            ModuleKind::O => Ok(&mut block.attn.o),
            ModuleKind::Gate => block.mlp.gate.as_mut().ok_or_else(missing),
            ModuleKind::Up => Ok(&mut block.mlp.up),
            ModuleKind::Down => Ok(&mut block.mlp.down),
        }
    }

    fn missing(&self, site: Site) -> ModelError {
        missing_module(&self.config, site)
    }

    /// The module kinds each block has (GPT-J: no `gate`), in block order.
    pub fn modules(&self) -> &'static [ModuleKind] {
        self.config.modules()
    }

    /// Every site of the model, layer-major (only the modules the architecture has).
    pub fn sites(&self) -> Vec<Site> {
        (0..self.layers.len())
            .flat_map(|l| self.modules().iter().map(move |&m| Site::new(l, m)))
            .collect()
    }

    /// Number of unique parameters (the tied LM head counted once).
    pub fn parameter_count(&self) -> usize {
        self.num_params()
    }
}

/// The error for a site whose module the architecture does not have.
fn missing_module(config: &LlamaConfig, site: Site) -> ModelError {
    let have: Vec<&str> = config.modules().iter().map(|m| m.name()).collect();
    ModelError::UnknownSite(format!(
        "{site}: a {} model has no `{}` module (its sites are {})",
        config.architecture(),
        site.module,
        have.join(", ")
    ))
}
