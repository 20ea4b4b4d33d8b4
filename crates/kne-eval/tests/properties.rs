//! Property tests: bounds of every metric, order-invariance of the summary, the request
//! split, and a tokenizer that never panics.

use kne_eval::data::Dataset;
use kne_eval::metrics::{
    CaseScores, FLUENCY_NS, FLUENCY_WEIGHTS, PunktParams, agreement, build_request,
    ngram_entropy_bits, summarize, token_accuracy, weighted_ngram_entropy,
};
use proptest::prelude::*;

/// `word_tokenize` with NLTK's English Punkt parameters (`cargo xtask fetch-data`).
fn word_tokenize(text: &str) -> Vec<String> {
    let punkt = PunktParams::english().unwrap_or_else(|e| panic!("{e}"));
    kne_eval::metrics::word_tokenize(text, punkt)
}

fn opt_frac() -> impl Strategy<Value = Option<f64>> {
    prop::option::of(0.0f64..=1.0)
}

prop_compose! {
    fn case_scores()(index in 0usize..10_000, es in opt_frac(), re in opt_frac(), r in opt_frac(), s in opt_frac(),
                     l in opt_frac(), rs in opt_frac(), f in opt_frac(), flu in prop::option::of(0.0f64..8.0)) -> CaseScores {
        let mut c = CaseScores::empty(Dataset::ZsRE, index);
        c.edit_success = es;
        c.rephrase = re;
        c.reasoning = r;
        c.subject_aliasing = s;
        c.logical_generalization = l;
        c.portability = kne_eval::metrics::mean([r, s, l].into_iter().flatten());
        c.relation_specificity = rs;
        c.forgetfulness = f;
        c.locality = kne_eval::metrics::mean([rs, f].into_iter().flatten());
        c.fluency = flu;
        c
    }
}

proptest! {
    #[test]
    fn accuracy_and_agreement_in_unit_interval(a in prop::collection::vec(0u32..5, 0..20), b in prop::collection::vec(0u32..5, 0..20)) {
        if let Some(x) = token_accuracy(&a, &b) { prop_assert!((0.0..=1.0).contains(&x)); }
        if let Some(x) = agreement(&a, &b) { prop_assert!((0.0..=1.0).contains(&x)); }
        if !a.is_empty() {
            prop_assert_eq!(agreement(&a, &a), Some(1.0));
            prop_assert_eq!(token_accuracy(&a, &a), Some(1.0));
        }
    }

    #[test]
    fn summary_is_bounded_and_order_invariant(mut cases in prop::collection::vec(case_scores(), 0..30), seed in any::<u64>()) {
        let s1 = summarize(&cases);
        for (name, stat) in s1.columns() {
            if let Some(m) = stat.mean {
                let hi = if name == "fluency" { 800.0 } else { 100.0 };
                prop_assert!((0.0..=hi + 1e-9).contains(&m), "{} = {}", name, m);
            }
            prop_assert!(stat.count <= cases.len());
        }
        // a deterministic shuffle
        let mut state = seed | 1;
        for i in (1..cases.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            cases.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let s2 = summarize(&cases);
        for ((n1, a), (_, b)) in s1.columns().into_iter().zip(s2.columns()) {
            prop_assert_eq!(a.count, b.count);
            match (a.mean, b.mean) {
                (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-9, "{}: {} vs {}", n1, x, y),
                (x, y) => prop_assert_eq!(x, y),
            }
        }
    }

    #[test]
    fn request_split_reassembles_the_joined_tokens(prompt in "[a-z]{1,6}( [a-z]{1,6}){0,5}", answer in "[a-z]{1,6}( [a-z]{1,6}){0,3}") {
        let tok = |s: &str| -> Vec<u32> { s.split_whitespace().map(|w| w.len() as u32).collect() };
        let r = build_request(tok, &prompt, &answer);
        prop_assert_eq!(r.input_ids(), tok(&format!("{prompt} {answer}")));
        prop_assert_eq!(r.answer_ids.len(), answer.split_whitespace().count());
        prop_assert_eq!(r.prediction_positions().len(), r.answer_ids.len());
        prop_assert_eq!(r.prediction_positions().end, r.len() - 1);
    }

    #[test]
    fn entropy_bounds(words in prop::collection::vec("[a-c]", 0..40)) {
        for n in [2usize, 3] {
            let h = ngram_entropy_bits(&words, n);
            let grams = words.len().saturating_sub(n - 1);
            prop_assert!(h >= 0.0);
            if grams > 0 { prop_assert!(h <= (grams as f64).log2() + 1e-9); }
        }
        let f = weighted_ngram_entropy(&words, &FLUENCY_NS, &FLUENCY_WEIGHTS);
        prop_assert!(f >= 0.0);
    }

    #[test]
    fn word_tokenize_never_panics_and_yields_no_blanks(text in "\\PC{0,80}") {
        for t in word_tokenize(&text) {
            prop_assert!(!t.is_empty() && !t.chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn word_tokenize_handles_punctuation_soup(text in "[a-zA-Z.,;:!?'\"()\\[\\]{}<>`*@#$%&\\- \n]{0,60}") {
        let toks = word_tokenize(&text);
        // every non-space character of the input survives somewhere in the tokens,
        // except `"` which the tokenizer rewrites as `` or ''
        let kept: usize = toks.iter().map(|t| t.chars().count()).sum();
        let input = text.chars().filter(|c| !c.is_whitespace()).count();
        prop_assert!(kept >= input - text.matches('"').count());
    }
}
