//! Criterion benches live in `benches/benches/`; this library holds what several of them
//! read: the default model, the first WikiData counterfact case, and an ensemble of the
//! default size.

use std::collections::BTreeMap;

use burn::tensor::Device;
use kne_attr::{NeuronAxis, Scores, SelectionScope};
use kne_edit::EditRequest;
use kne_eval::data::{Dataset, EditCase, default_data_dir, load_cases};
use kne_model::{LoadedModel, ModuleKind, Site, paths};

/// The index of the benched case in WikiData counterfact's test file.
pub const CASE_INDEX: usize = 0;

/// The default model (GGUF), on the CPU.
pub fn load() -> LoadedModel {
    let path = paths::default_model_path();
    kne_model::load(&path, &Device::flex())
        .unwrap_or_else(|e| panic!("{e} (run `cargo xtask fetch-model`)"))
}

/// The first WikiData counterfact case: a real prompt/target pair with its probes.
pub fn first_case() -> EditCase {
    let dataset = Dataset::WikiCounterfact;
    let path = default_data_dir().join(dataset.test_file());
    load_cases(dataset, &path)
        .unwrap_or_else(|e| panic!("{e} (run `cargo xtask fetch-data`)"))
        .swap_remove(CASE_INDEX)
}

/// The edit a case asks for.
pub fn request(case: &EditCase) -> EditRequest {
    EditRequest {
        prompt: case.prompt.clone(),
        target: case.target_new.clone(),
        subject: case.subject.clone(),
    }
}

/// An ensemble of the default size (p = 0.01 over all 210 sites) from deterministic
/// pseudo-random scores: an edit's cost depends on the ensemble's size and spread, not on
/// which neurons were chosen.
pub fn pseudo_random_ensemble(loaded: &LoadedModel) -> kne_attr::Ensemble {
    let mut sites = BTreeMap::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for layer in 0..loaded.model.layers.len() {
        for module in ModuleKind::ALL {
            let site = Site::new(layer, module);
            let n = NeuronAxis::Out.count(loaded.model.site(site).unwrap().dims());
            let values = (0..n)
                .map(|_| {
                    // xorshift64: reproducible, no dependency.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 11) as f64 / (1u64 << 53) as f64
                })
                .collect();
            sites.insert(site, values);
        }
    }
    let scores = Scores {
        axis: NeuronAxis::Out,
        steps: 1,
        quadrature: Default::default(),
        facts: 1,
        sites,
    };
    kne_attr::select(&scores, &loaded.model, 0.01, SelectionScope::Global).unwrap()
}
