//! Builds a HF `tokenizers` byte-level BPE tokenizer from GGUF `tokenizer.ggml.*` metadata
//! (`tokenizer.ggml.model = llama`, SentencePiece-style, is in `from_gguf_spm`).
//!
//! The recipe reproduces transformers' GGUF converter and llama.cpp's own tokenizer for
//! `tokenizer.ggml.model = gpt2`: BPE over the GGUF vocabulary and merges, a ByteLevel
//! pre-tokenizer (after splitting digits one by one for `pre = smollm`), a ByteLevel decoder,
//! and control tokens (token type 3) as special added tokens. No normaliser and no
//! post-processor, so no BOS is ever added.

use ahash::AHashMap;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper};

use crate::gguf::{GgufFile, MetaValue};

/// llama.cpp token types (`enum llama_token_type`).
const TOKEN_TYPE_NORMAL: i64 = 1;
pub(super) const TOKEN_TYPE_CONTROL: i64 = 3;
pub(super) const TOKEN_TYPE_USER_DEFINED: i64 = 4;

/// The HF tokenizer described by the GGUF metadata; `Err` is a message for
/// `ModelError::Tokenizer`.
pub(crate) fn build(gguf: &GgufFile) -> Result<tokenizers::Tokenizer, String> {
    let model = gguf
        .meta_str("tokenizer.ggml.model")
        .map_err(|e| e.to_string())?;
    match model {
        "gpt2" => {}
        "llama" => return super::from_gguf_spm::build(gguf),
        _ => {
            return Err(format!(
                "tokenizer.ggml.model = {model:?} is not supported (\"gpt2\", byte-level BPE, and \"llama\", SentencePiece BPE, are)"
            ));
        }
    }
    let pre_tokenizer = pre_tokenizer(gguf.meta("tokenizer.ggml.pre").and_then(MetaValue::as_str))?;

    let tokens = string_array(gguf, "tokenizer.ggml.tokens")?;
    let mut vocab = AHashMap::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        let id = u32::try_from(id).map_err(|_| "vocabulary larger than u32 ids".to_owned())?;
        // On a duplicate token the first id wins, as in llama.cpp's token-to-id map.
        vocab.entry(token.to_string()).or_insert(id);
    }
    let merges = string_array(gguf, "tokenizer.ggml.merges")?
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .ok_or_else(|| format!("tokenizer.ggml.merges[{i}] = {m:?} is not \"a b\""))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| format!("building the BPE model: {e}"))?;

    let mut tokenizer = tokenizers::Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    tokenizer.with_decoder(Some(ByteLevel::default()));
    let (special, user) = added_tokens(gguf, &tokens)?;
    register_added(&mut tokenizer, special, user)?;
    Ok(tokenizer)
}

/// llama.cpp's pre-tokenizer name -> the equivalent HF pre-tokenizer.
fn pre_tokenizer(pre: Option<&str>) -> Result<PreTokenizerWrapper, String> {
    let byte_level = ByteLevel::new(false, true, true);
    match pre {
        // "smollm": the GPT-2 regex after splitting every digit on its own.
        Some("smollm") => {
            Ok(Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into())
        }
        None | Some("default") | Some("gpt-2") | Some("gpt2") => Ok(byte_level.into()),
        Some(other) => Err(format!(
            "tokenizer.ggml.pre = {other:?} is not supported (smollm, gpt-2 and default are)"
        )),
    }
}

/// A string array from the metadata, borrowed.
pub(super) fn string_array<'a>(gguf: &'a GgufFile, key: &str) -> Result<Vec<&'a str>, String> {
    let array = gguf.meta_array(key).map_err(|e| e.to_string())?;
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .ok_or_else(|| format!("{key}[{i}] is a {}, not a string", v.type_name()))
        })
        .collect()
}

/// Control tokens (special) and user-defined tokens (not special), from `token_type`.
fn added_tokens(
    gguf: &GgufFile,
    tokens: &[&str],
) -> Result<(Vec<AddedToken>, Vec<AddedToken>), String> {
    let (mut special, mut user) = (Vec::new(), Vec::new());
    for (token, ty) in tokens.iter().zip(token_types(gguf, tokens.len())?) {
        match ty {
            TOKEN_TYPE_CONTROL => special.push(AddedToken::from(token.to_string(), true)),
            TOKEN_TYPE_USER_DEFINED => user.push(AddedToken::from(token.to_string(), false)),
            _ => {}
        }
    }
    Ok((special, user))
}

/// `tokenizer.ggml.token_type`, one integer per token (all normal when the key is absent).
pub(super) fn token_types(gguf: &GgufFile, n: usize) -> Result<Vec<i64>, String> {
    let key = "tokenizer.ggml.token_type";
    let Some(types) = gguf.meta(key) else {
        return Ok(vec![TOKEN_TYPE_NORMAL; n]);
    };
    let types = types
        .as_array()
        .ok_or_else(|| format!("{key} is a {}, not an array", types.type_name()))?;
    if types.len() != n {
        return Err(format!(
            "{key} has {} entries but there are {n} tokens",
            types.len()
        ));
    }
    types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.as_i64()
                .ok_or_else(|| format!("{key}[{i}] is a {}, not an integer", t.type_name()))
        })
        .collect()
}

/// Registers the control tokens as special and the user-defined ones as plain added tokens.
pub(super) fn register_added(
    tokenizer: &mut tokenizers::Tokenizer,
    special: Vec<AddedToken>,
    user: Vec<AddedToken>,
) -> Result<(), String> {
    tokenizer
        .add_special_tokens(special)
        .map_err(|e| format!("adding control tokens: {e}"))?;
    tokenizer
        .add_tokens(user)
        .map_err(|e| format!("adding user-defined tokens: {e}"))?;
    Ok(())
}
