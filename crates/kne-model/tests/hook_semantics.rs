//! The intervention hook on the real model: scaling, weight deltas, captures with autodiff,
//! right-padded batches, and the autodiff device computing the same logits.

mod support;

use burn::tensor::{Tensor, TensorData};
use kne_model::{Interventions, ModuleKind, Site};
use support::{fixture, logits_of, max_abs_diff, model, u32s};

#[test]
fn unit_scale_and_zero_delta_change_nothing() {
    let loaded = model();
    let m = &loaded.model;
    let ids = u32s(&fixture()["prompts"][0]["ids"]);
    let (plain, _) = logits_of(loaded, &ids);
    let site = Site::new(14, ModuleKind::Down);
    let dev = m.device();
    let [d_in, d_out] = m.site(site).unwrap().dims();
    let hooks = Interventions::new()
        .scale_output(site, Tensor::ones([1], &dev))
        .add_weight_delta(site, Tensor::zeros([d_in, d_out], &dev))
        .capture(site);
    let out = m.forward_with(m.ids_tensor(&[ids]).unwrap(), Some(&hooks));
    let hooked: Vec<f32> = out.logits.into_data().try_into_vec::<f32>().unwrap();
    assert_eq!(
        plain, hooked,
        "a neutral hook must be bit-identical to the plain path"
    );
}

#[test]
fn scaling_a_site_by_zero_equals_zeroing_its_weight() {
    let m = &model().model;
    let ids = u32s(&fixture()["prompts"][0]["ids"]);
    let site = Site::new(3, ModuleKind::Up);
    let dev = m.device();
    let scaled = Interventions::new().scale_output(
        site,
        Tensor::from_data(TensorData::new(vec![0.0f32, 1.0], [2]), &dev),
    );
    let batch = m.ids_tensor(&[ids.clone(), ids.clone()]).unwrap();
    let out: Vec<f32> = m
        .forward_with(batch, Some(&scaled))
        .logits
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let weight = m.site(site).unwrap().weight.val();
    let zeroed = Interventions::new().add_weight_delta(site, weight.neg());
    let z: Vec<f32> = m
        .forward_with(m.ids_tensor(&[&ids]).unwrap(), Some(&zeroed))
        .logits
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let (plain, _) = logits_of(model(), &ids);
    let half = out.len() / 2;
    assert!(
        max_abs_diff(&out[..half], &z) < 1e-3,
        "row 0 (scale 0) = weight zeroed"
    );
    assert!(
        max_abs_diff(&out[half..], &plain) < 1e-3,
        "row 1 (scale 1) = plain"
    );
    assert!(
        max_abs_diff(&z, &plain) > 1e-2,
        "zeroing a site must change the logits"
    );
}

#[test]
fn right_padding_leaves_earlier_positions_unchanged() {
    let loaded = model();
    let m = &loaded.model;
    let short = u32s(&fixture()["prompts"][0]["ids"]);
    let long = u32s(&fixture()["prompts"][1]["ids"]);
    let mut padded = short.clone();
    padded.resize(long.len(), 2);
    let logits = m.forward(m.ids_tensor(&[padded, long.clone()]).unwrap());
    let [_, seq, vocab] = logits.dims();
    let all: Vec<f32> = logits.into_data().try_into_vec::<f32>().unwrap();
    let (alone, _) = logits_of(loaded, &short);
    assert!(max_abs_diff(&all[..short.len() * vocab], &alone) < 1e-3);
    let (long_alone, _) = logits_of(loaded, &long);
    assert!(max_abs_diff(&all[seq * vocab..], &long_alone) < 1e-3);
}

#[test]
fn autodiff_device_gives_the_same_logits_and_exposes_site_gradients() {
    let loaded = model();
    let ids = u32s(&fixture()["prompts"][0]["ids"]);
    let (plain, vocab) = logits_of(loaded, &ids);
    let m = loaded.model.frozen_autodiff();
    assert!(m.embed.val().is_autodiff());
    let site = Site::new(20, ModuleKind::Down);
    let hooks = Interventions::new().capture(site);
    let out = m.forward_with(m.ids_tensor(&[&ids]).unwrap(), Some(&hooks));
    let got: Vec<f32> = out
        .logits
        .clone()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    assert!(max_abs_diff(&got, &plain) < 1e-3);
    // d(logit of token t at the last position)/d(site output) must be non-zero only at
    // positions up to the last one, and present.
    let last = ids.len() - 1;
    let target = plain[last * vocab..]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    let loss = out.logits.narrow(1, last, 1).narrow(2, target, 1).sum();
    let grads = loss.backward();
    let probe = out.captures[&site].probe.clone().expect("autodiff probe");
    let g = probe.grad(&grads).expect("gradient at the captured site");
    let g: Vec<f32> = g.into_data().try_into_vec::<f32>().unwrap();
    let norm: f32 = g.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(norm > 0.0 && norm.is_finite(), "gradient norm {norm}");
}
