//! Eq. 6–7: keep every neuron whose score reaches the `1 - p` quantile.

use std::collections::BTreeMap;

use kne_model::{Llama, ModuleKind, Site};
use serde::{Deserialize, Serialize};

use crate::ensemble::SiteNeurons;
use crate::{AttrError, Ensemble, Scores};

/// Over which set of neurons the quantile is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SelectionScope {
    /// One threshold over all neurons of all sites and layers (the paper, Eq. 6).
    #[default]
    Global,
    /// One threshold per module type (q, k, …, down), over all its layers: METHODS A9's
    /// reading when several module types are edited, since scores of sites of different
    /// shapes need not be comparable.
    PerModule,
    /// One threshold per site (each site keeps its own top fraction).
    PerSite,
}

/// The threshold `t_p` that keeps the top fraction `p` of `values`: the `k`-th largest value
/// with `k = max(1, ceil(p · N))` (a nearest-rank quantile).
///
/// Selecting every value `≥ t_p` keeps exactly `k` values when they are distinct; values
/// tied with the `k`-th largest are all kept, so ties can only enlarge the selection.
pub fn top_fraction_threshold(values: &[f64], p: f64) -> Result<f64, AttrError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(AttrError::FractionOutOfRange(p));
    }
    if values.is_empty() {
        return Err(AttrError::Empty);
    }
    let k = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    let mut sorted = values.to_vec();
    // Descending; scores were checked to be finite, so total_cmp is the numeric order.
    let (_, kth, _) = sorted.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    Ok(*kth)
}

/// The threshold of each site's neurons under `scope`: one over all sites, one per module
/// type, or one per site.
fn thresholds(
    scores: &Scores,
    p: f64,
    scope: SelectionScope,
) -> Result<impl Fn(&Site) -> Result<f64, AttrError> + '_, AttrError> {
    let mut by_group: BTreeMap<Option<ModuleKind>, f64> = BTreeMap::new();
    match scope {
        SelectionScope::Global => {
            let all: Vec<f64> = scores.sites.values().flatten().copied().collect();
            by_group.insert(None, top_fraction_threshold(&all, p)?);
        }
        SelectionScope::PerModule => {
            let mut values: BTreeMap<ModuleKind, Vec<f64>> = BTreeMap::new();
            for (site, v) in &scores.sites {
                values.entry(site.module).or_default().extend(v);
            }
            for (module, v) in values {
                by_group.insert(Some(module), top_fraction_threshold(&v, p)?);
            }
        }
        SelectionScope::PerSite => {}
    }
    Ok(move |site: &Site| match scope {
        SelectionScope::Global => Ok(by_group[&None]),
        SelectionScope::PerModule => Ok(by_group[&Some(site.module)]),
        SelectionScope::PerSite => top_fraction_threshold(&scores.sites[site], p),
    })
}

/// Builds the ensemble of `scores` at fraction `p` (in (0, 1)).
pub fn select(
    scores: &Scores,
    model: &Llama,
    p: f64,
    scope: SelectionScope,
) -> Result<Ensemble, AttrError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(AttrError::FractionOutOfRange(p));
    }
    if scores.sites.is_empty() || scores.neuron_count() == 0 {
        return Err(AttrError::Empty);
    }
    for (site, values) in &scores.sites {
        if let Some(neuron) = values.iter().position(|v| !v.is_finite()) {
            return Err(AttrError::NonFinite {
                site: *site,
                neuron,
            });
        }
    }
    let thresholds = thresholds(scores, p, scope)?;
    let mut sites = BTreeMap::new();
    for (site, values) in &scores.sites {
        let threshold = thresholds(site)?;
        let dims = model.site(*site)?.dims();
        let neurons: Vec<u32> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v >= threshold)
            .map(|(i, _)| i as u32)
            .collect();
        if neurons.is_empty() {
            continue;
        }
        sites.insert(
            *site,
            SiteNeurons {
                neurons,
                site_neurons: scores.axis.count(dims),
                neuron_len: scores.axis.neuron_len(dims),
                threshold,
            },
        );
    }
    Ok(Ensemble {
        axis: scores.axis,
        p,
        scope,
        localization_facts: scores.facts,
        model_parameters: model.parameter_count(),
        sites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_the_kth_largest() {
        let v = [0.1, 0.5, -2.0, 3.0, 0.7];
        // p = 0.4 of 5 → k = 2 → second largest = 0.7
        assert_eq!(top_fraction_threshold(&v, 0.4).unwrap(), 0.7);
        // tiny p still keeps one
        assert_eq!(top_fraction_threshold(&v, 1e-9).unwrap(), 3.0);
        assert!(matches!(
            top_fraction_threshold(&v, 0.0),
            Err(AttrError::FractionOutOfRange(_))
        ));
        assert!(matches!(
            top_fraction_threshold(&v, 1.0),
            Err(AttrError::FractionOutOfRange(_))
        ));
        assert!(matches!(
            top_fraction_threshold(&[], 0.5),
            Err(AttrError::Empty)
        ));
    }
}
