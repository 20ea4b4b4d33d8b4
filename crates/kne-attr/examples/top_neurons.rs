//! Which neurons carry a fact: attribution of one fact (Eq. 3–5) over every site of the
//! last layers, then the ensemble a top-p selection (Eq. 6) would edit.
//!
//! ```sh
//! cargo run --release -p kne-attr --example top_neurons
//! ```
//! The model is `$KNE_MODEL`, else the default SmolLM2 (`cargo xtask fetch-model`).

use burn::tensor::Device;
use kne_attr::{AttributionConfig, FactTokens, SelectionScope, attribute, select};
use kne_model::paths::default_model_path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loaded = kne_model::load(&default_model_path(), &Device::flex())?;
    let (prompt, target) = ("The Eiffel Tower is located in the city of", "Paris");
    // The target's tokens are those the joined text adds after the prompt (as kne-edit's
    // `TokenizedRequest` splits them).
    let joined = loaded.tokenizer.encode(&format!("{prompt} {target}"))?;
    let split = loaded.tokenizer.encode(prompt)?.len();
    let fact = FactTokens {
        prompt_ids: joined[..split].to_vec(),
        target_ids: joined[split..].to_vec(),
    };
    // Eq. 5 with m = 4 Riemann steps over the last four layers (the paper: m = 20, every
    // layer; this keeps the example to a few seconds).
    let n_layers = loaded.model.config().num_hidden_layers;
    let config = AttributionConfig {
        steps: 4,
        layers: Some((n_layers - 4..n_layers).collect()),
        ..AttributionConfig::default()
    };
    let scores = attribute(&loaded.model, &[fact], &config, |_| {})?;
    let ensemble = select(&scores, &loaded.model, 0.01, SelectionScope::Global)?;
    println!("{prompt:?} → {target:?}: the top 1 % of attributed neurons, by site");
    for (site, count) in ensemble.neurons_per_site() {
        println!("  {:<10} {count:>5} neurons", site.to_string());
    }
    Ok(())
}
