//! Token-level integrated gradients (Eq. 3–5).
//!
//! For a site `y = W x` and a neuron `k`, Eq. 5 is
//! `Attr(w_k) = w̄_k · (1/m) Σ_i Σ_j ∂P(y_j | x, (i/m) w̄)/∂w_k`, where `P(y_j | …)` is the
//! teacher-forced probability of answer token `j` and the path scales the site's weight.
//! That is the right Riemann sum of `w̄_k ∫₀¹ ∂P(α w̄)/∂w_k dα`; [`Quadrature`] can replace it
//! by Gauss–Legendre nodes `α_i` and weights `c_i` (fewer evaluations, same integral).
//! Scaling `W` by α scales the site's output by α, so
//! - the m steps are m batch rows of one forward (row i scales the site by α_i = i/m),
//! - with `g_i = ∂(Σ_j P_j)/∂y` at step i (read from the hook's probe), the chain rule gives
//!   `w̄_k · ∂P/∂w_k = Σ_t y_{t,k} g_{t,k}` for an output neuron (row of PyTorch `W`) and
//!   `Σ_t x_{t,c} (g_t W)_c` for an input neuron (column of PyTorch `W`).
//!
//! Each site is attributed on its own (the other sites stay at their weights), as in the
//! knowledge-neuron method the paper builds on. The layers below a site are shared by all
//! its steps, so the hidden state entering each layer is computed once and the batch only
//! runs from the site's layer upwards; weights are frozen, so the backward pass only reaches
//! the probes. Several sites of one layer share a forward: block `s` of the batch (m rows)
//! scales only site `s`, and site `s` is read from its own block, where every other site
//! runs at its weights — the same numbers as separate forwards, in larger products. Sites
//! whose paths are one function (`q`/`k`, `v`/`o`, `up`/`down` in Llama) are read from one
//! block ([`crate::shared_paths`], `AttributionConfig::share_paths`). At α = 1 every path is
//! the unscaled network: one row, run once per fact from the first attributed layer, gives
//! every site's activations and (for the Riemann rule, whose last node is 1) every site's
//! integrand there, so the paths run `m − 1` rows each (bit-identical scores, 1/m less work).

use std::collections::BTreeMap;

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use kne_model::{Captures, Interventions, Llama, ModuleKind, Site};
use serde::{Deserialize, Serialize};

use std::num::NonZeroUsize;

use crate::shared_paths::{Link, layer_paths};
use crate::{AttrError, NeuronAxis, Quadrature, Scores};

/// What to attribute and how finely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributionConfig {
    /// Riemann steps `m` of Eq. 5 (default 20).
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Which dimension of a weight is a neuron (default `out`: rows of PyTorch's `W`).
    #[serde(default)]
    pub axis: NeuronAxis,
    /// Module kinds to attribute (default: all seven, Llama's; GPT-J has no `gate`, so a
    /// GPT-J run lists its six and a `gate` there is an error).
    #[serde(default = "all_modules")]
    pub modules: Vec<ModuleKind>,
    /// Layers to attribute (default: every layer).
    #[serde(default)]
    pub layers: Option<Vec<usize>>,
    /// Largest batch of one forward (default 64). The paths of one layer are attributed
    /// together, `steps` rows each (`steps − 1` with the Riemann rule, whose α = 1 row all
    /// paths share), as long as they fit: bigger products run closer to the machine's matmul
    /// peak than several small ones.
    #[serde(default = "default_max_rows")]
    pub max_rows: usize,
    /// How the `steps` path points are placed (default: the paper's right Riemann sum).
    #[serde(default, skip_serializing_if = "Quadrature::is_riemann")]
    pub quadrature: Quadrature,
    /// Read the sites whose paths are one function from one forward (default true: ≈ 4/7 of
    /// the work on Llama; [`crate::shared_paths`]). The same estimator, so configs leave the
    /// field out when it is set and keep their hashes; scores differ from `false`'s by float
    /// rounding.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub share_paths: bool,
}

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn default_max_rows() -> usize {
    64
}

fn default_steps() -> usize {
    20
}

fn all_modules() -> Vec<ModuleKind> {
    ModuleKind::ALL.to_vec()
}

impl Default for AttributionConfig {
    fn default() -> Self {
        Self {
            steps: default_steps(),
            axis: NeuronAxis::Out,
            modules: all_modules(),
            layers: None,
            max_rows: default_max_rows(),
            quadrature: Quadrature::Riemann,
            share_paths: true,
        }
    }
}

impl AttributionConfig {
    /// A sum over no facts yet, taken with this config's axis, steps and rule.
    pub fn empty_scores(&self) -> Scores {
        Scores::empty(self.axis, self.steps).with_quadrature(self.quadrature)
    }

    /// The sites this config attributes on `model`, layer-major; errors name a bad layer.
    pub fn sites(&self, model: &Llama) -> Result<Vec<Site>, AttrError> {
        if self.steps == 0 {
            return Err(AttrError::Config("`steps` must be at least 1".into()));
        }
        if self.modules.is_empty() {
            return Err(AttrError::Config("`modules` must not be empty".into()));
        }
        let n_layers = model.layers.len();
        let layers: Vec<usize> = match &self.layers {
            Some(layers) => layers.clone(),
            None => (0..n_layers).collect(),
        };
        // GPT-J has no gate: a module the architecture lacks is named, not skipped.
        if let Some(bad) = self.modules.iter().find(|m| !model.modules().contains(m)) {
            let have: Vec<&str> = model.modules().iter().map(|m| m.name()).collect();
            return Err(AttrError::Config(format!(
                "`modules`: a {} model has no `{bad}` module (it has {})",
                model.config().architecture(),
                have.join(", ")
            )));
        }
        if let Some(bad) = layers.iter().find(|&&l| l >= n_layers) {
            return Err(AttrError::Config(format!(
                "`layers`: layer {bad} does not exist (the model has {n_layers} layers, 0 to {})",
                n_layers.saturating_sub(1)
            )));
        }
        let mut sites: Vec<Site> = layers
            .iter()
            .flat_map(|&l| self.modules.iter().map(move |&m| Site::new(l, m)))
            .collect();
        sites.sort();
        sites.dedup();
        Ok(sites)
    }
}

/// A fact as tokens: the prompt and the answer whose probability is attributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactTokens {
    pub prompt_ids: Vec<u32>,
    pub target_ids: Vec<u32>,
}

impl FactTokens {
    /// The prompt followed by the target.
    pub fn input_ids(&self) -> Vec<u32> {
        input_ids(&self.prompt_ids, &self.target_ids)
    }

    /// [`Self::input_ids`] without the last target token: the sequence attribution's
    /// forwards read ([`predicting_ids`]).
    pub fn predicting_ids(&self) -> Vec<u32> {
        predicting_ids(&self.prompt_ids, &self.target_ids)
    }
}

/// `prompt ++ target`.
pub fn input_ids(prompt: &[u32], target: &[u32]) -> Vec<u32> {
    [prompt, target].concat()
}

/// `prompt ++ target` without the last target token. Position `i` predicts token `i + 1`,
/// so the last token is read by no prediction, and under causal attention by no earlier
/// position either: a teacher-forced forward needs only these.
pub fn predicting_ids(prompt: &[u32], target: &[u32]) -> Vec<u32> {
    let kept = target.len().saturating_sub(1);
    [prompt, &target[..kept]].concat()
}

/// Attribution of one fact over the configured sites of `model` (which must be on an
/// autodiff device, e.g. [`Llama::frozen_autodiff`]).
pub fn attribute_fact(
    model: &Llama,
    fact: &FactTokens,
    config: &AttributionConfig,
) -> Result<Scores, AttrError> {
    if fact.prompt_ids.is_empty() || fact.target_ids.is_empty() {
        return Err(AttrError::Config(
            "a fact needs prompt and target tokens".into(),
        ));
    }
    if !model.device().is_autodiff() {
        return Err(AttrError::Config(
            "attribution needs an autodiff model (Llama::frozen_autodiff)".into(),
        ));
    }
    let sites = config.sites(model)?;
    let by_layer: BTreeMap<usize, Vec<Site>> = sites.iter().fold(BTreeMap::new(), |mut acc, s| {
        acc.entry(s.layer).or_insert_with(Vec::new).push(*s);
        acc
    });
    let ids = fact.predicting_ids();
    let first = fact.prompt_ids.len() - 1;
    let span = fact.target_ids.len();
    let device = model.device();
    let m = config.steps;
    let nodes = config.quadrature.nodes(
        NonZeroUsize::new(m)
            .ok_or_else(|| AttrError::Config("`steps` must be at least 1".into()))?,
    );
    // The unscaled network is one row that every path shares: it gives every site's
    // activations and, when the rule has a node at α = 1 (the Riemann sum's last), every
    // site's integrand there, so the paths run only the other nodes.
    let at_one = nodes.last().is_some_and(|&(alpha, _)| alpha == 1.0);
    let scaled = &nodes[..if at_one { m - 1 } else { m }];
    let k = scaled.len();
    let per_forward = (config.max_rows / k.max(1)).max(1);
    let targets: Vec<i64> = fact.target_ids.iter().map(|&t| t as i64).collect();
    let targets = Tensor::<3, Int>::from_data(TensorData::new(targets, [1, span, 1]), &device);
    let probability = |top: Tensor<3>, rows: usize| {
        let logits = model.head(top.narrow(1, first, span));
        softmax(logits, 2)
            .gather(2, targets.clone().repeat_dim(0, rows))
            .sum()
    };

    let mut scores = BTreeMap::new();
    let mut hidden = model.embed(model.ids_tensor(&[&ids])?);
    let mut unscaled: Option<UnscaledPass> = None;
    let last_layer = by_layer.keys().next_back().copied().unwrap_or(0);
    for layer in 0..=last_layer {
        let layer_sites = by_layer.get(&layer).map(Vec::as_slice).unwrap_or(&[]);
        if unscaled.is_none() && !layer_sites.is_empty() {
            let mut hooks = Interventions::new();
            for &site in &sites {
                hooks = hooks.capture(site);
            }
            let mut captures = Captures::new();
            let top = model.forward_blocks(
                hidden.clone(),
                layer..model.layers.len(),
                None,
                Some(&hooks),
                &mut captures,
            );
            let grads = at_one.then(|| probability(top, 1).backward());
            unscaled = Some(UnscaledPass { captures, grads });
        }
        let Some(unscaled) = &unscaled else {
            hidden =
                model.forward_blocks(hidden, layer..layer + 1, None, None, &mut Captures::new());
            continue;
        };
        let paths = layer_paths(model, layer, layer_sites, config.share_paths)?;
        for chunk in paths.chunks(per_forward) {
            let mut captures = Captures::new();
            // With m = 1 at α = 1 there is nothing left to scale: the unscaled pass is all.
            let grads = (k > 0).then(|| {
                let rows = chunk.len() * k;
                let mut hooks = Interventions::new();
                for (block, path) in chunk.iter().enumerate() {
                    hooks = hooks
                        .scale_output(
                            path.primary,
                            block_scales(block, chunk.len(), scaled, &device),
                        )
                        .capture(path.primary);
                    for &(partner, _) in &path.partners {
                        hooks = hooks.capture(partner);
                    }
                }
                let top = model.forward_blocks(
                    hidden.clone().repeat_dim(0, rows),
                    layer..model.layers.len(),
                    None,
                    Some(&hooks),
                    &mut captures,
                );
                probability(top, rows).backward()
            });
            for (block, path) in chunk.iter().enumerate() {
                let read = std::iter::once((path.primary, None))
                    .chain(path.partners.iter().map(|&(site, link)| (site, Some(link))));
                for (site, link) in read {
                    let mut steps = Vec::with_capacity(2);
                    if let Some(grads) = &grads {
                        let grad = probe_grad(&captures, site, grads)?.narrow(0, block * k, k);
                        // shared_paths' module doc: k's gradient in the q path is α times
                        // its own.
                        steps.push(match link {
                            Some(Link::Bilinear) => grad / node_column(scaled, &device),
                            _ => grad,
                        });
                    }
                    if let Some(grads) = &unscaled.grads {
                        steps.push(probe_grad(&unscaled.captures, site, grads)?);
                    }
                    let grad =
                        integrate_steps(Tensor::cat(steps, 0), config.quadrature, &nodes, &device);
                    let captured = &unscaled.captures[&site];
                    let values = neuron_scores(model, site, config.axis, captured, grad)?;
                    scores.insert(site, values);
                }
            }
        }
        hidden = model.forward_blocks(hidden, layer..layer + 1, None, None, &mut Captures::new());
    }
    Ok(Scores {
        axis: config.axis,
        steps: m,
        quadrature: config.quadrature,
        facts: 1,
        sites: scores,
    })
}

/// Per-row scales of a batch of `blocks · k` rows (`k` = `nodes.len()`, the path points a
/// path runs itself) in which block `block` runs `α_1 … α_k` and every other row keeps
/// scale 1.
///
/// # Shapes
/// - → `[blocks · k]`
fn block_scales(
    block: usize,
    blocks: usize,
    nodes: &[(f64, f64)],
    device: &burn::tensor::Device,
) -> Tensor<1> {
    let m = nodes.len();
    let scales: Vec<f32> = (0..blocks * m)
        .map(|row| {
            if row / m == block {
                nodes[row % m].0 as f32
            } else {
                1.0
            }
        })
        .collect();
    Tensor::from_data(TensorData::new(scales, [blocks * m]), device)
}

/// The quadrature of the per-step gradients: `Σ_i c_i g_i`. The Riemann sum keeps its
/// original arithmetic (sum, then divide by m), so its scores stay bit-identical to the
/// runs made before the rule was configurable.
///
/// # Shapes
/// - `grad`: `[m, seq, d_out]` (one row per path point) → `[seq, d_out]`
fn integrate_steps(
    grad: Tensor<3>,
    quadrature: Quadrature,
    nodes: &[(f64, f64)],
    device: &burn::tensor::Device,
) -> Tensor<2> {
    let [m, seq, d_out] = grad.dims();
    match quadrature {
        // Equal weights 1/m: sum, then divide (the Riemann rule's original arithmetic).
        Quadrature::Riemann | Quadrature::Midpoint => {
            grad.sum_dim(0).reshape([seq, d_out]).div_scalar(m as f32)
        }
        Quadrature::GaussLegendre => {
            let weights: Vec<f32> = nodes.iter().map(|&(_, c)| c as f32).collect();
            let weights = Tensor::<1>::from_data(TensorData::new(weights, [m]), device);
            (grad * weights.reshape([m, 1, 1]))
                .sum_dim(0)
                .reshape([seq, d_out])
        }
    }
}

/// The path points `α_i` as a column that divides a `[m, seq, d]` gradient row by row.
///
/// # Shapes
/// - → `[m, 1, 1]`
fn node_column(nodes: &[(f64, f64)], device: &burn::tensor::Device) -> Tensor<3> {
    let alphas: Vec<f32> = nodes.iter().map(|&(a, _)| a as f32).collect();
    Tensor::from_data(TensorData::new(alphas, [nodes.len(), 1, 1]), device)
}

/// The forward (and, with a node at α = 1, the backward) of the unscaled network from the
/// first attributed layer up, every site captured: one batch row.
struct UnscaledPass {
    captures: Captures,
    grads: Option<burn::tensor::Gradients>,
}

/// `∂P/∂output` of `site` in a pass whose backward gave `grads`.
///
/// # Shapes
/// - → `[batch, seq, d_out]`
fn probe_grad(
    captures: &Captures,
    site: Site,
    grads: &burn::tensor::Gradients,
) -> Result<Tensor<3>, AttrError> {
    captures
        .get(&site)
        .and_then(|c| c.probe.as_ref())
        .ok_or_else(|| AttrError::Config("the model device has no autodiff".into()))?
        .grad(grads)
        .ok_or_else(|| AttrError::Config(format!("no gradient reached {site}")))
}

/// Σ over positions of activation × path-integrated gradient, per neuron; the activations
/// are the unscaled network's (a one-row capture).
///
/// # Shapes
/// - `grad`: `[seq, d_out]` (the quadrature of the steps' gradients)
fn neuron_scores(
    model: &Llama,
    site: Site,
    axis: NeuronAxis,
    captured: &kne_model::Captured,
    grad: Tensor<2>,
) -> Result<Vec<f64>, AttrError> {
    let [seq, _] = grad.dims();
    let row = |t: Tensor<3>| {
        let d = t.dims()[2];
        t.reshape([seq, d])
    };
    let linear = model.site(site)?;
    let per_neuron = match axis {
        NeuronAxis::Out => {
            // w̄_k · x is the output without the bias (GPT-J's fc_in/fc_out have one).
            let y = row(captured.output.clone().inner());
            let y = match &linear.bias {
                Some(b) => y - b.val().inner().unsqueeze(),
                None => y,
            };
            (y * grad).sum_dim(0)
        }
        NeuronAxis::In => {
            let x = row(captured.input.clone().inner());
            let w = linear.weight.val().inner();
            (x * grad.matmul(w.transpose())).sum_dim(0)
        }
    };
    let values = per_neuron
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| AttrError::Config(format!("reading scores: {e:?}")))?;
    Ok(values.into_iter().map(f64::from).collect())
}

/// Attribution summed over `facts`; `on_fact(i)` is called after each (progress bars).
pub fn attribute(
    model: &Llama,
    facts: &[FactTokens],
    config: &AttributionConfig,
    on_fact: impl FnMut(usize),
) -> Result<Scores, AttrError> {
    if facts.is_empty() {
        return Err(AttrError::Empty);
    }
    attribute_onto(config.empty_scores(), model, facts, config, on_fact)
}

/// Adds the attribution of `facts` to `total` (the sum over the facts before them), with
/// as many facts at once as [`kne_model::job_workers`] gives the model's device (one per
/// core on the CPU). Resuming a localization from a saved partial sum this way does the
/// same additions in the same order as one [`attribute`] over all facts, so the result is
/// bit-identical.
pub fn attribute_onto(
    total: Scores,
    model: &Llama,
    facts: &[FactTokens],
    config: &AttributionConfig,
    on_fact: impl FnMut(usize),
) -> Result<Scores, AttrError> {
    let workers = kne_model::job_workers(&model.device());
    attribute_onto_with_workers(total, model, facts, config, workers, on_fact)
}

/// [`attribute_onto`] with `workers` facts attributed at once, each on one thread. The
/// per-fact scores are added to `total` in the order of `facts` whatever the order they
/// finish in, and a fact's arithmetic does not depend on its threads, so every `workers`
/// gives the same bits; `on_fact(i)` is called in order too.
pub fn attribute_onto_with_workers(
    mut total: Scores,
    model: &Llama,
    facts: &[FactTokens],
    config: &AttributionConfig,
    workers: usize,
    mut on_fact: impl FnMut(usize),
) -> Result<Scores, AttrError> {
    let tracked;
    let model = if model.device().is_autodiff() {
        model
    } else {
        tracked = model.frozen_autodiff();
        &tracked
    };
    let first = total.facts;
    kne_model::ordered_jobs(
        facts.len(),
        workers,
        |offset| {
            attribute_fact(model, &facts[offset], config).map_err(|e| AttrError::Fact {
                index: first + offset,
                message: e.to_string(),
            })
        },
        |offset, scores| {
            total.accumulate(&scores)?;
            on_fact(offset);
            Ok(())
        },
    )?;
    Ok(total)
}
