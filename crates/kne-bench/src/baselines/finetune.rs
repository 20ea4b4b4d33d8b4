//! The fine-tuning loop FT and FT-L share (EasyEdit `easyeditor/models/ft/ft_main.py`).
//!
//! The weights of the chosen sites are trained through the hook: a zero `ΔW` `[d_in, d_out]`
//! per site, tracked by autodiff, is added to the frozen weight, so Adam on `ΔW` is Adam on
//! `W` (same gradient, same moments) while the model itself never changes. Per epoch
//! (`num_steps` of them) the requests are taken in chunks of `batch_size`; a chunk whose
//! loss is below 1e-2 is not stepped; training stops once the epoch's mean loss is below
//! 1e-2. With a norm constraint `ε`, `ΔW` is clamped to `[-ε, ε]` element-wise after every
//! step (EasyEdit clamps `W` to `W₀ ± ε`). Only the blocks from the lowest edited layer up run
//! per step; the hidden states entering it are computed once per chunk.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use kne_edit::loss::TargetBatch;
use kne_edit::{
    EditError, EditOutcome, EditRequest, EditStats, TokenizedRequest, WeightDelta, require_requests,
};
use kne_model::{Interventions, Llama, LoadedModel, ModuleKind, Site};

use super::common::{check_layers, dense_delta, mean_nll, positive, set_param, to_vec, torch_adam};

/// EasyEdit's threshold: no step for a chunk below it, stop when the epoch mean is below it.
pub const FT_EARLY_STOP: f32 = 1e-2;

/// What the loss is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// `target_new` (EasyEdit's FT-M): teacher-forced NLL of every target token given the
    /// prompt and the target tokens before it; per request the mean over its tokens, then
    /// the mean over requests.
    TargetNew,
    /// `prompt_last` (EasyEdit's FT-L, from the ROME paper): the model reads the prompt only,
    /// and the loss is the mean over the target tokens of their NLL at the prompt's last
    /// position; then the mean over requests.
    PromptLast,
}

/// Settings of one fine-tuning run.
#[derive(Debug, Clone)]
pub struct FinetuneSpec {
    pub sites: Vec<Site>,
    pub objective: Objective,
    pub num_steps: usize,
    pub lr: f64,
    pub batch_size: usize,
    pub norm_constraint: Option<f32>,
}

/// The defaults FT and FT-L share (EasyEdit `hparams/FT/llama-7b.yaml`). Their configs list
/// the shared fields one by one: serde's `flatten` does not work with `deny_unknown_fields`.
pub mod defaults {
    use kne_model::ModuleKind;

    /// `rewrite_module_tmp: model.layers.{}.mlp.down_proj`.
    pub fn module() -> ModuleKind {
        ModuleKind::Down
    }
    /// `num_steps`.
    pub fn num_steps() -> usize {
        25
    }
    /// `lr`.
    pub fn lr() -> f64 {
        5e-4
    }
    /// `batch_size`.
    pub fn batch_size() -> usize {
        1
    }
}

/// Checks the settings FT and FT-L share; `what` names the method in the message.
pub fn validate_shared(
    what: &str,
    layers: &[usize],
    num_steps: usize,
    batch_size: usize,
    lr: f64,
) -> Result<(), EditError> {
    if layers.is_empty() || num_steps == 0 || batch_size == 0 {
        return Err(EditError::Config(format!(
            "{what}: layers, num_steps and batch_size must be non-empty/positive"
        )));
    }
    positive(&format!("{what}: lr"), lr)
}

/// The sites `module` of `layers`, checked against the model (`what` names the method).
pub fn module_sites(
    model: &Llama,
    layers: &[usize],
    module: ModuleKind,
    what: &str,
) -> Result<Vec<Site>, EditError> {
    let layers = check_layers(model, layers, what)?;
    Ok(layers.iter().map(|&l| Site::new(l, module)).collect())
}

#[derive(Module, Debug)]
struct SiteDeltas {
    deltas: Vec<Param<Tensor<2>>>,
}

/// The loss batch of a chunk under `objective`.
fn loss_batch(
    model: &Llama,
    tokenized: &[TokenizedRequest],
    objective: Objective,
) -> Result<TargetBatch, EditError> {
    match objective {
        Objective::TargetNew => TargetBatch::new(model, tokenized),
        Objective::PromptLast => {
            let seq = tokenized
                .iter()
                .map(|r| r.prompt_ids.len())
                .max()
                .unwrap_or(0);
            let batch = tokenized.len();
            let (mut rows, mut positions, mut targets, mut weights) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (b, r) in tokenized.iter().enumerate() {
                let mut row = r.prompt_ids.clone();
                row.resize(seq, 0);
                rows.push(row);
                for &t in &r.target_ids {
                    positions.push((b * seq + r.prompt_ids.len() - 1) as i64);
                    targets.push(t as i64);
                    weights.push(1.0 / (batch * r.target_ids.len()) as f32);
                }
            }
            let device = model.device();
            let n = positions.len();
            Ok(TargetBatch {
                ids: model.ids_tensor(&rows)?,
                positions: Tensor::from_data(TensorData::new(positions, [n]), &device),
                targets: Tensor::from_data(TensorData::new(targets, [n, 1]), &device),
                weights: Tensor::from_data(TensorData::new(weights, [n]), &device),
            })
        }
    }
}

/// Fine-tunes `spec.sites` on `requests`; returns their dense deltas.
pub fn finetune(
    model: &LoadedModel,
    requests: &[EditRequest],
    spec: &FinetuneSpec,
) -> Result<EditOutcome, EditError> {
    let start = Instant::now();
    require_requests(requests)?;
    let tokenized = TokenizedRequest::all(&model.tokenizer, requests)?;
    let tracked = model.model.frozen_autodiff();
    let device = tracked.device();
    let mut dims = Vec::new();
    for site in &spec.sites {
        dims.push(tracked.site(*site)?.dims());
    }
    let mut module = SiteDeltas {
        deltas: dims
            .iter()
            .map(|&d| Param::from_tensor(Tensor::<2>::zeros(d, &device)))
            .collect(),
    };
    let lowest = spec.sites.iter().map(|s| s.layer).min().unwrap_or(0);
    let chunks: Vec<(TargetBatch, Tensor<3>)> = tokenized
        .chunks(spec.batch_size.max(1))
        .map(|c| {
            let batch = loss_batch(&tracked, c, spec.objective)?;
            let prefix = batch.hidden_at(&tracked, lowest);
            Ok((batch, prefix))
        })
        .collect::<Result<_, EditError>>()?;
    let hooks = |m: &SiteDeltas| {
        let mut h = Interventions::new();
        for (site, d) in spec.sites.iter().zip(&m.deltas) {
            h = h.add_weight_delta(*site, d.val());
        }
        h
    };
    let mut optim = torch_adam().init();
    let mut stats = EditStats::default();
    let mut step = 0;
    for _epoch in 0..spec.num_steps {
        let mut sum = 0.0f32;
        let mut count = 0usize;
        for (batch, prefix) in &chunks {
            let loss = batch.nll_from(&tracked, prefix.clone(), lowest, Some(&hooks(&module)));
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                return Err(EditError::NonFinite { step, loss: value });
            }
            stats.initial_loss.get_or_insert(value);
            let rows = batch.ids.dims()[0];
            sum += value * rows as f32;
            count += rows;
            if value >= FT_EARLY_STOP {
                let grads = GradientsParams::from_grads(loss.backward(), &module);
                module = optim.step(spec.lr, module, grads);
                step += 1;
                if let Some(eps) = spec.norm_constraint {
                    module.deltas = module
                        .deltas
                        .into_iter()
                        .map(|p| set_param(p, |t| t.clamp(-eps, eps)))
                        .collect();
                }
            }
        }
        stats.final_loss = Some(sum / count as f32);
        if sum / (count as f32) < FT_EARLY_STOP {
            break;
        }
    }
    stats.steps = step;
    // The loss after the last update, for the record.
    if step > 0 {
        stats.final_loss = mean_nll(&tracked, &chunks, lowest, &hooks(&module));
    }
    let mut delta = WeightDelta::default();
    for (site, d) in spec.sites.iter().zip(&module.deltas) {
        let values = to_vec(d.val().inner())?;
        delta
            .sites
            .insert(*site, dense_delta(&model.model, *site, values)?);
    }
    stats.changed_parameters = delta.changed_parameters();
    stats.wall_seconds = start.elapsed().as_secs_f64();
    Ok(EditOutcome { delta, stats })
}
