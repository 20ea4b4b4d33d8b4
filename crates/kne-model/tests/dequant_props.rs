//! Property tests: quantisers followed by our dequantiser reproduce every value within the
//! format's error bound (`quant::max_abs_error` and `quant_k::max_abs_error` state the
//! bounds): llama.cpp's reference quantisers for the 32-value formats, this crate's test
//! quantisers for the k-quants. And on arbitrary bytes the k-quant kernels agree bit for
//! bit with a value-by-value decoder written here from the block layouts.

use kne_model::gguf::GgmlType;
use kne_model::gguf::dequant::dequantize;
use kne_model::gguf::quant::{self, QK};
use kne_model::gguf::quant_k::{self, QK_K};
use proptest::prelude::*;

/// One value well inside the f16 range, including exact zeros and tiny magnitudes
/// (subnormal f16 scales).
fn value() -> impl Strategy<Value = f32> + Clone {
    prop_oneof![
        8 => -1000f32..1000f32,
        4 => -1f32..1f32,
        2 => -1e-6f32..1e-6f32,
        1 => Just(0f32),
    ]
}

/// Blocks of 32 values.
fn blocks() -> impl Strategy<Value = Vec<f32>> {
    (1usize..4).prop_flat_map(move |n| prop::collection::vec(value(), n * QK))
}

/// Super-blocks of 256 values whose sub-blocks of 16 each have their own magnitude and
/// sign bias (so a scale or min applied to the wrong sub-block shows).
fn super_blocks() -> impl Strategy<Value = Vec<f32>> {
    let magnitude = prop_oneof![
        Just(1000f32),
        Just(30f32),
        Just(1f32),
        Just(1e-6f32),
        Just(0f32)
    ];
    let sub = (
        magnitude,
        -1f32..1f32,
        prop::collection::vec(-1f32..1f32, 16),
    )
        .prop_map(|(m, bias, v)| {
            v.into_iter()
                .map(|u| m * (0.5 * u + 0.5 * bias))
                .collect::<Vec<f32>>()
        });
    (1usize..3).prop_flat_map(move |n| {
        prop::collection::vec(sub.clone(), n * QK_K / 16).prop_map(|s| s.concat())
    })
}

fn quantize(ty: GgmlType, x: &[f32]) -> Option<Vec<u8>> {
    match ty {
        GgmlType::Q8_0 => quant::quantize_q8_0(x),
        GgmlType::Q4_0 => quant::quantize_q4_0(x),
        GgmlType::Q4_1 => quant::quantize_q4_1(x),
        GgmlType::Q5_0 => quant::quantize_q5_0(x),
        GgmlType::Q5_1 => quant::quantize_q5_1(x),
        GgmlType::Q4_K => quant_k::quantize_q4_k(x),
        GgmlType::Q5_K => quant_k::quantize_q5_k(x),
        GgmlType::Q6_K => quant_k::quantize_q6_k(x),
        _ => None,
    }
}

/// The bound of each value of one block.
fn bounds(ty: GgmlType, block: &[f32]) -> Vec<f32> {
    quant_k::max_abs_error(ty, block)
        .unwrap_or_else(|| vec![quant::max_abs_error(ty, block); block.len()])
}

fn round_trip(ty: GgmlType, x: &[f32]) -> Result<(), TestCaseError> {
    let bytes =
        quantize(ty, x).ok_or_else(|| TestCaseError::fail("length is a whole number of blocks"))?;
    let block = ty.block_size().unwrap_or(0) as usize;
    let block_bytes = ty.type_size().unwrap_or(0) as usize;
    prop_assert_eq!(bytes.len(), x.len() / block * block_bytes);
    let y =
        dequantize("prop", ty, &bytes, x.len()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (b, (xb, yb)) in x.chunks(block).zip(y.chunks(block)).enumerate() {
        for (j, ((a, r), bound)) in xb.iter().zip(yb).zip(bounds(ty, xb)).enumerate() {
            prop_assert!(
                (a - r).abs() <= bound,
                "{ty} block {b} value {j}: {a} -> {r}, error {} > bound {bound}",
                (a - r).abs()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn q8_0_round_trip_within_bound(x in blocks()) {
        round_trip(GgmlType::Q8_0, &x)?;
    }

    #[test]
    fn q4_0_round_trip_within_bound(x in blocks()) {
        round_trip(GgmlType::Q4_0, &x)?;
    }

    #[test]
    fn q4_1_round_trip_within_bound(x in blocks()) {
        round_trip(GgmlType::Q4_1, &x)?;
    }

    #[test]
    fn q5_0_round_trip_within_bound(x in blocks()) {
        round_trip(GgmlType::Q5_0, &x)?;
    }

    #[test]
    fn q5_1_round_trip_within_bound(x in blocks()) {
        round_trip(GgmlType::Q5_1, &x)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn q4_k_round_trip_within_bound(x in super_blocks()) {
        round_trip(GgmlType::Q4_K, &x)?;
    }

    #[test]
    fn q5_k_round_trip_within_bound(x in super_blocks()) {
        round_trip(GgmlType::Q5_K, &x)?;
    }

    #[test]
    fn q6_k_round_trip_within_bound(x in super_blocks()) {
        round_trip(GgmlType::Q6_K, &x)?;
    }

    #[test]
    fn k_quant_kernels_match_a_value_by_value_decoder(
        bytes in prop::collection::vec(any::<u8>(), 2 * 210),
        which in 0usize..3,
    ) {
        let ty = [GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K][which];
        let size = ty.type_size().unwrap_or(0) as usize;
        let data = &bytes[..2 * size];
        let y = dequantize("prop", ty, data, 2 * QK_K)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, &got) in y.iter().enumerate() {
            let want = decode_value(ty, &data[i / QK_K * size..][..size], i % QK_K);
            prop_assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{ty} value {i}: kernel {got}, by hand {want}"
            );
        }
    }
}

fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// Value `i` (0..256) of one k-quant block, decoded on its own from the layout.
fn decode_value(ty: GgmlType, b: &[u8], i: usize) -> f32 {
    match ty {
        GgmlType::Q4_K | GgmlType::Q5_K => {
            let j = i / 32; // sub-block
            let s = &b[4..16];
            // 6-bit scale and min: low 4 bits and high 2 bits.
            let (sc_lo, sc_hi, m_lo, m_hi) = if j < 4 {
                (
                    s[j] & 15,
                    (s[j] >> 4) & 3,
                    s[j + 4] & 15,
                    (s[j + 4] >> 4) & 3,
                )
            } else {
                (s[j + 4] & 15, s[j - 4] >> 6, s[j + 4] >> 4, s[j] >> 6)
            };
            let (sc, m) = (sc_lo | sc_hi << 4, m_lo | m_hi << 4);
            // Bytes hold two values 32 apart, in 64-value groups.
            let (group, half, l) = (i / 64, (i / 32) % 2, i % 32);
            let qs_at = if ty == GgmlType::Q4_K { 16 } else { 48 };
            let mut q = (b[qs_at + 32 * group + l] >> (4 * half)) & 15;
            if ty == GgmlType::Q5_K {
                q += ((b[16 + l] >> j) & 1) * 16;
            }
            f16_at(b, 0) * f32::from(sc) * f32::from(q) - f16_at(b, 2) * f32::from(m)
        }
        GgmlType::Q6_K => {
            let (h, k, l) = (i / 128, (i % 128) / 32, i % 32);
            let low = (b[64 * h + l + 32 * (k % 2)] >> (4 * (k / 2))) & 15;
            let high = (b[128 + 32 * h + l] >> (2 * k)) & 3;
            let q = i32::from(low | high << 4) - 32;
            let sc = b[192 + i / 16] as i8;
            f16_at(b, 208) * f32::from(sc) * q as f32
        }
        _ => f32::NAN,
    }
}

#[test]
fn constant_and_zero_blocks_are_exact_where_the_format_allows() {
    let zeros = [0f32; QK_K];
    for ty in [
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
    ] {
        let bytes = quantize(ty, &zeros).expect("whole blocks");
        let y = dequantize("zeros", ty, &bytes, QK_K).expect("valid");
        assert!(y.iter().all(|&v| v == 0.0), "{ty}: {y:?}");
    }
    // Q4_1 and Q5_1 store the minimum, so a constant block representable in f16 comes back
    // exactly.
    let ones = [1.25f32; QK];
    for ty in [GgmlType::Q4_1, GgmlType::Q5_1] {
        let y = dequantize("ones", ty, &quantize(ty, &ones).expect("block"), QK).expect("valid");
        assert!(y.iter().all(|&v| v == 1.25), "{ty}: {y:?}");
    }
    assert!(quant::quantize_q8_0(&[1.0; 31]).is_none());
    assert!(quant_k::quantize_q4_k(&[1.0; 255]).is_none());
}

#[test]
fn short_long_and_ragged_data_are_errors_not_panics() {
    for ty in [
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
    ] {
        let (block, size) = (
            ty.block_size().unwrap_or(0) as usize,
            ty.type_size().unwrap_or(0) as usize,
        );
        for (bytes, n) in [
            (size - 1, block),
            (size + 1, block),
            (0, block),
            (size, block - 1),
            (size, block + 1),
            (2 * size, block),
        ] {
            let r = dequantize("t", ty, &vec![0u8; bytes], n);
            assert!(r.is_err(), "{ty}: {bytes} bytes for {n} values");
        }
        assert_eq!(dequantize("t", ty, &[], 0).map(|v| v.len()), Ok(0));
    }
}
