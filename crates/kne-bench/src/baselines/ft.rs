//! FT: unconstrained fine-tuning of one MLP down projection (the paper's Appendix A.1: "the
//! 'mlp.proj' weights within layer 21" of GPT-J's 28, after Meng et al.; Adam, early stopping,
//! unconstrained). The loss is the teacher-forced target NLL (EasyEdit's `target_new`
//! objective, the one its survey calls FT-M). See [`super::finetune`] for the loop.

use kne_edit::{EditError, EditOutcome, EditRequest, Editor};
use kne_model::{LoadedModel, ModuleKind, Site};
use serde::{Deserialize, Serialize};

use super::common::{check_layers, positive};
use super::finetune::{FinetuneSpec, Objective, finetune};

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
    #[serde(default = "default_module")]
    pub module: ModuleKind,
    /// Epochs over the batch (default 25, `num_steps`).
    #[serde(default = "default_steps")]
    pub num_steps: usize,
    /// Adam learning rate (default 5e-4, `lr`).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Requests per optimiser step (default 1, `batch_size`).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

fn default_layers() -> Vec<usize> {
    vec![22]
}
fn default_module() -> ModuleKind {
    ModuleKind::Down
}
fn default_steps() -> usize {
    25
}
fn default_lr() -> f64 {
    5e-4
}
fn default_batch() -> usize {
    1
}

impl Default for FtConfig {
    fn default() -> Self {
        Self {
            layers: default_layers(),
            module: default_module(),
            num_steps: default_steps(),
            lr: default_lr(),
            batch_size: default_batch(),
        }
    }
}

impl FtConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        if self.layers.is_empty() || self.num_steps == 0 || self.batch_size == 0 {
            return Err(EditError::Config(
                "ft: layers, num_steps and batch_size must be non-empty/positive".into(),
            ));
        }
        positive("ft: lr", self.lr)
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
        let layers = check_layers(&model.model, &self.config.layers, "ft")?;
        let spec = FinetuneSpec {
            sites: layers
                .iter()
                .map(|&l| Site::new(l, self.config.module))
                .collect(),
            objective: Objective::TargetNew,
            num_steps: self.config.num_steps,
            lr: self.config.lr,
            batch_size: self.config.batch_size,
            norm_constraint: None,
        };
        finetune(model, requests, &spec)
    }
}
