//! Weighted n-gram entropy: EasyEdit's fluency measure.

use std::collections::HashMap;

use super::{PunktParams, word_tokenize};

/// The n-gram orders EasyEdit uses.
pub const FLUENCY_NS: [usize; 2] = [2, 3];
/// The weights EasyEdit gives them (bigram 2/3, trigram 4/3).
pub const FLUENCY_WEIGHTS: [f64; 2] = [2.0 / 3.0, 4.0 / 3.0];

/// Shannon entropy in bits of the n-gram frequency distribution of `tokens`
/// (`nltk.FreqDist(nltk.ngrams(tokens, n))`, relative frequencies, `-Σ f·ln f / ln 2`).
/// Zero when there are fewer than `n` tokens (no n-grams), as numpy's sum of an empty
/// array is.
pub fn ngram_entropy_bits<S: AsRef<str>>(tokens: &[S], n: usize) -> f64 {
    if n == 0 || tokens.len() < n {
        return 0.0;
    }
    let toks: Vec<&str> = tokens.iter().map(AsRef::as_ref).collect();
    // Counts in first-occurrence order (Python's FreqDist order): the sum below then runs in
    // a fixed order, so the result is bit-for-bit reproducible (a HashMap's is not).
    let mut slot: HashMap<&[&str], usize> = HashMap::new();
    let mut counts: Vec<usize> = Vec::new();
    for gram in toks.windows(n) {
        let i = *slot.entry(gram).or_insert_with(|| {
            counts.push(0);
            counts.len() - 1
        });
        counts[i] += 1;
    }
    let total = (toks.len() + 1 - n) as f64;
    let ln2 = std::f64::consts::LN_2;
    counts
        .iter()
        .map(|&c| {
            let f = c as f64 / total;
            -f * f.ln() / ln2
        })
        .sum()
}

/// EasyEdit's `compute_n_gram_entropy` on already tokenised text: the arithmetic mean over
/// `ns` of `weight_n · H_n` (so with the defaults, `(2/3·H₂ + 4/3·H₃) / 2`).
///
/// # Panics
/// If `ns` and `weights` differ in length or are empty.
pub fn weighted_ngram_entropy<S: AsRef<str>>(tokens: &[S], ns: &[usize], weights: &[f64]) -> f64 {
    assert_eq!(ns.len(), weights.len(), "one weight per n-gram order");
    assert!(!ns.is_empty(), "at least one n-gram order");
    let sum: f64 = ns
        .iter()
        .zip(weights)
        .map(|(&n, &w)| w * ngram_entropy_bits(tokens, n))
        .sum();
    sum / ns.len() as f64
}

/// Fluency of one generated text as EasyEdit computes it (before the ×100 of the tables):
/// `nltk.word_tokenize`-equivalent tokens (see [`word_tokenize`]), then
/// [`weighted_ngram_entropy`] with n = 2, 3 and weights 2/3, 4/3.
///
/// `punkt`: NLTK's English Punkt parameters ([`PunktParams::english`]), as EasyEdit uses.
/// Apply [`normalize_generated_text`](super::normalize_generated_text) first to a raw
/// decoded generation, as EasyEdit does.
pub fn ngram_entropy(text: &str, punkt: &PunktParams) -> f64 {
    weighted_ngram_entropy(&word_tokenize(text, punkt), &FLUENCY_NS, &FLUENCY_WEIGHTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These texts have no sentence-final periods: an empty Punkt model splits them as the
    /// English one does.
    fn ngram_entropy(text: &str) -> f64 {
        super::ngram_entropy(text, &PunktParams::default())
    }

    #[test]
    fn the_cat_by_hand() {
        // tokens: the cat the cat the cat (6 tokens, no sentence punctuation)
        // bigrams (5): (the,cat)×3, (cat,the)×2 -> H2 = -(.6 log2 .6 + .4 log2 .4) = 0.970950594...
        // trigrams (4): (the,cat,the)×2, (cat,the,cat)×2 -> H3 = 1
        // fluency = (2/3 · 0.970950594 + 4/3 · 1) / 2 = 0.990316864818...  (×100: 99.03)
        let h2 = -(0.6f64 * 0.6f64.log2() + 0.4 * 0.4f64.log2());
        assert!(
            (ngram_entropy_bits(&["the", "cat", "the", "cat", "the", "cat"], 2) - h2).abs() < 1e-12
        );
        let f = ngram_entropy("the cat the cat the cat");
        assert!((f - (2.0 / 3.0 * h2 + 4.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!((f - 0.990_316_864_818).abs() < 1e-12, "{f}");
    }

    #[test]
    fn all_distinct_tokens() {
        // 5 distinct tokens: 4 distinct bigrams (2 bits), 3 distinct trigrams (log2 3 bits)
        let f = weighted_ngram_entropy(&["a", "b", "c", "d", "e"], &FLUENCY_NS, &FLUENCY_WEIGHTS);
        let expected = (2.0 / 3.0 * 2.0 + 4.0 / 3.0 * 3f64.log2()) / 2.0;
        assert!((f - expected).abs() < 1e-12);
    }

    #[test]
    fn too_short_texts_score_zero() {
        assert_eq!(ngram_entropy(""), 0.0);
        assert_eq!(ngram_entropy("word"), 0.0);
        // two tokens: one bigram (entropy 0), no trigram
        assert_eq!(ngram_entropy("two words"), 0.0);
    }

    #[test]
    fn repetition_lowers_fluency() {
        assert!(
            ngram_entropy("the the the the the the the")
                < ngram_entropy("one two three four five six seven")
        );
    }
}
