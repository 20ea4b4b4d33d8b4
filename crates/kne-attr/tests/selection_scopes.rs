//! The three selection scopes of Eq. 6 on synthetic scores over the real model's sites:
//! one quantile over everything, one per module type (METHODS A9), one per site.

use std::collections::BTreeMap;

use burn::tensor::Device;
use kne_attr::{NeuronAxis, Scores, SelectionScope, select};
use kne_model::{ModuleKind, Site, paths};

/// Distinct scores on two layers × {q, down}; `down` scores are 1000× larger, so a global
/// quantile takes only `down` neurons while per-module and per-site take from each.
fn scores() -> Scores {
    let mut sites = BTreeMap::new();
    let mut next = 0.0f64;
    for layer in [3, 7] {
        for (module, scale) in [(ModuleKind::Q, 1.0), (ModuleKind::Down, 1000.0)] {
            let values: Vec<f64> = (0..576)
                .map(|_| {
                    next += 1.0;
                    scale * (next * 0.618_033_988_7 % 1.0 + 1e-6 * next)
                })
                .collect();
            sites.insert(Site::new(layer, module), values);
        }
    }
    Scores {
        axis: NeuronAxis::Out,
        steps: 1,
        quadrature: Default::default(),
        facts: 1,
        sites,
    }
}

fn kept(ensemble: &kne_attr::Ensemble, module: ModuleKind) -> usize {
    ensemble
        .neurons_per_site()
        .iter()
        .filter(|(s, _)| s.module == module)
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn each_scope_keeps_the_top_fraction_of_its_own_group() {
    let path = paths::default_model_path();
    assert!(
        path.exists(),
        "run `cargo xtask fetch-model` ({} missing)",
        path.display()
    );
    let loaded = kne_model::load(&path, &Device::flex()).unwrap();
    let scores = scores();
    let p = 0.05;
    // 4 sites × 576 neurons; ceil(0.05 · 2304) = 116 over all, 58 per module, 29 per site.
    let global = select(&scores, &loaded.model, p, SelectionScope::Global).unwrap();
    assert_eq!(kept(&global, ModuleKind::Down), 116);
    assert_eq!(kept(&global, ModuleKind::Q), 0);
    let per_module = select(&scores, &loaded.model, p, SelectionScope::PerModule).unwrap();
    assert_eq!(kept(&per_module, ModuleKind::Down), 58);
    assert_eq!(kept(&per_module, ModuleKind::Q), 58);
    let per_site = select(&scores, &loaded.model, p, SelectionScope::PerSite).unwrap();
    for (site, n) in per_site.neurons_per_site() {
        assert_eq!(n, 29, "{site:?}");
    }
    // Per module: the thresholds of one module's sites are equal, and differ across modules.
    let threshold = |module, layer| per_module.sites[&Site::new(layer, module)].threshold;
    assert_eq!(threshold(ModuleKind::Q, 3), threshold(ModuleKind::Q, 7));
    assert!(threshold(ModuleKind::Down, 3) > 100.0 * threshold(ModuleKind::Q, 3));
}
