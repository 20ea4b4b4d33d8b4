//! The KNE editor and `WeightDelta` on the real model: an edit makes the target the argmax,
//! changes only the ensemble's neurons, reverts bit-identically, and survives a patch
//! round trip.

use std::collections::BTreeMap;
use std::sync::Mutex;

use burn::tensor::Device;
use kne_attr::{
    AttributionConfig, Ensemble, FactTokens, NeuronAxis, SelectionScope, attribute, select,
};
use kne_edit::{
    DeltaForm, EditRequest, Editor, KneConfig, KneEditor, SiteDelta, TokenizedRequest, WeightDelta,
};
use kne_model::{LoadedModel, ModuleKind, Site, paths};

/// Tests mutate the model (apply/revert), so each takes it exclusively.
fn with_model<T>(f: impl FnOnce(&mut LoadedModel) -> T) -> T {
    static MODEL: Mutex<Option<LoadedModel>> = Mutex::new(None);
    let mut guard = MODEL.lock().unwrap_or_else(|e| e.into_inner());
    let loaded = guard.get_or_insert_with(|| {
        let path = paths::default_model_path();
        assert!(
            path.exists(),
            "run `cargo xtask fetch-model` ({} missing)",
            path.display()
        );
        kne_model::load(&path, &Device::flex()).unwrap()
    });
    f(loaded)
}

fn request() -> EditRequest {
    EditRequest {
        prompt: "The name of the country of citizenship of Leonardo DiCaprio is".into(),
        target: "Syria".into(),
        subject: "Leonardo DiCaprio".into(),
    }
}

/// Teacher-forced argmax accuracy of the target tokens (the ES of METHODS.md).
fn target_accuracy(loaded: &LoadedModel, r: &EditRequest) -> f64 {
    TokenizedRequest::new(&loaded.tokenizer, &r.prompt, &r.target)
        .unwrap()
        .target_accuracy(&loaded.model)
        .unwrap()
}

/// An ensemble for `r` (p = 0.02 over `layers`, m = 2): small and quick, enough to edit.
fn ensemble_for(loaded: &LoadedModel, r: &EditRequest, layers: Vec<usize>) -> Ensemble {
    let t = TokenizedRequest::new(&loaded.tokenizer, &r.prompt, &r.target).unwrap();
    let fact = FactTokens::from(t);
    let config = AttributionConfig {
        steps: 2,
        layers: Some(layers),
        ..Default::default()
    };
    let scores = attribute(&loaded.model, &[fact], &config, |_| {}).unwrap();
    select(&scores, &loaded.model, 0.02, SelectionScope::Global).unwrap()
}

fn all_weights(loaded: &LoadedModel) -> BTreeMap<Site, Vec<u32>> {
    loaded
        .model
        .sites()
        .into_iter()
        .map(|s| {
            let v = loaded.model.site(s).unwrap().weight_values();
            (s, v.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

#[test]
fn kne_edit_writes_the_target_touches_only_the_ensemble_and_reverts_exactly() {
    with_model(|loaded| {
        let r = request();
        let before_acc = target_accuracy(loaded, &r);
        let ensemble = ensemble_for(loaded, &r, vec![10, 20]);
        assert!(ensemble.neuron_count() > 0);
        let mut editor = KneEditor::new(KneConfig::default(), ensemble.clone()).unwrap();
        let outcome = editor.edit(loaded, std::slice::from_ref(&r)).unwrap();
        eprintln!("stats: {:?}; accuracy before {before_acc}", outcome.stats);
        assert!(outcome.stats.final_loss.unwrap() < outcome.stats.initial_loss.unwrap());
        assert_eq!(outcome.stats.changed_parameters, ensemble.parameter_count());

        let before = all_weights(loaded);
        let applied = outcome.delta.apply(&mut loaded.model).unwrap();
        let after_acc = target_accuracy(loaded, &r);
        let edited = all_weights(loaded);
        applied.revert(&mut loaded.model).unwrap();
        assert_eq!(
            all_weights(loaded),
            before,
            "revert must restore every weight bit for bit"
        );

        assert!(
            after_acc > before_acc && after_acc >= 0.99,
            "edit success {after_acc} (before {before_acc})"
        );
        for (site, bits) in &edited {
            let [_, d_out] = loaded.model.site(*site).unwrap().dims();
            let neurons = ensemble
                .sites
                .get(site)
                .map(|s| s.neurons.clone())
                .unwrap_or_default();
            for (i, (a, b)) in bits.iter().zip(&before[site]).enumerate() {
                let neuron = (i % d_out) as u32; // axis Out: neuron = column
                if a != b {
                    assert!(
                        neurons.contains(&neuron),
                        "{site} weight {i} changed outside the ensemble"
                    );
                }
            }
        }
    });
}

#[test]
fn the_dense_and_sparse_training_hooks_give_the_same_edit() {
    with_model(|loaded| {
        let r = request();
        let ensemble = ensemble_for(loaded, &r, vec![12, 18]);
        let settings = KneConfig {
            steps: 5,
            early_stop_loss: 0.0,
            ..KneConfig::default()
        };
        let run = |form: DeltaForm| {
            let mut editor = KneEditor::new(settings.clone(), ensemble.clone()).unwrap();
            editor.delta_form = form;
            editor.edit(loaded, std::slice::from_ref(&r)).unwrap()
        };
        let sparse = run(DeltaForm::Sparse);
        let dense = run(DeltaForm::Dense);
        let (ls, ld) = (
            sparse.stats.final_loss.unwrap(),
            dense.stats.final_loss.unwrap(),
        );
        assert!(ls < sparse.stats.initial_loss.unwrap(), "the edit trains");
        assert!(
            (ls - ld).abs() <= 1e-4 * ld.abs().max(1.0),
            "loss {ls} vs {ld}"
        );
        assert_eq!(sparse.delta.sites.len(), dense.delta.sites.len());
        let (mut norm, mut diff) = (0f64, 0f64);
        for (site, a) in &sparse.delta.sites {
            let (
                SiteDelta::Neurons {
                    values: va,
                    indices: ia,
                    ..
                },
                SiteDelta::Neurons {
                    values: vb,
                    indices: ib,
                    ..
                },
            ) = (a, &dense.delta.sites[site])
            else {
                panic!("{site}: KNE deltas are neuron deltas");
            };
            assert_eq!(ia, ib, "{site}: the same neurons");
            for (x, y) in va.iter().zip(vb) {
                norm += f64::from(*x).powi(2);
                diff += f64::from(x - y).powi(2);
            }
        }
        // The two forms sum the gradients in different orders; Adam can amplify rounding
        // in near-zero gradient entries, so compare whole deltas (Frobenius norms).
        let (norm, diff) = (norm.sqrt(), diff.sqrt());
        assert!(norm > 1e-3, "the deltas are not zero ({norm})");
        assert!(
            diff <= 1e-3 * norm,
            "‖sparse − dense‖ = {diff}, ‖sparse‖ = {norm}"
        );
    });
}

#[test]
fn patch_round_trips_and_rejects_bad_files() {
    let mut delta = WeightDelta::default();
    delta.sites.insert(
        Site::new(3, ModuleKind::Down),
        SiteDelta::Neurons {
            axis: NeuronAxis::Out,
            indices: vec![1, 7],
            neuron_len: 1536,
            values: (0..3072).map(|i| i as f32 * 1e-3).collect(),
        },
    );
    delta.sites.insert(
        Site::new(4, ModuleKind::Q),
        SiteDelta::Neurons {
            axis: NeuronAxis::In,
            indices: vec![0],
            neuron_len: 576,
            values: vec![0.5; 576],
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patch.safetensors");
    let meta = BTreeMap::from([("method".to_string(), "kne".to_string())]);
    delta.save(&path, &meta).unwrap();
    let (back, read_meta) = WeightDelta::load(&path).unwrap();
    assert_eq!(back, delta);
    assert_eq!(read_meta.get("method").map(String::as_str), Some("kne"));

    std::fs::write(&path, b"not a patch").unwrap();
    let err = WeightDelta::load(&path).unwrap_err().to_string();
    assert!(err.contains("patch.safetensors"), "{err}");

    with_model(|loaded| {
        let mut bad = WeightDelta::default();
        bad.sites.insert(
            Site::new(99, ModuleKind::Up),
            SiteDelta::Dense {
                d_in: 1,
                d_out: 1,
                values: vec![0.0],
            },
        );
        let err = bad.apply(&mut loaded.model).unwrap_err().to_string();
        assert!(err.contains("99.up"), "{err}");
        let mut nan = WeightDelta::default();
        nan.sites.insert(
            Site::new(2, ModuleKind::Up),
            SiteDelta::Neurons {
                axis: NeuronAxis::Out,
                indices: vec![5],
                neuron_len: 576,
                values: vec![f32::NAN; 576],
            },
        );
        let before = all_weights(loaded);
        let err = nan.apply(&mut loaded.model).unwrap_err().to_string();
        assert!(err.contains("2.up") && err.contains("non-finite"), "{err}");
        assert_eq!(
            all_weights(loaded),
            before,
            "a refused delta changes nothing"
        );
    });
}

/// The weights of one site, as bits.
fn site_bits(loaded: &LoadedModel, site: Site) -> Vec<u32> {
    let values = loaded.model.site(site).unwrap().weight_values();
    values.into_iter().map(f32::to_bits).collect()
}

#[test]
fn a_finite_delta_that_overflows_a_weight_is_refused_and_rolled_back() {
    with_model(|loaded| {
        let (first, second) = (Site::new(2, ModuleKind::Up), Site::new(3, ModuleKind::Down));
        let mut delta = WeightDelta::default();
        delta.sites.insert(
            first,
            SiteDelta::Neurons {
                axis: NeuronAxis::Out,
                indices: vec![5],
                neuron_len: 576,
                values: vec![0.5; 576],
            },
        );
        // Finite, so `check` passes; applied twice, MAX + MAX overflows to +inf.
        delta.sites.insert(
            second,
            SiteDelta::Neurons {
                axis: NeuronAxis::Out,
                indices: vec![1],
                neuron_len: 1536,
                values: vec![f32::MAX; 1536],
            },
        );
        let original = [site_bits(loaded, first), site_bits(loaded, second)];
        let once = delta.apply(&mut loaded.model).unwrap();
        let edited = [site_bits(loaded, first), site_bits(loaded, second)];
        assert_ne!(edited, original);
        // `first` is written before `second` overflows: it must be put back.
        let err = delta.apply(&mut loaded.model).unwrap_err().to_string();
        assert!(
            err.contains("3.down") && err.contains("inf") && err.contains("non-finite"),
            "{err}"
        );
        assert_eq!(
            [site_bits(loaded, first), site_bits(loaded, second)],
            edited,
            "a refused delta leaves the model as it was"
        );
        once.revert(&mut loaded.model).unwrap();
        assert_eq!(
            [site_bits(loaded, first), site_bits(loaded, second)],
            original
        );
    });
}
