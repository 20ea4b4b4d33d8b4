//! The HF safetensors loader on a tiny random Llama written with the `safetensors` crate:
//! every tensor lands at the right site in the right layout, F16/BF16 convert, and missing or
//! mis-shaped tensors are errors naming the tensor.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use kne_model::load::{SafetensorsSource, TensorSource};
use kne_model::{Llama, LlamaConfig, ModuleKind, Site};
use safetensors::{Dtype, tensor::TensorView};

const CONFIG: &str = r#"{
  "model_type": "llama", "num_hidden_layers": 2, "hidden_size": 16, "intermediate_size": 24,
  "num_attention_heads": 4, "num_key_value_heads": 2, "rope_theta": 10000.0,
  "rms_norm_eps": 1e-5, "vocab_size": 40, "tie_word_embeddings": false,
  "max_position_embeddings": 64, "hidden_act": "silu"
}"#;

/// Deterministic pseudo-random values (an LCG; no dependency needed for test data).
fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

/// HF names and PyTorch shapes of the tiny model.
fn tensor_specs() -> Vec<(String, Vec<usize>)> {
    let mut specs = vec![
        ("model.embed_tokens.weight".to_string(), vec![40, 16]),
        ("model.norm.weight".to_string(), vec![16]),
        ("lm_head.weight".to_string(), vec![40, 16]),
    ];
    for l in 0..2 {
        let p = format!("model.layers.{l}");
        specs.extend([
            (format!("{p}.self_attn.q_proj.weight"), vec![16, 16]),
            (format!("{p}.self_attn.k_proj.weight"), vec![8, 16]),
            (format!("{p}.self_attn.v_proj.weight"), vec![8, 16]),
            (format!("{p}.self_attn.o_proj.weight"), vec![16, 16]),
            (format!("{p}.mlp.gate_proj.weight"), vec![24, 16]),
            (format!("{p}.mlp.up_proj.weight"), vec![24, 16]),
            (format!("{p}.mlp.down_proj.weight"), vec![16, 24]),
            (format!("{p}.input_layernorm.weight"), vec![16]),
            (format!("{p}.post_attention_layernorm.weight"), vec![16]),
        ]);
    }
    specs
}

/// Writes the tiny model (skipping `omit`) in `dtype`; returns the f32 values written.
fn write_model(dir: &Path, dtype: Dtype, omit: Option<&str>) -> BTreeMap<String, Vec<f32>> {
    std::fs::write(dir.join("config.json"), CONFIG).unwrap();
    let mut written = BTreeMap::new();
    let mut bytes: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, (name, shape)) in tensor_specs().into_iter().enumerate() {
        if Some(name.as_str()) == omit {
            continue;
        }
        let v = values(i as u64, shape.iter().product());
        let (raw, exact): (Vec<u8>, Vec<f32>) = match dtype {
            Dtype::F32 => (v.iter().flat_map(|x| x.to_le_bytes()).collect(), v.clone()),
            Dtype::BF16 => {
                let h: Vec<half::bf16> = v.iter().map(|&x| half::bf16::from_f32(x)).collect();
                (
                    h.iter().flat_map(|x| x.to_le_bytes()).collect(),
                    h.iter().map(|x| x.to_f32()).collect(),
                )
            }
            _ => unreachable!("test writes F32 or BF16"),
        };
        written.insert(name.clone(), exact);
        bytes.push((name, shape, raw));
    }
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(n, s, b)| (n.clone(), TensorView::new(dtype, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    written
}

fn load(dir: &Path) -> Result<Llama, kne_model::ModelError> {
    let config = LlamaConfig::from_hf_json(&dir.join("config.json"))?;
    let source = SafetensorsSource::open_dir(dir)?;
    Llama::from_source(&config, &source, &Device::flex())
}

fn site_weight_as_torch(model: &Llama, site: Site) -> Vec<f32> {
    let w = model.site(site).unwrap().weight.val();
    // Stored [d_in, d_out]; PyTorch layout is the transpose.
    w.transpose()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn every_tensor_lands_at_its_site_in_pytorch_layout() {
    for dtype in [Dtype::F32, Dtype::BF16] {
        let dir = tempfile::tempdir().unwrap();
        let written = write_model(dir.path(), dtype, None);
        let model = load(dir.path()).unwrap();
        let hf = |m: ModuleKind| match m {
            ModuleKind::Q => "self_attn.q_proj",
            ModuleKind::K => "self_attn.k_proj",
            ModuleKind::V => "self_attn.v_proj",
            ModuleKind::O => "self_attn.o_proj",
            ModuleKind::Gate => "mlp.gate_proj",
            ModuleKind::Up => "mlp.up_proj",
            ModuleKind::Down => "mlp.down_proj",
        };
        for site in model.sites() {
            let name = format!("model.layers.{}.{}.weight", site.layer, hf(site.module));
            assert_eq!(
                site_weight_as_torch(&model, site),
                written[&name],
                "{dtype:?} {name}"
            );
        }
        let embed: Vec<f32> = model.embed.val().into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(embed, written["model.embed_tokens.weight"]);
        let head: Vec<f32> = model
            .lm_head
            .as_ref()
            .unwrap()
            .val()
            .transpose()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(head, written["lm_head.weight"]);
        let norm: Vec<f32> = model.layers[1]
            .mlp_norm
            .as_ref()
            .expect("Llama has an MLP norm")
            .gamma()
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(
            norm,
            written["model.layers.1.post_attention_layernorm.weight"]
        );

        let logits = model.forward(model.ids_tensor(&[vec![1, 5, 7, 39]]).unwrap());
        assert_eq!(logits.dims(), [1, 4, 40]);
        let v: Vec<f32> = logits.into_data().try_into_vec::<f32>().unwrap();
        assert!(v.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn a_missing_tensor_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_model(
        dir.path(),
        Dtype::F32,
        Some("model.layers.1.mlp.up_proj.weight"),
    );
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("model.layers.1.mlp.up_proj.weight"), "{err}");
}

#[test]
fn a_mis_shaped_config_is_an_error_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), Dtype::F32, None);
    let config = CONFIG.replace("\"intermediate_size\": 24", "\"intermediate_size\": 32");
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("gate_proj") && err.contains("[24, 16]"),
        "{err}"
    );
}

#[test]
fn source_reports_absent_names_as_none() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), Dtype::F32, None);
    let source = SafetensorsSource::open_dir(dir.path()).unwrap();
    assert!(
        source
            .get("model.layers.9.mlp.up_proj.weight")
            .unwrap()
            .is_none()
    );
}
