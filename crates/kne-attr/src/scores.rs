//! Attribution scores per site and neuron, summed over facts.

use std::collections::BTreeMap;
use std::path::Path;

use kne_model::Site;
use serde::{Deserialize, Serialize};

use crate::{AttrError, NeuronAxis, Quadrature};

/// `Attr(w_k^(l))` of Eq. 5 for every neuron of every attributed site, summed over the
/// facts of a localization set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub axis: NeuronAxis,
    /// Path points `m` used (Riemann steps for the paper's rule).
    pub steps: usize,
    /// The rule that placed them (absent in files written before it was configurable).
    #[serde(default, skip_serializing_if = "Quadrature::is_riemann")]
    pub quadrature: Quadrature,
    /// Number of facts accumulated.
    pub facts: usize,
    /// Per site, one score per neuron.
    pub sites: BTreeMap<Site, Vec<f64>>,
}

impl Scores {
    /// No facts yet.
    pub fn empty(axis: NeuronAxis, steps: usize) -> Self {
        Self {
            axis,
            steps,
            quadrature: Quadrature::Riemann,
            facts: 0,
            sites: BTreeMap::new(),
        }
    }

    /// The same, for scores taken with another quadrature rule.
    pub fn with_quadrature(mut self, quadrature: Quadrature) -> Self {
        self.quadrature = quadrature;
        self
    }

    /// Adds another fact's (or set's) scores; both must use the same axis, steps and sites
    /// (an empty `self` takes `other`'s sites).
    pub fn accumulate(&mut self, other: &Scores) -> Result<(), AttrError> {
        if self.axis != other.axis
            || self.steps != other.steps
            || self.quadrature != other.quadrature
        {
            return Err(AttrError::Config(format!(
                "cannot add scores of axis {:?}/steps {}/{} to axis {:?}/steps {}/{}",
                other.axis, other.steps, other.quadrature, self.axis, self.steps, self.quadrature
            )));
        }
        if self.sites.is_empty() {
            self.sites = other.sites.clone();
        } else {
            if self.sites.len() != other.sites.len() {
                return Err(AttrError::Config("scores cover different sites".into()));
            }
            for (site, values) in &other.sites {
                let mine = self
                    .sites
                    .get_mut(site)
                    .filter(|m| m.len() == values.len())
                    .ok_or_else(|| AttrError::Config(format!("scores differ at site {site}")))?;
                for (a, b) in mine.iter_mut().zip(values) {
                    *a += b;
                }
            }
        }
        self.facts += other.facts;
        Ok(())
    }

    /// Total number of neurons scored.
    pub fn neuron_count(&self) -> usize {
        self.sites.values().map(Vec::len).sum()
    }

    /// Writes JSON atomically (temp file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), AttrError> {
        crate::ensemble::write_json_atomic(path, self)
    }

    pub fn load(path: &Path) -> Result<Self, AttrError> {
        crate::ensemble::read_json(path)
    }
}
