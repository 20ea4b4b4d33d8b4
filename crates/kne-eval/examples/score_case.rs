//! Score the cases of an edit file on the unedited model: EasyEdit's edit success,
//! portability, locality (100 by construction here) and rephrase accuracy, per case.
//!
//! ```sh
//! cargo run --release -p kne-eval --example score_case -- datasets/samples/my_edits_easyedit.json
//! ```
//! Any layout `kne --data` reads (KnowEdit, EasyEdit flat, ROME CounterFact). The model is
//! `$KNE_MODEL`, else the default SmolLM2 (`cargo xtask fetch-model`).

use std::path::PathBuf;

use burn::tensor::Device;
use kne_eval::ModelScorer;
use kne_eval::data::EditFile;
use kne_eval::metrics::{EvalConfig, PreEditCache, evaluate_case};
use kne_model::paths::{default_model_path, workspace_root};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args().nth(1).map_or_else(
        || workspace_root().join("datasets/samples/my_edits_easyedit.json"),
        PathBuf::from,
    );
    let loaded = kne_model::load(&default_model_path(), &Device::flex())?;
    let edits = EditFile::new(&file)?.load()?;
    println!(
        "{} ({} layout, {} cases)",
        file.display(),
        edits.format,
        edits.cases.len()
    );
    let mut scorer = ModelScorer::from_loaded(&loaded);
    // Locality compares with the unedited model's answers, computed before any edit.
    let mut pre = PreEditCache::new("unedited", &edits.cases[0].dataset);
    let eval = EvalConfig {
        generation: None, // no fluency (it needs NLTK's Punkt tables and is the slow part)
        keep_generated_text: false,
    };
    for case in &edits.cases {
        let predictions = pre.get_or_compute(case, &mut scorer)?.clone();
        let s = evaluate_case(case, &predictions, &mut scorer, &eval)?;
        println!(
            "case {}: {:?} → {:?}: edit success {:?}, rephrase {:?}, locality {:?}",
            case.index, case.prompt, case.target_new, s.edit_success, s.rephrase, s.locality
        );
    }
    Ok(())
}
