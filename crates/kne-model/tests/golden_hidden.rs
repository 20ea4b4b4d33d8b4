//! Hidden-state norms along the residual stream, and layer 0's sub-steps read through the
//! intervention hook's capture, against the reference.

mod support;

use burn::tensor::Tensor;
use kne_model::{Captures, Interventions, ModuleKind, Site};
use support::{fixture, model, u32s};

fn frobenius(t: Tensor<3>) -> f64 {
    let v: Vec<f32> = t.into_data().try_into_vec::<f32>().unwrap();
    v.iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        .sqrt()
}

fn check(name: &str, got: f64) {
    let want = fixture()["hidden_checks_first_prompt"]["named"][name]["l2_frobenius"]
        .as_f64()
        .unwrap_or_else(|| panic!("fixture has no {name}"));
    let rel = (got - want).abs() / want;
    eprintln!("{name}: {got:.6} vs {want:.6} (rel {rel:.1e})");
    // Norms reach 22,700 after layer 11; relative error is the meaningful measure.
    assert!(rel < 1e-4, "{name}: {got} vs {want}");
}

#[test]
fn residual_stream_norms_match() {
    let m = &model().model;
    let ids = u32s(&fixture()["hidden_checks_first_prompt"]["ids"]);
    let mut captures = Captures::new();
    let h0 = m.embed(m.ids_tensor(&[ids]).unwrap());
    check("embedding", frobenius(h0.clone()));
    let h1 = m.forward_blocks(h0, 0..1, None, None, &mut captures);
    check("after_layer_0", frobenius(h1.clone()));
    let h15 = m.forward_blocks(h1, 1..15, None, None, &mut captures);
    check("after_layer_14", frobenius(h15.clone()));
    let h30 = m.forward_blocks(h15, 15..30, None, None, &mut captures);
    check("after_layer_29_pre_final_norm", frobenius(h30.clone()));
    check("after_final_norm", frobenius(m.norm.forward(h30)));
}

#[test]
fn layer0_site_outputs_seen_through_the_hook_match() {
    let m = &model().model;
    let ids = u32s(&fixture()["hidden_checks_first_prompt"]["ids"]);
    let mut hooks = Interventions::new();
    for module in [
        ModuleKind::Q,
        ModuleKind::K,
        ModuleKind::V,
        ModuleKind::O,
        ModuleKind::Down,
    ] {
        hooks = hooks.capture(Site::new(0, module));
    }
    let out = m.forward_with(m.ids_tensor(&[ids]).unwrap(), Some(&hooks));
    let norm = |module| frobenius(out.captures[&Site::new(0, module)].output.clone());
    check("layer0.q_proj_out_pre_rope", norm(ModuleKind::Q));
    check("layer0.k_proj_out_pre_rope", norm(ModuleKind::K));
    check("layer0.v_proj_out", norm(ModuleKind::V));
    check("layer0.o_proj_out", norm(ModuleKind::O));
    check("layer0.mlp_out", norm(ModuleKind::Down));
}
