//! Headers and configs that lie about sizes (a 2^60 tensor count, a 2^62-byte string,
//! absurd tensor dims, a 2^40 layer count, head sizes whose product overflows) are errors
//! naming the file and field, raised before anything of the claimed size is allocated.
//!
//! This test binary counts every allocation: [`largest_allocation`] reports the biggest
//! single request made while a closure ran, so "before any large allocation" is checked,
//! not assumed. Some of these inputs were found while fuzzing (see `fuzz/`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

use burn::tensor::Device;
use kne_model::gguf::{GgufError, GgufFile};
use kne_model::load::{GgufSource, SafetensorsSource};
use kne_model::{Llama, LlamaConfig, ModelError};
use safetensors::{Dtype, tensor::TensorView};

#[path = "support/gguf_writer.rs"]
mod gguf_writer;
use gguf_writer::W;

/// The system allocator, recording the largest request of the current thread.
struct Recording;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to `System`; only the sizes are recorded.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// `f`'s result and the largest single allocation it made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

/// No input below is over a few KiB; 1 MiB leaves room for the libraries' own buffers.
const SMALL: usize = 1 << 20;

#[test]
fn the_recorder_sees_a_large_allocation() {
    let (v, largest) = largest_allocation(|| vec![1u8; 2 * SMALL]);
    assert_eq!(v.len(), 2 * SMALL);
    assert!(largest >= 2 * SMALL, "{largest}");
}

// ---------------------------------------------------------------- GGUF bytes

fn parse(bytes: Vec<u8>) -> (Result<GgufFile, GgufError>, usize) {
    largest_allocation(|| GgufFile::from_bytes(bytes))
}

#[test]
fn lying_gguf_counts_and_lengths_are_refused_before_allocating() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("2^60 tensors", W::header(3, 1 << 60, 0).data(&[0; 64])),
        (
            "u64::MAX metadata entries",
            W::header(3, 0, u64::MAX).data(&[]),
        ),
        (
            "a 2^62-byte string value",
            W::header(3, 0, 1)
                .str("k")
                .u32(8)
                .u64(1 << 62)
                .data(&[0; 8]),
        ),
        (
            "a 2^62-byte key",
            W::header(3, 0, 1).u64(1 << 62).data(&[0; 32]),
        ),
        (
            "a 2^59-element array",
            W::header(3, 0, 1)
                .str("k")
                .u32(9)
                .u32(8)
                .u64(1 << 59)
                .data(&[0; 64]),
        ),
        (
            "a 2^62-byte tensor name",
            W::header(3, 1, 0).u64(1 << 62).data(&[0; 64]),
        ),
    ];
    for (what, bytes) in cases {
        let (result, largest) = parse(bytes);
        let err = result.expect_err(what);
        assert!(
            matches!(
                err,
                GgufError::CountTooLarge { .. } | GgufError::Truncated { .. }
            ),
            "{what}: {err}"
        );
        assert!(largest < SMALL, "{what}: allocated {largest} bytes");
    }
}

#[test]
fn absurd_tensor_dims_and_offsets_are_refused_before_allocating() {
    let one = |dims: &[u64], ty: u32, offset: u64| W::header(3, 1, 0).tensor("t", dims, ty, offset);
    // (what, file, whether the dims are valid and only the extent is out of the file)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // The element count fits an i64, the byte count (x 4) does not fit a u64.
        ("F32 [2^62]", one(&[1 << 62], 0, 0).data(&[0; 64]), false),
        (
            "F32 [2^32, 2^32]",
            one(&[1 << 32, 1 << 32], 0, 0).data(&[0; 64]),
            false,
        ),
        (
            "Q8_0 [2^45, 2^20]",
            one(&[1 << 45, 1 << 20], 8, 0).data(&[0; 64]),
            false,
        ),
        // 2^62 bytes: a valid size, but not in this 64-byte data section.
        (
            "F32 [2^30, 2^30]",
            one(&[1 << 30, 1 << 30], 0, 0).data(&[0; 64]),
            true,
        ),
        // Empty, but starting 2^40 bytes past the end of the file.
        (
            "F32 [0] at 2^40",
            one(&[0], 0, 1 << 40).data(&[0; 64]),
            true,
        ),
        (
            "F32 [4] at u64::MAX - 31",
            one(&[4], 0, u64::MAX - 31).data(&[0; 64]),
            true,
        ),
    ];
    for (what, bytes, out_of_bounds) in cases {
        let (result, largest) = parse(bytes);
        let err = result.expect_err(what);
        let kind_ok = if out_of_bounds {
            matches!(err, GgufError::TensorOutOfBounds { .. })
        } else {
            matches!(err, GgufError::DimsOverflow { .. })
        };
        assert!(kind_ok, "{what}: {err}");
        assert!(err.to_string().contains("`t`"), "{what}: {err}");
        assert!(largest < SMALL, "{what}: allocated {largest} bytes");
    }

    // A zero dimension makes any other dimension harmless: an empty tensor.
    let (file, _) = parse(one(&[1 << 40, 0], 0, 0).data(&[]));
    let file = file.expect("an empty tensor is valid");
    let ((shape, values), largest) =
        largest_allocation(|| file.tensor_f32("t").expect("dequantises"));
    assert_eq!((shape, values.len()), (vec![0, 1 << 40], 0));
    assert!(largest < SMALL, "allocated {largest} bytes");
}

/// `llama.block_count = 2^30` with everything else consistent: the builder used to reserve
/// 2^40 blocks before looking for the first (found by the `gguf_reader` target's harness).
#[test]
fn a_huge_gguf_layer_count_stops_at_the_first_missing_layer() {
    let mut w = W::header(3, 1, 8)
        .str("general.architecture")
        .u32(8)
        .str("llama")
        .kv_u32("llama.block_count", 1 << 30)
        .kv_u32("llama.embedding_length", 8)
        .kv_u32("llama.feed_forward_length", 12)
        .kv_u32("llama.attention.head_count", 2)
        .kv_u32("llama.attention.head_count_kv", 1)
        .kv_u32("llama.vocab_size", 16);
    w = w
        .str("llama.attention.layer_norm_rms_epsilon")
        .u32(6)
        .u32(1e-5f32.to_bits());
    let bytes = w
        .tensor("token_embd.weight", &[8, 16], 0, 0)
        .data(&[0; 16 * 8 * 4]);
    let path = Path::new("lying.gguf");
    let (result, largest) = largest_allocation(|| {
        let gguf = GgufFile::from_bytes(bytes).expect("a valid file");
        let config = LlamaConfig::from_gguf(&gguf, path).expect("a consistent config");
        assert_eq!(config.num_hidden_layers, 1 << 30);
        let source = GgufSource::from_gguf(gguf, path).expect("source");
        Llama::from_source(&config, &source, &Device::flex())
    });
    let err = result.expect_err("no layer 0").to_string();
    assert!(
        err.contains("lying.gguf") && err.contains("model.layers.0."),
        "{err}"
    );
    assert!(largest < SMALL, "allocated {largest} bytes");
}

// ---------------------------------------------------------------- config.json

fn config_json(layers: u64, heads: u64, kv_heads: u64, head_dim: u64) -> String {
    format!(
        r#"{{"num_hidden_layers":{layers},"hidden_size":8,"intermediate_size":12,
            "num_attention_heads":{heads},"num_key_value_heads":{kv_heads},
            "head_dim":{head_dim},"vocab_size":16}}"#
    )
}

fn safetensors_source(tensors: &[(&str, Vec<usize>)]) -> SafetensorsSource {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            (name.to_string(), shape.clone(), vec![0u8; n * 4])
        })
        .collect();
    let views = buffers.iter().map(|(name, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("consistent");
        (name.clone(), view)
    });
    let bytes = safetensors::serialize(views, None).expect("serialises");
    SafetensorsSource::from_bytes(Path::new("model.safetensors"), bytes).expect("parses")
}

/// `heads × head_dim` = 2^64 passed validation and overflowed in `site_dims` and
/// `Llama::from_source` (found by the `safetensors_config` target's harness).
#[test]
fn head_sizes_whose_product_overflows_are_an_error() {
    let path = Path::new("lying/config.json");
    let text = config_json(2, 1 << 32, 1, 1 << 32);
    let err = LlamaConfig::from_hf_json_str(&text, path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lying/config.json") && err.contains("num_attention_heads × head_dim"),
        "{err}"
    );

    // The fields are public: `from_source` checks a config that skipped the loader too.
    let mut config = LlamaConfig::from_hf_json_str(&config_json(2, 2, 1, 4), path).unwrap();
    config.num_attention_heads = 1 << 32;
    config.head_dim = 1 << 32;
    let err = Llama::from_source(&config, &safetensors_source(&[]), &Device::flex()).unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err}");
    assert!(err.to_string().contains("overflows"), "{err}");
}

/// `num_hidden_layers = 2^40` with a real embedding tensor: an error at the missing layer 0.
#[test]
fn a_huge_config_layer_count_stops_at_the_first_missing_layer() {
    let config =
        LlamaConfig::from_hf_json_str(&config_json(1 << 40, 2, 1, 4), Path::new("config.json"))
            .expect("sizes are consistent, only the count is absurd");
    let source = safetensors_source(&[("model.embed_tokens.weight", vec![16, 8])]);
    let (result, largest) =
        largest_allocation(|| Llama::from_source(&config, &source, &Device::flex()));
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("model.layers.0."),
        "{err}"
    );
    assert!(largest < SMALL, "allocated {largest} bytes");
}
