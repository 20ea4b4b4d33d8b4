//! Builds a SentencePiece-style BPE tokenizer (`tokenizer.ggml.model = llama`, as Gemma's
//! files say) from GGUF metadata, the way transformers' GGUF loader rebuilds Gemma's.
//!
//! - Spaces become `▁` (a normaliser); no pre-tokenizer, so the whole text is one BPE word;
//!   no prefix space (`add_space_prefix = false` in Gemma's file).
//! - The file has tokens but no merges, so merges are derived from the vocabulary: every
//!   split of a token into two tokens is a merge, ranked by the merged token's position in
//!   the file (Gemma's scores do not follow its merge order; its token order does), then by
//!   the longer left piece. BPE then merges the best-ranked pair first, as SentencePiece's
//!   BPE does by score.
//! - Whitespace-only tokens are stored with real spaces (`"  "`) while text is matched as
//!   `"▁▁"`; they are respelled first.
//! - Unknown characters fall back to byte tokens `<0xNN>`; decoding maps `▁` back to spaces,
//!   bytes back to UTF-8.
//! - Control tokens (type 3) are special added tokens, user-defined ones (type 4, e.g.
//!   `"\n\n"`) plain added tokens matched whole in the raw text.

use ahash::AHashMap;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::replace::Replace;
use tokenizers::{AddedToken, DecoderWrapper};

use super::from_gguf::{
    TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED, register_added, string_array, token_types,
};
use crate::gguf::GgufFile;

/// SentencePiece's word-boundary mark.
const SPACE: char = '▁';

/// The tokenizer; `Err` is a message for `ModelError::Tokenizer`.
pub(crate) fn build(gguf: &GgufFile) -> Result<tokenizers::Tokenizer, String> {
    let raw = string_array(gguf, "tokenizer.ggml.tokens")?;
    if gguf
        .meta("tokenizer.ggml.add_space_prefix")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
    {
        return Err("tokenizer.ggml.add_space_prefix = true is not supported".into());
    }
    let tokens: Vec<String> = raw.iter().map(|t| respell(t)).collect();
    let mut vocab = AHashMap::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        let id = u32::try_from(id).map_err(|_| "vocabulary larger than u32 ids".to_owned())?;
        // A duplicate's last id wins, as in transformers' vocabulary dict.
        vocab.insert(token.clone(), id);
    }
    let merges = derive_merges(&tokens, &vocab);
    let unk = gguf
        .meta("tokenizer.ggml.unknown_token_id")
        .and_then(|v| v.as_u64())
        .and_then(|id| tokens.get(id as usize))
        .cloned()
        .unwrap_or_else(|| "<unk>".to_owned());
    let bpe = BPE::builder()
        .vocab_and_merges(vocab.clone(), merges)
        .unk_token(unk)
        .fuse_unk(true)
        .byte_fallback(true)
        .build()
        .map_err(|e| format!("building the BPE model: {e}"))?;

    let mut tokenizer = tokenizers::Tokenizer::new(bpe);
    let space = Replace::new(" ", SPACE.to_string()).map_err(|e| e.to_string())?;
    tokenizer
        .with_normalizer(Some(space))
        .map_err(|e| e.to_string())?;
    let unspace = Replace::new(SPACE.to_string(), " ").map_err(|e| e.to_string())?;
    tokenizer.with_decoder(Some(Sequence::new(vec![
        DecoderWrapper::Replace(unspace),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ])));

    let types = token_types(gguf, raw.len())?;
    let (mut special, mut user) = (Vec::new(), Vec::new());
    for ((token, raw), ty) in tokens.iter().zip(&raw).zip(types) {
        match ty {
            TOKEN_TYPE_CONTROL => special.push(AddedToken::from(raw.to_string(), true)),
            // Only those the (respelled) vocabulary knows: a run of spaces is matched as
            // `▁▁…` by the model, not as an added token of spaces.
            TOKEN_TYPE_USER_DEFINED if token == raw => {
                user.push(AddedToken::from(raw.to_string(), false).normalized(false))
            }
            _ => {}
        }
    }
    register_added(&mut tokenizer, special, user)?;
    Ok(tokenizer)
}

/// A token of whitespace holding a space (`"  "`) as the model matches it (`"▁▁"`: one mark
/// per character); other tokens unchanged.
fn respell(token: &str) -> String {
    if token.contains(' ') && token.trim().is_empty() {
        std::iter::repeat_n(SPACE, token.chars().count()).collect()
    } else {
        token.to_owned()
    }
}

/// Merges implied by the vocabulary, best first: for each token in file order, each split
/// into two vocabulary tokens, the longer left piece first.
fn derive_merges(tokens: &[String], vocab: &AHashMap<String, u32>) -> Vec<(String, String)> {
    let mut merges = Vec::new();
    for (id, token) in tokens.iter().enumerate() {
        // A duplicate is ranked once, at its last position (where the vocabulary points).
        if vocab.get(token).is_some_and(|&v| v as usize != id) {
            continue;
        }
        let cuts: Vec<usize> = token.char_indices().map(|(i, _)| i).skip(1).collect();
        for &cut in cuts.iter().rev() {
            let (left, right) = token.split_at(cut);
            if vocab.contains_key(left) && vocab.contains_key(right) {
                merges.push((left.to_owned(), right.to_owned()));
            }
        }
    }
    merges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_tokens_are_respelled() {
        assert_eq!(respell("  "), "▁▁");
        assert_eq!(respell(" \t"), "▁▁");
        assert_eq!(respell("\n\n"), "\n\n");
        assert_eq!(respell("▁the"), "▁the");
        assert_eq!(respell("a b"), "a b");
    }

    #[test]
    fn merges_follow_file_order_then_the_longer_left_piece() {
        let tokens: Vec<String> = ["a", "b", "c", "ab", "bc", "abc", "ca"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let vocab: AHashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let m = derive_merges(&tokens, &vocab);
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            m,
            vec![
                pair("a", "b"),
                pair("b", "c"),
                pair("ab", "c"),
                pair("a", "bc"),
                pair("c", "a")
            ]
        );
    }
}
