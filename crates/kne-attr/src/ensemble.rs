//! The Knowledge Neuronal Ensemble: the selected neurons of every site.

use std::collections::BTreeMap;
use std::path::Path;

use kne_model::{Llama, Site};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::selection::SelectionScope;
use crate::{AttrError, NeuronAxis};

/// The neurons kept at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteNeurons {
    /// Neuron ids, ascending.
    pub neurons: Vec<u32>,
    /// Neurons the site has along the axis.
    pub site_neurons: usize,
    /// Weights per neuron (the other dimension of the site).
    pub neuron_len: usize,
    /// The score threshold that selected them.
    pub threshold: f64,
}

/// `N*_E` of Eq. 7: per site, the ids of the neurons to edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    pub axis: NeuronAxis,
    /// The fraction of scored neurons kept.
    pub p: f64,
    pub scope: SelectionScope,
    /// Facts the scores were accumulated over.
    pub localization_facts: usize,
    /// Unique parameters of the model (for [`Ensemble::parameter_fraction`]).
    pub model_parameters: usize,
    /// Sites with at least one neuron.
    pub sites: BTreeMap<Site, SiteNeurons>,
}

impl Ensemble {
    /// Number of neurons in the ensemble.
    pub fn neuron_count(&self) -> usize {
        self.sites.values().map(|s| s.neurons.len()).sum()
    }

    /// Number of weights the ensemble owns (what KNE trains).
    pub fn parameter_count(&self) -> usize {
        self.sites
            .values()
            .map(|s| s.neurons.len() * s.neuron_len)
            .sum()
    }

    /// Fraction of the model's parameters the ensemble covers (the paper: about 1 %).
    pub fn parameter_fraction(&self) -> f64 {
        self.parameter_count() as f64 / self.model_parameters.max(1) as f64
    }

    /// Neurons per site, for reports (`"14.down" → 37`).
    pub fn neurons_per_site(&self) -> BTreeMap<Site, usize> {
        self.sites
            .iter()
            .map(|(s, n)| (*s, n.neurons.len()))
            .collect()
    }

    /// How many neurons this ensemble shares with `other` (same site, same id).
    pub fn shared_neurons(&self, other: &Ensemble) -> usize {
        self.sites
            .iter()
            .filter_map(|(site, a)| other.sites.get(site).map(|b| (a, b)))
            .map(|(a, b)| {
                let b: std::collections::BTreeSet<u32> = b.neurons.iter().copied().collect();
                a.neurons.iter().filter(|n| b.contains(n)).count()
            })
            .sum()
    }

    /// Jaccard overlap `|A ∩ B| / |A ∪ B|` of two ensembles' neurons (1 = the same
    /// ensemble, 0 = disjoint; 1 when both are empty).
    pub fn jaccard(&self, other: &Ensemble) -> f64 {
        let shared = self.shared_neurons(other);
        let union = self.neuron_count() + other.neuron_count() - shared;
        if union == 0 {
            1.0
        } else {
            shared as f64 / union as f64
        }
    }

    /// Checks the ensemble fits `model`: every site exists and has the neuron count and
    /// neuron length recorded for it (an ensemble made on another model does not).
    ///
    /// # Errors
    /// [`AttrError::Misfit`] naming the field, e.g. ``field `sites.99.down` ``.
    pub fn check(&self, model: &Llama) -> Result<(), AttrError> {
        for (site, s) in &self.sites {
            let misfit =
                |message: String| AttrError::Misfit(format!("field `sites.{site}`: {message}"));
            let dims = model.site(*site).map_err(|e| misfit(e.to_string()))?.dims();
            let (count, len) = (self.axis.count(dims), self.axis.neuron_len(dims));
            if (s.site_neurons, s.neuron_len) != (count, len) {
                return Err(misfit(format!(
                    "{} neurons of {} weights recorded, the model's site has {count} of {len}",
                    s.site_neurons, s.neuron_len
                )));
            }
        }
        Ok(())
    }

    /// Writes JSON atomically.
    pub fn save(&self, path: &Path) -> Result<(), AttrError> {
        write_json_atomic(path, self)
    }

    /// Reads and checks an ensemble file (ids ascending, unique, inside the site).
    pub fn load(path: &Path) -> Result<Self, AttrError> {
        let ensemble: Ensemble = read_json(path)?;
        if !(ensemble.p > 0.0 && ensemble.p < 1.0) {
            return Err(AttrError::File {
                path: path.to_path_buf(),
                message: format!("field `p`: {} is outside (0, 1)", ensemble.p),
            });
        }
        for (site, s) in &ensemble.sites {
            let sorted = s.neurons.windows(2).all(|w| w[0] < w[1]);
            let inside = s.neurons.iter().all(|&n| (n as usize) < s.site_neurons);
            if !sorted || !inside {
                return Err(AttrError::File {
                    path: path.to_path_buf(),
                    message: format!(
                        "field `sites.{site}.neurons`: ids must be ascending, unique and below {}",
                        s.site_neurons
                    ),
                });
            }
        }
        Ok(ensemble)
    }
}

pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), AttrError> {
    let err = |message: String| AttrError::File {
        path: path.to_path_buf(),
        message,
    };
    let mut json = serde_json::to_vec_pretty(value).map_err(|e| err(e.to_string()))?;
    json.push(b'\n');
    kne_model::write_atomic(path, &json).map_err(|e| err(e.to_string()))
}

pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, AttrError> {
    let text = std::fs::read_to_string(path).map_err(|e| AttrError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| AttrError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kne_model::ModuleKind;

    fn ensemble(sites: &[(usize, ModuleKind, &[u32])]) -> Ensemble {
        Ensemble {
            axis: NeuronAxis::Out,
            p: 0.01,
            scope: SelectionScope::Global,
            localization_facts: 1,
            model_parameters: 1000,
            sites: sites
                .iter()
                .map(|(layer, module, neurons)| {
                    (
                        Site::new(*layer, *module),
                        SiteNeurons {
                            neurons: neurons.to_vec(),
                            site_neurons: 100,
                            neuron_len: 10,
                            threshold: 0.0,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn overlap_counts_the_same_neuron_of_the_same_site() {
        let a = ensemble(&[(1, ModuleKind::Down, &[1, 2, 3]), (2, ModuleKind::Q, &[5])]);
        let b = ensemble(&[(1, ModuleKind::Down, &[2, 3, 4]), (2, ModuleKind::K, &[5])]);
        // Shared: down 2 and 3 (q 5 and k 5 are different sites).
        assert_eq!(a.shared_neurons(&b), 2);
        assert_eq!(a.jaccard(&b), 2.0 / 6.0);
        assert_eq!(a.jaccard(&a), 1.0);
        assert_eq!(ensemble(&[]).jaccard(&ensemble(&[])), 1.0);
    }
}
