//! FT: unconstrained fine-tuning of one MLP down projection (the paper's Appendix A.1: "the
//! 'mlp.proj' weights within layer 21" of GPT-J's 28, after Meng et al.; Adam, early stopping,
//! unconstrained). The loss is the teacher-forced target NLL (EasyEdit's `target_new`
//! objective, the one its survey calls FT-M). See [`super::finetune`] for the loop.

use kne_edit::{EditError, EditOutcome, EditRequest, Editor};
use kne_model::{LoadedModel, ModuleKind};
use serde::{Deserialize, Serialize};

use super::finetune::{FinetuneSpec, Objective, defaults, finetune, module_sites, validate_shared};

/// FT's hyper-parameters (EasyEdit `hparams/FT/llama-7b.yaml`, `norm_constraint: false`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FtConfig {
    /// Fine-tuned layers (default `[22]`: the paper's layer 21 of GPT-J's 28 is 3/4 depth,
    /// 0.75 · 30 = 22.5 → 22).
    #[serde(default = "default_layers")]
    pub layers: Vec<usize>,
    /// The module fine-tuned in each layer (default `down`, `rewrite_module_tmp:
    /// model.layers.{}.mlp.down_proj`).
    #[serde(default = "defaults::module")]
    pub module: ModuleKind,
    /// Epochs over the batch (default 25, `num_steps`).
    #[serde(default = "defaults::num_steps")]
    pub num_steps: usize,
    /// Adam learning rate (default 5e-4, `lr`).
    #[serde(default = "defaults::lr")]
    pub lr: f64,
    /// Requests per optimiser step (default 1, `batch_size`).
    #[serde(default = "defaults::batch_size")]
    pub batch_size: usize,
}

fn default_layers() -> Vec<usize> {
    vec![22]
}

impl Default for FtConfig {
    fn default() -> Self {
        Self {
            layers: default_layers(),
            module: defaults::module(),
            num_steps: defaults::num_steps(),
            lr: defaults::lr(),
            batch_size: defaults::batch_size(),
        }
    }
}

impl FtConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        validate_shared("ft", &self.layers, self.num_steps, self.batch_size, self.lr)
    }
}

/// The FT editor.
#[derive(Debug, Clone)]
pub struct FtEditor {
    pub config: FtConfig,
}

impl FtEditor {
    pub fn new(config: FtConfig) -> Result<Self, EditError> {
        config.validate()?;
        Ok(Self { config })
    }
}

impl Editor for FtEditor {
    fn name(&self) -> &str {
        "ft"
    }

    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let config = &self.config;
        let spec = FinetuneSpec {
            sites: module_sites(&model.model, &config.layers, config.module, "ft")?,
            objective: Objective::TargetNew,
            num_steps: config.num_steps,
            lr: config.lr,
            batch_size: config.batch_size,
            norm_constraint: None,
        };
        finetune(model, requests, &spec)
    }
}
