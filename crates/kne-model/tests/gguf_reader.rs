//! The GGUF reader against the real SmolLM2-135M file and the PyTorch-side golden fixture
//! (gguf-py / numpy numbers), plus hostile inputs that must give errors, not panics.

use std::sync::OnceLock;
use std::time::Instant;

use kne_model::gguf::{GgmlType, GgufError, GgufFile, MetaValue};
use kne_model::paths::{default_model_path, golden_fixture_path};
use serde_json::Value;

#[path = "support/gguf_writer.rs"]
mod gguf_writer;
use gguf_writer::W;

// ---------------------------------------------------------------- real file + fixture

/// The default model, parsed once per test binary. Fails (never skips) when it is missing.
fn gguf() -> &'static GgufFile {
    static FILE: OnceLock<GgufFile> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = default_model_path();
        assert!(
            path.is_file(),
            "model file {} is missing: run `cargo xtask fetch-model` (or point KNE_MODEL at it)",
            path.display()
        );
        GgufFile::open(&path).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
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

/// Compares one metadata value with its JSON form in the fixture.
fn assert_meta_eq(key: &str, got: &MetaValue, want: &Value) {
    match (got, want) {
        (MetaValue::Str(s), Value::String(w)) => assert_eq!(s, w, "{key}"),
        (MetaValue::Bool(b), Value::Bool(w)) => assert_eq!(b, w, "{key}"),
        (MetaValue::F32(_) | MetaValue::F64(_), Value::Number(w)) => {
            let w = w.as_f64().expect("number");
            // gguf-py printed the f32 widened to f64; compare in f32.
            assert_eq!(got.as_f32(), Some(w as f32), "{key}");
        }
        (_, Value::Number(w)) => {
            assert_eq!(got.as_i64(), w.as_i64(), "{key}: {got:?} vs {w}");
        }
        (MetaValue::Array(items), Value::Array(w)) => {
            assert_eq!(items.len(), w.len(), "{key}: array length");
            for (i, (g, w)) in items.iter().zip(w).enumerate() {
                assert_meta_eq(&format!("{key}[{i}]"), g, w);
            }
        }
        _ => panic!("{key}: {got:?} does not match the fixture's {want}"),
    }
}

#[test]
fn header_and_every_metadata_value_match_the_fixture() {
    let g = gguf();
    let kv = fixture()["gguf_kv"].as_object().expect("gguf_kv object");
    assert_eq!(g.version(), 3);
    assert_eq!(Some(g.alignment()), kv["_alignment"].as_u64());
    assert_eq!(
        Some(g.data_offset()),
        kv["_tensor_data_section_start"].as_u64()
    );

    let mut checked = 0;
    for (key, want) in kv.iter().filter(|(k, _)| !k.starts_with('_')) {
        let got = g.meta(key).unwrap_or_else(|| panic!("missing key {key}"));
        assert_meta_eq(key, got, want);
        checked += 1;
    }
    let arrays = fixture()["gguf_array_lengths"].as_object().expect("object");
    for (key, len) in arrays {
        let got = g.meta_array(key).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Some(got.len() as u64), len.as_u64(), "{key}");
    }
    // The fixture lists every key: scalars (and small arrays) plus the three big arrays.
    assert_eq!(g.metadata().len(), checked + arrays.len());
    assert_eq!(g.metadata().len(), 33);
}

#[test]
fn typed_accessors_name_the_key() {
    let g = gguf();
    assert_eq!(g.meta_u64("llama.block_count"), Ok(30));
    assert_eq!(g.meta_f32("llama.rope.freq_base"), Ok(100_000.0));
    assert_eq!(g.meta_str("general.architecture"), Ok("llama"));
    assert_eq!(g.meta_bool("tokenizer.ggml.add_bos_token"), Ok(false));
    let err = g.meta_u64("general.architecture").expect_err("a string");
    assert!(err.to_string().contains("general.architecture"), "{err}");
    let err = g.meta_f32("no.such.key").expect_err("missing");
    assert_eq!(err, GgufError::MissingKey("no.such.key".into()));
    assert!(matches!(
        g.tensor_f32("output.weight"),
        Err(GgufError::TensorNotFound(_))
    ));
}

#[test]
fn all_272_tensor_infos_match_the_fixture() {
    let g = gguf();
    let want = fixture()["gguf_tensors"].as_array().expect("array");
    assert_eq!(g.tensors().len(), 272);
    assert_eq!(want.len(), 272);
    for (t, w) in g.tensors().iter().zip(want) {
        let name = w["name"].as_str().expect("name");
        assert_eq!(t.name, name);
        assert_eq!(
            Some(t.ggml_type.to_string().as_str()),
            w["ggml_type"].as_str(),
            "{name}"
        );
        let dims: Vec<u64> = w["shape_gguf"]
            .as_array()
            .expect("shape")
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert_eq!(t.dims, dims, "{name}");
        assert_eq!(
            Some(t.offset),
            w["offset_in_data_section"].as_u64(),
            "{name}"
        );
        assert_eq!(t.n_elements(), w["n_elements"].as_u64(), "{name}");
        assert_eq!(t.n_bytes(), w["n_bytes"].as_u64(), "{name}");
        assert_eq!(
            Some(g.data_offset() + t.offset),
            w["file_offset"].as_u64(),
            "{name}"
        );
        assert_eq!(g.tensor_info(name), Some(t));
    }
    let count = |ty| g.tensors().iter().filter(|t| t.ggml_type == ty).count();
    assert_eq!(
        (
            count(GgmlType::Q4_1),
            count(GgmlType::F32),
            count(GgmlType::Q8_0)
        ),
        (210, 61, 1)
    );
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_f64)
                .map(|x| x as f32)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn dequantised_samples_match_the_fixture() {
    let g = gguf();
    let examples = fixture()["dequant_check"]["examples"]
        .as_array()
        .expect("array");
    assert!(examples.len() >= 6);
    for ex in examples {
        let name = ex["gguf_name"].as_str().expect("name");
        let (shape, x) = g.tensor_f32(name).unwrap_or_else(|e| panic!("{e}"));
        let hf_shape: Vec<usize> = ex["hf_shape"]
            .as_array()
            .expect("shape")
            .iter()
            .filter_map(|d| d.as_u64().map(|d| d as usize))
            .collect();
        assert_eq!(shape, hf_shape, "{name}");
        assert_eq!(x.len(), shape.iter().product::<usize>(), "{name}");

        let sum: f64 = x.iter().map(|&v| f64::from(v)).sum();
        let l2 = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
        let (want_sum, want_l2) = (ex["sum_f64"].as_f64(), ex["l2_f64"].as_f64());
        let close =
            |a: f64, b: Option<f64>| b.is_some_and(|b| (a - b).abs() <= 1e-9 * b.abs().max(1.0));
        assert!(close(sum, want_sum), "{name}: sum {sum} vs {want_sum:?}");
        assert!(close(l2, want_l2), "{name}: l2 {l2} vs {want_l2:?}");

        // Dequantisation is exact (same f32 arithmetic as numpy), so compare bit for bit.
        // A 1-D tensor is one "row"; the fixture then lists just its first value.
        let cols = *shape.last().expect("non-empty shape");
        let row = |r: usize, n: usize| &x[r * cols..r * cols + n];
        let row0 = floats(&ex["hf_row0_first8"]);
        assert!(!row0.is_empty(), "{name}: fixture row 0");
        // Row 0 is the same before and after the q/k un-permute.
        assert_eq!(row(0, row0.len()), row0.as_slice(), "{name} row 0");
        if shape.len() == 2 {
            let before = floats(&ex["gguf_row1_first8_before_unpermute"]);
            assert_eq!(row(1, 8), before.as_slice(), "{name} row 1 (GGUF order)");
            // HF row 1 of q/k is GGUF row 2: rows are interleaved pairs per head in GGUF.
            let permuted = name.contains("attn_q") || name.contains("attn_k");
            let hf_row1 = floats(&ex["hf_row1_first8"]);
            assert_eq!(
                row(if permuted { 2 } else { 1 }, 8),
                hf_row1.as_slice(),
                "{name} HF row 1"
            );
        }
    }
}

#[test]
fn whole_file_dequantises_to_finite_values() {
    let g = gguf();
    let start = Instant::now();
    let mut total = 0usize;
    for t in g.tensors() {
        let (shape, x) = g.tensor_f32(&t.name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(x.len(), shape.iter().product::<usize>());
        assert!(
            x.iter().all(|v| v.is_finite()),
            "{} has non-finite values",
            t.name
        );
        total += x.len();
    }
    eprintln!(
        "dequantised {total} values in {:.3} s",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(total, 134_515_008);
}

// ---------------------------------------------------------------- hostile inputs

/// A small valid file: every metadata type, nested arrays, and F32 / F16 / Q8_0 / Q4_1 tensors.
#[rustfmt::skip]
fn synthetic() -> Vec<u8> {
    let mut w = W::header(3, 4, 14)
        .str("u8").u32(0).bytes(&[7])
        .str("i8").u32(1).bytes(&[0xFF])
        .str("u16").u32(2).bytes(&513u16.to_le_bytes())
        .str("i16").u32(3).bytes(&(-2i16).to_le_bytes())
        .str("u32").u32(4).u32(70_000)
        .str("i32").u32(5).bytes(&(-3i32).to_le_bytes())
        .str("f32").u32(6).bytes(&1.5f32.to_le_bytes())
        .str("bool").u32(7).bytes(&[1])
        .str("string").u32(8).str("héllo")
        .str("u64").u32(10).u64(1 << 40)
        .str("i64").u32(11).bytes(&(-5i64).to_le_bytes())
        .str("f64").u32(12).bytes(&0.25f64.to_le_bytes())
        .str("general.alignment").u32(4).u32(64)
        // [["a"], ["b", "c"]]
        .str("nested").u32(9).u32(9).u64(2)
        .u32(8).u64(1).str("a")
        .u32(8).u64(2).str("b").str("c");
    w = w
        .tensor("f32", &[4], 0, 0)
        .tensor("f16", &[2, 2], 1, 64)
        .tensor("q8", &[32, 2], 8, 128)
        .tensor("q41", &[32], 3, 256)
        .pad_to(64);
    let mut data = vec![0u8; 256 + 20];
    for (i, v) in [1.0f32, -2.0, 3.5, 0.0].iter().enumerate() {
        data[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    for (i, v) in [1.0f32, 2.0, -0.5, 65504.0].iter().enumerate() {
        let h = half::f16::from_f32(*v).to_le_bytes();
        data[64 + 2 * i..64 + 2 * i + 2].copy_from_slice(&h);
    }
    for row in 0..2 {
        let b = 128 + row * 34;
        data[b..b + 2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        for j in 0..32 {
            data[b + 2 + j] = (j as i8 - 16 + row as i8) as u8;
        }
    }
    data[256..258].copy_from_slice(&half::f16::from_f32(0.25).to_le_bytes());
    data[258..260].copy_from_slice(&half::f16::from_f32(-1.0).to_le_bytes());
    for j in 0..16 {
        data[260 + j] = j as u8 | (15 - j as u8) << 4;
    }
    w.bytes(&data).0
}

#[test]
fn synthetic_file_round_trips_every_type() {
    let g = GgufFile::from_bytes(synthetic()).expect("valid file");
    assert_eq!(g.alignment(), 64);
    assert_eq!(g.data_offset() % 64, 0);
    let m = |k: &str| g.meta(k).cloned();
    assert_eq!(m("u8"), Some(MetaValue::U8(7)));
    assert_eq!(m("i8"), Some(MetaValue::I8(-1)));
    assert_eq!(m("u16"), Some(MetaValue::U16(513)));
    assert_eq!(m("i16"), Some(MetaValue::I16(-2)));
    assert_eq!(m("u32"), Some(MetaValue::U32(70_000)));
    assert_eq!(m("i32"), Some(MetaValue::I32(-3)));
    assert_eq!(m("f32"), Some(MetaValue::F32(1.5)));
    assert_eq!(m("bool"), Some(MetaValue::Bool(true)));
    assert_eq!(g.meta_str("string"), Ok("héllo"));
    assert_eq!(g.meta_u64("u64"), Ok(1 << 40));
    assert_eq!(m("i64"), Some(MetaValue::I64(-5)));
    assert_eq!(g.meta_f32("f64"), Ok(0.25));
    assert!(g.meta_u64("i64").is_err(), "negative is not a u64");
    let s = |x: &str| MetaValue::Str(x.into());
    assert_eq!(
        m("nested"),
        Some(MetaValue::Array(vec![
            MetaValue::Array(vec![s("a")]),
            MetaValue::Array(vec![s("b"), s("c")]),
        ]))
    );

    assert_eq!(
        g.tensor_f32("f32"),
        Ok((vec![4], vec![1.0, -2.0, 3.5, 0.0]))
    );
    assert_eq!(
        g.tensor_f32("f16"),
        Ok((vec![2, 2], vec![1.0, 2.0, -0.5, 65504.0]))
    );
    let (shape, q8) = g.tensor_f32("q8").expect("q8");
    assert_eq!(shape, [2, 32]);
    assert_eq!((q8[0], q8[31], q8[32], q8[63]), (-8.0, 7.5, -7.5, 8.0));
    let (_, q41) = g.tensor_f32("q41").expect("q41");
    assert_eq!(
        (q41[0], q41[15], q41[16], q41[31]),
        (-1.0, 2.75, 2.75, -1.0)
    );
}

#[test]
fn every_truncation_is_an_error() {
    let full = synthetic();
    for cut in 0..full.len() {
        let result = GgufFile::from_bytes(full[..cut].to_vec());
        assert!(
            result.is_err(),
            "a file cut at {cut} of {} bytes parsed",
            full.len()
        );
    }
}

#[test]
fn lying_counts_and_lengths_are_errors() {
    let huge_tensors = W::header(3, 1 << 60, 0).bytes(&[0; 64]).0;
    assert!(matches!(
        GgufFile::from_bytes(huge_tensors),
        Err(GgufError::CountTooLarge { count, .. }) if count == 1 << 60
    ));

    let huge_kv = W::header(3, 0, u64::MAX).0;
    assert!(matches!(
        GgufFile::from_bytes(huge_kv),
        Err(GgufError::CountTooLarge { .. })
    ));

    let huge_string = W::header(3, 0, 1)
        .str("k")
        .u32(8)
        .u64(1 << 62)
        .bytes(b"abc")
        .0;
    assert!(matches!(
        GgufFile::from_bytes(huge_string),
        Err(GgufError::Truncated { needed, .. }) if needed == 1 << 62
    ));

    let huge_key = W::header(3, 0, 1).u64(1 << 62).bytes(&[0; 32]).0;
    assert!(matches!(
        GgufFile::from_bytes(huge_key),
        Err(GgufError::Truncated { .. })
    ));

    let huge_array = W::header(3, 0, 1)
        .str("k")
        .u32(9)
        .u32(8)
        .u64(1 << 59)
        .bytes(&[0; 64])
        .0;
    assert!(matches!(
        GgufFile::from_bytes(huge_array),
        Err(GgufError::CountTooLarge { .. })
    ));

    let nested_forever = {
        let mut w = W::header(3, 0, 1).str("k").u32(9);
        for _ in 0..100_000 {
            w = w.u32(9).u64(1);
        }
        w.0
    };
    assert!(matches!(
        GgufFile::from_bytes(nested_forever),
        Err(GgufError::NestingTooDeep { .. })
    ));
}

#[test]
fn bad_headers_types_dims_and_offsets_are_errors() {
    let parse = |w: W| GgufFile::from_bytes(w.pad_to(32).bytes(&[0; 64]).0);
    let kv_file = |ty: u32| W::header(3, 0, 1).str("k").u32(ty).u64(0);
    let one_tensor =
        |dims: &[u64], ty: u32, offset: u64| W::header(3, 1, 0).tensor("t", dims, ty, offset);

    assert!(matches!(
        GgufFile::from_bytes(b"GGML\x03\0\0\0".to_vec()),
        Err(GgufError::BadMagic { .. })
    ));
    assert!(matches!(
        parse(W::header(1, 0, 0)),
        Err(GgufError::UnsupportedVersion(1))
    ));
    // A big-endian v3 file reads as version 0x03000000.
    assert!(matches!(
        parse(W::header(3u32.swap_bytes(), 0, 0)),
        Err(GgufError::UnsupportedVersion(_))
    ));
    assert!(matches!(parse(W::header(2, 0, 0)), Ok(g) if g.version() == 2));
    assert!(matches!(
        parse(kv_file(13)),
        Err(GgufError::UnknownValueType { type_id: 13, .. })
    ));
    assert!(matches!(
        parse(W::header(3, 0, 1).str("general.alignment").u32(4).u32(48)),
        Err(GgufError::BadAlignment(48))
    ));
    assert!(matches!(
        parse(
            W::header(3, 0, 2)
                .str("a")
                .u32(0)
                .bytes(&[1])
                .str("a")
                .u32(0)
                .bytes(&[2])
        ),
        Err(GgufError::DuplicateKey(_))
    ));
    assert!(matches!(
        parse(
            W::header(3, 0, 1)
                .str("k")
                .u32(8)
                .u64(2)
                .bytes(&[0xC3, 0x28])
        ),
        Err(GgufError::InvalidUtf8 { .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[1 << 32, 1 << 32], 0, 0)),
        Err(GgufError::DimsOverflow { .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[u64::MAX], 0, 0)),
        Err(GgufError::DimsOverflow { .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[1, 1, 1, 1, 1], 0, 0)),
        Err(GgufError::TooManyDims { n_dims: 5, .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[4], 99, 0)),
        Err(GgufError::UnknownTensorType { type_id: 99, .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[30], 3, 0)),
        Err(GgufError::BadRowLength { .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[4], 0, 8)),
        Err(GgufError::Misaligned { .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[32], 0, 0)),
        Err(GgufError::TensorOutOfBounds { .. })
    ));
    assert!(matches!(
        parse(one_tensor(&[4], 0, u64::MAX - 31)),
        Err(GgufError::TensorOutOfBounds { .. })
    ));
    assert!(matches!(
        parse(
            W::header(3, 2, 0)
                .tensor("t", &[4], 0, 0)
                .tensor("t", &[4], 0, 32)
        ),
        Err(GgufError::DuplicateTensor(_))
    ));
    // A type the reader can bound-check but not dequantise.
    let q2k = parse(W::header(3, 1, 0).tensor("t", &[0], 10, 0)).expect("empty Q2_K tensor");
    assert!(matches!(
        q2k.tensor_f32("t"),
        Err(GgufError::UnsupportedDequant { .. })
    ));
}

#[test]
fn open_reports_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.gguf");
    std::fs::write(&path, b"GGUF").expect("write");
    let err = GgufFile::open(&path).expect_err("truncated");
    assert!(err.to_string().contains("bad.gguf"), "{err}");
    let missing = GgufFile::open(&dir.path().join("none.gguf")).expect_err("missing");
    assert!(matches!(missing, kne_model::ModelError::Io { .. }));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random byte edits of a valid file parse or fail, but never panic, and whatever
        /// parses can be dequantised (or refused) without panicking.
        #[test]
        fn mutated_files_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let mut bytes = synthetic();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if let Ok(g) = GgufFile::from_bytes(bytes) {
                for t in g.tensors() {
                    let _ = g.tensor_f32(&t.name);
                }
            }
        }
    }
}
