//! KNE on GPT-J (the tiny random one of `kne-model/tests/fixtures/gptj-tiny`), unchanged:
//! attribution over its six modules, selection, an edit that writes the target, changes
//! only ensemble neurons (never a bias), and reverts bit for bit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::tensor::{Device, Tensor};
use kne_attr::{AttributionConfig, FactTokens, SelectionScope, attribute, select};
use kne_edit::{EditRequest, Editor, KneConfig, KneEditor, TokenizedRequest};
use kne_model::{LoadedModel, argmax_rows};

fn load() -> LoadedModel {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kne-model/tests/fixtures/gptj-tiny");
    kne_model::load(&path, &Device::flex()).unwrap()
}

fn target_accuracy(loaded: &LoadedModel, r: &EditRequest) -> f64 {
    let t = TokenizedRequest::new(&loaded.tokenizer, &r.prompt, &r.target).unwrap();
    let ids = t.input_ids();
    let logits = loaded
        .model
        .forward(loaded.model.ids_tensor(&[&ids]).unwrap());
    let [_, seq, vocab] = logits.dims();
    let predictions = argmax_rows(logits.reshape([seq, vocab])).unwrap();
    let p = t.prompt_ids.len();
    let hits = t
        .target_ids
        .iter()
        .enumerate()
        .filter(|(j, id)| predictions[p - 1 + j] == **id)
        .count();
    hits as f64 / t.target_ids.len() as f64
}

fn bits(t: Tensor<1>) -> Vec<u32> {
    let v = t.into_data().try_into_vec::<f32>().unwrap();
    v.into_iter().map(f32::to_bits).collect()
}

/// Every weight and bias of every site, as bits.
fn all_parameters(loaded: &LoadedModel) -> BTreeMap<String, Vec<u32>> {
    let m = &loaded.model;
    let mut out = BTreeMap::new();
    for s in m.sites() {
        let lin = m.site(s).unwrap();
        out.insert(format!("{s}.weight"), bits(lin.weight.val().flatten(0, 1)));
        if let Some(b) = &lin.bias {
            out.insert(format!("{s}.bias"), bits(b.val()));
        }
    }
    out
}

#[test]
fn kne_edits_gptj_through_the_same_sites_and_reverts_exactly() {
    let mut loaded = load();
    let r = EditRequest {
        prompt: "Hello, world".into(),
        target: "xyz".into(),
        subject: "world".into(),
    };
    let before_acc = target_accuracy(&loaded, &r);
    let t = TokenizedRequest::new(&loaded.tokenizer, &r.prompt, &r.target).unwrap();
    let fact = FactTokens::from(t);
    let config = AttributionConfig {
        steps: 2,
        modules: loaded.model.modules().to_vec(),
        ..Default::default()
    };
    let scores = attribute(&loaded.model, &[fact], &config, |_| {}).unwrap();
    assert_eq!(scores.sites.len(), 2 * 6);
    let ensemble = select(&scores, &loaded.model, 0.05, SelectionScope::Global).unwrap();
    assert!(ensemble.neuron_count() > 0);
    // SmolLM2's learning rate is tuned for a trained model; the random tiny one needs more.
    let kne = KneConfig {
        learning_rate: 0.01,
        steps: 200,
        ..KneConfig::default()
    };
    let mut editor = KneEditor::new(kne, ensemble.clone()).unwrap();
    let outcome = editor.edit(&loaded, std::slice::from_ref(&r)).unwrap();
    eprintln!("stats: {:?}; accuracy before {before_acc}", outcome.stats);
    assert!(outcome.stats.final_loss.unwrap() < outcome.stats.initial_loss.unwrap());

    let before = all_parameters(&loaded);
    let applied = outcome.delta.apply(&mut loaded.model).unwrap();
    let after_acc = target_accuracy(&loaded, &r);
    let edited = all_parameters(&loaded);
    applied.revert(&mut loaded.model).unwrap();
    assert_eq!(all_parameters(&loaded), before, "revert restores every bit");
    assert!(
        after_acc > before_acc && after_acc >= 0.99,
        "edit success {after_acc} (before {before_acc})"
    );
    for (name, values) in &edited {
        if name.ends_with(".bias") {
            assert_eq!(
                values, &before[name],
                "{name}: an edit never touches a bias"
            );
        }
    }
    let changed = edited
        .iter()
        .filter(|(name, v)| **v != before[*name])
        .count();
    assert!(changed > 0, "the edit changed some weights");
}
