//! On stable, without libFuzzer: every committed seed goes through its target body, and the
//! seeds that are meant to be valid really load (so mutations start from deep inside the
//! loaders, not from the first error). `cargo test --manifest-path fuzz/Cargo.toml`.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use kne_edit::WeightDelta;
use kne_eval::data::{DataFormat, Dataset, parse_cases, parse_edit_file};
use kne_fuzz::seeds::{TARGETS, tiny_llama_config};
use kne_fuzz::{targets, tiny};
use kne_model::gguf::GgufFile;
use kne_model::load::{GgufSource, SafetensorsSource};
use kne_model::{Llama, LlamaConfig, Tokenizer};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = corpus(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_seed_replays_through_its_target() {
    for target in TARGETS {
        let body: fn(&[u8]) = match target {
            "gguf_reader" => targets::gguf_reader,
            "safetensors_config" => targets::safetensors_config,
            "knowedit_json" => targets::knowedit_json,
            "edit_file_json" => targets::edit_file_json,
            "patch_loader" => targets::patch_loader,
            other => panic!("unknown target {other}"),
        };
        let mut n = 0;
        for entry in std::fs::read_dir(corpus(target)).expect("corpus folder") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("seed");
            assert!(bytes.len() < 64 * 1024, "{} is over 64 KiB", path.display());
            body(&bytes);
            n += 1;
        }
        assert!(n >= 3, "{target}: only {n} seeds");
    }
}

#[test]
fn the_gguf_seed_is_a_loadable_model() {
    let path = Path::new("tiny_llama.gguf");
    let gguf = GgufFile::from_bytes(seed("gguf_reader", "tiny_llama.gguf")).expect("parses");
    let config = LlamaConfig::from_gguf(&gguf, path).expect("config");
    assert_eq!(config, tiny_llama_config());
    let tokenizer = Tokenizer::from_gguf(&gguf, path).expect("tokenizer");
    let ids = tokenizer.encode(" the cat<|im_end|>").expect("encodes");
    let tokens: Vec<String> = ids
        .iter()
        .filter_map(|&i| tokenizer.id_to_token(i))
        .collect();
    assert_eq!(tokens, ["Ġthe", "Ġ", "cat", "<|im_end|>"]);
    let source = GgufSource::from_gguf(gguf, path).expect("source");
    Llama::from_source(&config, &source, &Device::flex()).expect("builds");

    let all = GgufFile::from_bytes(seed("gguf_reader", "all_types.gguf")).expect("parses");
    let dequantised = all
        .tensors()
        .iter()
        .filter(|t| all.tensor_f32(&t.name).is_ok());
    assert_eq!(
        dequantised.count(),
        8,
        "six types, the empty tensor and Q6_K (dequantised since the Gemma-3 loader)"
    );
}

#[test]
fn the_safetensors_seeds_are_loadable_models() {
    for name in ["tiny_f32", "tiny_tied_bf16_f16"] {
        let (config, weights) = targets::split_config_owned(&seed("safetensors_config", name));
        let config = LlamaConfig::from_hf_json_str(&config, Path::new(name)).expect("config");
        let source = SafetensorsSource::from_bytes(Path::new(name), weights).expect("weights");
        Llama::from_source(&config, &source, &Device::flex()).expect("builds");
    }
}

#[test]
fn the_patch_seeds_fit_the_tiny_model_except_the_one_that_must_not() {
    let model = Llama::from_source(
        &tiny::config(),
        &tiny::SyntheticSource::new(&tiny::config()),
        &Device::flex(),
    )
    .expect("tiny model");
    for (name, fits) in [
        ("neurons.safetensors", true),
        ("dense.safetensors", true),
        ("empty.safetensors", true),
        ("site_outside_model.safetensors", false),
    ] {
        let (delta, meta) =
            WeightDelta::parse(Path::new(name), &seed("patch_loader", name)).expect("parses");
        assert!(meta.contains_key("method"), "{name}");
        assert_eq!(delta.check(&model).is_ok(), fits, "{name}");
    }
}

#[test]
fn the_knowedit_seeds_parse_as_their_dataset() {
    for (name, dataset) in [
        ("zsre.json", Dataset::ZsRE),
        ("wiki_cf_test.json", Dataset::WikiCounterfact),
        ("wiki_cf_train.json", Dataset::WikiCounterfact),
        ("wiki_recent.json", Dataset::WikiRecent),
        ("edge_cases.json", Dataset::WikiRecent),
    ] {
        let cases = parse_cases(dataset, Path::new(name), &seed("knowedit_json", name))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!cases.is_empty(), "{name}");
    }
}

#[test]
fn the_edit_file_seeds_load_in_their_layouts() {
    for (name, format) in [
        ("knowedit.json", DataFormat::KnowEdit),
        ("easyedit.json", DataFormat::EasyEdit),
        ("mend.json", DataFormat::EasyEdit),
        ("counterfact.json", DataFormat::Counterfact),
    ] {
        let loaded = parse_edit_file(Path::new(name), &seed("edit_file_json", name), "seed", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.format, format, "{name}");
        assert!(!loaded.cases.is_empty(), "{name}");
    }
}
