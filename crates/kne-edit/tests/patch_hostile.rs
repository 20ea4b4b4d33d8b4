//! Hostile patch files (found while fuzzing `WeightDelta::parse`, see `fuzz/`): each is a
//! clear error naming the file and the tensor, never a panic or a silently dropped delta.

use std::path::Path;

use kne_edit::WeightDelta;

/// A safetensors file written by hand, so it can say what no writer would:
/// `(name, dtype, shape, bytes)` per tensor and the header metadata.
fn safetensors(tensors: &[(&str, &str, &[u64], &[u8])], metadata: &[(&str, &str)]) -> Vec<u8> {
    let mut header = String::from("{\"__metadata__\":{");
    let meta: Vec<String> = metadata
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect();
    header.push_str(&meta.join(","));
    header.push('}');
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        let shape: Vec<String> = shape.iter().map(u64::to_string).collect();
        header.push_str(&format!(
            ",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            shape.join(","),
            data.len(),
            data.len() + bytes.len()
        ));
        data.extend_from_slice(bytes);
    }
    header.push('}');
    while !header.len().is_multiple_of(8) {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

const FORMAT: (&str, &str) = ("format", "kne-weight-delta/1");

fn parse_err(bytes: &[u8]) -> String {
    match WeightDelta::parse(Path::new("hostile.safetensors"), bytes) {
        Ok((delta, _)) => panic!("parsed: {delta:?}"),
        Err(e) => e.to_string(),
    }
}

/// `values` of shape `[0, 2^63]` is valid safetensors (no bytes), but `2 × 2^63` values for
/// two indices overflowed the length check (a panic with overflow checks on, a wrapped
/// comparison that let the delta through without them).
#[test]
fn a_values_tensor_of_absurd_width_is_an_error() {
    let bytes = safetensors(
        &[
            ("0.q.indices", "U32", &[2], &[1, 0, 0, 0, 2, 0, 0, 0]),
            ("0.q.values", "F32", &[0, 1 << 63], &[]),
        ],
        &[FORMAT, ("0.q.axis", "out")],
    );
    let err = parse_err(&bytes);
    assert!(
        err.contains("hostile.safetensors") && err.contains("0.q.values"),
        "{err}"
    );
}

/// Two spellings of one site, or a dense and a neuron delta for it, used to keep whichever
/// tensor came last (in hash order).
#[test]
fn a_site_with_two_deltas_is_an_error() {
    let f32x1 = 0.5f32.to_le_bytes();
    let both = safetensors(
        &[
            ("1.up.dense", "F32", &[1, 1], &f32x1),
            ("1.up.indices", "U32", &[1], &[0, 0, 0, 0]),
            ("1.up.values", "F32", &[1, 1], &f32x1),
        ],
        &[FORMAT, ("1.up.axis", "out")],
    );
    let err = parse_err(&both);
    assert!(err.contains("site `1.up` has both"), "{err}");

    let respelled = safetensors(
        &[
            ("1.up.dense", "F32", &[1, 1], &f32x1),
            ("01.up.dense", "F32", &[1, 1], &f32x1),
        ],
        &[FORMAT],
    );
    let err = parse_err(&respelled);
    assert!(
        err.contains("`01.up`") && err.contains("expected `1.up`"),
        "{err}"
    );
}

/// Neuron ids without their values were silently ignored.
#[test]
fn indices_without_values_are_an_error() {
    let bytes = safetensors(&[("3.down.indices", "U32", &[1], &[4, 0, 0, 0])], &[FORMAT]);
    let err = parse_err(&bytes);
    assert!(
        err.contains("3.down.indices") && err.contains("3.down.values"),
        "{err}"
    );
}
