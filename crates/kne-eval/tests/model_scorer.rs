//! `ModelScorer` on the real SmolLM2: batching leaves the argmax unchanged, the unedited
//! model scores locality 100 against itself, generation agrees with `Llama` and is
//! repeatable under a seed.

use std::sync::OnceLock;

use burn::tensor::Device;
use kne_eval::data::{Dataset, EditCase, default_data_dir, load_cases};
use kne_eval::metrics::{
    Decoding, EvalConfig, GenerationConfig, Scorer, ScoringRequest, evaluate_case_with_model,
    try_build_request,
};
use kne_eval::{BatchConfig, ModelScorer};
use kne_model::{GreedyConfig, LoadedModel, argmax_rows, paths};

fn model() -> &'static LoadedModel {
    static MODEL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = paths::default_model_path();
        assert!(
            path.exists(),
            "model {} is missing: run `cargo xtask fetch-model` (or set KNE_MODEL)",
            path.display()
        );
        kne_model::load(&path, &Device::flex()).expect("default model loads")
    })
}

fn cases(dataset: Dataset, n: usize) -> Vec<EditCase> {
    let path = default_data_dir().join(dataset.test_file());
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask fetch-data` (or set KNE_DATA)",
        path.display()
    );
    let mut cases = load_cases(dataset, &path).expect("dataset loads");
    cases.truncate(n);
    cases
}

/// Every teacher-forced request of a case (rewrite, rephrase, portability, locality).
fn requests_of(case: &EditCase, scorer: &ModelScorer) -> Vec<ScoringRequest> {
    let mut pairs = vec![(case.prompt.clone(), case.target_new.clone())];
    if let Some(r) = &case.rephrase {
        pairs.push((r.clone(), case.target_new.clone()));
    }
    for probe in case
        .portability
        .values()
        .chain(case.locality.values())
        .flatten()
    {
        pairs.push((probe.prompt.clone(), probe.answer().to_owned()));
    }
    pairs
        .iter()
        .map(|(p, a)| try_build_request(|s| scorer.tokenize(s), p, a).unwrap())
        .collect()
}

/// The argmax at a request's answer positions from the plain full forward.
fn reference_argmax(loaded: &LoadedModel, req: &ScoringRequest) -> Vec<u32> {
    let m = &loaded.model;
    let logits = m.forward(m.ids_tensor(&[req.input_ids()]).unwrap());
    let [_, seq, vocab] = logits.dims();
    let all = argmax_rows(logits.reshape([seq, vocab])).unwrap();
    req.select_predictions(&all).unwrap()
}

#[test]
fn batched_argmax_equals_unbatched_and_the_full_forward() {
    let loaded = model();
    let batched = ModelScorer::from_loaded(loaded);
    let single = ModelScorer::from_loaded(loaded).with_batch(BatchConfig::unbatched());
    let small = ModelScorer::from_loaded(loaded).with_batch(BatchConfig {
        max_rows: 3,
        max_tokens: 64,
    });
    let mut requests: Vec<ScoringRequest> = Vec::new();
    for dataset in Dataset::ALL {
        for case in cases(dataset, 2) {
            requests.extend(requests_of(&case, &batched));
        }
    }
    // an empty-answer request gets an empty row
    requests.push(ScoringRequest {
        prompt_ids: vec![504, 3575],
        answer_ids: vec![],
    });
    assert!(requests.len() > 10, "{} requests", requests.len());
    let a = batched.argmax_batch(&requests).unwrap();
    let b = single.argmax_batch(&requests).unwrap();
    let c = small.argmax_batch(&requests).unwrap();
    assert_eq!(a, b, "default batching vs one request per forward");
    assert_eq!(a, c, "small batches vs default batching");
    for (req, row) in requests.iter().zip(&a) {
        assert_eq!(row.len(), req.answer_ids.len());
    }
    for req in requests.iter().take(4) {
        assert_eq!(
            single.argmax_batch(std::slice::from_ref(req)).unwrap()[0],
            reference_argmax(loaded, req),
            "gathered head vs full logits"
        );
    }
}

#[test]
fn the_unedited_model_scores_locality_100_against_itself() {
    let loaded = model();
    let cfg = EvalConfig {
        generation: None,
        keep_generated_text: false,
    };
    let cases = cases(Dataset::WikiCounterfact, 3);
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let mut pre = ModelScorer::from_loaded(loaded);
        let mut post = ModelScorer::from_loaded(loaded);
        let scores = evaluate_case_with_model(case, &mut pre, &mut post, &cfg).unwrap();
        assert_eq!(scores.locality, Some(1.0), "case {}", case.index);
        assert_eq!(
            scores.relation_specificity,
            Some(1.0),
            "case {}",
            case.index
        );
        let es = scores.edit_success.unwrap();
        assert!((0.0..=1.0).contains(&es));
        assert!(scores.fluency.is_none());
    }
}

#[test]
fn greedy_generation_equals_llama_generate_greedy() {
    let loaded = model();
    let mut scorer = ModelScorer::from_loaded(loaded);
    let prompt = "The capital of France is";
    let ids = loaded.tokenizer.encode(prompt).unwrap();
    let cfg = GenerationConfig {
        max_total_tokens: ids.len() + 24,
        decoding: Decoding::Greedy,
        stop_at_eos: false,
    };
    let got = scorer.generate_ids(&ids, &cfg).unwrap();
    let new = loaded
        .model
        .generate_greedy(
            &ids,
            GreedyConfig {
                max_new_tokens: 24,
                stop_token: None,
            },
        )
        .unwrap();
    assert_eq!(got[..ids.len()], ids[..]);
    assert_eq!(got[ids.len()..], new[..]);
    let text = scorer.generate(prompt, &cfg).unwrap();
    assert_eq!(text, scorer.decode_skip_special(&got).unwrap());
    assert!(text.starts_with(prompt), "{text:?}");
    // a prompt as long as the limit generates nothing
    let full = GenerationConfig {
        max_total_tokens: ids.len(),
        ..cfg
    };
    assert_eq!(scorer.generate_ids(&ids, &full).unwrap(), ids);
}

#[test]
fn top_k_sampling_is_repeatable_under_a_seed_and_seeds_differ() {
    let loaded = model();
    let mut scorer = ModelScorer::from_loaded(loaded);
    let prompt = "The mother tongue of Danielle Darrieux is";
    let cfg = |seed| GenerationConfig {
        max_total_tokens: 40,
        decoding: Decoding::TopK { k: 5, seed },
        stop_at_eos: false,
    };
    let a = scorer.generate(prompt, &cfg(0)).unwrap();
    let b = scorer.generate(prompt, &cfg(0)).unwrap();
    let c = scorer.generate(prompt, &cfg(1)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(
        a.starts_with(prompt) && c.starts_with(prompt),
        "{a:?} / {c:?}"
    );
    let ids = scorer
        .generate_ids(&loaded.tokenizer.encode(prompt).unwrap(), &cfg(0))
        .unwrap();
    assert_eq!(ids.len(), 40, "no EOS stop: the sequence fills the limit");
    // k = 1 is greedy
    let one = GenerationConfig {
        decoding: Decoding::TopK { k: 1, seed: 9 },
        ..cfg(0)
    };
    let greedy = GenerationConfig {
        decoding: Decoding::Greedy,
        ..cfg(0)
    };
    assert_eq!(
        scorer.generate(prompt, &one).unwrap(),
        scorer.generate(prompt, &greedy).unwrap()
    );
}

#[test]
fn decoding_skips_special_tokens_and_eos_can_stop_generation() {
    let loaded = model();
    let scorer = ModelScorer::from_loaded(loaded);
    let eos = loaded.tokenizer.eos_id().expect("SmolLM2 has an EOS token");
    let mut ids = loaded.tokenizer.encode("Hello world").unwrap();
    ids.push(eos);
    ids.extend(loaded.tokenizer.encode(" again").unwrap());
    assert!(loaded.tokenizer.decode(&ids).unwrap().contains("<|"));
    assert_eq!(
        scorer.decode_skip_special(&ids).unwrap(),
        "Hello world again"
    );
    // greedy under a chat prompt ends its answer with EOS; stop_at_eos stops there
    let prompt = loaded.tokenizer.chat_prompt("Say hi.");
    let prompt_ids = loaded.tokenizer.encode(&prompt).unwrap();
    let cfg = GenerationConfig {
        max_total_tokens: prompt_ids.len() + 48,
        decoding: Decoding::Greedy,
        stop_at_eos: true,
    };
    let out = scorer.generate_ids(&prompt_ids, &cfg).unwrap();
    if out.len() < cfg.max_total_tokens {
        assert_eq!(out.last(), Some(&eos));
    }
}
