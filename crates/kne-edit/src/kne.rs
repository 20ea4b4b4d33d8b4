//! The KNE editor (Eq. 8–11): train only the ensemble's neurons.
//!
//! Per site with `n` ensemble neurons, a trainable `W_kne ∈ R^{n × neuron_len}` starts at
//! zero, is scattered into a zero `ΔW` at the ensemble's indices (Eq. 10), and the model runs
//! with `Ŵ = W + α/√n · ΔW` (Eq. 11) through the weight-delta hook. Only `W_kne` receives
//! gradients (every model weight is frozen); the loss is the NLL of the target tokens over
//! the batch; Adam updates `W_kne`. All sites train together, so the gradient flows through
//! every edited layer at once (the paper's "dynamic interaction" between layers).

use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Int, Tensor};
use kne_attr::{Ensemble, NeuronAxis};
use kne_model::{Interventions, LoadedModel, Site};
use serde::{Deserialize, Serialize};

use crate::loss::TargetBatch;
use crate::scatter::{index_tensor, neuron_delta, scatter_neurons};
use crate::{
    EditError, EditOutcome, EditRequest, EditStats, Editor, SiteDelta, TokenizedRequest,
    WeightDelta,
};

/// Optimisation settings of the KNE editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KneConfig {
    /// α of Eq. 11: the update is `α/√n · ΔW` (default 1.0).
    #[serde(default = "default_alpha")]
    pub alpha: f32,
    /// Adam learning rate on `W_kne` (default 0.001). Chosen on the first 4 WikiData
    /// counterfact cases (ensemble of 4 facts) among 0.01, 0.003 and 0.001: all reach ES 100;
    /// locality 22 / 41 / 45 and fluency 533 / 558 / 616 — larger steps overshoot and make
    /// generations repeat the target.
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// Adam steps at most (default 60).
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Stop once the mean target NLL is below this (default 0.05, i.e. P(target) ≈ 0.95).
    #[serde(default = "default_early_stop")]
    pub early_stop_loss: f32,
}

fn default_alpha() -> f32 {
    1.0
}
fn default_lr() -> f64 {
    0.001
}
fn default_steps() -> usize {
    60
}
fn default_early_stop() -> f32 {
    0.05
}

impl Default for KneConfig {
    fn default() -> Self {
        Self {
            alpha: default_alpha(),
            learning_rate: default_lr(),
            steps: default_steps(),
            early_stop_loss: default_early_stop(),
        }
    }
}

impl KneConfig {
    pub fn validate(&self) -> Result<(), EditError> {
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(EditError::Config(format!(
                "alpha {} must be positive",
                self.alpha
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(EditError::Config(format!(
                "learning_rate {} must be positive",
                self.learning_rate
            )));
        }
        if self.steps == 0 {
            return Err(EditError::Config("steps must be at least 1".into()));
        }
        Ok(())
    }
}

/// The trainable `W_kne` of every ensemble site, as a module so burn's Adam can update it.
#[derive(Module, Debug)]
struct EnsembleWeights {
    weights: Vec<Param<Tensor<2>>>,
}

/// Edits by training the neurons of a fixed ensemble.
#[derive(Debug, Clone)]
pub struct KneEditor {
    pub config: KneConfig,
    pub ensemble: Ensemble,
    /// How the hook adds `ΔW` while training (not a setting of the method: both forms give
    /// the same losses and deltas up to float rounding).
    pub delta_form: DeltaForm,
}

/// How the training hook adds `α/√n · ΔW` to a site's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeltaForm {
    /// Through the ensemble's neurons only ([`kne_model::NeuronDelta`]): the cost grows
    /// with the ensemble, not with the weight matrix.
    #[default]
    Sparse,
    /// As Eq. 10 writes it: the neurons scattered into a zero `[d_in, d_out]` matrix
    /// ([`scatter_neurons`]) added to `W`. The reference the sparse form is checked and
    /// benchmarked against.
    Dense,
}

impl KneEditor {
    pub fn new(config: KneConfig, ensemble: Ensemble) -> Result<Self, EditError> {
        config.validate()?;
        if ensemble.sites.is_empty() {
            return Err(EditError::Config("the ensemble has no neurons".into()));
        }
        Ok(Self {
            config,
            ensemble,
            delta_form: DeltaForm::default(),
        })
    }

    /// `α/√n` for a site with `n` ensemble neurons.
    pub fn scale(&self, n: usize) -> f32 {
        self.config.alpha / (n as f32).sqrt()
    }

    /// The hook that adds every site's `α/√n · ΔW` (Eq. 10–11) in the editor's
    /// [`DeltaForm`].
    fn hooks(&self, sites: &[EnsembleSite], weights: &EnsembleWeights) -> Interventions {
        let mut hooks = Interventions::new();
        let axis = self.ensemble.axis;
        for (site, w) in sites.iter().zip(&weights.weights) {
            let values = w.val().mul_scalar(self.scale(site.neurons.len()));
            hooks = match self.delta_form {
                DeltaForm::Sparse => hooks
                    .add_neuron_delta(site.site, neuron_delta(values, site.index.clone(), axis)),
                DeltaForm::Dense => hooks.add_weight_delta(
                    site.site,
                    scatter_neurons(values, &site.neurons, axis, site.dims),
                ),
            };
        }
        hooks
    }
}

/// One site of the ensemble during an edit.
struct EnsembleSite {
    site: Site,
    neurons: Vec<u32>,
    /// `neurons` as an index tensor, built once per edit.
    index: Tensor<1, Int>,
    /// The site's weight shape `[d_in, d_out]` (for the dense form).
    dims: [usize; 2],
}

impl Editor for KneEditor {
    fn name(&self) -> &str {
        "kne"
    }

    fn edit(
        &mut self,
        model: &LoadedModel,
        requests: &[EditRequest],
    ) -> Result<EditOutcome, EditError> {
        let start = Instant::now();
        self.ensemble.check(&model.model)?;
        let tokenized = TokenizedRequest::all(&model.tokenizer, requests)?;
        let tracked = model.model.frozen_autodiff();
        let device = tracked.device();
        let axis: NeuronAxis = self.ensemble.axis;
        let mut sites = Vec::new();
        let mut initial = Vec::new();
        for (site, neurons) in &self.ensemble.sites {
            let dims = tracked.site(*site)?.dims();
            let len = axis.neuron_len(dims);
            initial.push(Param::from_tensor(Tensor::<2>::zeros(
                [neurons.neurons.len(), len],
                &device,
            )));
            sites.push(EnsembleSite {
                site: *site,
                neurons: neurons.neurons.clone(),
                index: index_tensor(&neurons.neurons, &device),
                dims,
            });
        }
        let mut weights = EnsembleWeights { weights: initial };
        let lowest = sites.iter().map(|s| s.site.layer).min().unwrap_or(0);
        let batch = TargetBatch::new(&tracked, &tokenized)?;
        // Nothing below the lowest edited layer changes: compute that prefix once.
        let prefix = batch.hidden_at(&tracked, lowest);
        let mut optim = AdamConfig::new().init();
        let mut stats = EditStats::default();
        for step in 0..self.config.steps {
            let hooks = self.hooks(&sites, &weights);
            let loss = batch.nll_from(&tracked, prefix.clone(), lowest, Some(&hooks));
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                return Err(EditError::NonFinite { step, loss: value });
            }
            stats.initial_loss.get_or_insert(value);
            stats.final_loss = Some(value);
            if value < self.config.early_stop_loss {
                break;
            }
            let grads = GradientsParams::from_grads(loss.backward(), &weights);
            weights = optim.step(self.config.learning_rate, weights, grads);
            stats.steps = step + 1;
        }
        if stats.steps == self.config.steps {
            // The loss after the last update, for the record.
            let hooks = self.hooks(&sites, &weights);
            let value = batch
                .nll_from(&tracked, prefix, lowest, Some(&hooks))
                .into_scalar::<f32>();
            stats.final_loss = Some(value);
        }
        let mut delta = WeightDelta::default();
        for (
            EnsembleSite {
                site,
                neurons: indices,
                ..
            },
            w,
        ) in sites.iter().zip(&weights.weights)
        {
            let scale = self.scale(indices.len());
            let values: Vec<f32> = w
                .val()
                .inner()
                .mul_scalar(scale)
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| EditError::Delta {
                    site: *site,
                    message: format!("{e:?}"),
                })?;
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(EditError::Delta {
                    site: *site,
                    message: format!("non-finite weight {v}"),
                });
            }
            delta.sites.insert(
                *site,
                SiteDelta::Neurons {
                    axis,
                    indices: indices.clone(),
                    neuron_len: axis.neuron_len(tracked.site(*site)?.dims()),
                    values,
                },
            );
        }
        stats.changed_parameters = delta.changed_parameters();
        stats.wall_seconds = start.elapsed().as_secs_f64();
        Ok(EditOutcome { delta, stats })
    }
}
