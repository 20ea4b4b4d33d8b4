//! Edit one fact with KNE: localize the ensemble, edit, compare the greedy answers before
//! and after, then revert the edit and check the weights are back.
//!
//! ```sh
//! cargo run --release -p kne-edit --example edit_one_fact
//! ```
//! The model is `$KNE_MODEL`, else the default SmolLM2 (`cargo xtask fetch-model`).
//! For a whole benchmark use `kne reproduce`; for this flow with every method and the
//! metrics, `kne_bench::session::Session`.

use burn::tensor::Device;
use kne_attr::{AttributionConfig, FactTokens, SelectionScope, attribute, select};
use kne_edit::{EditRequest, Editor, KneConfig, KneEditor, TokenizedRequest};
use kne_model::paths::default_model_path;
use kne_model::{GreedyConfig, LoadedModel};

/// The greedy answer to `prompt`, at most 8 tokens.
fn answer(loaded: &LoadedModel, prompt: &str) -> Result<String, Box<dyn std::error::Error>> {
    let ids = loaded.tokenizer.encode(prompt)?;
    let config = GreedyConfig {
        max_new_tokens: 8,
        stop_token: loaded.tokenizer.eos_id(),
    };
    let mut new = loaded.model.generate_greedy(&ids, config)?;
    // The stop token ends the answer; it is not part of it.
    if new.last().copied() == config.stop_token {
        new.pop();
    }
    Ok(loaded.tokenizer.decode(&new)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut loaded = kne_model::load(&default_model_path(), &Device::flex())?;
    let request = EditRequest {
        prompt: "The Eiffel Tower is located in the city of".to_owned(),
        target: "Rome".to_owned(),
        subject: "The Eiffel Tower".to_owned(),
    };
    // Localize on other facts than the one edited (the paper localizes on ~200; two keep
    // this example quick), over the last four layers at m = 4.
    let facts = [
        ("The Colosseum is located in the city of", "Rome"),
        ("Big Ben is located in the city of", "London"),
    ];
    let tokens = facts
        .iter()
        .map(|(p, t)| TokenizedRequest::new(&loaded.tokenizer, p, t).map(FactTokens::from))
        .collect::<Result<Vec<_>, _>>()?;
    let n_layers = loaded.model.config().num_hidden_layers;
    let attribution = AttributionConfig {
        steps: 4,
        layers: Some((n_layers - 4..n_layers).collect()),
        ..AttributionConfig::default()
    };
    let scores = attribute(&loaded.model, &tokens, &attribution, |_| {})?;
    let ensemble = select(&scores, &loaded.model, 0.01, SelectionScope::Global)?;

    let before = answer(&loaded, &request.prompt)?;
    let mut editor = KneEditor::new(KneConfig::default(), ensemble)?;
    let outcome = editor.edit(&loaded, std::slice::from_ref(&request))?;
    let applied = outcome.delta.apply(&mut loaded.model)?;
    let after = answer(&loaded, &request.prompt)?;
    applied.revert(&mut loaded.model)?;
    let reverted = answer(&loaded, &request.prompt)?;

    println!("{:?} → {:?}", request.prompt, request.target);
    println!(
        "KNE: {} weights changed, target NLL {:?} → {:?} in {} steps",
        outcome.stats.changed_parameters,
        outcome.stats.initial_loss,
        outcome.stats.final_loss,
        outcome.stats.steps
    );
    println!("before:   {before:?}");
    println!("after:    {after:?}");
    println!("reverted: {reverted:?}");
    assert_eq!(before, reverted, "the revert restores the model");
    Ok(())
}
