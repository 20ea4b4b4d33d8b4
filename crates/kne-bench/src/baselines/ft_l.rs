//! FT-L as EasyEdit defines it (`easyeditor/models/ft/ft_main.py` with
//! `objective_optimization: prompt_last`, which its survey reports as FT-L; the objective of
//! the ROME paper's FT-L baseline): fine-tuning of one MLP down projection where the model
//! reads the prompt only and the loss is the NLL of the target tokens at the prompt's last
//! position, with EasyEdit's `norm_constraint`: after every Adam step the change is clamped
//! element-wise to `[-ε, ε]` (an L∞ ball around the original weight). See
//! [`super::finetune`] for the loop.

use kne_edit::{EditError, EditOutcome, EditRequest, Editor};
use kne_model::{LoadedModel, ModuleKind};
use serde::{Deserialize, Serialize};

use super::common::positive;
use super::finetune::{FinetuneSpec, Objective, defaults, finetune, module_sites, validate_shared};

/// FT-L's hyper-parameters (EasyEdit `hparams/FT/llama-7b.yaml` with `prompt_last`; the
/// constraint from EasyEdit/ROME's constrained FT files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FtLConfig {
    /// Fine-tuned layers (default `[20]`: EasyEdit's layer 21 of Llama-2's 32 scaled,
    /// 21 · 30/32 = 19.7 → 20).
    #[serde(default = "default_layers")]
    pub layers: Vec<usize>,
    /// The module fine-tuned in each layer (default `down`).
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
    /// `ε` of the L∞ clamp on the change, or `false` for none (EasyEdit's llama-7b file,
    /// the `easyedit` preset). Default 5e-3: the 5e-4 of EasyEdit's and ROME's constrained
    /// FT config for GPT-2 XL, `gpt2-xl_constr.json`, does not move SmolLM2 (BASELINES.md).
    #[serde(default = "default_eps")]
    pub norm_constraint: NormConstraint,
}

/// FT-L's `norm_constraint` as EasyEdit spells it: a number `ε`, or `false` for none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NormConstraint {
    /// Clamp every entry of the change to `[-ε, ε]`.
    Epsilon(f32),
    /// `false`: unconstrained (`true` is refused: it says nothing about ε).
    Enabled(bool),
}

impl NormConstraint {
    /// ε, or `None` when unconstrained.
    pub fn epsilon(self) -> Option<f32> {
        match self {
            NormConstraint::Epsilon(eps) => Some(eps),
            NormConstraint::Enabled(_) => None,
        }
    }
}

fn default_layers() -> Vec<usize> {
    vec![20]
}
fn default_eps() -> NormConstraint {
    NormConstraint::Epsilon(5e-3)
}

impl Default for FtLConfig {
    fn default() -> Self {
        Self {
            layers: default_layers(),
            module: defaults::module(),
            num_steps: defaults::num_steps(),
            lr: defaults::lr(),
            batch_size: defaults::batch_size(),
            norm_constraint: default_eps(),
        }
    }
}

impl FtLConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        validate_shared(
            "ft-l",
            &self.layers,
            self.num_steps,
            self.batch_size,
            self.lr,
        )?;
        match self.norm_constraint {
            NormConstraint::Epsilon(eps) => positive("ft-l: norm_constraint", eps as f64),
            NormConstraint::Enabled(false) => Ok(()),
            NormConstraint::Enabled(true) => Err(EditError::Config(
                "ft-l: norm_constraint = true names no ε; give a number or false".into(),
            )),
        }
    }
}

/// The FT-L editor.
#[derive(Debug, Clone)]
pub struct FtLEditor {
    pub config: FtLConfig,
}

impl FtLEditor {
    pub fn new(config: FtLConfig) -> Result<Self, EditError> {
        config.validate()?;
        Ok(Self { config })
    }
}

impl Editor for FtLEditor {
    fn name(&self) -> &str {
        "ft-l"
    }

    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let config = &self.config;
        let spec = FinetuneSpec {
            sites: module_sites(&model.model, &config.layers, config.module, "ft-l")?,
            objective: Objective::PromptLast,
            num_steps: config.num_steps,
            lr: config.lr,
            batch_size: config.batch_size,
            norm_constraint: config.norm_constraint.epsilon(),
        };
        finetune(model, requests, &spec)
    }
}
