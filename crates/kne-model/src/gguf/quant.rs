//! Reference quantisers (f32 -> Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 blocks), as llama.cpp's
//! `quantize_row_*_ref` define them. (The k-quants' test quantisers are in
//! [`super::quant_k`].)
//!
//! They exist for tests: a round trip through these and [`super::dequant`] must stay within
//! each format's error bound (see [`max_abs_error`]). They are not tuned for speed.

use half::f16;

/// Values per block of all five formats.
pub const QK: usize = 32;

/// Q8_0: `d = amax / 127`, `q = round(x / d)`; the scale is stored as f16.
/// Returns `None` unless `x.len()` is a multiple of 32.
pub fn quantize_q8_0(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 34, |x, out| {
        let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        // `round` rounds half away from zero, like C's roundf.
        out.extend(x.iter().map(|v| (v * id).round() as i8 as u8));
    })
}

/// Q4_0: the value of largest magnitude (`max`, with its sign) maps to -8: `d = max / -8`,
/// `q = min(15, trunc(x / d + 8.5))`.
pub fn quantize_q4_0(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 18, |x, out| {
        let (mut amax, mut max) = (0f32, 0f32);
        for &v in x {
            if amax < v.abs() {
                amax = v.abs();
                max = v;
            }
        }
        let d = max / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        // `as u8` truncates toward zero and saturates, like the C cast of a value in [0, 17).
        let q = |v: f32| ((v * id + 8.5) as u8).min(15);
        out.extend((0..QK / 2).map(|j| q(x[j]) | (q(x[j + QK / 2]) << 4)));
    })
}

/// Q4_1: `d = (max - min) / 15`, `m = min`, `q = min(15, trunc((x - min) / d + 0.5))`.
pub fn quantize_q4_1(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 20, |x, out| {
        let min = x.iter().copied().fold(f32::MAX, f32::min);
        let max = x.iter().copied().fold(-f32::MAX, f32::max);
        let d = (max - min) / 15.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend_from_slice(&f16::from_f32(min).to_le_bytes());
        let q = |v: f32| (((v - min) * id + 0.5) as u8).min(15);
        out.extend((0..QK / 2).map(|j| q(x[j]) | (q(x[j + QK / 2]) << 4)));
    })
}

/// Q5_0: as Q4_0 with 32 levels: `d = max / -16`, `q = min(31, trunc(x / d + 16.5))`; bit 4
/// of value `j`'s `q` goes to bit `j` of the little-endian u32 `qh`.
pub fn quantize_q5_0(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 22, |x, out| {
        let (mut amax, mut max) = (0f32, 0f32);
        for &v in x {
            if amax < v.abs() {
                amax = v.abs();
                max = v;
            }
        }
        let d = max / -16.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let q: Vec<u8> = x.iter().map(|v| ((v * id + 16.5) as u8).min(31)).collect();
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        push_q5(&q, out);
    })
}

/// Q5_1: as Q4_1 with 32 levels: `d = (max - min) / 31`, `m = min`,
/// `q = min(31, trunc((x - min) / d + 0.5))`.
pub fn quantize_q5_1(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 24, |x, out| {
        let min = x.iter().copied().fold(f32::MAX, f32::min);
        let max = x.iter().copied().fold(-f32::MAX, f32::max);
        let d = (max - min) / 31.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let q: Vec<u8> = x
            .iter()
            .map(|v| (((v - min) * id + 0.5) as u8).min(31))
            .collect();
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend_from_slice(&f16::from_f32(min).to_le_bytes());
        push_q5(&q, out);
    })
}

/// Appends the fifth bits (`qh`, u32 LE) and the nibbles of 32 five-bit quants.
fn push_q5(q: &[u8], out: &mut Vec<u8>) {
    let qh = q
        .iter()
        .enumerate()
        .fold(0u32, |acc, (j, &q)| acc | (u32::from(q >> 4) << j));
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend((0..QK / 2).map(|j| (q[j] & 0x0F) | ((q[j + QK / 2] & 0x0F) << 4)));
}

/// Bound on `|dequant(quant(x)) - x|` for one block of a format, given the block's values.
///
/// With `d` the f32 scale before f16 rounding, `u = 2^-11` the f16 unit roundoff and
/// `s = 2^-25` half the smallest f16 subnormal (the absolute rounding error near zero):
/// - Q8_0: rounding to the nearest step, `d/2`, plus the f16 error of `d` times `|q| <= 127`.
/// - Q4_0: `d/2` for most values, but the end opposite `max` clips from 8 to 7 steps, so `|d|`;
///   plus the f16 error of `d` times `|q - 8| <= 8`.
/// - Q4_1: `d/2`, plus the f16 error of `d` times `q <= 15`, plus the f16 error of `m = min`.
/// - Q5_0, Q5_1: as Q4_0 and Q4_1 with 16 and 31 steps.
///
/// A few f32 roundings of the block's magnitude are added for the f32 arithmetic itself.
/// Values must stay well inside the f16 range (`|x| < 1e4`) so the scales do not overflow.
pub fn max_abs_error(ty: super::GgmlType, x: &[f32]) -> f32 {
    const U: f32 = 1.0 / 2048.0;
    const S: f32 = 1.0 / 33_554_432.0;
    let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
    let f32_slack = 8.0 * f32::EPSILON * amax;
    match ty {
        super::GgmlType::Q8_0 => {
            let d = amax / 127.0;
            d / 2.0 + 127.0 * (d * U + S) + f32_slack
        }
        super::GgmlType::Q4_0 => {
            let d = amax / 8.0;
            d + 8.0 * (d * U + S) + f32_slack
        }
        super::GgmlType::Q4_1 => {
            let min = x.iter().copied().fold(f32::MAX, f32::min);
            let max = x.iter().copied().fold(-f32::MAX, f32::max);
            let d = (max - min) / 15.0;
            d / 2.0 + 15.0 * (d * U + S) + (min.abs() * U + S) + f32_slack
        }
        super::GgmlType::Q5_0 => {
            let d = amax / 16.0;
            d + 16.0 * (d * U + S) + f32_slack
        }
        super::GgmlType::Q5_1 => {
            let min = x.iter().copied().fold(f32::MAX, f32::min);
            let max = x.iter().copied().fold(-f32::MAX, f32::max);
            let d = (max - min) / 31.0;
            d / 2.0 + 31.0 * (d * U + S) + (min.abs() * U + S) + f32_slack
        }
        _ => f32::INFINITY,
    }
}

/// Quantises `x` block by block with `one`, which appends one block of `block_bytes` bytes.
fn blocks(
    x: &[f32],
    block_bytes: usize,
    mut one: impl FnMut(&[f32], &mut Vec<u8>),
) -> Option<Vec<u8>> {
    if !x.len().is_multiple_of(QK) {
        return None;
    }
    let mut out = Vec::with_capacity(x.len() / QK * block_bytes);
    for block in x.chunks_exact(QK) {
        one(block, &mut out);
    }
    Some(out)
}
