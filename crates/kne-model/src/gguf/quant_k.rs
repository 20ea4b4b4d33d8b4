//! Test quantisers for the k-quants (f32 -> Q4_K / Q5_K / Q6_K blocks) and the error bound
//! each one guarantees.
//!
//! They are not llama.cpp's (which search for the scales that minimise the squared error).
//! They pick each sub-block's scale to cover its range and round every stored scale *up*
//! (the f16 super-scales to the next f16, the 6- or 8-bit sub-block codes with `ceil`), so
//! no value is ever clipped and each value's error is at most half a step of its sub-block
//! plus f32 rounding: a bound [`max_abs_error`] can state from the values alone. They exist
//! for the round-trip tests of [`super::dequant_k`]; they are not tuned for speed.
//!
//! Values must stay well inside the f16 range (`|x| < 1e4`) so the scales do not overflow.

use half::f16;

use super::GgmlType;

/// Values per super-block.
pub const QK_K: usize = 256;

/// The smallest f16 that is `>= v` (for finite `v >= 0` in the f16 range).
fn f16_up(v: f32) -> f16 {
    let h = f16::from_f32(v);
    if h.to_f32() >= v {
        h
    } else {
        f16::from_bits(h.to_bits() + 1)
    }
}

/// An upper bound on [`f16_up`]`(v)`: one f16 step above `v` (relative `2^-10` for normal
/// values, `2^-24` for subnormal ones).
fn f16_up_bound(v: f32) -> f32 {
    v * (1.0 + 1.0 / 1024.0) + 1.0 / 16_777_216.0
}

/// `ceil(v / step)` as a code in `0..=max` (0 when the step is 0).
fn code_up(v: f32, step: f32, max: u8) -> u8 {
    if step > 0.0 {
        (v / step).ceil().clamp(0.0, f32::from(max)) as u8
    } else {
        0
    }
}

/// Per sub-block `(range, -min)` with the range and the minimum taken including 0
/// (`hi = max(0, max x)`, `lo = min(0, min x)`).
fn ranges(x: &[f32], sub: usize) -> Vec<(f32, f32)> {
    x.chunks(sub)
        .map(|s| {
            let lo = s.iter().copied().fold(0f32, f32::min);
            let hi = s.iter().copied().fold(0f32, f32::max);
            (hi - lo, -lo)
        })
        .collect()
}

/// A Q4_K/Q5_K block before packing: `(d, dmin, scales, mins, quants in 0..=levels)`.
type AsymBlock = (f16, f16, [u8; 8], [u8; 8], [u8; QK_K]);

/// Scales, mins and quants of one super-block with `levels` = 15 (Q4_K) or 31 (Q5_K).
fn asym_block(x: &[f32], levels: u8) -> AsymBlock {
    let lv = f32::from(levels);
    let r = ranges(x, 32);
    let mmax = r.iter().fold(0f32, |a, &(_, mn)| a.max(mn));
    let dmin = f16_up(mmax / 63.0);
    let m: [u8; 8] = std::array::from_fn(|j| code_up(r[j].1, dmin.to_f32(), 63));
    let offset = |j: usize| dmin.to_f32() * f32::from(m[j]);
    // The step each sub-block needs so that `x + offset` in [0, range + offset] fits 0..=levels.
    let need: [f32; 8] = std::array::from_fn(|j| (r[j].0 - r[j].1 + offset(j)) / lv);
    let d = f16_up(need.iter().fold(0f32, |a, &s| a.max(s)) / 63.0);
    let sc: [u8; 8] = std::array::from_fn(|j| code_up(need[j], d.to_f32(), 63));
    let mut q = [0u8; QK_K];
    for (i, (q, &v)) in q.iter_mut().zip(x).enumerate() {
        let step = d.to_f32() * f32::from(sc[i / 32]);
        if step > 0.0 {
            *q = ((v + offset(i / 32)) / step).round().clamp(0.0, lv) as u8;
        }
    }
    (d, dmin, sc, m, q)
}

/// Packs eight 6-bit scales and mins into Q4_K/Q5_K's 12 bytes (the inverse of
/// [`super::dequant_k::scale_min`]).
fn pack_scales(sc: &[u8; 8], m: &[u8; 8]) -> [u8; 12] {
    let mut s = [0u8; 12];
    for j in 0..4 {
        s[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
        s[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6);
        s[j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
    }
    s
}

/// Q4_K: 144 bytes per 256 values. `None` unless `x.len()` is a multiple of 256.
pub fn quantize_q4_k(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 144, |x, out| {
        let (d, dmin, sc, m, q) = asym_block(x, 15);
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(&dmin.to_le_bytes());
        out.extend_from_slice(&pack_scales(&sc, &m));
        for c in 0..4 {
            out.extend((0..32).map(|l| q[64 * c + l] | (q[64 * c + 32 + l] << 4)));
        }
    })
}

/// Q5_K: 176 bytes per 256 values. `None` unless `x.len()` is a multiple of 256.
pub fn quantize_q5_k(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 176, |x, out| {
        let (d, dmin, sc, m, q) = asym_block(x, 31);
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(&dmin.to_le_bytes());
        out.extend_from_slice(&pack_scales(&sc, &m));
        out.extend((0..32).map(|l| {
            (0..4).fold(0u8, |acc, c| {
                acc | ((q[64 * c + l] >> 4) << (2 * c)) | ((q[64 * c + 32 + l] >> 4) << (2 * c + 1))
            })
        }));
        for c in 0..4 {
            out.extend((0..32).map(|l| (q[64 * c + l] & 15) | ((q[64 * c + 32 + l] & 15) << 4)));
        }
    })
}

/// Q6_K: 210 bytes per 256 values, symmetric (`q` in -31..=31, positive i8 scales).
/// `None` unless `x.len()` is a multiple of 256.
pub fn quantize_q6_k(x: &[f32]) -> Option<Vec<u8>> {
    blocks(x, 210, |x, out| {
        let need: Vec<f32> = x
            .chunks(16)
            .map(|s| s.iter().fold(0f32, |a, v| a.max(v.abs())) / 31.0)
            .collect();
        let d = f16_up(need.iter().fold(0f32, |a, &s| a.max(s)) / 127.0);
        let sc: Vec<u8> = need.iter().map(|&s| code_up(s, d.to_f32(), 127)).collect();
        // Stored quants, q + 32 in 0..64.
        let q: Vec<u8> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let step = d.to_f32() * f32::from(sc[i / 16]);
                let q = if step > 0.0 {
                    (v / step).round().clamp(-32.0, 31.0)
                } else {
                    0.0
                };
                (q as i8 + 32) as u8
            })
            .collect();
        let (mut ql, mut qh) = ([0u8; 128], [0u8; 64]);
        for (i, &q) in q.iter().enumerate() {
            let (h, k, l) = (i / 128, i % 128 / 32, i % 32);
            ql[64 * h + l + 32 * (k & 1)] |= (q & 15) << (4 * (k >> 1));
            qh[32 * h + l] |= (q >> 4) << (2 * k);
        }
        out.extend_from_slice(&ql);
        out.extend_from_slice(&qh);
        out.extend_from_slice(&sc);
        out.extend_from_slice(&d.to_le_bytes());
    })
}

/// Bound on `|dequant(quant(x)) - x|` for each value of one super-block `x` (256 values)
/// quantised by this module's quantiser for `ty`; `None` for another type or length.
///
/// With `r_j` the range of sub-block `j` including 0, `mn_j` minus its minimum including 0:
/// - Q4_K / Q5_K (`L` = 15 / 31): `dmin <= up(max mn / 63)`; the stored offset exceeds `mn_j`
///   by less than `dmin`, so sub-block `j` needs a step `s_j <= (r_j + dmin) / L`;
///   `d <= up(max s / 63)` and the stored step is below `s_j + d`. No value is clipped, so
///   the error is at most half that step.
/// - Q6_K: `s_j = amax_j / 31`, `d <= up(max s / 127)`, the same half step.
///
/// `up(v)` is one f16 step above `v`; a few f32 roundings of the block's magnitude are
/// added for the f32 arithmetic of both directions.
pub fn max_abs_error(ty: GgmlType, x: &[f32]) -> Option<Vec<f32>> {
    if x.len() != QK_K {
        return None;
    }
    let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
    let f32_slack = 16.0 * f32::EPSILON * 2.0 * amax;
    let (sub, steps): (usize, Vec<f32>) = match ty {
        GgmlType::Q4_K | GgmlType::Q5_K => {
            let lv = if ty == GgmlType::Q4_K { 15.0 } else { 31.0 };
            let r = ranges(x, 32);
            let dmin = f16_up_bound(r.iter().fold(0f32, |a, &(_, mn)| a.max(mn)) / 63.0);
            let s: Vec<f32> = r.iter().map(|&(range, _)| (range + dmin) / lv).collect();
            let d = f16_up_bound(s.iter().fold(0f32, |a, &v| a.max(v)) / 63.0);
            (32, s.iter().map(|s| s + d).collect())
        }
        GgmlType::Q6_K => {
            let s: Vec<f32> = x
                .chunks(16)
                .map(|c| c.iter().fold(0f32, |a, v| a.max(v.abs())) / 31.0)
                .collect();
            let d = f16_up_bound(s.iter().fold(0f32, |a, &v| a.max(v)) / 127.0);
            (16, s.iter().map(|s| s + d).collect())
        }
        _ => return None,
    };
    Some(
        (0..QK_K)
            .map(|i| steps[i / sub] / 2.0 + f32_slack)
            .collect(),
    )
}

/// Quantises `x` block by block with `one`, which appends one block of `block_bytes` bytes.
fn blocks(
    x: &[f32],
    block_bytes: usize,
    mut one: impl FnMut(&[f32], &mut Vec<u8>),
) -> Option<Vec<u8>> {
    if !x.len().is_multiple_of(QK_K) {
        return None;
    }
    let mut out = Vec::with_capacity(x.len() / QK_K * block_bytes);
    for block in x.chunks_exact(QK_K) {
        one(block, &mut out);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_up_never_rounds_down() {
        for v in [0.0f32, 1e-9, 6e-8, 1e-5, 0.1, 1.0 / 3.0, 1.0, 2.1, 1000.7] {
            let h = f16_up(v).to_f32();
            assert!(h >= v && h <= f16_up_bound(v), "{v} -> {h}");
        }
    }
}
