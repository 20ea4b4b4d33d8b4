//! A two-method mini table on your own edit file, through the library's one-call API
//! (`kne_bench::session::Session`): FT-M and KNE, each case edited on the restored model,
//! the mean metrics per method.
//!
//! ```sh
//! cargo run --release -p kne-bench --example mini_table -- datasets/samples/my_edits_knowedit.json
//! ```
//! KNE's ensemble is localized on the file's last record, which is then not evaluated (never
//! score a case the ensemble was localized on). The model is `$KNE_MODEL`, else the default
//! SmolLM2 (`cargo xtask fetch-model`). For the paper's tables use `cargo xtask reproduce`.

use std::path::PathBuf;

use kne_bench::session::{Session, request_of};
use kne_eval::data::EditFile;
use kne_eval::metrics::CaseScores;
use kne_model::paths::workspace_root;

/// Mean ×100 of one metric over the cases that have it.
fn mean(scores: &[CaseScores], metric: fn(&CaseScores) -> Option<f64>) -> String {
    let values: Vec<f64> = scores.iter().filter_map(metric).collect();
    if values.is_empty() {
        return "–".to_owned();
    }
    format!(
        "{:.1}",
        100.0 * values.iter().sum::<f64>() / values.len() as f64
    )
}

fn main() -> anyhow::Result<()> {
    let file = std::env::args().nth(1).map_or_else(
        || workspace_root().join("datasets/samples/my_edits_knowedit.json"),
        PathBuf::from,
    );
    let cases = EditFile::new(&file)?.load()?.cases;
    anyhow::ensure!(
        cases.len() >= 2,
        "{}: need at least 2 cases",
        file.display()
    );
    let (evaluated, held_out) = cases.split_at(cases.len() - 1);

    let mut session = Session::open_default()?;
    let pre = session.pre_edit(evaluated)?;
    let mut settings = session.kne_settings()?;
    // A smaller attribution than the paper's (m = 20 over all layers) keeps this quick.
    settings.attribution.steps = 4;
    let facts: Vec<_> = held_out.iter().map(request_of).collect();
    let mut editors = vec![
        ("FT-M", session.editor("ft")?),
        ("KNE", Box::new(session.kne_editor(&facts, &settings)?) as _),
    ];

    println!("{} ({} cases evaluated)\n", file.display(), evaluated.len());
    println!("| method | Edit Succ. | Generalization | Portability | Locality |");
    println!("|---|---|---|---|---|");
    for (name, editor) in &mut editors {
        let mut scores = Vec::new();
        for case in evaluated {
            let edit = session.edit(editor.as_mut(), &[request_of(case)])?;
            scores.extend(session.evaluate(std::slice::from_ref(case), &pre)?);
            session.revert(edit)?;
        }
        println!(
            "| {name} | {} | {} | {} | {} |",
            mean(&scores, |s| s.edit_success),
            mean(&scores, |s| s.rephrase),
            mean(&scores, |s| s.portability),
            mean(&scores, |s| s.locality),
        );
    }
    Ok(())
}
