//! Reads JSON strings, one per line, from stdin and prints, per line, a JSON object with
//! the `word_tokenize` tokens and the fluency (n-gram entropy) of the text: the format of
//! `tests/fixtures/nltk_word_tokenize.jsonl`, to compare against NLTK.
//!
//! `cargo run -p kne-eval --release --example word_tokenize < texts.jsonl`
//! (NLTK's English Punkt parameters from `cargo xtask fetch-data`, or `$KNE_PUNKT`)

use std::io::{BufRead, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let punkt = kne_eval::metrics::PunktParams::english()?;
    for line in stdin.lock().lines() {
        let text: String = serde_json::from_str(&line?)?;
        let tokens = kne_eval::metrics::word_tokenize(&text, punkt);
        let fluency = kne_eval::metrics::ngram_entropy(&text, punkt);
        let row = serde_json::json!({ "text": text, "tokens": tokens, "fluency": fluency });
        writeln!(out, "{row}")?;
    }
    Ok(())
}
