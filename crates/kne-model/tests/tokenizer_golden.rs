//! The tokenizer built from the GGUF metadata against transformers' tokenisation of the same
//! file (the golden fixture): every case and prompt, decoding, special tokens, chat template.

use std::sync::OnceLock;

use kne_model::gguf::GgufFile;
use kne_model::paths::{default_model_path, golden_fixture_path};
use kne_model::tokenizer::{ChatMessage, SMOLLM2_DEFAULT_SYSTEM, Tokenizer};
use serde_json::Value;

fn gguf() -> &'static GgufFile {
    static FILE: OnceLock<GgufFile> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = default_model_path();
        assert!(
            path.is_file(),
            "model file {} is missing: run `cargo xtask fetch-model` (or point KNE_MODEL at it)",
            path.display()
        );
        GgufFile::open(&path).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn tokenizer() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        Tokenizer::from_gguf(gguf(), &default_model_path()).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn fixture() -> &'static Value {
    static FIXTURE: OnceLock<Value> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = golden_fixture_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("golden fixture {}: {e}", path.display()));
        serde_json::from_str(&text).expect("fixture is valid JSON")
    })
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("id list")
        .iter()
        .map(|id| id.as_u64().expect("id") as u32)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("string list")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// Encodes `text`, compares ids and byte-level tokens, and checks the decode round trip.
fn check_case(tok: &Tokenizer, name: &str, text: &str, want_ids: &[u32], want_tokens: &[String]) {
    let got = tok.encode(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got, want_ids, "{name}: ids of {text:?}");
    let tokens: Vec<String> = got
        .iter()
        .map(|&id| tok.id_to_token(id).unwrap_or_default())
        .collect();
    assert_eq!(tokens, want_tokens, "{name}: tokens");
    assert_eq!(
        tok.decode(&got).expect("decodes"),
        text,
        "{name}: round trip"
    );
}

#[test]
fn every_fixture_case_tokenises_exactly() {
    let tok = tokenizer();
    let cases = fixture()["tokenizer"]["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 15);
    for (i, case) in cases.iter().enumerate() {
        let text = case["text"].as_str().expect("text");
        check_case(
            tok,
            &format!("case {i}"),
            text,
            &ids(&case["ids"]),
            &strings(&case["tokens"]),
        );
        let roundtrip = case["roundtrip"].as_str().expect("roundtrip");
        assert_eq!(
            tok.decode(&ids(&case["ids"])).expect("decodes"),
            roundtrip,
            "case {i}"
        );
    }
}

#[test]
fn every_fixture_prompt_tokenises_exactly() {
    let tok = tokenizer();
    let prompts = fixture()["prompts"].as_array().expect("prompts");
    assert_eq!(prompts.len(), 9);
    for p in prompts {
        let name = p["name"].as_str().expect("name");
        // No prompt in the fixture has a BOS prepended; the encoder never adds one.
        assert_eq!(p["add_bos"].as_bool(), Some(false), "{name}");
        let want = ids(&p["ids"]);
        check_case(
            tok,
            name,
            p["text"].as_str().expect("text"),
            &want,
            &strings(&p["tokens"]),
        );
        // Each token decoded on its own.
        let decoded: Vec<String> = want
            .iter()
            .map(|&id| tok.decode(&[id]).expect("decodes"))
            .collect();
        assert_eq!(
            decoded,
            strings(&p["decoded_tokens"]),
            "{name}: decoded tokens"
        );
    }
}

#[test]
fn chat_prompt_renders_the_fixture_chat_prompt() {
    let tok = tokenizer();
    // The fixture stores the chat prompt already rendered, as plain text with its markup.
    let chat = fixture()["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .find(|p| p["name"] == "chat_japan")
        .expect("chat_japan prompt");
    let text = chat["text"].as_str().expect("text");
    let rendered = tok.chat_prompt("What is the capital of Japan?");
    assert_eq!(rendered, text);
    assert_eq!(tok.encode(&rendered).expect("encodes"), ids(&chat["ids"]));

    // An explicit system message replaces the default one; no generation prompt on request.
    let messages = [
        ChatMessage::new("system", SMOLLM2_DEFAULT_SYSTEM),
        ChatMessage::new("user", "What is the capital of Japan?"),
    ];
    assert_eq!(tok.apply_chat_template(&messages, true), text);
    let without = tok.apply_chat_template(&messages, false);
    assert_eq!(
        Some(without.as_str()),
        text.strip_suffix("<|im_start|>assistant\n")
    );
}

#[test]
fn template_specials_and_ids_match_the_fixture() {
    let tok = tokenizer();
    let fx = &fixture()["tokenizer"];
    assert_eq!(
        gguf().meta_str("tokenizer.chat_template").ok(),
        fx["chat_template"].as_str()
    );
    assert_eq!(
        tok.chat_template().default_system.as_deref(),
        Some(SMOLLM2_DEFAULT_SYSTEM)
    );
    assert_eq!(Some(tok.vocab_size() as u64), fx["vocab_size"].as_u64());
    assert_eq!(tok.bos_id().map(u64::from), fx["bos"][1].as_u64());
    assert_eq!(tok.eos_id().map(u64::from), fx["eos"][1].as_u64());
    for added in fx["added_tokens"].as_array().expect("added tokens") {
        let id = added[0].as_u64().expect("id") as u32;
        let content = added[1].as_str().expect("content");
        assert_eq!(added[2].as_bool(), Some(true), "{content} is special");
        assert_eq!(tok.token_to_id(content), Some(id), "{content}");
        assert_eq!(tok.encode(content).expect("encodes"), [id], "{content}");
        assert_eq!(tok.decode(&[id]).expect("decodes"), content);
    }
    assert!(tok.decode(&[49_152]).is_err(), "out-of-vocabulary id");
}

#[test]
fn tokenizer_json_path_matches_the_gguf_path() {
    let tok = tokenizer();
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("tokenizer.json");
    tok.inner().save(&json, false).expect("save tokenizer.json");

    // Without tokenizer_config.json: no BOS/EOS known, SmolLM2's template.
    let bare = Tokenizer::from_tokenizer_json(&json).expect("loads");
    assert_eq!((bare.bos_id(), bare.eos_id()), (None, None));
    assert_eq!(bare.chat_template(), tok.chat_template());

    let config = serde_json::json!({
        "bos_token": "<|im_start|>",
        "eos_token": {"content": "<|im_end|>"},
        "chat_template": fixture()["tokenizer"]["chat_template"],
    });
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).expect("write");
    let from_json = Tokenizer::from_tokenizer_json(&json).expect("loads");
    assert_eq!((from_json.bos_id(), from_json.eos_id()), (Some(1), Some(2)));
    for case in fixture()["tokenizer"]["cases"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        assert_eq!(
            from_json.encode(text).expect("encodes"),
            ids(&case["ids"]),
            "{text:?}"
        );
    }
    assert_eq!(from_json.chat_prompt("Hi"), tok.chat_prompt("Hi"));

    // A non-ChatML template is refused with a message naming the file.
    let llama2 =
        serde_json::json!({"chat_template": "{{ '[INST] ' + message['content'] + ' [/INST]' }}"});
    std::fs::write(dir.path().join("tokenizer_config.json"), llama2.to_string()).expect("write");
    let err = Tokenizer::from_tokenizer_json(&json).expect_err("unsupported template");
    let message = err.to_string();
    assert!(
        message.contains("tokenizer_config.json") && message.contains("ChatML"),
        "{message}"
    );

    let missing = Tokenizer::from_tokenizer_json(&dir.path().join("nope.json"));
    assert!(matches!(missing, Err(kne_model::ModelError::Io { .. })));
}
