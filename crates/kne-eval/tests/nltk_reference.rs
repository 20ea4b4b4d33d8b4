//! `word_tokenize` and the fluency measure agree with NLTK 3.6.5 + EasyEdit's formula on
//! the reference texts of `tests/fixtures/nltk_word_tokenize.jsonl`, with NLTK's English
//! Punkt parameters as `cargo xtask fetch-data` fetches them (`data/nltk/punkt_tab/english`,
//! or `$KNE_PUNKT`).

use kne_eval::metrics::{PunktParams, ngram_entropy, word_tokenize};

#[derive(serde::Deserialize)]
struct Row {
    text: String,
    tokens: Vec<String>,
    fluency: f64,
}

#[test]
fn matches_nltk_on_reference_texts() {
    let punkt = PunktParams::english().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        punkt.counts(),
        [156, 39, 37, 20_366],
        "NLTK's English model"
    );
    let data = include_str!("fixtures/nltk_word_tokenize.jsonl");
    let mut n = 0;
    for (i, line) in data.lines().enumerate() {
        let row: Row = serde_json::from_str(line).expect("fixture line");
        assert_eq!(
            word_tokenize(&row.text, punkt),
            row.tokens,
            "line {i}: {:?}",
            row.text
        );
        let f = ngram_entropy(&row.text, punkt);
        assert!(
            (f - row.fluency).abs() < 1e-12,
            "line {i}: fluency {f} vs NLTK {}",
            row.fluency
        );
        n += 1;
    }
    assert_eq!(n, 61);
}
