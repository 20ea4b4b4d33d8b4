//! The five most likely next tokens after a prompt, from the model's logits.
//!
//! ```sh
//! cargo run --release -p kne-model --example next_token -- "The capital of France is"
//! ```
//! The model is `$KNE_MODEL`, else the default SmolLM2 (`cargo xtask fetch-model`).

use burn::tensor::Device;
use burn::tensor::activation::softmax;
use kne_model::paths::default_model_path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "The capital of France is".to_owned());
    let loaded = kne_model::load(&default_model_path(), &Device::flex())?;
    let ids = loaded.tokenizer.encode(&prompt)?;
    // # Shapes: logits [1, seq, vocab]; the last position predicts the next token.
    let logits = loaded.model.forward(loaded.model.ids_tensor(&[&ids])?);
    let [_, seq, vocab] = logits.dims();
    let last = logits
        .slice([0..1, seq - 1..seq, 0..vocab])
        .reshape([vocab]);
    let probs: Vec<f32> = softmax(last, 0)
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| format!("reading the probabilities: {e:?}"))?;
    let mut order: Vec<usize> = (0..vocab).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    println!("{prompt:?} ({} tokens) →", ids.len());
    for &id in &order[..5] {
        let token = loaded.tokenizer.decode(&[id as u32])?;
        println!("  {:>6.2} %  {token:?} ({id})", 100.0 * probs[id]);
    }
    Ok(())
}
