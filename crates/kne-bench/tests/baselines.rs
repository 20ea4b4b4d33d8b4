//! The baselines on the real SmolLM2: each editor writes three WikiData-counterfact facts to
//! a stated edit success, changes only the sites it claims, leaves the model unchanged and
//! reverts bit-identically; ROME's update writes `v*` for `k*`; MEMIT with one edit at one
//! layer is ROME's closed form up to its regulariser; the configs parse; the small solvers
//! are right.
//!
//! The second moments here use 20k WikiText-2 tokens (cached under `data/stats` like the
//! real ones, in their own files) to keep the first run short; everything else is the
//! default of `experiments/baselines.toml`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use kne_bench::baselines::linalg::{Cholesky, matvec, solve_spd};
use kne_bench::baselines::memit::least_squares_delta;
use kne_bench::baselines::rome::rank_one_delta;
use kne_bench::baselines::{
    AdaLoraConfig, AdaLoraEditor, BASELINE_METHODS, BaselineConfigs, MemitConfig, MemitEditor,
    RomeConfig, RomeEditor, build_editor, default_config_path, load_baseline_configs,
};
use kne_edit::{EditRequest, Editor, SiteDelta, TokenizedRequest};
use kne_model::{Captures, Interventions, LoadedModel, ModuleKind, Site, paths};

/// Tests mutate the model (apply/revert) and share two cores, so each takes it exclusively.
fn with_model<T>(f: impl FnOnce(&mut LoadedModel) -> T) -> T {
    static MODEL: Mutex<Option<LoadedModel>> = Mutex::new(None);
    let mut guard = MODEL.lock().unwrap_or_else(|e| e.into_inner());
    let loaded = guard.get_or_insert_with(|| {
        let path = paths::default_model_path();
        assert!(
            path.exists(),
            "run `cargo xtask fetch-model` ({} missing)",
            path.display()
        );
        kne_model::load(&path, &Device::flex()).unwrap()
    });
    f(loaded)
}

/// The first three WikiData-counterfact cases (multi-token targets: "Syria",
/// "Wassoulou Empire", "Carol Chu").
fn cases() -> Vec<EditRequest> {
    let path = paths::workspace_root().join("data/knowedit/wiki_counterfact/test_cf.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): run `cargo xtask fetch-data`",
            path.display()
        )
    });
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    data.as_array().unwrap()[..3]
        .iter()
        .map(|r| EditRequest {
            prompt: r["prompt"].as_str().unwrap().into(),
            target: r["target_new"].as_str().unwrap().into(),
            subject: r["subject"].as_str().unwrap().into(),
        })
        .collect()
}

/// The configs of `experiments/baselines.toml` with the test's smaller statistics sample.
fn test_configs() -> BaselineConfigs {
    let mut c = load_baseline_configs(&default_config_path()).unwrap();
    c.rome.mom2.n_tokens = 20_000;
    c.memit.mom2.n_tokens = 20_000;
    c
}

/// Teacher-forced argmax accuracy of the target tokens (METHODS.md's edit success).
fn target_accuracy(loaded: &LoadedModel, r: &EditRequest) -> f64 {
    TokenizedRequest::new(&loaded.tokenizer, &r.prompt, &r.target)
        .unwrap()
        .target_accuracy(&loaded.model)
        .unwrap()
}

/// FNV-1a over the bits of every site's weight.
fn fingerprints(loaded: &LoadedModel) -> BTreeMap<Site, u64> {
    loaded
        .model
        .sites()
        .into_iter()
        .map(|s| {
            let v = loaded.model.site(s).unwrap().weight_values();
            let h = v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
                (h ^ x.to_bits() as u64).wrapping_mul(0x0100_0000_01b3)
            });
            (s, h)
        })
        .collect()
}

/// Checks one outcome: the model is unchanged by `edit`, the delta is dense on exactly
/// `expected_sites`, applying it changes only those, and reverting restores every bit.
/// Returns the edit success of each case with the delta applied.
fn check_outcome(
    loaded: &mut LoadedModel,
    name: &str,
    outcome: &kne_edit::EditOutcome,
    cases: &[EditRequest],
    before: &BTreeMap<Site, u64>,
    expected_sites: &[Site],
) -> Vec<f64> {
    assert_eq!(
        &fingerprints(loaded),
        before,
        "{name}: edit must leave the model unchanged"
    );
    let claimed: Vec<Site> = outcome.delta.sites.keys().copied().collect();
    assert_eq!(claimed, expected_sites, "{name}: sites of the delta");
    assert!(
        outcome
            .delta
            .sites
            .values()
            .all(|d| matches!(d, SiteDelta::Dense { .. }))
    );
    let applied = outcome.delta.apply(&mut loaded.model).unwrap();
    let es: Vec<f64> = cases.iter().map(|c| target_accuracy(loaded, c)).collect();
    let edited = fingerprints(loaded);
    applied.revert(&mut loaded.model).unwrap();
    assert_eq!(
        &fingerprints(loaded),
        before,
        "{name}: revert must restore every weight bit for bit"
    );
    for (site, h) in &edited {
        if !claimed.contains(site) {
            assert_eq!(
                *h, before[site],
                "{name}: {site} changed but is not claimed"
            );
        }
    }
    assert!(
        claimed.iter().any(|s| edited[s] != before[s]),
        "{name}: nothing changed"
    );
    es
}

/// Edits each case on its own (batch 1, the model restored in between, as in KnowEdit)
/// with [`check_outcome`]'s checks; returns the edit success per case and the last outcome.
fn run_editor(
    loaded: &mut LoadedModel,
    editor: &mut dyn Editor,
    expected_sites: &[Site],
) -> (Vec<f64>, kne_edit::EditOutcome) {
    let before = fingerprints(loaded);
    let mut es = Vec::new();
    let mut last = None;
    for case in cases() {
        let pre = target_accuracy(loaded, &case);
        let start = Instant::now();
        let outcome = editor.edit(loaded, std::slice::from_ref(&case)).unwrap();
        let wall = start.elapsed().as_secs_f64();
        let post = check_outcome(
            loaded,
            editor.name(),
            &outcome,
            std::slice::from_ref(&case),
            &before,
            expected_sites,
        )[0];
        eprintln!(
            "{:8} {:34} -> {:20} ES {pre:.2} -> {post:.2}  steps {:3}  loss {:.3} -> {:.3}  {wall:.1} s",
            editor.name(),
            format!("{:?}", case.subject),
            format!("{:?}", case.target),
            outcome.stats.steps,
            outcome.stats.initial_loss.unwrap_or(f32::NAN),
            outcome.stats.final_loss.unwrap_or(f32::NAN),
        );
        es.push(post);
        last = Some(outcome);
    }
    (es, last.unwrap())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn down(layers: impl IntoIterator<Item = usize>) -> Vec<Site> {
    layers
        .into_iter()
        .map(|l| Site::new(l, ModuleKind::Down))
        .collect()
}

#[test]
fn ft_writes_the_facts() {
    with_model(|loaded| {
        let mut editor = build_editor("ft", &test_configs(), &paths::workspace_root()).unwrap();
        let (es, _) = run_editor(loaded, editor.as_mut(), &down([22]));
        assert!(mean(&es) >= 0.9, "FT edit success {es:?}");
    });
}

#[test]
fn ft_l_changes_only_its_layer_within_the_clamp() {
    with_model(|loaded| {
        let configs = test_configs();
        let eps = configs
            .ft_l
            .norm_constraint
            .epsilon()
            .expect("the tuned preset clamps");
        let mut editor = build_editor("ft-l", &configs, &paths::workspace_root()).unwrap();
        let (es, outcome) = run_editor(loaded, editor.as_mut(), &down([20]));
        let max = outcome
            .delta
            .sites
            .values()
            .flat_map(|d| d.values().iter())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            max <= eps * (1.0 + 1e-6) && max > 0.0,
            "max |ΔW| {max} vs ε {eps}"
        );
        assert!(mean(&es) >= 0.3, "FT-L edit success {es:?}");
    });
}

#[test]
fn adalora_writes_the_facts_through_q_and_v() {
    with_model(|loaded| {
        let configs = test_configs();
        let mut editor = AdaLoraEditor::new(configs.adalora.clone()).unwrap();
        let sites: Vec<Site> = (0..30)
            .flat_map(|l| [Site::new(l, ModuleKind::Q), Site::new(l, ModuleKind::V)])
            .collect();
        let (es, _) = run_editor(loaded, &mut editor, &sites);
        assert!(mean(&es) >= 0.99, "AdaLoRA edit success {es:?}");
        // The rank budget after allocation: target_r per adapter on average (ties may prune more).
        let kept: usize = editor.ranks.iter().map(|(_, r)| r).sum();
        let (min, max) = editor
            .ranks
            .iter()
            .fold((usize::MAX, 0), |(a, b), (_, r)| (a.min(*r), b.max(*r)));
        eprintln!(
            "adalora  ranks kept in the last edit: {kept} of {} (per site {min}..={max})",
            12 * sites.len()
        );
        assert!(
            kept <= configs.adalora.target_r * sites.len() && kept > 0,
            "{kept} ranks kept"
        );
    });
}

#[test]
fn rome_writes_the_facts_and_its_value_for_its_key() {
    with_model(|loaded| {
        let configs = test_configs();
        let mut rome = RomeEditor::new(configs.rome.clone()).unwrap();
        let (es, outcome) = run_editor(loaded, &mut rome, &down([configs.rome.layer]));
        assert!(mean(&es) >= 0.99, "ROME edit success {es:?}");

        // k*ᵀ Ŵ = v*: the edited site maps the bare prompt's key to the optimised value
        // (checked on the last edit, whose trace the editor keeps).
        let case = cases().pop().unwrap();
        let trace = rome.traces[0].clone();
        let applied = outcome.delta.apply(&mut loaded.model).unwrap();
        let site = trace.site;
        let ids = loaded.tokenizer.encode(&case.prompt).unwrap();
        let text_to_subject =
            &case.prompt[..case.prompt.find(&case.subject).unwrap() + case.subject.len()];
        let lookup = loaded.tokenizer.encode(text_to_subject).unwrap().len() - 1;
        let mut captures = Captures::new();
        let m = &loaded.model;
        let hooks = Interventions::new().capture(site);
        let _ = m.forward_blocks(
            m.embed(m.ids_tensor(&[&ids]).unwrap()),
            0..site.layer + 1,
            None,
            Some(&hooks),
            &mut captures,
        );
        let c = &captures[&site];
        let row = |t: Tensor<3>| -> Vec<f32> {
            t.narrow(1, lookup, 1)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        let (key, out) = (row(c.input.clone()), row(c.output.clone()));
        applied.revert(&mut loaded.model).unwrap();
        let rel = |a: &[f32], b: &[f32]| {
            let d: f32 = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f32>()
                .sqrt();
            d / b.iter().map(|x| x * x).sum::<f32>().sqrt()
        };
        assert!(
            rel(&key, &trace.key) < 1e-5,
            "the key is read before the site: unchanged by the edit"
        );
        let err = rel(&out, &trace.value);
        eprintln!("ROME ‖k*ᵀŴ − v*‖/‖v*‖ = {err:.2e}");
        assert!(err < 1e-3, "k*ᵀŴ must equal v*: relative error {err}");
    });
}

#[test]
fn memit_writes_the_three_facts_in_one_solve() {
    with_model(|loaded| {
        let configs = test_configs();
        let mut memit = MemitEditor::new(configs.memit.clone()).unwrap();
        // The three facts as one batch: one least-squares solve per layer.
        let all = cases();
        let before = fingerprints(loaded);
        let pre: Vec<f64> = all.iter().map(|c| target_accuracy(loaded, c)).collect();
        let start = Instant::now();
        let outcome = memit.edit(loaded, &all).unwrap();
        let wall = start.elapsed().as_secs_f64();
        let es = check_outcome(
            loaded,
            "memit",
            &outcome,
            &all,
            &before,
            &down(configs.memit.layers.clone()),
        );
        eprintln!(
            "memit    batch of 3: ES {pre:?} -> {es:?}  steps {}  loss {:?} -> {:?}  {wall:.1} s ({:.1} s per fact)",
            outcome.stats.steps,
            outcome.stats.initial_loss,
            outcome.stats.final_loss,
            wall / 3.0
        );
        assert!(mean(&es) >= 0.99, "MEMIT edit success {es:?}");
    });
}

#[test]
fn memit_at_one_layer_is_rome_up_to_its_regulariser() {
    with_model(|loaded| {
        let base = test_configs();
        // Same layer, same statistics, no context prefixes (so k̄ = k*), and a value
        // optimisation whose loss does not depend on where v_init is read (no weight decay,
        // no binding clamp): then ROME's and MEMIT's δ are the same, and the closed forms
        // differ only by MEMIT's λ: ΔW_memit = ΔW_rome · s / (λ + s), s = k*ᵀC⁻¹k*.
        let layer = base.rome.layer;
        let rome_cfg = RomeConfig {
            context_template_length_params: vec![],
            v_weight_decay: 0.0,
            clamp_norm_factor: 1e6,
            ..base.rome.clone()
        };
        let memit_cfg = |lambda: f64| MemitConfig {
            layers: vec![layer],
            context_template_length_params: vec![],
            v_weight_decay: 0.0,
            clamp_norm_factor: 1e6,
            v_num_grad_steps: rome_cfg.v_num_grad_steps,
            v_lr: rome_cfg.v_lr,
            kl_factor: rome_cfg.kl_factor,
            mom2_update_weight: lambda,
            mom2: rome_cfg.mom2.clone(),
            ..MemitConfig::default()
        };
        let case = cases().remove(0);
        let mut rome = RomeEditor::new(rome_cfg.clone()).unwrap();
        let r = rome.edit(loaded, std::slice::from_ref(&case)).unwrap();
        let trace = &rome.traces[0];
        let s: f64 = trace
            .key
            .iter()
            .zip(&trace.direction)
            .map(|(k, u)| *k as f64 * u)
            .sum();
        let site = Site::new(layer, ModuleKind::Down);
        let values = |d: &kne_edit::WeightDelta| d.sites[&site].values().to_vec();
        let rome_delta = values(&r.delta);
        for lambda in [0.0, s] {
            let m = MemitEditor::new(memit_cfg(lambda))
                .unwrap()
                .edit(loaded, std::slice::from_ref(&case))
                .unwrap();
            assert_eq!(
                m.delta.sites.keys().copied().collect::<Vec<_>>(),
                vec![site]
            );
            let factor = s / (lambda + s);
            let memit_delta = values(&m.delta);
            let num: f64 = memit_delta
                .iter()
                .zip(&rome_delta)
                .map(|(a, b)| (*a as f64 - factor * *b as f64).powi(2))
                .sum();
            let den: f64 = rome_delta
                .iter()
                .map(|b| (factor * *b as f64).powi(2))
                .sum();
            let rel = (num / den).sqrt();
            eprintln!(
                "λ = {lambda:.1}: ‖ΔW_memit − s/(λ+s)·ΔW_rome‖ / ‖·‖ = {rel:.2e} (s = {s:.1})"
            );
            assert!(rel < 2e-3, "λ = {lambda}: relative difference {rel}");
        }
    });
}

#[test]
fn rank_one_update_writes_the_value_in_burn_layout() {
    // W [d_in, d_out] with y = x W (burn), a key k, any direction u: k ᵀ(W + ΔW) = v.
    let (d_in, d_out) = (5, 3);
    let w: Vec<f32> = (0..d_in * d_out)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.1)
        .collect();
    let k: Vec<f32> = vec![0.3, -1.0, 2.0, 0.5, 0.1];
    let u: Vec<f64> = vec![1.0, 0.2, -0.3, 0.4, 2.0];
    let v: Vec<f32> = vec![1.0, -2.0, 0.5];
    let device = Device::flex();
    let x = Tensor::<2>::from_data(TensorData::new(k.clone(), [1, d_in]), &device);
    let current: Vec<f32> = x
        .clone()
        .matmul(Tensor::<2>::from_data(
            TensorData::new(w.clone(), [d_in, d_out]),
            &device,
        ))
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let delta = rank_one_delta(&u, &k, &current, &v).unwrap();
    let edited: Vec<f32> = w.iter().zip(&delta).map(|(a, b)| a + *b as f32).collect();
    let y: Vec<f32> = x
        .matmul(Tensor::<2>::from_data(
            TensorData::new(edited, [d_in, d_out]),
            &device,
        ))
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    for (a, b) in y.iter().zip(&v) {
        assert!((a - b).abs() < 1e-5, "{y:?} vs {v:?}");
    }
    // Rank one with column space u: row i of ΔW is u_i times one vector.
    for i in 0..d_in {
        for j in 0..d_out {
            let expect = u[i] / u[0] * delta[j];
            assert!((delta[i * d_out + j] - expect).abs() < 1e-9);
        }
    }
    assert!(
        rank_one_delta(&[0.0; 5], &k, &current, &v).is_err(),
        "k*ᵀu = 0 is refused"
    );
}

#[test]
fn least_squares_update_solves_memits_normal_equations() {
    // (λC + KKᵀ) ΔW = K R, with C SPD, checked against the explicit products.
    let (d_in, d_out, n, lambda) = (6, 4, 2, 0.7);
    let b: Vec<f64> = (0..d_in * d_in)
        .map(|i| ((i * 13 % 17) as f64 - 8.0) / 8.0)
        .collect();
    let mut c = vec![0.0f64; d_in * d_in];
    for i in 0..d_in {
        for j in 0..d_in {
            c[i * d_in + j] = (0..d_in)
                .map(|t| b[i * d_in + t] * b[j * d_in + t])
                .sum::<f64>()
                + if i == j { 0.5 } else { 0.0 };
        }
    }
    let chol = Cholesky::new(&c, d_in).unwrap();
    let keys: Vec<Vec<f64>> = (0..n)
        .map(|a| {
            (0..d_in)
                .map(|i| ((a * 5 + i * 3) % 7) as f64 - 3.0)
                .collect()
        })
        .collect();
    let res: Vec<Vec<f64>> = (0..n)
        .map(|a| {
            (0..d_out)
                .map(|o| ((a + 2 * o) % 5) as f64 * 0.3 - 0.6)
                .collect()
        })
        .collect();
    let delta = least_squares_delta(|x| Ok(chol.solve(x)), &keys, &res, lambda, d_in).unwrap();
    for o in 0..d_out {
        let col: Vec<f64> = (0..d_in).map(|i| delta[i * d_out + o] as f64).collect();
        let lhs_c = matvec(&c, d_in, d_in, &col);
        for i in 0..d_in {
            let kk: f64 = (0..n)
                .map(|a| keys[a][i] * keys[a].iter().zip(&col).map(|(x, y)| x * y).sum::<f64>())
                .sum();
            let lhs = lambda * lhs_c[i] + kk;
            let rhs: f64 = (0..n).map(|a| keys[a][i] * res[a][o]).sum();
            assert!(
                (lhs - rhs).abs() < 1e-4 * (1.0 + rhs.abs()),
                "({i}, {o}): {lhs} vs {rhs}"
            );
        }
    }
}

#[test]
fn cholesky_solves_spd_systems() {
    // Hand-computed: A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0].
    let x = solve_spd(&[4.0, 2.0, 2.0, 3.0], 2, &[2.0, 1.0]).unwrap();
    assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    // A random SPD system of 200: A x = b to round-off.
    let n = 200;
    let mut s = 1u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let m: Vec<f64> = (0..n * n).map(|_| rnd()).collect();
    let mut a = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|t| m[i * n + t] * m[j * n + t]).sum::<f64>()
                + if i == j { 1e-3 } else { 0.0 };
        }
    }
    let b: Vec<f64> = (0..n).map(|_| rnd()).collect();
    let x = Cholesky::new(&a, n).unwrap().solve(&b);
    let ax = matvec(&a, n, n, &x);
    let err = ax
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-8, "residual {err}");
    assert!(
        Cholesky::new(&[1.0, 2.0, 2.0, 1.0], 2).is_err(),
        "indefinite matrices are refused"
    );
}

#[test]
fn adalora_budget_follows_pefts_cubic_schedule() {
    let cfg = AdaLoraConfig {
        tinit: 5,
        tfinal: 10,
        ..AdaLoraConfig::default()
    };
    let (total, init, target) = (70, 720, 480);
    assert_eq!(
        cfg.budget(0, total, init, target),
        (init, false),
        "warm-up keeps the full budget"
    );
    assert_eq!(cfg.budget(5, total, init, target), (init, false));
    assert_eq!(
        cfg.budget(61, total, init, target),
        (target, true),
        "final phase at the target"
    );
    let mut last = init;
    for step in 6..=60 {
        let (b, mask) = cfg.budget(step, total, init, target);
        assert!(mask && b <= last && b >= target, "step {step}: {b}");
        last = b;
    }
    // Halfway through the budgeting phase the cubic leaves (1/2)³ of the surplus.
    let (b, _) = cfg.budget(5 + 55 / 2, total, init, target);
    let expect = target as f64 + (init - target) as f64 * (1.0 - 27.0 / 55.0f64).powi(3);
    assert_eq!(b, expect as usize);
}

#[test]
fn experiments_file_parses_and_every_method_builds() {
    let path = default_config_path();
    let configs = load_baseline_configs(&path).unwrap();
    assert_eq!(
        configs,
        BaselineConfigs::default(),
        "experiments/baselines.toml states the documented defaults"
    );
    for method in BASELINE_METHODS {
        let editor = build_editor(method, &configs, &paths::workspace_root()).unwrap();
        assert_eq!(editor.name(), method);
    }
    let err = build_editor("sgd", &configs, &paths::workspace_root())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("sgd"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[rome]\nlayer = 5\nlayr = 3\n").unwrap();
    let err = load_baseline_configs(&bad).unwrap_err().to_string();
    assert!(err.contains("bad.toml") && err.contains("layr"), "{err}");
    std::fs::write(&bad, "[memit]\nlayers = []\n").unwrap();
    let err = load_baseline_configs(&bad).unwrap_err().to_string();
    assert!(err.contains("layers"), "{err}");
}
