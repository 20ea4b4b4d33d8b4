//! The five fuzz target bodies. Each takes the raw fuzzer input and drives one loader the
//! way `kne` does after reading a file, then everything downstream that trusts what the
//! loader returned.

use std::cell::RefCell;
use std::path::Path;

use burn::tensor::Device;
use kne_edit::WeightDelta;
use kne_eval::data::{DataFormat, Dataset, EditCase, parse_cases, parse_edit_file};
use kne_model::gguf::GgufFile;
use kne_model::load::{GgufSource, SafetensorsSource, TensorSource};
use kne_model::{Llama, LlamaConfig, ModuleKind, Tokenizer};

use crate::tiny;

/// A GGUF file: header, metadata and tensor table; every tensor that passed the bounds check
/// dequantised; then the config, the tokenizer and the model built from it, as
/// `kne_model::load` does.
pub fn gguf_reader(data: &[u8]) {
    let Ok(gguf) = GgufFile::from_bytes(data.to_vec()) else {
        return;
    };
    for key in gguf.metadata().keys() {
        let _ = gguf.meta_u64(key);
        let _ = gguf.meta_f32(key);
        let _ = gguf.meta_str(key);
        let _ = gguf.meta_array(key);
    }
    for info in gguf.tensors() {
        if let Ok((shape, values)) = gguf.tensor_f32(&info.name) {
            assert_eq!(
                values.len(),
                shape.iter().product::<usize>(),
                "{}",
                info.name
            );
        }
    }
    let path = Path::new("fuzz.gguf");
    if let Ok(tokenizer) = Tokenizer::from_gguf(&gguf, path) {
        if let Ok(ids) = tokenizer.encode("<|im_start|>user\nThe 3 cats of Zorb<|im_end|>") {
            let _ = tokenizer.decode(&ids);
        }
        let _ = tokenizer.chat_prompt("hi");
    }
    let config = LlamaConfig::from_gguf(&gguf, path);
    if let (Ok(config), Ok(source)) = (config, GgufSource::from_gguf(gguf, path)) {
        site_dims(&config);
        let _ = Llama::from_source(&config, &source, &Device::flex());
    }
}

/// An HF model folder squeezed into one input: a little-endian `u16` length, that many bytes
/// of `config.json`, and the rest as `model.safetensors`.
pub fn safetensors_config(data: &[u8]) {
    let (config_bytes, weights) = split_config(data);
    let config = std::str::from_utf8(config_bytes)
        .ok()
        .and_then(|text| LlamaConfig::from_hf_json_str(text, Path::new("config.json")).ok());
    if let Some(config) = &config {
        site_dims(config);
    }
    let Ok(source) =
        SafetensorsSource::from_bytes(Path::new("model.safetensors"), weights.to_vec())
    else {
        return;
    };
    let names: Vec<String> = source.names().map(str::to_owned).collect();
    for name in &names {
        if let Ok(Some((shape, values))) = source.get(name) {
            assert_eq!(values.len(), shape.iter().product::<usize>(), "{name}");
        }
    }
    if let Some(config) = config {
        let _ = Llama::from_source(&config, &source, &Device::flex());
    }
}

/// Splits a `safetensors_config` input into (config.json, model.safetensors).
pub fn split_config(data: &[u8]) -> (&[u8], &[u8]) {
    let [a, b, rest @ ..] = data else {
        return (&[], data);
    };
    let n = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
    rest.split_at(n)
}

/// [`split_config`] as an owned UTF-8 config text (lossy) and weights, for tests.
pub fn split_config_owned(data: &[u8]) -> (String, Vec<u8>) {
    let (config, weights) = split_config(data);
    (
        String::from_utf8_lossy(config).into_owned(),
        weights.to_vec(),
    )
}

/// The inverse of [`split_config`], for the seeds.
pub fn join_config(config: &[u8], weights: &[u8]) -> Vec<u8> {
    let n = u16::try_from(config.len()).expect("a seed's config.json is under 64 KiB");
    let mut out = n.to_le_bytes().to_vec();
    out.extend_from_slice(config);
    out.extend_from_slice(weights);
    out
}

/// A KnowEdit JSON file, read as each of the three datasets.
pub fn knowedit_json(data: &[u8]) {
    for dataset in Dataset::ALL {
        let Ok(cases) = parse_cases(dataset, Path::new("fuzz.json"), data) else {
            continue;
        };
        check_cases(&cases);
    }
}

/// What every loader promises of its cases: indices in file order, and probes with at least
/// one answer, none of them an empty alias list.
fn check_cases(cases: &[EditCase]) {
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(case.index, i);
        for probe in case
            .portability
            .values()
            .chain(case.locality.values())
            .flatten()
        {
            assert!(!probe.answers.is_empty() && probe.answers.iter().all(|a| !a.is_empty()));
            let _ = probe.is_scored();
        }
    }
}

/// A researcher's edit file (`kne --data FILE`), read with its layout detected and in each
/// layout forced, as `--format` does.
pub fn edit_file_json(data: &[u8]) {
    let formats = std::iter::once(None).chain(DataFormat::ALL.map(Some));
    for format in formats {
        let Ok(loaded) = parse_edit_file(Path::new("fuzz.json"), data, "fuzz", format) else {
            continue;
        };
        if let Some(format) = format {
            assert_eq!(loaded.format, format);
        }
        assert!(loaded.cases.iter().all(|c| c.dataset == "fuzz"));
        check_cases(&loaded.cases);
    }
}

thread_local! {
    /// The model patches are applied to, built once per fuzzing process.
    static MODEL: RefCell<Llama> = RefCell::new(
        Llama::from_source(&tiny::config(), &tiny::SyntheticSource::new(&tiny::config()), &Device::flex())
            .expect("the tiny model builds"),
    );
}

/// A safetensors weight patch: parsed, checked against the tiny model, and when the check
/// passes applied and reverted. Whatever `check` accepts, `apply` must apply without panicking.
pub fn patch_loader(data: &[u8]) {
    let Ok((delta, _metadata)) = WeightDelta::parse(Path::new("fuzz.patch.safetensors"), data)
    else {
        return;
    };
    let _ = delta.changed_parameters();
    MODEL.with_borrow_mut(|model| {
        if delta.check(model).is_ok() {
            let applied = delta.apply(model).expect("a checked delta applies");
            applied.revert(model).expect("an applied delta reverts");
        }
    });
}

/// Every site's dimensions: the arithmetic the model builder and the editors do on a config.
fn site_dims(config: &LlamaConfig) {
    for module in ModuleKind::ALL {
        let _ = config.site_dims(module);
    }
}
