//! Sites read from a shared path (`q`/`k`, `v`/`o`, `up`/`down`; `kne_attr::shared_paths`)
//! score as their own paths do, on the three architectures: which pairs each layer allows,
//! and the scores with sharing against the scores without, site by site.

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::Device;
use kne_attr::{
    AttributionConfig, FactTokens, Link, NeuronAxis, Quadrature, SharedPath, attribute_fact,
    layer_paths,
};
use kne_model::{LoadedModel, ModuleKind, Site, paths};

fn load(path: PathBuf) -> LoadedModel {
    assert!(
        path.exists(),
        "run `cargo xtask fetch-model` ({} missing)",
        path.display()
    );
    kne_model::load(&path, &Device::flex()).unwrap()
}

fn smollm2() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| load(paths::default_model_path()))
}

fn gemma() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| load(paths::gemma_model_path()))
}

fn gptj() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        load(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kne-model/tests/fixtures/gptj-tiny"),
        )
    })
}

fn text_fact(model: &LoadedModel) -> FactTokens {
    let tok = &model.tokenizer;
    FactTokens {
        prompt_ids: tok.encode("The capital of France is").unwrap(),
        target_ids: tok.encode(" Paris, France").unwrap(),
    }
}

/// "Hello, world" and the tiny GPT-J's own greedy continuation (as `gptj_attribution.rs`).
fn gptj_fact() -> FactTokens {
    FactTokens {
        prompt_ids: vec![72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100],
        target_ids: vec![85, 189],
    }
}

/// The paths of `layer` over `modules`, written `primary+partner` (`~` for a bilinear link).
fn paths_of(model: &LoadedModel, layer: usize, modules: &[ModuleKind], share: bool) -> Vec<String> {
    let sites: Vec<Site> = modules.iter().map(|&m| Site::new(layer, m)).collect();
    let show = |p: &SharedPath| {
        let mut s = p.primary.module.name().to_string();
        for (partner, link) in &p.partners {
            s += if *link == Link::Bilinear { "~" } else { "+" };
            s += partner.module.name();
        }
        s
    };
    layer_paths(&model.model, layer, &sites, share)
        .unwrap()
        .iter()
        .map(show)
        .collect()
}

#[test]
fn each_architecture_pairs_only_the_sites_whose_paths_coincide() {
    use ModuleKind::*;
    let all = ModuleKind::ALL;
    // Llama: q·k, v → o, up → down (gated MLP); gate alone.
    assert_eq!(
        paths_of(smollm2(), 3, &all, true),
        ["q~k", "v+o", "gate", "up+down"]
    );
    // GPT-J: up (fc_in) feeds a GELU, so up and down stay apart.
    assert_eq!(
        paths_of(gptj(), 1, &[Q, K, V, O, Up, Down], true),
        ["q~k", "v+o", "up", "down"]
    );
    // Gemma-3: q and k are RMS-normed per head, so their paths differ.
    assert_eq!(
        paths_of(gemma(), 2, &all, true),
        ["q", "k", "v+o", "gate", "up+down"]
    );
    // A pair needs both sites configured; sharing off keeps every site alone.
    assert_eq!(paths_of(smollm2(), 0, &[O, K], true), ["k", "o"]);
    assert_eq!(paths_of(smollm2(), 0, &[Down, Up], true), ["up+down"]);
    assert_eq!(
        paths_of(smollm2(), 0, &all, false),
        ["q", "k", "v", "o", "gate", "up", "down"]
    );
}

/// Every site's scores with shared paths against its own path's: the largest difference
/// relative to the site's largest score, over all sites.
fn shared_against_own(model: &LoadedModel, fact: &FactTokens, config: AttributionConfig) -> f64 {
    let tracked = model.model.frozen_autodiff();
    let own = attribute_fact(
        &tracked,
        fact,
        &AttributionConfig {
            share_paths: false,
            ..config.clone()
        },
    )
    .unwrap();
    let shared = attribute_fact(&tracked, fact, &config).unwrap();
    assert_eq!(own.sites.len(), shared.sites.len());
    let mut worst = 0.0f64;
    for (site, a) in &own.sites {
        let b = &shared.sites[site];
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
        let diff = a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        eprintln!("{site}: max |Δ| {diff:.3e} of max |score| {scale:.3e}");
        worst = worst.max(diff / scale);
    }
    worst
}

fn config(
    modules: &[ModuleKind],
    layers: &[usize],
    axis: NeuronAxis,
    quadrature: Quadrature,
) -> AttributionConfig {
    AttributionConfig {
        steps: 4,
        axis,
        modules: modules.to_vec(),
        layers: Some(layers.to_vec()),
        max_rows: 64,
        quadrature,
        share_paths: true,
    }
}

#[test]
fn a_shared_path_scores_every_site_as_its_own_path_on_llama() {
    let model = smollm2();
    let fact = text_fact(model);
    // The midpoint rule has no node at α = 1, so a downstream partner's activations are
    // divided by its last node, not read at scale 1.
    for (axis, rule) in [
        (NeuronAxis::Out, Quadrature::Riemann),
        (NeuronAxis::In, Quadrature::Riemann),
        (NeuronAxis::Out, Quadrature::Midpoint),
    ] {
        let worst = shared_against_own(
            model,
            &fact,
            config(&ModuleKind::ALL, &[0, 9, 29], axis, rule),
        );
        eprintln!("SmolLM2 {axis:?} {rule:?}: worst relative difference {worst:.3e}");
        assert!(worst < 1e-4, "{axis:?} {rule:?}: {worst}");
    }
}

#[test]
fn a_shared_path_scores_every_site_as_its_own_path_on_gptj_and_gemma3() {
    use ModuleKind::*;
    let worst = shared_against_own(
        gptj(),
        &gptj_fact(),
        config(
            &[Q, K, V, O, Up, Down],
            &[0, 1],
            NeuronAxis::Out,
            Quadrature::Riemann,
        ),
    );
    eprintln!("GPT-J tiny: worst relative difference {worst:.3e}");
    assert!(worst < 1e-4, "GPT-J: {worst}");
    let model = gemma();
    let worst = shared_against_own(
        model,
        &text_fact(model),
        config(
            &ModuleKind::ALL,
            &[5, 16],
            NeuronAxis::Out,
            Quadrature::Riemann,
        ),
    );
    eprintln!("Gemma-3: worst relative difference {worst:.3e}");
    assert!(worst < 1e-4, "Gemma-3: {worst}");
}
