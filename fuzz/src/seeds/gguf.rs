//! Seeds of `gguf_reader`: a tiny loadable Llama with a byte-level BPE tokenizer, a file
//! with every metadata and tensor type, and a version-2 tokenizer-only file.

use half::{bf16, f16};
use kne_model::LlamaConfig;
use kne_model::gguf::{GgmlType, MetaValue, quant};

use super::gguf_writer::GgufWriter;
use crate::tiny;

/// (file name, bytes) of every `gguf_reader` seed.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("tiny_llama.gguf", tiny_llama()),
        ("all_types.gguf", all_types()),
        ("v2_tokenizer_only.gguf", tokenizer_only()),
    ]
}

/// The GGUF twin of the tiny model: width 32 so every quantised type fits whole blocks.
pub fn tiny_llama_config() -> LlamaConfig {
    LlamaConfig {
        num_hidden_layers: 1,
        hidden_size: 32,
        intermediate_size: 64,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 16,
        vocab_size: vocab().len(),
        tie_word_embeddings: true,
        // GGUF stores the epsilon as an f32.
        rms_norm_eps: f64::from(1e-5_f32),
        ..tiny::config()
    }
}

/// `values` (row-major, rows of `row_len`) encoded as `ty`.
fn encode(ty: GgmlType, values: &[f32]) -> Vec<u8> {
    match ty {
        GgmlType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        GgmlType::F16 => values
            .iter()
            .flat_map(|&v| f16::from_f32(v).to_le_bytes())
            .collect(),
        GgmlType::BF16 => values
            .iter()
            .flat_map(|&v| bf16::from_f32(v).to_le_bytes())
            .collect(),
        GgmlType::Q8_0 => quant::quantize_q8_0(values).expect("whole blocks"),
        GgmlType::Q4_0 => quant::quantize_q4_0(values).expect("whole blocks"),
        GgmlType::Q4_1 => quant::quantize_q4_1(values).expect("whole blocks"),
        other => unreachable!("the seeds do not encode {other}"),
    }
}

/// A tensor of HF shape `[out, in]` (or `[n]`) as ggml dims (`[in, out]`) and bytes.
fn add(w: &mut GgufWriter, name: &str, ty: GgmlType, hf_shape: &[usize], seed: u64) {
    let n = hf_shape.iter().product();
    let dims: Vec<u64> = hf_shape.iter().rev().map(|&d| d as u64).collect();
    w.tensor(name, ty, &dims, encode(ty, &tiny::values(seed, n)));
}

fn s(text: &str) -> MetaValue {
    MetaValue::Str(text.to_owned())
}

/// GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, the
/// others are shifted to U+0100 and up in byte order.
fn byte_chars() -> Vec<char> {
    let printable = |b: u32| (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    let mut shifted = 0;
    (0u32..256)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).expect("Latin-1")
            } else {
                shifted += 1;
                char::from_u32(255 + shifted).expect("Latin Extended")
            }
        })
        .collect()
}

/// Merges of the seed vocabulary (each result is a token).
const MERGES: [&str; 5] = ["Ġ t", "h e", "Ġt he", "c a", "ca t"];
/// Control tokens (ggml token type 3), at the end of the vocabulary.
const CONTROL: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// The 256 byte tokens, one token per merge, then the control tokens.
fn vocab() -> Vec<String> {
    let mut tokens: Vec<String> = byte_chars().into_iter().map(String::from).collect();
    tokens.extend(MERGES.iter().map(|m| m.replace(' ', "")));
    tokens.extend(CONTROL.iter().map(|t| (*t).to_owned()));
    tokens
}

/// `tokenizer.*` metadata of a byte-level BPE over [`vocab`].
fn tokenizer_metadata(w: &mut GgufWriter, pre: &str) {
    let tokens = vocab();
    let first_control = tokens.len() - CONTROL.len();
    let types = (0..tokens.len())
        .map(|i| MetaValue::I32(if i >= first_control { 3 } else { 1 }))
        .collect();
    w.kv("tokenizer.ggml.model", s("gpt2"))
        .kv("tokenizer.ggml.pre", s(pre))
        .kv(
            "tokenizer.ggml.tokens",
            MetaValue::Array(tokens.iter().map(|t| s(t)).collect()),
        )
        .kv("tokenizer.ggml.token_type", MetaValue::Array(types))
        .kv(
            "tokenizer.ggml.merges",
            MetaValue::Array(MERGES.iter().map(|m| s(m)).collect()),
        )
        .kv(
            "tokenizer.ggml.bos_token_id",
            MetaValue::U32(first_control as u32 + 1),
        )
        .kv(
            "tokenizer.ggml.eos_token_id",
            MetaValue::U32(first_control as u32 + 2),
        );
}

/// A complete one-layer Llama: config keys, tokenizer, ChatML template, tied embeddings, and
/// each weight in a different supported type.
fn tiny_llama() -> Vec<u8> {
    let c = tiny_llama_config();
    let mut w = GgufWriter::new(3, 32);
    let u = |v: usize| MetaValue::U32(v as u32);
    w.kv("general.architecture", s("llama"))
        .kv("general.name", s("kne fuzz seed"))
        .kv("llama.block_count", u(c.num_hidden_layers))
        .kv("llama.context_length", u(c.max_position_embeddings))
        .kv("llama.embedding_length", u(c.hidden_size))
        .kv("llama.feed_forward_length", u(c.intermediate_size))
        .kv("llama.attention.head_count", u(c.num_attention_heads))
        .kv("llama.attention.head_count_kv", u(c.num_key_value_heads))
        .kv("llama.rope.dimension_count", u(c.head_dim))
        .kv("llama.rope.freq_base", MetaValue::F32(c.rope_theta))
        .kv("llama.attention.layer_norm_rms_epsilon", MetaValue::F32(c.rms_norm_eps as f32))
        .kv("llama.vocab_size", u(c.vocab_size))
        .kv(
            "tokenizer.chat_template",
            s("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"),
        );
    tokenizer_metadata(&mut w, "smollm");

    let (d, f) = (c.hidden_size, c.intermediate_size);
    let (q, kv) = (
        c.num_attention_heads * c.head_dim,
        c.num_key_value_heads * c.head_dim,
    );
    use GgmlType::*;
    add(&mut w, "token_embd.weight", Q8_0, &[c.vocab_size, d], 1);
    add(&mut w, "output_norm.weight", F32, &[d], 2);
    add(&mut w, "blk.0.attn_norm.weight", F32, &[d], 3);
    add(&mut w, "blk.0.attn_q.weight", Q4_1, &[q, d], 4);
    add(&mut w, "blk.0.attn_k.weight", Q4_0, &[kv, d], 5);
    add(&mut w, "blk.0.attn_v.weight", F16, &[kv, d], 6);
    add(&mut w, "blk.0.attn_output.weight", BF16, &[d, q], 7);
    add(&mut w, "blk.0.ffn_norm.weight", F32, &[d], 8);
    add(&mut w, "blk.0.ffn_gate.weight", Q4_1, &[f, d], 9);
    add(&mut w, "blk.0.ffn_up.weight", Q8_0, &[f, d], 10);
    add(&mut w, "blk.0.ffn_down.weight", F16, &[d, f], 11);
    w.finish()
}

/// Every metadata value type (nested arrays included), a 64-byte alignment, one tensor of
/// each dequantisable type, an empty tensor, and a Q6_K tensor the reader bounds-checks but
/// does not dequantise.
fn all_types() -> Vec<u8> {
    let mut w = GgufWriter::new(3, 64);
    w.kv("u8", MetaValue::U8(7))
        .kv("i8", MetaValue::I8(-1))
        .kv("u16", MetaValue::U16(513))
        .kv("i16", MetaValue::I16(-2))
        .kv("u32", MetaValue::U32(70_000))
        .kv("i32", MetaValue::I32(-3))
        .kv("u64", MetaValue::U64(1 << 40))
        .kv("i64", MetaValue::I64(-5))
        .kv("f32", MetaValue::F32(1.5))
        .kv("f64", MetaValue::F64(0.25))
        .kv("bool", MetaValue::Bool(true))
        .kv("string", s("héllo"))
        .kv(
            "nested",
            MetaValue::Array(vec![
                MetaValue::Array(vec![s("a")]),
                MetaValue::Array(vec![s("b"), s("c")]),
            ]),
        );
    use GgmlType::*;
    for (i, ty) in [F32, F16, BF16, Q8_0, Q4_0, Q4_1].into_iter().enumerate() {
        add(&mut w, &format!("t.{ty}"), ty, &[2, 32], i as u64);
    }
    w.tensor("t.empty", F32, &[4, 0], Vec::new());
    w.tensor("t.Q6_K", Q6_K, &[256], vec![0; 210]);
    w.finish()
}

/// GGUF version 2 with the tokenizer keys only (pre-tokenizer `gpt2`), no tensors.
fn tokenizer_only() -> Vec<u8> {
    let mut w = GgufWriter::new(2, 32);
    tokenizer_metadata(&mut w, "gpt2");
    w.finish()
}
