//! MEMIT (Meng et al. 2023): a batch of facts written into the down projections of a range
//! of layers by least squares.
//!
//! Following EasyEdit's `memit_main.py` / `compute_z.py` / `compute_ks.py`:
//! 1. For each request, `z = z_init + δ` at the block output of the last edited layer `L`
//!    (the value optimisation of [`super::kv`], on the unedited model).
//! 2. For each edited layer `l` in increasing order, on the model with the updates of the
//!    layers below already added: keys `K` `[d_in, n]` (per request the mean over the context
//!    groups — the bare prompt, and the sampled prefixes — of the mean key within the group),
//!    the current block output `z_cur` at `L` at the bare prompt's subject token, the residual
//!    `R = (z − z_cur) / (number of layers left, this one included)` `[n, d_out]`, and
//!    `ΔW_l = (λ C + K Kᵀ)⁻¹ K R` (burn layout `[d_in, d_out]`; PyTorch: `R ᵀ`-side), `λ` =
//!    `mom2_update_weight`, `C` = the layer's second moment. All requests in one solve.
//!
//! The solve uses the push-through identity `(λC + KKᵀ)⁻¹K = C⁻¹K (λI + KᵀC⁻¹K)⁻¹`: one
//! Cholesky factor of `C` per layer (cached) and an `n × n` system per edit, instead of
//! factoring a `d_in × d_in` matrix per edit. For one request this is
//! `C⁻¹k rᵀ / (λ + kᵀC⁻¹k)`: ROME's closed form shrunk by `kᵀC⁻¹k / (λ + kᵀC⁻¹k)`.

use std::collections::BTreeMap;
use std::time::Instant;

use kne_edit::{
    EditError, EditOutcome, EditRequest, EditStats, Editor, WeightDelta, require_requests,
};
use kne_model::{LoadedModel, ModuleKind, Site};
use serde::{Deserialize, Serialize};

use super::common::{check_layers, dense_delta, non_negative};
use super::context::ContextPrefixes;
use super::kv::{
    ValueAt, ValueConfig, ValueRows, delta_hooks, key_rows, mean_f64, optimize_value, probe,
    value_defaults,
};
use super::linalg::{Cholesky, dot};
use super::stats::{Mom2Config, second_moments};

/// MEMIT's update of one layer in burn layout, row-major `[d_in, d_out]`:
/// `ΔW = (λC + KKᵀ)⁻¹ K R = C⁻¹K (λI + KᵀC⁻¹K)⁻¹ R`, with `keys` the columns of `K`
/// (`n × d_in`), `residuals` the rows of `R` (`n × d_out`) and `cinv(x) = C⁻¹x`.
pub fn least_squares_delta(
    cinv: impl Fn(&[f64]) -> Result<Vec<f64>, EditError>,
    keys: &[Vec<f64>],
    residuals: &[Vec<f64>],
    lambda: f64,
    d_in: usize,
) -> Result<Vec<f32>, String> {
    let n = keys.len();
    if n == 0 || residuals.len() != n || keys.iter().any(|k| k.len() != d_in) {
        return Err(format!(
            "{n} keys of {d_in} for {} residuals",
            residuals.len()
        ));
    }
    let d_out = residuals[0].len();
    let cinv_k: Vec<Vec<f64>> = keys
        .iter()
        .map(|k| cinv(k))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut gram = vec![0.0f64; n * n];
    for a in 0..n {
        for b in 0..n {
            gram[a * n + b] = dot(&keys[a], &cinv_k[b]);
        }
        gram[a * n + a] += lambda;
    }
    // Symmetrise against rounding before factoring.
    for a in 0..n {
        for b in 0..a {
            let v = 0.5 * (gram[a * n + b] + gram[b * n + a]);
            gram[a * n + b] = v;
            gram[b * n + a] = v;
        }
    }
    let g = Cholesky::new(&gram, n).map_err(|e| format!("λI + KᵀC⁻¹K: {e}"))?;
    let mut m = vec![0.0f64; n * d_out]; // (λI + KᵀC⁻¹K)⁻¹ R, [n, d_out]
    for o in 0..d_out {
        let col: Vec<f64> = residuals.iter().map(|r| r[o]).collect();
        for (a, v) in g.solve(&col).into_iter().enumerate() {
            m[a * d_out + o] = v;
        }
    }
    let mut update = vec![0.0f64; d_in * d_out];
    for (a, ck) in cinv_k.iter().enumerate() {
        let row_m = &m[a * d_out..(a + 1) * d_out];
        for (r, &c) in ck.iter().enumerate() {
            for (w, mv) in update[r * d_out..(r + 1) * d_out].iter_mut().zip(row_m) {
                *w += c * mv;
            }
        }
    }
    Ok(update.into_iter().map(|x| x as f32).collect())
}

/// MEMIT's hyper-parameters (EasyEdit `hparams/MEMIT/llama-7b.yaml`, scaled to 30 layers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemitConfig {
    /// Edited layers (default `[4, 5, 6, 7, 8]`: EasyEdit's 4–8 of 32 scaled by 30/32 are
    /// 3.75–7.5, rounded to 4–8 so the range keeps its five layers).
    #[serde(default = "default_layers")]
    pub layers: Vec<usize>,
    /// Adam steps on `δ` (default 25, `v_num_grad_steps`).
    #[serde(default = "value_defaults::steps")]
    pub v_num_grad_steps: usize,
    /// Adam learning rate on `δ` (default 0.5, `v_lr`).
    #[serde(default = "value_defaults::lr")]
    pub v_lr: f64,
    /// Weight of `‖δ‖ / ‖z_init‖²` (default 1e-3, `v_weight_decay`).
    #[serde(default = "value_defaults::weight_decay")]
    pub v_weight_decay: f32,
    /// `‖δ‖ ≤ clamp_norm_factor · ‖z_init‖` (default 4, `clamp_norm_factor`).
    #[serde(default = "value_defaults::clamp_norm_factor")]
    pub clamp_norm_factor: f32,
    /// Weight of the KL term on `"{subject} is a"` (default 0.0625, `kl_factor`).
    #[serde(default = "value_defaults::kl_factor")]
    pub kl_factor: f32,
    /// `λ` of `λC + KKᵀ` (default 2100: EasyEdit's 15000 for Llama's MLP width 11008,
    /// scaled by 1536/11008, since `kᵀC⁻¹k` grows with the key dimension).
    #[serde(default = "default_lambda")]
    pub mom2_update_weight: f64,
    /// `[length, count]` of sampled context prefixes (default `[[10, 5]]`, MEMIT's fixed
    /// choice: 5 prefixes of 10 tokens, plus the bare prompt).
    #[serde(default = "default_ctx")]
    pub context_template_length_params: Vec<[usize; 2]>,
    /// Seed of the prefix sampling (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Second-moment statistics (default: 100k WikiText-2 tokens, cached under `data/stats`).
    #[serde(default)]
    pub mom2: Mom2Config,
}

fn default_layers() -> Vec<usize> {
    vec![4, 5, 6, 7, 8]
}
fn default_lambda() -> f64 {
    2100.0
}
fn default_ctx() -> Vec<[usize; 2]> {
    vec![[10, 5]]
}

impl Default for MemitConfig {
    fn default() -> Self {
        Self {
            layers: default_layers(),
            v_num_grad_steps: value_defaults::steps(),
            v_lr: value_defaults::lr(),
            v_weight_decay: value_defaults::weight_decay(),
            clamp_norm_factor: value_defaults::clamp_norm_factor(),
            kl_factor: value_defaults::kl_factor(),
            mom2_update_weight: default_lambda(),
            context_template_length_params: default_ctx(),
            seed: 0,
            mom2: Mom2Config::default(),
        }
    }
}

impl MemitConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        if self.layers.is_empty() {
            return Err(EditError::Config("memit: layers must not be empty".into()));
        }
        self.value_config().validate("memit")?;
        non_negative("memit: mom2_update_weight", self.mom2_update_weight)?;
        self.mom2.validate()
    }

    fn value_config(&self) -> ValueConfig {
        ValueConfig {
            steps: self.v_num_grad_steps,
            lr: self.v_lr,
            weight_decay: self.v_weight_decay,
            kl_factor: self.kl_factor,
            clamp_norm_factor: self.clamp_norm_factor,
        }
    }
}

/// The MEMIT editor. Caches its context prefixes per model file.
#[derive(Debug, Clone)]
pub struct MemitEditor {
    pub config: MemitConfig,
    prefixes: ContextPrefixes,
}

impl MemitEditor {
    pub fn new(config: MemitConfig) -> Result<Self, EditError> {
        config.validate()?;
        Ok(Self {
            config,
            prefixes: ContextPrefixes::default(),
        })
    }

    /// Context groups: `[[""], [sampled prefixes…]]` (the second group absent when no
    /// prefixes are sampled).
    pub fn prefix_groups(&mut self, model: &LoadedModel) -> Result<Vec<Vec<String>>, EditError> {
        let params = &self.config.context_template_length_params;
        self.prefixes.groups(model, params, self.config.seed)
    }
}

impl Editor for MemitEditor {
    fn name(&self) -> &str {
        "memit"
    }

    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let start = Instant::now();
        require_requests(requests)?;
        let plain = &model.model;
        let layers = check_layers(plain, &self.config.layers, "memit")?;
        let z_layer = *layers.last().expect("non-empty");
        let groups = self.prefix_groups(model)?;
        let flat: Vec<String> = groups.iter().flatten().cloned().collect();
        let stats = second_moments(model, &layers, &self.config.mom2)?;
        let mut out_stats = EditStats::default();

        // 1. Target z per request, on the unedited model.
        let tracked = model.model.frozen_autodiff();
        let no_hooks = kne_model::Interventions::new();
        let (mut zs, mut first, mut last) = (Vec::new(), Vec::new(), Vec::new());
        for (index, request) in requests.iter().enumerate() {
            let named = |e: EditError| EditError::Request {
                index,
                message: e.to_string(),
            };
            let rows = ValueRows::new(&model.tokenizer, request, &flat).map_err(named)?;
            let value = optimize_value(
                &tracked,
                &no_hooks,
                z_layer,
                &rows,
                ValueAt::LayerOutput,
                &self.config.value_config(),
            )?;
            out_stats.steps += value.steps;
            first.push(value.initial_loss);
            last.push(value.final_loss);
            zs.push(value.target());
        }
        drop(tracked);

        // 2. Layer by layer, on the model with the lower layers' updates.
        let key_rows_per_request: Vec<Vec<(Vec<u32>, usize)>> = requests
            .iter()
            .enumerate()
            .map(|(index, r)| {
                key_rows(&model.tokenizer, r, &flat).map_err(|e| EditError::Request {
                    index,
                    message: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        let n = requests.len();
        let mut deltas: BTreeMap<Site, (Vec<f32>, [usize; 2])> = BTreeMap::new();
        for (i, &layer) in layers.iter().enumerate() {
            let site = Site::new(layer, ModuleKind::Down);
            let [d_in, d_out] = plain.site(site)?.dims();
            let hooks = delta_hooks(&deltas, &plain.device());
            let mut keys: Vec<Vec<f64>> = Vec::with_capacity(n);
            let mut residuals: Vec<Vec<f64>> = Vec::with_capacity(n);
            let left = (layers.len() - i) as f64;
            for (rows, z) in key_rows_per_request.iter().zip(&zs) {
                let p = probe(plain, &hooks, rows, layer, Some(z_layer))?;
                // Mean within each context group, then over the groups.
                let mut offset = 0;
                let group_means: Vec<Vec<f32>> = groups
                    .iter()
                    .map(|g| {
                        let m = mean_f64(&p.keys[offset..offset + g.len()]);
                        offset += g.len();
                        m.into_iter().map(|x| x as f32).collect()
                    })
                    .collect();
                keys.push(mean_f64(&group_means));
                residuals.push(
                    z.iter()
                        .zip(&p.hidden[0])
                        .map(|(z, c)| (*z as f64 - *c as f64) / left)
                        .collect(),
                );
            }
            let layer_stats = &stats[&layer];
            let update = least_squares_delta(
                |k| layer_stats.solve(k),
                &keys,
                &residuals,
                self.config.mom2_update_weight,
                d_in,
            )
            .map_err(|message| EditError::Delta { site, message })?;
            deltas.insert(site, (update, [d_in, d_out]));
        }

        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        out_stats.initial_loss = Some(mean(&first));
        out_stats.final_loss = Some(mean(&last));
        let mut delta = WeightDelta::default();
        for (site, (values, _)) in deltas {
            delta.sites.insert(site, dense_delta(plain, site, values)?);
        }
        out_stats.changed_parameters = delta.changed_parameters();
        out_stats.wall_seconds = start.elapsed().as_secs_f64();
        Ok(EditOutcome {
            delta,
            stats: out_stats,
        })
    }
}
