//! Fluency: EasyEdit's weighted bi-/tri-gram entropy of generated text, with a Rust
//! equivalent of `nltk.word_tokenize` (Punkt sentence split + NLTK's Treebank word
//! tokenizer, NLTK 3.6.5 behaviour).
//!
//! The Punkt model's parameters are data, not code: [`PunktParams::english`] reads NLTK's
//! English model once from `data/nltk/punkt_tab/english/` (or `$KNE_PUNKT`), which
//! `cargo xtask fetch-data` fetches; [`PunktParams::load`] reads any `punkt_tab` folder.
//! Every tokenising function takes the parameters explicitly.
//!
//! Differences from NLTK that remain (see `EASYEDIT_NOTES.md`): Python's `\w`/`\d`/
//! `isupper` are approximated by Rust's Unicode predicates; NFKD is approximated (see
//! [`normalize_generated_text`]); none of these changes English ASCII text.

mod entropy;
mod normalize;
mod punkt;
mod punkt_params;
mod treebank;

pub use entropy::{
    FLUENCY_NS, FLUENCY_WEIGHTS, ngram_entropy, ngram_entropy_bits, weighted_ngram_entropy,
};
pub use normalize::normalize_generated_text;
pub use punkt::sent_tokenize;
pub use punkt_params::{PUNKT_DIR_ENV, PUNKT_FILES, PunktError, PunktParams, default_punkt_dir};
pub use treebank::treebank_tokenize;

/// Word tokens of `text` like `nltk.word_tokenize(text)`: split into sentences with Punkt
/// (parameters `punkt`; NLTK's English model: [`PunktParams::english`]), then tokenise each
/// sentence with the Treebank rules.
pub fn word_tokenize(text: &str, punkt: &PunktParams) -> Vec<String> {
    sent_tokenize(text, punkt)
        .iter()
        .flat_map(|s| treebank_tokenize(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::punkt_params::tests::english;

    fn word_tokenize(text: &str) -> Vec<String> {
        super::word_tokenize(text, english())
    }

    #[test]
    fn word_tokenize_splits_every_sentence_final_period() {
        assert_eq!(
            word_tokenize(
                "The cat sat on the mat. Dr. Smith said \"hello\" (twice)... It can't be! The U.S. is big; isn't it? Yes."
            ),
            vec![
                "The", "cat", "sat", "on", "the", "mat", ".", "Dr.", "Smith", "said", "``",
                "hello", "''", "(", "twice", ")", "...", "It", "ca", "n't", "be", "!", "The",
                "U.S.", "is", "big", ";", "is", "n't", "it", "?", "Yes", "."
            ]
        );
    }
}
