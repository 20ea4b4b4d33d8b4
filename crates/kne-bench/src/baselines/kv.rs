//! Keys and values, shared by ROME and MEMIT.
//!
//! - A *key* is the input of a layer's down projection at the subject's last token
//!   (`fact_token: subject_last`), read with the intervention hook's capture.
//! - A *value* is found by gradient steps on a vector `δ` added to the residual stream at the
//!   output of a layer (ROME adds it to the MLP output, MEMIT to the block output: the same
//!   place, since the block output is `h + mlp(h)`), at the subject's last token of every
//!   rewriting prompt: EasyEdit's `compute_v` / `compute_z`. The loss is the mean over the
//!   context-prefixed prompts of the mean target-token NLL, plus `kl_factor ·
//!   KL(p_δ ‖ p_0)` of the next-token distribution at the subject's last token of
//!   `"{subject} is a"`, plus `v_weight_decay · ‖δ‖ / ‖v_init‖²`; Adam on `δ`, stop when the
//!   loss is below 0.05, after each step `δ` is projected into the ball of radius
//!   `clamp_norm_factor · ‖v_init‖`; `v_init` is the vector at the bare prompt's subject token
//!   before the edit. The loss is read at the last layer (EasyEdit's `v_loss_layer` is the
//!   last layer of the 32-layer Llama configs).

use std::collections::BTreeMap;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use kne_edit::{EditError, EditRequest, TokenizedRequest};
use kne_model::{Captures, Interventions, Llama, ModuleKind, Site, Tokenizer};

use super::common::{
    from_vec, index_tensor, non_negative, padded_ids, positive, set_param, subject_last_token,
    to_vec, torch_adam,
};

/// The loss below which EasyEdit's `compute_v`/`compute_z` stop.
pub const VALUE_EARLY_STOP: f32 = 5e-2;

/// Optimisation settings of the value vector (EasyEdit's `v_*` hyper-parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueConfig {
    pub steps: usize,
    pub lr: f64,
    pub weight_decay: f32,
    pub kl_factor: f32,
    pub clamp_norm_factor: f32,
}

impl ValueConfig {
    /// Checks the `v_*` fields of `method`'s config (`steps ≥ 1`, `lr` and
    /// `clamp_norm_factor` positive, the two weights non-negative); errors name the field.
    pub fn validate(&self, method: &str) -> Result<(), EditError> {
        if self.steps == 0 {
            return Err(EditError::Config(format!(
                "{method}: v_num_grad_steps must be at least 1"
            )));
        }
        positive(&format!("{method}: v_lr"), self.lr)?;
        non_negative(
            &format!("{method}: v_weight_decay"),
            self.weight_decay as f64,
        )?;
        positive(
            &format!("{method}: clamp_norm_factor"),
            self.clamp_norm_factor as f64,
        )?;
        non_negative(&format!("{method}: kl_factor"), self.kl_factor as f64)
    }
}

/// Serde defaults of the `v_*` fields, the same for ROME and MEMIT (EasyEdit's llama-7b
/// files of both set these values).
pub mod value_defaults {
    pub fn steps() -> usize {
        25
    }
    pub fn lr() -> f64 {
        0.5
    }
    pub fn weight_decay() -> f32 {
        1e-3
    }
    pub fn clamp_norm_factor() -> f32 {
        4.0
    }
    pub fn kl_factor() -> f32 {
        0.0625
    }
}

/// Where the initial value `v_init` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueAt {
    /// ROME: the output of the layer's MLP (its down projection).
    MlpOutput,
    /// MEMIT: the output of the whole block (the residual stream).
    LayerOutput,
}

/// Token rows of one request: the rewriting prompts (one per context prefix, with the
/// target appended) and the KL prompt, each with its subject-last-token position.
#[derive(Debug, Clone)]
pub struct ValueRows {
    pub rows: Vec<Vec<u32>>,
    pub lookups: Vec<usize>,
    /// Rewriting rows come first; the KL rows are the rest.
    pub n_rewrite: usize,
    /// `(row, position, token, weight)` of every target token of the rewriting rows; the
    /// weights make the NLL the mean over rows of the mean over the row's target tokens.
    pub targets: Vec<(usize, usize, u32, f32)>,
}

impl ValueRows {
    /// `prefixes` are the context prefixes (`""` is the bare prompt and must come first).
    pub fn new(
        tokenizer: &Tokenizer,
        request: &EditRequest,
        prefixes: &[String],
    ) -> Result<Self, EditError> {
        let (mut rows, mut lookups, mut targets) = (Vec::new(), Vec::new(), Vec::new());
        let n = prefixes.len();
        for (r, prefix) in prefixes.iter().enumerate() {
            let text = format!("{prefix}{}", request.prompt);
            let t = TokenizedRequest::new(tokenizer, &text, &request.target)?;
            let lookup =
                subject_last_token(tokenizer, &text, &request.subject)?.min(t.prompt_ids.len() - 1);
            let p = t.prompt_ids.len();
            for (j, &id) in t.target_ids.iter().enumerate() {
                targets.push((r, p - 1 + j, id, 1.0 / (n * t.target_ids.len()) as f32));
            }
            // Without the last target token, which no prediction reads (EasyEdit's rows
            // end at `target_ids[:-1]` too).
            rows.push(t.predicting_ids());
            lookups.push(lookup);
        }
        let kl_text = format!("{} is a", request.subject.trim());
        rows.push(tokenizer.encode(&kl_text)?);
        lookups.push(subject_last_token(tokenizer, &kl_text, &request.subject)?);
        Ok(Self {
            rows,
            lookups,
            n_rewrite: n,
            targets,
        })
    }
}

/// What the value optimisation found.
#[derive(Debug, Clone)]
pub struct ValueResult {
    /// `δ`, `[hidden]`.
    pub delta: Vec<f32>,
    /// `v_init` at the bare prompt's subject token, `[hidden]`.
    pub init: Vec<f32>,
    pub steps: usize,
    pub initial_loss: f32,
    pub final_loss: f32,
}

impl ValueResult {
    /// `v* = v_init + δ`.
    pub fn target(&self) -> Vec<f32> {
        self.init
            .iter()
            .zip(&self.delta)
            .map(|(a, b)| a + b)
            .collect()
    }
}

#[derive(Module, Debug)]
struct DeltaVector {
    delta: Param<Tensor<1>>,
}

fn l2(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// Hooks adding fixed (untracked) weight deltas, `[d_in, d_out]` row-major, on `device`.
pub fn delta_hooks(
    deltas: &BTreeMap<Site, (Vec<f32>, [usize; 2])>,
    device: &Device,
) -> Interventions {
    let mut hooks = Interventions::new();
    for (site, (values, dims)) in deltas {
        hooks = hooks.add_weight_delta(*site, from_vec(values.clone(), *dims, device));
    }
    hooks
}

/// Finds `δ` at the output of `layer` (see the module docs). `model` is the frozen autodiff
/// model; `hooks` are fixed weight deltas already made (sequential edits), on its device.
pub fn optimize_value(
    model: &Llama,
    hooks: &Interventions,
    layer: usize,
    rows: &ValueRows,
    at: ValueAt,
    config: &ValueConfig,
) -> Result<ValueResult, EditError> {
    let device = model.device();
    let (ids, _) = padded_ids(model, &rows.rows)?;
    let batch = rows.rows.len();
    let down = Site::new(layer, ModuleKind::Down);
    let mut captures = Captures::new();
    let prefix_hooks = hooks.clone().capture(down);
    let prefix = model
        .forward_blocks(
            model.embed(ids),
            0..layer + 1,
            None,
            Some(&prefix_hooks),
            &mut captures,
        )
        .detach();
    let [_, _, hidden] = prefix.dims();
    let row0 = rows.lookups[0];
    let init_tensor = match at {
        ValueAt::MlpOutput => captures
            .get(&down)
            .ok_or_else(|| EditError::Config(format!("{down}: nothing captured")))?
            .output
            .clone(),
        ValueAt::LayerOutput => prefix.clone(),
    };
    let init = to_vec(
        init_tensor
            .narrow(0, 0, 1)
            .narrow(1, row0, 1)
            .reshape([hidden])
            .inner(),
    )?;
    let init_norm = l2(&init).max(f32::MIN_POSITIVE);

    // Nothing before a row's subject token depends on δ. Rows are grouped by subject
    // position; in a group split at `p` (its smallest subject position) the keys/values of
    // positions < p in the layers above are computed once (a KV cache), and every step runs
    // only positions ≥ p of those layers. The grouping minimises the tokens run per step
    // plus a per-group cost (small batches are slow).
    let top_layers = layer + 1..model.layers.len();
    let lengths: Vec<usize> = rows.rows.iter().map(Vec::len).collect();
    let mut sorted: Vec<usize> = (0..batch).collect();
    sorted.sort_by_key(|&r| (rows.lookups[r], r));
    let ranges = split_groups(&sorted, &rows.lookups, &lengths);
    // Slots read, in loss order: the rewriting targets, then the KL rows' subject tokens.
    let mut slots: Vec<(usize, usize)> = rows.targets.iter().map(|&(r, p, _, _)| (r, p)).collect();
    let n_targets = slots.len();
    slots.extend((rows.n_rewrite..batch).map(|r| (r, rows.lookups[r])));
    let n_kl = batch - rows.n_rewrite;
    let mut groups = Vec::new();
    let mut order = Vec::new(); // slot index of every picked row, group by group
    for range in ranges {
        let members = &sorted[range];
        let p = rows.lookups[members[0]];
        let var_len = members
            .iter()
            .map(|&r| lengths[r] - p)
            .max()
            .unwrap_or(1)
            .max(1);
        let sub = prefix.clone().select(0, index_tensor(members, &device));
        let mut cache = model.new_cache();
        if p > 0 {
            let _ = model.forward_blocks(
                sub.clone().narrow(1, 0, p),
                top_layers.clone(),
                Some(&mut cache),
                Some(hooks),
                &mut Captures::new(),
            );
            cache.advance(p);
        }
        let var = sub.narrow(1, p, var_len);
        let mut local = Vec::new();
        for (slot, &(r, pos)) in slots.iter().enumerate() {
            if let Some(g) = members.iter().position(|&m| m == r) {
                local.push(g * var_len + (pos - p));
                order.push(slot);
            }
        }
        let mut mask = vec![0.0f32; members.len() * var_len];
        for (g, &r) in members.iter().enumerate() {
            mask[g * var_len + rows.lookups[r] - p] = 1.0;
        }
        let mask = from_vec(mask, [members.len(), var_len, 1], &device);
        groups.push((
            cache,
            var,
            mask,
            index_tensor(&local, &device),
            members.len(),
            var_len,
        ));
    }
    // picked (group order) → loss order.
    let mut inverse = vec![0usize; order.len()];
    for (i, &slot) in order.iter().enumerate() {
        inverse[slot] = i;
    }
    let inverse = index_tensor(&inverse, &device);
    let target_ids: Vec<i64> = rows.targets.iter().map(|t| t.2 as i64).collect();
    let target_ids =
        Tensor::<2, Int>::from_data(TensorData::new(target_ids, [n_targets, 1]), &device);
    let weights = from_vec(
        rows.targets.iter().map(|t| t.3).collect(),
        [n_targets],
        &device,
    );

    let mut module = DeltaVector {
        delta: Param::from_tensor(Tensor::<1>::zeros([hidden], &device)),
    };
    let mut optim = torch_adam().init();
    let mut kl_init: Option<Tensor<2>> = None;
    let (mut initial, mut last, mut steps) = (None, f32::NAN, 0);
    for it in 0..config.steps.max(1) {
        let delta = module.delta.val();
        let mut picked = Vec::with_capacity(groups.len());
        for (cache, var, mask, local, g, var_len) in &groups {
            let h = var.clone() + mask.clone() * delta.clone().reshape([1, 1, hidden]);
            let mut cache = cache.clone();
            let top = model.forward_blocks(
                h,
                top_layers.clone(),
                Some(&mut cache),
                Some(hooks),
                &mut Captures::new(),
            );
            picked.push(top.reshape([g * var_len, hidden]).select(0, local.clone()));
        }
        let n = n_targets + n_kl;
        let picked = Tensor::cat(picked, 0).select(0, inverse.clone());
        let logits = model.head(picked.reshape([1, n, hidden]));
        let vocab = logits.dims()[2];
        let logp = log_softmax(logits.reshape([n, vocab]), 1);
        let nll = (logp
            .clone()
            .narrow(0, 0, n_targets)
            .gather(1, target_ids.clone())
            .reshape([n_targets])
            * weights.clone())
        .sum()
        .neg();
        let kl_lp = logp.narrow(0, n_targets, n_kl);
        let kl_ref = kl_init
            .get_or_insert_with(|| kl_lp.clone().detach())
            .clone();
        let kl = (kl_lp.clone().exp() * (kl_lp - kl_ref))
            .sum()
            .div_scalar(n_kl as f32)
            .mul_scalar(config.kl_factor);
        // ‖δ‖ with a tiny floor inside the root: its gradient at δ = 0 is 0, not NaN.
        let norm = (delta.square().sum() + 1e-20).sqrt();
        let wd = norm.mul_scalar(config.weight_decay / (init_norm * init_norm));
        let loss = nll + kl + wd;
        let value = loss.clone().into_scalar::<f32>();
        if !value.is_finite() {
            return Err(EditError::NonFinite {
                step: it,
                loss: value,
            });
        }
        initial.get_or_insert(value);
        last = value;
        if value < VALUE_EARLY_STOP || it + 1 == config.steps.max(1) {
            break;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &module);
        module = optim.step(config.lr, module, grads);
        steps = it + 1;
        let values = to_vec(module.delta.val().inner())?;
        let max_norm = config.clamp_norm_factor * init_norm;
        let norm = l2(&values);
        if norm > max_norm {
            let s = max_norm / norm;
            module.delta = set_param(module.delta, |t| t.mul_scalar(s));
        }
    }
    let delta = to_vec(module.delta.val().inner())?;
    Ok(ValueResult {
        delta,
        init,
        steps,
        initial_loss: initial.unwrap_or(last),
        final_loss: last,
    })
}

/// Per-step cost of one more group, in row-positions (small batches run far below peak).
const GROUP_COST: usize = 48;

/// Splits rows sorted by subject position into contiguous groups minimising
/// `Σ rows · (longest row − split position) + GROUP_COST · groups` (dynamic programming).
fn split_groups(
    sorted: &[usize],
    lookups: &[usize],
    lengths: &[usize],
) -> Vec<std::ops::Range<usize>> {
    let n = sorted.len();
    let mut best = vec![(usize::MAX, 0usize); n + 1];
    best[0] = (0, 0);
    for j in 1..=n {
        let mut longest = 0;
        for i in (0..j).rev() {
            longest = longest.max(lengths[sorted[i]]);
            let cost = best[i].0 + (j - i) * (longest - lookups[sorted[i]]) + GROUP_COST;
            if cost < best[j].0 {
                best[j] = (cost, i);
            }
        }
    }
    let mut ranges = Vec::new();
    let mut j = n;
    while j > 0 {
        let i = best[j].1;
        ranges.push(i..j);
        j = i;
    }
    ranges.reverse();
    ranges
}

/// What one forward reads at the subject's token of each row.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The down projection's input at `layer` (the key), per row.
    pub keys: Vec<Vec<f32>>,
    /// The down projection's output at `layer`, per row.
    pub outputs: Vec<Vec<f32>>,
    /// The block output at `hidden_layer` (≥ `layer`), per row, when asked for.
    pub hidden: Vec<Vec<f32>>,
}

/// Runs `rows` (token ids, subject position) through the plain model with `hooks` up to
/// `max(layer, hidden_layer)` and reads keys/outputs at `layer` and the block output at
/// `hidden_layer`.
pub fn probe(
    model: &Llama,
    hooks: &Interventions,
    rows: &[(Vec<u32>, usize)],
    layer: usize,
    hidden_layer: Option<usize>,
) -> Result<Probe, EditError> {
    let device = model.device();
    let ids: Vec<Vec<u32>> = rows.iter().map(|r| r.0.clone()).collect();
    let (ids, seq) = padded_ids(model, &ids)?;
    let down = Site::new(layer, ModuleKind::Down);
    let hooks = hooks.clone().capture(down);
    let top = hidden_layer.unwrap_or(layer).max(layer);
    let mut captures = Captures::new();
    let out = model.forward_blocks(
        model.embed(ids),
        0..top + 1,
        None,
        Some(&hooks),
        &mut captures,
    );
    let flat: Vec<usize> = rows
        .iter()
        .enumerate()
        .map(|(b, r)| b * seq + r.1)
        .collect();
    let idx = index_tensor(&flat, &device);
    let pick = |t: Tensor<3>| -> Result<Vec<Vec<f32>>, EditError> {
        let [b, s, d] = t.dims();
        let v = to_vec(t.reshape([b * s, d]).select(0, idx.clone()))?;
        Ok(v.chunks(d).map(<[f32]>::to_vec).collect())
    };
    let captured = captures
        .get(&down)
        .ok_or_else(|| EditError::Config(format!("{down}: nothing captured")))?;
    Ok(Probe {
        keys: pick(captured.input.clone())?,
        outputs: pick(captured.output.clone())?,
        hidden: if hidden_layer.is_some() {
            pick(out)?
        } else {
            Vec::new()
        },
    })
}

/// `(ids, subject position)` of `prefix + prompt` for each prefix (no target).
pub fn key_rows(
    tokenizer: &Tokenizer,
    request: &EditRequest,
    prefixes: &[String],
) -> Result<Vec<(Vec<u32>, usize)>, EditError> {
    prefixes
        .iter()
        .map(|p| {
            let text = format!("{p}{}", request.prompt);
            let ids = tokenizer.encode(&text)?;
            let lookup = subject_last_token(tokenizer, &text, &request.subject)?
                .min(ids.len().saturating_sub(1));
            Ok((ids, lookup))
        })
        .collect()
}

/// Mean of row vectors, in `f64`.
pub fn mean_f64(rows: &[Vec<f32>]) -> Vec<f64> {
    let d = rows.first().map_or(0, Vec::len);
    let mut m = vec![0.0f64; d];
    for r in rows {
        for (a, &b) in m.iter_mut().zip(r) {
            *a += b as f64;
        }
    }
    let n = rows.len().max(1) as f64;
    m.iter_mut().for_each(|a| *a /= n);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ValueConfig {
        ValueConfig {
            steps: value_defaults::steps(),
            lr: value_defaults::lr(),
            weight_decay: value_defaults::weight_decay(),
            kl_factor: value_defaults::kl_factor(),
            clamp_norm_factor: value_defaults::clamp_norm_factor(),
        }
    }

    #[test]
    fn defaults_are_valid_and_bad_fields_are_named() {
        assert!(defaults().validate("rome").is_ok());
        let cases: [(ValueConfig, &str); 4] = [
            (
                ValueConfig {
                    steps: 0,
                    ..defaults()
                },
                "memit: v_num_grad_steps",
            ),
            (
                ValueConfig {
                    lr: 0.0,
                    ..defaults()
                },
                "memit: v_lr",
            ),
            (
                ValueConfig {
                    kl_factor: -1.0,
                    ..defaults()
                },
                "memit: kl_factor",
            ),
            (
                ValueConfig {
                    clamp_norm_factor: f32::NAN,
                    ..defaults()
                },
                "memit: clamp_norm_factor",
            ),
        ];
        for (config, field) in cases {
            let err = config.validate("memit").unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }
}
