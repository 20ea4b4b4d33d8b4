//! AdaLoRA (Zhang et al. 2023) as EasyEdit runs it (`easyeditor/models/lora/lora_main.py`
//! with `lora_type: adalora`, i.e. peft's `AdaLoraConfig`), merged into dense deltas.
//!
//! Every chosen site gets an SVD-form adapter `ΔW = P Λ Q · α / r` (peft's `SVDLinear`:
//! `lora_B` `[d_out, r]` = P, `lora_E` `[r, 1]` = Λ, `lora_A` `[r, d_in]` = Q, scaling
//! `lora_alpha / ranknum`; in burn layout `ΔW = (Q ∘ Λ)ᵀ Pᵀ · α / r`), `P, Q ~ N(0, 0.02²)`,
//! `Λ = 0`. The loss is the target NLL plus peft's orthogonality regulariser
//! `orth_reg_weight · mean over all P, Q of ‖PᵀP − I‖_F, ‖QQᵀ − I‖_F`; Adam on `P, Λ, Q`.
//!
//! Rank allocation (peft's `RankAllocator`): after each step the importance of every adapter
//! weight, `|w · ∂L/∂w|`, is smoothed (`Ī ← β₁ Ī + (1−β₁) I`) and its uncertainty tracked
//! (`Ū ← β₂ Ū + (1−β₂) |I − Ī|`); a triplet `(Pᵢ, Λᵢ, Qᵢ)` scores `s(Λᵢ) + mean s(Qᵢ·) +
//! mean s(P·ᵢ)` with `s = Ī Ū`. The total rank budget falls from `init_r · sites` to
//! `target_r · sites` on peft's cubic schedule (warm-up `tinit`, final `tfinal` steps, every
//! `delta_t` steps), and the singular values of the lowest-scoring triplets (across all sites)
//! are set to zero. After the last step the budget is exactly the target.
//!
//! Simplifications: no dropout on the adapter input (EasyEdit: 0.1; the merged delta is what
//! is evaluated, and determinism is worth more here); the adapters are merged into a dense
//! `ΔW` per site at the end (pruned triplets contribute zero); EasyEdit never calls peft's
//! `update_and_allocate`, so its AdaLoRA keeps all 12 ranks — `rank_allocation = false`
//! reproduces that.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use kne_edit::loss::TargetBatch;
use kne_edit::{
    EditError, EditOutcome, EditRequest, EditStats, Editor, TokenizedRequest, WeightDelta,
    require_requests,
};
use kne_model::{Interventions, LoadedModel, ModuleKind, Site};
use serde::{Deserialize, Serialize};

use super::common::{
    check_layers, dense_delta, from_vec, mean_nll, non_negative, positive, set_param, to_vec,
    torch_adam,
};
use super::rng::SplitMix64;

/// AdaLoRA's hyper-parameters (EasyEdit `hparams/LoRA/llama-7b.yaml`, peft's AdaLoRA defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaLoraConfig {
    /// Layers with adapters; empty = all (default `[]`, EasyEdit `layers: []`).
    #[serde(default)]
    pub layers: Vec<usize>,
    /// Modules with adapters (default `["q", "v"]`, `target_modules: [q_proj, v_proj]`).
    #[serde(default = "default_modules")]
    pub target_modules: Vec<ModuleKind>,
    /// Initial rank per adapter (default 12, peft `init_r`; EasyEdit's `rank: 8` is `r`,
    /// which AdaLoRA ignores).
    #[serde(default = "default_init_r")]
    pub init_r: usize,
    /// Mean rank per adapter after allocation (default 8, peft `target_r`).
    #[serde(default = "default_target_r")]
    pub target_r: usize,
    /// `lora_alpha` (default 32); the adapter is scaled by `lora_alpha / init_r`.
    #[serde(default = "default_alpha")]
    pub lora_alpha: f32,
    /// Epochs over the batch (default 70, `num_steps`; no early stop, as in EasyEdit).
    #[serde(default = "default_steps")]
    pub num_steps: usize,
    /// Adam learning rate (default 5e-3, `lr`).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Requests per optimiser step (default 1, `batch_size`).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Prune ranks by importance (default true; false = EasyEdit's behaviour, all ranks kept).
    #[serde(default = "default_true")]
    pub rank_allocation: bool,
    /// Warm-up steps before pruning (default 0, peft `tinit`).
    #[serde(default)]
    pub tinit: usize,
    /// Final steps at the target budget (default 0, peft `tfinal`).
    #[serde(default)]
    pub tfinal: usize,
    /// Steps between two allocations (default 1, peft `deltaT`).
    #[serde(default = "default_delta_t")]
    pub delta_t: usize,
    /// EMA factor of the importance (default 0.85, peft `beta1`).
    #[serde(default = "default_beta")]
    pub beta1: f32,
    /// EMA factor of the uncertainty (default 0.85, peft `beta2`).
    #[serde(default = "default_beta")]
    pub beta2: f32,
    /// Weight of the orthogonality regulariser (default 0.5, peft `orth_reg_weight`).
    #[serde(default = "default_orth")]
    pub orth_reg_weight: f32,
    /// Standard deviation of the initial `P`, `Q` (default 0.02, peft).
    #[serde(default = "default_std")]
    pub init_std: f32,
    /// Seed of the initialisation (default 0).
    #[serde(default)]
    pub seed: u64,
}

fn default_modules() -> Vec<ModuleKind> {
    vec![ModuleKind::Q, ModuleKind::V]
}
fn default_init_r() -> usize {
    12
}
fn default_target_r() -> usize {
    8
}
fn default_alpha() -> f32 {
    32.0
}
fn default_steps() -> usize {
    70
}
fn default_lr() -> f64 {
    5e-3
}
fn default_batch() -> usize {
    1
}
fn default_true() -> bool {
    true
}
fn default_delta_t() -> usize {
    1
}
fn default_beta() -> f32 {
    0.85
}
fn default_orth() -> f32 {
    0.5
}
fn default_std() -> f32 {
    0.02
}

impl Default for AdaLoraConfig {
    fn default() -> Self {
        Self {
            layers: Vec::new(),
            target_modules: default_modules(),
            init_r: default_init_r(),
            target_r: default_target_r(),
            lora_alpha: default_alpha(),
            num_steps: default_steps(),
            lr: default_lr(),
            batch_size: default_batch(),
            rank_allocation: true,
            tinit: 0,
            tfinal: 0,
            delta_t: default_delta_t(),
            beta1: default_beta(),
            beta2: default_beta(),
            orth_reg_weight: default_orth(),
            init_std: default_std(),
            seed: 0,
        }
    }
}

impl AdaLoraConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        let bad = |m: &str| Err(EditError::Config(format!("adalora: {m}")));
        if self.target_modules.is_empty() {
            return bad("target_modules must not be empty");
        }
        if self.init_r == 0 || self.target_r == 0 || self.target_r > self.init_r {
            return bad("need 0 < target_r ≤ init_r");
        }
        if self.num_steps == 0 || self.batch_size == 0 || self.delta_t == 0 {
            return bad("num_steps, batch_size and delta_t must be positive");
        }
        if !(self.beta1 > 0.0 && self.beta1 < 1.0 && self.beta2 > 0.0 && self.beta2 < 1.0) {
            return bad("beta1 and beta2 must lie in (0, 1)");
        }
        positive("adalora: lr", self.lr)?;
        positive("adalora: lora_alpha", self.lora_alpha as f64)?;
        positive("adalora: init_std", self.init_std as f64)?;
        non_negative("adalora: orth_reg_weight", self.orth_reg_weight as f64)
    }

    /// peft's `budget_schedule`: the total rank budget at `step` and whether to mask now.
    pub fn budget(
        &self,
        step: usize,
        total_steps: usize,
        init_budget: usize,
        target_budget: usize,
    ) -> (usize, bool) {
        if step <= self.tinit {
            (init_budget, false)
        } else if step + self.tfinal > total_steps {
            (target_budget, true)
        } else {
            let span = total_steps.saturating_sub(self.tfinal + self.tinit).max(1) as f64;
            let mul = 1.0 - (step - self.tinit) as f64 / span;
            let budget = ((init_budget - target_budget) as f64 * mul.powi(3) + target_budget as f64)
                as usize;
            (budget, step.is_multiple_of(self.delta_t))
        }
    }
}

#[derive(Module, Debug)]
struct Adapters {
    /// `Q`, `[r, d_in]` per site.
    a: Vec<Param<Tensor<2>>>,
    /// `Λ`, `[r, 1]` per site.
    e: Vec<Param<Tensor<2>>>,
    /// `P`, `[d_out, r]` per site.
    b: Vec<Param<Tensor<2>>>,
}

/// Importance EMAs of one parameter tensor.
#[derive(Debug, Clone)]
struct Importance {
    ipt: Vec<f32>,
    unc: Vec<f32>,
}

impl Importance {
    fn new(n: usize) -> Self {
        Self {
            ipt: vec![0.0; n],
            unc: vec![0.0; n],
        }
    }

    fn update(&mut self, w: &[f32], g: &[f32], beta1: f32, beta2: f32) {
        for (((ipt, unc), w), g) in self.ipt.iter_mut().zip(&mut self.unc).zip(w).zip(g) {
            let i = (w * g).abs();
            *ipt = beta1 * *ipt + (1.0 - beta1) * i;
            *unc = beta2 * *unc + (1.0 - beta2) * (i - *ipt).abs();
        }
    }

    fn score(&self, i: usize) -> f32 {
        self.ipt[i] * self.unc[i]
    }
}

/// The AdaLoRA editor.
#[derive(Debug, Clone)]
pub struct AdaLoraEditor {
    pub config: AdaLoraConfig,
    /// The rank each site kept in the last edit (non-zero singular values).
    pub ranks: Vec<(Site, usize)>,
}

impl AdaLoraEditor {
    pub fn new(config: AdaLoraConfig) -> Result<Self, EditError> {
        config.validate()?;
        Ok(Self {
            config,
            ranks: Vec::new(),
        })
    }

    /// The sites with adapters on `model`.
    pub fn sites(&self, model: &LoadedModel) -> Result<Vec<Site>, EditError> {
        let layers = if self.config.layers.is_empty() {
            (0..model.model.layers.len()).collect()
        } else {
            check_layers(&model.model, &self.config.layers, "adalora")?
        };
        let mut modules = self.config.target_modules.clone();
        modules.sort();
        modules.dedup();
        Ok(layers
            .iter()
            .flat_map(|&l| modules.iter().map(move |&m| Site::new(l, m)))
            .collect())
    }

    fn scale(&self) -> f32 {
        self.config.lora_alpha / (self.config.init_r as f32 + 1e-5)
    }
}

fn grad_vec(p: &Param<Tensor<2>>, grads: &burn::tensor::Gradients) -> Result<Vec<f32>, EditError> {
    match p.val().grad(grads) {
        Some(g) => to_vec(g),
        None => Ok(vec![0.0; p.val().dims().iter().product()]),
    }
}

impl Editor for AdaLoraEditor {
    fn name(&self) -> &str {
        "adalora"
    }

    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let start = Instant::now();
        require_requests(requests)?;
        let cfg = self.config.clone();
        let r = cfg.init_r;
        let sites = self.sites(model)?;
        let tokenized = TokenizedRequest::all(&model.tokenizer, requests)?;
        let tracked = model.model.frozen_autodiff();
        let device = tracked.device();
        let mut rng = SplitMix64::new(cfg.seed);
        let mut normal = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.next_normal() * cfg.init_std as f64) as f32)
                .collect()
        };
        let mut dims = Vec::new();
        let (mut a, mut e, mut b) = (Vec::new(), Vec::new(), Vec::new());
        for site in &sites {
            let [d_in, d_out] = tracked.site(*site)?.dims();
            dims.push([d_in, d_out]);
            a.push(Param::from_tensor(from_vec(
                normal(r * d_in),
                [r, d_in],
                &device,
            )));
            e.push(Param::from_tensor(Tensor::<2>::zeros([r, 1], &device)));
            b.push(Param::from_tensor(from_vec(
                normal(d_out * r),
                [d_out, r],
                &device,
            )));
        }
        let mut module = Adapters { a, e, b };
        let scale = self.scale();
        let hooks = |m: &Adapters| {
            let mut h = Interventions::new();
            for (i, site) in sites.iter().enumerate() {
                let delta = (m.a[i].val() * m.e[i].val())
                    .transpose()
                    .matmul(m.b[i].val().transpose())
                    .mul_scalar(scale);
                h = h.add_weight_delta(*site, delta);
            }
            h
        };
        let orth = |m: &Adapters| -> Tensor<1> {
            let eye = Tensor::<2>::eye(r, &device);
            let mut total: Option<Tensor<1>> = None;
            for (qa, pb) in m.a.iter().zip(&m.b) {
                let qa = qa.val();
                let pb = pb.val();
                for gram in [
                    qa.clone().matmul(qa.transpose()),
                    pb.clone().transpose().matmul(pb),
                ] {
                    let f = (gram - eye.clone()).square().sum().sqrt();
                    total = Some(match total {
                        Some(t) => t + f,
                        None => f,
                    });
                }
            }
            total
                .expect("at least one site")
                .div_scalar((2 * sites.len()) as f32)
        };

        let lowest = sites.iter().map(|s| s.layer).min().unwrap_or(0);
        let chunks: Vec<(TargetBatch, Tensor<3>)> = tokenized
            .chunks(cfg.batch_size)
            .map(|c| {
                let batch = TargetBatch::new(&tracked, c)?;
                let prefix = batch.hidden_at(&tracked, lowest);
                Ok((batch, prefix))
            })
            .collect::<Result<_, EditError>>()?;
        let total_steps = cfg.num_steps * chunks.len();
        let init_budget = r * sites.len();
        let target_budget = cfg.target_r * sites.len();
        let mut imp: Vec<[Importance; 3]> = dims
            .iter()
            .map(|[d_in, d_out]| {
                [
                    Importance::new(r * d_in),
                    Importance::new(r),
                    Importance::new(d_out * r),
                ]
            })
            .collect();
        let mut optim = torch_adam().init();
        let mut stats = EditStats::default();
        let mut step = 0usize;
        let mut last_nll = f32::NAN;
        let mut final_keep: Option<Vec<Vec<f32>>> = None;
        for _epoch in 0..cfg.num_steps {
            for (batch, prefix) in &chunks {
                let nll = batch.nll_from(&tracked, prefix.clone(), lowest, Some(&hooks(&module)));
                let loss = nll.clone() + orth(&module).mul_scalar(cfg.orth_reg_weight);
                let nll_value = nll.into_scalar::<f32>();
                let value = loss.clone().into_scalar::<f32>();
                if !value.is_finite() {
                    return Err(EditError::NonFinite { step, loss: value });
                }
                stats.initial_loss.get_or_insert(nll_value);
                last_nll = nll_value;
                let grads = loss.backward();
                let allocate = cfg.rank_allocation && step + cfg.tfinal < total_steps;
                let raw: Option<Vec<[Vec<f32>; 3]>> = if allocate {
                    Some(
                        (0..sites.len())
                            .map(|i| {
                                Ok([
                                    grad_vec(&module.a[i], &grads)?,
                                    grad_vec(&module.e[i], &grads)?,
                                    grad_vec(&module.b[i], &grads)?,
                                ])
                            })
                            .collect::<Result<_, EditError>>()?,
                    )
                } else {
                    None
                };
                let gp = GradientsParams::from_grads(grads, &module);
                module = optim.step(cfg.lr, module, gp);
                if let Some(raw) = raw {
                    // peft: the importance of the updated weights with the step's gradients.
                    for (i, g) in raw.iter().enumerate() {
                        let w = [
                            to_vec(module.a[i].val().inner())?,
                            to_vec(module.e[i].val().inner())?,
                            to_vec(module.b[i].val().inner())?,
                        ];
                        for k in 0..3 {
                            imp[i][k].update(&w[k], &g[k], cfg.beta1, cfg.beta2);
                        }
                    }
                    let (budget, mask_now) =
                        cfg.budget(step, total_steps, init_budget, target_budget);
                    if mask_now
                        && let Some(keep) =
                            keep_masks(&imp, &dims, r, init_budget - budget.min(init_budget))
                    {
                        module = apply_masks(module, &keep);
                    }
                } else if cfg.rank_allocation && step + cfg.tfinal == total_steps {
                    // Start of the final phase: fix the pattern at the target budget.
                    final_keep = keep_masks(&imp, &dims, r, init_budget - target_budget);
                    if let Some(keep) = &final_keep {
                        module = apply_masks(module, keep);
                    }
                } else if let Some(keep) = &final_keep {
                    module = apply_masks(module, keep);
                }
                step += 1;
            }
        }
        if cfg.rank_allocation {
            // The budget after training is exactly the target.
            if final_keep.is_none() {
                final_keep = keep_masks(&imp, &dims, r, init_budget - target_budget);
            }
            if let Some(keep) = &final_keep {
                module = apply_masks(module, keep);
            }
        }
        stats.steps = step;
        let after = mean_nll(&tracked, &chunks, lowest, &hooks(&module));
        stats.final_loss = Some(after.unwrap_or(last_nll));
        self.ranks = Vec::with_capacity(sites.len());
        for (i, site) in sites.iter().enumerate() {
            let e = to_vec(module.e[i].val().inner())?;
            self.ranks
                .push((*site, e.iter().filter(|&&x| x != 0.0).count()));
        }
        let mut delta = WeightDelta::default();
        for (i, site) in sites.iter().enumerate() {
            let merged = (module.a[i].val().inner() * module.e[i].val().inner())
                .transpose()
                .matmul(module.b[i].val().inner().transpose())
                .mul_scalar(scale);
            delta
                .sites
                .insert(*site, dense_delta(&model.model, *site, to_vec(merged)?)?);
        }
        stats.changed_parameters = delta.changed_parameters();
        stats.wall_seconds = start.elapsed().as_secs_f64();
        Ok(EditOutcome { delta, stats })
    }
}

/// Which triplets survive a pruning of the `prune` lowest-scoring ones over all sites (1 =
/// kept, 0 = pruned; ties at the threshold are pruned too, as in peft). `None` when nothing
/// is pruned.
fn keep_masks(
    imp: &[[Importance; 3]],
    dims: &[[usize; 2]],
    r: usize,
    prune: usize,
) -> Option<Vec<Vec<f32>>> {
    if prune == 0 {
        return None;
    }
    let scores: Vec<Vec<f32>> = imp
        .iter()
        .zip(dims)
        .map(|([ia, ie, ib], [d_in, d_out])| {
            (0..r)
                .map(|t| {
                    let a = (0..*d_in).map(|j| ia.score(t * d_in + j)).sum::<f32>() / *d_in as f32;
                    let b = (0..*d_out).map(|k| ib.score(k * r + t)).sum::<f32>() / *d_out as f32;
                    ie.score(t) + a + b
                })
                .collect()
        })
        .collect();
    let mut all: Vec<f32> = scores.iter().flatten().copied().collect();
    all.sort_by(f32::total_cmp);
    let threshold = all[(prune - 1).min(all.len() - 1)];
    Some(
        scores
            .iter()
            .map(|s| {
                s.iter()
                    .map(|&x| if x <= threshold { 0.0 } else { 1.0 })
                    .collect()
            })
            .collect(),
    )
}

/// Multiplies every site's singular values by its keep mask (Adam's moments are kept).
fn apply_masks(mut module: Adapters, keep: &[Vec<f32>]) -> Adapters {
    let device = module.e[0].val().device();
    module.e = module
        .e
        .into_iter()
        .zip(keep)
        .map(|(p, k)| {
            let k = from_vec(k.clone(), [k.len(), 1], &device).inner();
            set_param(p, |t| t * k)
        })
        .collect();
    module
}
