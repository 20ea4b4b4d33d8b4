//! ROME (Meng et al. 2022): a rank-one update of one MLP down projection.
//!
//! For a request, at the down projection of `layer` (burn layout `W` `[d_in, d_out]`,
//! `y = k W`):
//! 1. `k̄`: the mean over the context templates (the bare prompt and the sampled prefixes) of
//!    the key at the subject's last token; `u = C⁻¹ k̄` with `C = E[k kᵀ]` over WikiText
//!    (`mom2_adjustment`), else `u = k̄` (EasyEdit `compute_u.py`).
//! 2. `v* = v_init + δ` by the value optimisation of [`super::kv`] with `δ` at the MLP output
//!    (EasyEdit `compute_v.py`).
//! 3. With `k*` and `W k*` the key and the down output at the bare prompt's subject token,
//!    `ΔW = u (v* − k*ᵀW)ᵀ / (k*ᵀ u)` (PyTorch layout: `(v* − W k*) uᵀ / (uᵀ k*)`), so that
//!    `k*ᵀ (W + ΔW) = v*` exactly, and with `mom2_adjustment`
//!    `ΔW = C⁻¹k̄ (v* − k*ᵀW)ᵀ / (k*ᵀ C⁻¹ k̄)`: the paper's closed form with its `k*` split, as
//!    the reference code does, into the context-averaged `k̄` (direction) and the bare
//!    prompt's `k*` (the constraint).
//!
//! A batch of several requests is written one after the other, each computed on the model
//! with the previous ones applied (ROME edits one fact at a time; EasyEdit's
//! `apply_rome_to_model` takes only the first request of a batch).

use std::collections::BTreeMap;
use std::time::Instant;

use kne_edit::{
    EditError, EditOutcome, EditRequest, EditStats, Editor, WeightDelta, require_requests,
};
use kne_model::{LoadedModel, ModuleKind, Site};
use serde::{Deserialize, Serialize};

use super::common::{check_layers, dense_delta};
use super::context::ContextPrefixes;
use super::kv::{
    ValueAt, ValueConfig, ValueRows, delta_hooks, key_rows, mean_f64, optimize_value, probe,
    value_defaults,
};
use super::linalg::dot;
use super::stats::{Mom2Config, second_moments};

/// ROME's hyper-parameters (EasyEdit `hparams/ROME/llama-7b.yaml`, scaled to 30 layers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RomeConfig {
    /// Edited layer (default 5: EasyEdit's layer 5 of Llama-2's 32, 5/32 · 30 = 4.7 → 5).
    #[serde(default = "default_layer")]
    pub layer: usize,
    /// Adam steps on `δ` (default 25, `v_num_grad_steps`).
    #[serde(default = "value_defaults::steps")]
    pub v_num_grad_steps: usize,
    /// Adam learning rate on `δ` (default 0.5, `v_lr`).
    #[serde(default = "value_defaults::lr")]
    pub v_lr: f64,
    /// Weight of `‖δ‖ / ‖v_init‖²` (default 1e-3, `v_weight_decay`).
    #[serde(default = "value_defaults::weight_decay")]
    pub v_weight_decay: f32,
    /// `‖δ‖ ≤ clamp_norm_factor · ‖v_init‖` (default 4, `clamp_norm_factor`).
    #[serde(default = "value_defaults::clamp_norm_factor")]
    pub clamp_norm_factor: f32,
    /// Weight of the KL term on `"{subject} is a"` (default 0.0625, `kl_factor`).
    #[serde(default = "value_defaults::kl_factor")]
    pub kl_factor: f32,
    /// Use `C⁻¹ k̄` as the update direction (default true: the ROME paper and METHODS.md;
    /// EasyEdit's llama-7b file sets `mom2_adjustment: false`, i.e. `C = I`).
    #[serde(default = "default_true")]
    pub mom2_adjustment: bool,
    /// `[length, count]` of sampled context prefixes (default `[[5, 10], [10, 10]]`,
    /// `context_template_length_params`: 10 prefixes of 5 tokens, 10 of 10, plus the bare
    /// prompt = 21 templates).
    #[serde(default = "default_ctx")]
    pub context_template_length_params: Vec<[usize; 2]>,
    /// Seed of the prefix sampling (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Second-moment statistics (default: 100k WikiText-2 tokens, cached under `data/stats`).
    #[serde(default)]
    pub mom2: Mom2Config,
}

fn default_layer() -> usize {
    5
}
fn default_true() -> bool {
    true
}
fn default_ctx() -> Vec<[usize; 2]> {
    vec![[5, 10], [10, 10]]
}

impl Default for RomeConfig {
    fn default() -> Self {
        Self {
            layer: default_layer(),
            v_num_grad_steps: value_defaults::steps(),
            v_lr: value_defaults::lr(),
            v_weight_decay: value_defaults::weight_decay(),
            clamp_norm_factor: value_defaults::clamp_norm_factor(),
            kl_factor: value_defaults::kl_factor(),
            mom2_adjustment: true,
            context_template_length_params: default_ctx(),
            seed: 0,
            mom2: Mom2Config::default(),
        }
    }
}

impl RomeConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        self.value_config().validate("rome")?;
        self.mom2.validate()
    }

    pub(crate) fn value_config(&self) -> ValueConfig {
        ValueConfig {
            steps: self.v_num_grad_steps,
            lr: self.v_lr,
            weight_decay: self.v_weight_decay,
            kl_factor: self.kl_factor,
            clamp_norm_factor: self.clamp_norm_factor,
        }
    }
}

/// ROME's closed form in burn layout: `ΔW = u (v* − k*ᵀW)ᵀ / (k*ᵀu)`, row-major
/// `[d_in, d_out]`, with `current = k*ᵀW` (the site's output at the key). Then
/// `k*ᵀ(W + ΔW) = v*` exactly.
pub fn rank_one_delta(
    direction: &[f64],
    key: &[f32],
    current: &[f32],
    target: &[f32],
) -> Result<Vec<f64>, String> {
    if direction.len() != key.len() || current.len() != target.len() {
        return Err(format!(
            "direction {} / key {} / current {} / target {} lengths",
            direction.len(),
            key.len(),
            current.len(),
            target.len()
        ));
    }
    let key64: Vec<f64> = key.iter().map(|&x| x as f64).collect();
    let denom = dot(&key64, direction);
    if !(denom.is_finite() && denom.abs() > 0.0) {
        return Err(format!("k*ᵀu = {denom}"));
    }
    let residual: Vec<f64> = target
        .iter()
        .zip(current)
        .map(|(v, w)| (*v as f64 - *w as f64) / denom)
        .collect();
    let d_out = residual.len();
    let mut out = vec![0.0f64; direction.len() * d_out];
    for (row, ui) in out.chunks_exact_mut(d_out).zip(direction) {
        for (o, r) in row.iter_mut().zip(&residual) {
            *o = ui * r;
        }
    }
    Ok(out)
}

/// One rank-one update, kept for inspection and tests.
#[derive(Debug, Clone)]
pub struct RomeTrace {
    pub site: Site,
    /// `k*`: the key at the bare prompt's subject token (with earlier edits of the batch).
    pub key: Vec<f32>,
    /// `v*`: the value the update writes for `k*`.
    pub value: Vec<f32>,
    /// The update direction `u` (`C⁻¹ k̄`, unnormalised).
    pub direction: Vec<f64>,
    pub v_steps: usize,
}

/// The ROME editor. Caches its context prefixes per model file.
#[derive(Debug, Clone)]
pub struct RomeEditor {
    pub config: RomeConfig,
    prefixes: ContextPrefixes,
    /// The updates of the last `edit` call, in request order.
    pub traces: Vec<RomeTrace>,
}

impl RomeEditor {
    pub fn new(config: RomeConfig) -> Result<Self, EditError> {
        config.validate()?;
        Ok(Self {
            config,
            prefixes: ContextPrefixes::default(),
            traces: Vec::new(),
        })
    }

    /// `""` (the bare prompt) then the sampled prefixes.
    pub fn prefixes(&mut self, model: &LoadedModel) -> Result<Vec<String>, EditError> {
        let params = &self.config.context_template_length_params;
        let groups = self.prefixes.groups(model, params, self.config.seed)?;
        Ok(groups.into_iter().flatten().collect())
    }
}

impl Editor for RomeEditor {
    fn name(&self) -> &str {
        "rome"
    }

    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let start = Instant::now();
        require_requests(requests)?;
        let layer = check_layers(&model.model, &[self.config.layer], "rome")?[0];
        let site = Site::new(layer, ModuleKind::Down);
        let [d_in, d_out] = model.model.site(site)?.dims();
        let prefixes = self.prefixes(model)?;
        let stats = if self.config.mom2_adjustment {
            Some(
                second_moments(model, &[layer], &self.config.mom2)?
                    .remove(&layer)
                    .expect("requested layer"),
            )
        } else {
            None
        };
        let tracked = model.model.frozen_autodiff();
        let plain = &model.model;
        let mut total = vec![0.0f64; d_in * d_out];
        let mut deltas: BTreeMap<Site, (Vec<f32>, [usize; 2])> = BTreeMap::new();
        let mut stats_out = EditStats::default();
        let (mut first, mut last) = (Vec::new(), Vec::new());
        self.traces.clear();
        for (index, request) in requests.iter().enumerate() {
            let named = |e: EditError| EditError::Request {
                index,
                message: e.to_string(),
            };
            let plain_hooks = delta_hooks(&deltas, &plain.device());
            // 1. Direction u from the context-averaged key.
            let rows = key_rows(&model.tokenizer, request, &prefixes).map_err(named)?;
            let keys = probe(plain, &plain_hooks, &rows, layer, None)?.keys;
            let mean_key = mean_f64(&keys);
            let u = match &stats {
                Some(s) => s.solve(&mean_key)?,
                None => mean_key,
            };
            // 2. The value.
            let value_rows = ValueRows::new(&model.tokenizer, request, &prefixes).map_err(named)?;
            let tracked_hooks = delta_hooks(&deltas, &tracked.device());
            let value = optimize_value(
                &tracked,
                &tracked_hooks,
                layer,
                &value_rows,
                ValueAt::MlpOutput,
                &self.config.value_config(),
            )?;
            // 3. The closed form at the bare prompt's key.
            let bare = probe(plain, &plain_hooks, &rows[..1], layer, None)?;
            let (key, current) = (&bare.keys[0], &bare.outputs[0]);
            let target = value.target();
            let update = rank_one_delta(&u, key, current, &target)
                .map_err(|message| named(EditError::Delta { site, message }))?;
            for (t, d) in total.iter_mut().zip(update) {
                *t += d;
            }
            deltas.insert(
                site,
                (total.iter().map(|&x| x as f32).collect(), [d_in, d_out]),
            );
            stats_out.steps += value.steps;
            first.push(value.initial_loss);
            last.push(value.final_loss);
            self.traces.push(RomeTrace {
                site,
                key: key.clone(),
                value: target,
                direction: u,
                v_steps: value.steps,
            });
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        stats_out.initial_loss = Some(mean(&first));
        stats_out.final_loss = Some(mean(&last));
        let mut delta = WeightDelta::default();
        let values = deltas.remove(&site).map(|d| d.0).unwrap_or_default();
        delta.sites.insert(site, dense_delta(plain, site, values)?);
        stats_out.changed_parameters = delta.changed_parameters();
        stats_out.wall_seconds = start.elapsed().as_secs_f64();
        Ok(EditOutcome {
            delta,
            stats: stats_out,
        })
    }
}
