//! The change an edit makes: sparse (whole neurons) or dense per site, applied exactly and
//! reverted bit-identically.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use kne_attr::NeuronAxis;
use kne_model::{Llama, Site};
use serde::{Deserialize, Serialize};

use crate::EditError;
use crate::scatter::flat_index;

/// The change at one site, added to its weight (burn layout `[d_in, d_out]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SiteDelta {
    /// Whole neurons: row `i` of `values` (`[indices.len(), neuron_len]`, row-major) is added
    /// to the weights of neuron `indices[i]`.
    Neurons {
        axis: NeuronAxis,
        indices: Vec<u32>,
        neuron_len: usize,
        values: Vec<f32>,
    },
    /// A dense change, row-major `[d_in, d_out]` (ROME/MEMIT/FT write whole matrices).
    Dense {
        d_in: usize,
        d_out: usize,
        values: Vec<f32>,
    },
}

impl SiteDelta {
    /// Checks the delta fits a site of burn-layout dims `[d_in, d_out]`.
    pub fn check(&self, site: Site, [d_in, d_out]: [usize; 2]) -> Result<(), EditError> {
        let bad = |message: String| EditError::Delta { site, message };
        match self {
            SiteDelta::Neurons {
                axis,
                indices,
                neuron_len,
                values,
            } => {
                if *neuron_len != axis.neuron_len([d_in, d_out]) {
                    return Err(bad(format!(
                        "neurons of {neuron_len} weights, the site's {axis:?} neurons have {}",
                        axis.neuron_len([d_in, d_out])
                    )));
                }
                if indices.len().checked_mul(*neuron_len) != Some(values.len()) {
                    return Err(bad(format!(
                        "{} values for {} neurons of {neuron_len}",
                        values.len(),
                        indices.len()
                    )));
                }
                let count = axis.count([d_in, d_out]);
                if let Some(k) = indices.iter().find(|&&k| k as usize >= count) {
                    return Err(bad(format!("neuron {k} is outside the site's {count}")));
                }
                if indices.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(bad("neuron ids must be ascending and unique".into()));
                }
            }
            SiteDelta::Dense {
                d_in: i,
                d_out: o,
                values,
            } => {
                if [*i, *o] != [d_in, d_out] || values.len() != i * o {
                    return Err(bad(format!(
                        "dense delta [{i}, {o}] with {} values, site is [{d_in}, {d_out}]",
                        values.len()
                    )));
                }
            }
        }
        if let Some(v) = self.values().iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("non-finite value {v}")));
        }
        Ok(())
    }

    pub fn values(&self) -> &[f32] {
        match self {
            SiteDelta::Neurons { values, .. } | SiteDelta::Dense { values, .. } => values,
        }
    }

    /// Weights this delta touches.
    pub fn changed_parameters(&self) -> usize {
        self.values().len()
    }

    /// Adds the delta into a row-major `[d_in, d_out]` buffer, touching only its entries.
    pub fn add_into(&self, weight: &mut [f32], d_out: usize) {
        match self {
            SiteDelta::Neurons {
                axis,
                indices,
                neuron_len,
                values,
            } => {
                for (row, &k) in values.chunks_exact(*neuron_len).zip(indices) {
                    for (j, v) in row.iter().enumerate() {
                        weight[flat_index(*axis, d_out, k as usize, j)] += v;
                    }
                }
            }
            SiteDelta::Dense { values, .. } => {
                for (w, v) in weight.iter_mut().zip(values) {
                    *w += v;
                }
            }
        }
    }

    /// The first entry this delta touches that is not finite in `weight` (row-major
    /// `[d_in, d_out]`), as (flat index, value): after [`Self::add_into`], a finite delta
    /// can still overflow a large weight (e.g. edits stacked on an edited model).
    pub fn first_non_finite(&self, weight: &[f32], d_out: usize) -> Option<(usize, f32)> {
        match self {
            SiteDelta::Neurons {
                axis,
                indices,
                neuron_len,
                ..
            } => indices
                .iter()
                .flat_map(|&k| {
                    (0..*neuron_len).map(move |j| flat_index(*axis, d_out, k as usize, j))
                })
                .map(|i| (i, weight[i]))
                .find(|(_, w)| !w.is_finite()),
            SiteDelta::Dense { .. } => weight
                .iter()
                .copied()
                .enumerate()
                .find(|(_, w)| !w.is_finite()),
        }
    }
}

/// An edit's change to the model, by site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightDelta {
    pub sites: BTreeMap<Site, SiteDelta>,
}

/// The weights a delta replaced, to put back with [`AppliedDelta::revert`].
#[must_use = "keep it to revert the edit"]
#[derive(Debug)]
pub struct AppliedDelta {
    originals: Vec<(Site, Param<Tensor<2>>)>,
}

impl WeightDelta {
    /// Weights changed in total.
    pub fn changed_parameters(&self) -> usize {
        self.sites.values().map(SiteDelta::changed_parameters).sum()
    }

    /// Checks every site exists and every delta fits it.
    pub fn check(&self, model: &Llama) -> Result<(), EditError> {
        for (site, delta) in &self.sites {
            delta.check(*site, model.site(*site)?.dims())?;
        }
        Ok(())
    }

    /// Adds the delta to `model`'s weights. Entries outside the delta keep their exact bits;
    /// nothing changes if any site is invalid or any changed weight would be non-finite
    /// (sites already written are put back before the error returns).
    pub fn apply(&self, model: &mut Llama) -> Result<AppliedDelta, EditError> {
        self.check(model)?;
        let mut applied = AppliedDelta {
            originals: Vec::with_capacity(self.sites.len()),
        };
        for (site, delta) in &self.sites {
            if let Err(e) = Self::apply_site(model, *site, delta, &mut applied) {
                applied.revert(model)?;
                return Err(e);
            }
        }
        Ok(applied)
    }

    /// Adds one site's delta, recording the original weight in `applied`.
    fn apply_site(
        model: &mut Llama,
        site: Site,
        delta: &SiteDelta,
        applied: &mut AppliedDelta,
    ) -> Result<(), EditError> {
        let linear = model.site_mut(site)?;
        let original = linear.weight.clone();
        let [d_in, d_out] = linear.dims();
        let weight = original.val();
        let device = weight.device();
        let mut values =
            weight
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| EditError::Delta {
                    site,
                    message: format!("reading the weight: {e:?}"),
                })?;
        delta.add_into(&mut values, d_out);
        if let Some((i, w)) = delta.first_non_finite(&values, d_out) {
            return Err(EditError::Delta {
                site,
                message: format!(
                    "the edited weight [{}, {}] would be {w} (non-finite); the delta was not applied",
                    i / d_out,
                    i % d_out
                ),
            });
        }
        let updated = Tensor::<2>::from_data(TensorData::new(values, [d_in, d_out]), &device);
        linear.weight = original.clone().map(|_| updated);
        applied.originals.push((site, original));
        Ok(())
    }
}

impl AppliedDelta {
    /// Puts the original weights back (the same tensors, so bit-identical).
    pub fn revert(self, model: &mut Llama) -> Result<(), EditError> {
        for (site, original) in self.originals.into_iter().rev() {
            model.site_mut(site)?.weight = original;
        }
        Ok(())
    }
}
