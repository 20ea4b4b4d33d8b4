//! The library's one-call API (`kne_bench::session::Session`) gives what the harness gives
//! for the same edit, and a revert puts the model back bit for bit.

use kne_bench::harness::report::read_cell_rows;
use kne_bench::harness::{Experiment, run};
use kne_bench::session::{Session, request_of};
use kne_eval::data::EditFile;

mod common;

/// The logits of one prompt, as raw values.
fn logits(session: &Session, prompt: &str) -> Vec<f32> {
    let loaded = session.model();
    let ids = loaded.tokenizer.encode(prompt).unwrap();
    loaded
        .model
        .forward(loaded.model.ids_tensor(&[&ids]).unwrap())
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn a_session_edit_scores_as_the_harness_and_reverts_exactly() {
    let sample = kne_model::paths::workspace_root().join("datasets/samples/my_edits_easyedit.json");
    let cases = EditFile::new(&sample).unwrap().load().unwrap().cases;

    // The harness: FT-M on the file's first case.
    let tmp = tempfile::tempdir().unwrap();
    let toml = tmp.path().join("ft.toml");
    std::fs::write(
        &toml,
        format!(
            "name = \"ft\"\ntitle = \"ft\"\ndata = \"{}\"\nmethods = [\"ft\"]\ncases = 1\n\
             holdout = 0\n[eval]\n[kne]\np = 0.01\nlocalize = 1\n[kne.attribution]\n\
             [kne.edit]\n",
            sample.display()
        ),
    )
    .unwrap();
    Experiment::load(&toml).unwrap();
    run(&common::run_options(toml, tmp.path(), None)).unwrap();
    let rows = read_cell_rows(&tmp.path().join("ft/my_edits_easyedit/ft")).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].error.is_none(), "{:?}", rows[0].error);

    // The session: the same edit, the same scores.
    let mut session = Session::open_default().unwrap();
    let pre = session.pre_edit(&cases[..1]).unwrap();
    let before = logits(&session, &cases[0].prompt);
    let mut editor = session.editor("ft").unwrap();
    let edit = session
        .edit(editor.as_mut(), &[request_of(&cases[0])])
        .unwrap();
    assert!(edit.stats.changed_parameters > 0);
    let scores = session.evaluate(&cases[..1], &pre).unwrap();
    assert_eq!(scores[0], rows[0].scores, "session and harness disagree");
    assert_ne!(
        logits(&session, &cases[0].prompt),
        before,
        "the edit changed the model"
    );
    session.revert(edit).unwrap();
    assert_eq!(
        logits(&session, &cases[0].prompt),
        before,
        "the revert is exact"
    );

    // An unknown method names itself.
    let err = format!("{:#}", session.editor("grace").err().unwrap());
    assert!(err.contains("grace"), "{err}");
}
