//! Property tests: llama.cpp's reference quantisers followed by our dequantiser reproduce
//! every value within the format's error bound (`quant::max_abs_error` states the bounds).

use kne_model::gguf::GgmlType;
use kne_model::gguf::dequant::dequantize;
use kne_model::gguf::quant::{self, QK};
use proptest::prelude::*;

/// Blocks of values well inside the f16 range, including exact zeros and tiny magnitudes
/// (subnormal f16 scales).
fn blocks() -> impl Strategy<Value = Vec<f32>> {
    let value = prop_oneof![
        8 => -1000f32..1000f32,
        4 => -1f32..1f32,
        2 => -1e-6f32..1e-6f32,
        1 => Just(0f32),
    ];
    (1usize..4).prop_flat_map(move |n| prop::collection::vec(value.clone(), n * QK))
}

fn round_trip(ty: GgmlType, x: &[f32]) -> Result<(), TestCaseError> {
    let bytes = match ty {
        GgmlType::Q8_0 => quant::quantize_q8_0(x),
        GgmlType::Q4_0 => quant::quantize_q4_0(x),
        GgmlType::Q4_1 => quant::quantize_q4_1(x),
        _ => None,
    };
    let bytes = bytes.ok_or_else(|| TestCaseError::fail("length is a whole number of blocks"))?;
    let block_bytes = ty.type_size().unwrap_or(0) as usize;
    prop_assert_eq!(bytes.len(), x.len() / QK * block_bytes);
    let y =
        dequantize("prop", ty, &bytes, x.len()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (b, (xb, yb)) in x.chunks(QK).zip(y.chunks(QK)).enumerate() {
        let bound = quant::max_abs_error(ty, xb);
        for (j, (a, r)) in xb.iter().zip(yb).enumerate() {
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
}

#[test]
fn constant_and_zero_blocks_are_exact_where_the_format_allows() {
    let zeros = [0f32; QK];
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1] {
        let bytes = match ty {
            GgmlType::Q8_0 => quant::quantize_q8_0(&zeros),
            GgmlType::Q4_0 => quant::quantize_q4_0(&zeros),
            _ => quant::quantize_q4_1(&zeros),
        }
        .expect("one block");
        let y = dequantize("zeros", ty, &bytes, QK).expect("valid");
        assert!(y.iter().all(|&v| v == 0.0), "{ty}: {y:?}");
    }
    // Q4_1 stores the minimum, so a constant block representable in f16 comes back exactly.
    let ones = [1.25f32; QK];
    let y = dequantize(
        "ones",
        GgmlType::Q4_1,
        &quant::quantize_q4_1(&ones).expect("block"),
        QK,
    )
    .expect("valid");
    assert!(y.iter().all(|&v| v == 1.25), "{y:?}");
    assert!(quant::quantize_q8_0(&[1.0; 31]).is_none());
}
