//! Without the Punkt parameters (never fetched), the fluency measure is a clear error
//! that says how to fetch them, and `evaluate_case` reports it instead of scoring.
//!
//! This binary points `KNE_PUNKT` at an empty folder; it holds a single test so that no
//! other thread reads the environment meanwhile.

mod common;

use common::Stub;
use kne_eval::EvalError;
use kne_eval::data::{Dataset, EditCase};
use kne_eval::metrics::{
    EvalConfig, PUNKT_DIR_ENV, PunktError, PunktParams, compute_pre_edit, default_punkt_dir,
    evaluate_case,
};

#[test]
fn missing_parameters_are_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("kne-eval-no-punkt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // SAFETY: the only test of this binary, run before anything else reads the environment.
    unsafe { std::env::set_var(PUNKT_DIR_ENV, &dir) };
    assert_eq!(default_punkt_dir(), dir);

    let e = PunktParams::english().unwrap_err();
    assert!(
        matches!(&e, PunktError::Missing { path } if path.starts_with(&dir)),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains("cargo xtask fetch-data"), "{msg}");

    let case = EditCase {
        dataset: Dataset::ZsRE.into(),
        index: 3,
        subject: "A".into(),
        prompt: "Where is A ?".into(),
        target_new: "b".into(),
        ground_truth: None,
        rephrase: None,
        portability: Default::default(),
        locality: Default::default(),
    };
    let mut model = Stub::new(&[]);
    model.generated = "the cat the cat".into();
    let pre = compute_pre_edit(&case, &mut model).unwrap();
    let err = evaluate_case(&case, &pre, &mut model, &EvalConfig::default()).unwrap_err();
    assert!(
        matches!(err, EvalError::Punkt(PunktError::Missing { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("fluency: Punkt parameters not found"),
        "{err}"
    );
    // Without fluency nothing needs them.
    let cfg = EvalConfig {
        generation: None,
        ..EvalConfig::default()
    };
    assert!(evaluate_case(&case, &pre, &mut model, &cfg).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
