//! Dequantisation of ggml tensor data to `f32`.
//!
//! Block formats (32 values per block, scales are little-endian f16):
//! - Q8_0 (34 bytes): `d`, then 32 × i8 `q`; `x = q * d`.
//! - Q4_0 (18 bytes): `d`, then 16 bytes; `x[j] = (lo(qs[j]) - 8) * d`, `x[j+16] = (hi(qs[j]) - 8) * d`.
//! - Q4_1 (20 bytes): `d`, `m`, then 16 bytes; `x[j] = lo(qs[j]) * d + m`, `x[j+16] = hi(qs[j]) * d + m`.
//! - Q5_0 (22 bytes): `d`, a little-endian u32 `qh` of fifth bits, 16 bytes as Q4_0; value
//!   `j` gains bit `j` of `qh` as its bit 4; `x = (q - 16) * d`.
//! - Q5_1 (24 bytes): `d`, `m`, `qh`, 16 bytes; as Q5_0 with `x = q * d + m`.
//!
//! The k-quants (Q4_K, Q5_K, Q6_K; 256 values per block) are in [`super::dequant_k`].
//!
//! The arithmetic (one f32 multiply, then one add) matches ggml's and gguf-py's reference
//! dequantisers bit for bit. Large tensors are split over the available cores on block
//! boundaries; the whole SmolLM2-135M file (134.5 M values) runs at every model load.

use half::{bf16, f16};

use super::dequant_k::{q4_k_blocks, q5_k_blocks, q6_k_blocks};
use super::{GgmlType, GgufError};

/// Whether [`dequantize`] handles this type.
pub fn is_supported(ty: GgmlType) -> bool {
    matches!(
        ty,
        GgmlType::F32
            | GgmlType::F16
            | GgmlType::BF16
            | GgmlType::Q4_0
            | GgmlType::Q4_1
            | GgmlType::Q5_0
            | GgmlType::Q5_1
            | GgmlType::Q8_0
            | GgmlType::Q4_K
            | GgmlType::Q5_K
            | GgmlType::Q6_K
    )
}

/// Dequantises `n_values` values of type `ty` stored in `data` (which must hold exactly
/// that many). `name` is used in errors only. The count is checked against `data` before
/// the output is allocated, so a lying count costs nothing.
pub fn dequantize(
    name: &str,
    ty: GgmlType,
    data: &[u8],
    n_values: usize,
) -> Result<Vec<f32>, GgufError> {
    kernel_for(name, ty, data, n_values)?;
    let mut out = vec![0f32; n_values];
    dequantize_into(name, ty, data, &mut out)?;
    Ok(out)
}

/// As [`dequantize`], writing into `out` (whose length is the value count).
pub fn dequantize_into(
    name: &str,
    ty: GgmlType,
    data: &[u8],
    out: &mut [f32],
) -> Result<(), GgufError> {
    let (kernel, block, bytes) = kernel_for(name, ty, data, out.len())?;
    run_parallel(kernel, data, out, block, bytes, out.len() / block);
    Ok(())
}

/// The kernel of `ty` and its (values, bytes) per block, once `data` is known to hold
/// exactly `n_values` values of that type.
fn kernel_for(
    name: &str,
    ty: GgmlType,
    data: &[u8],
    n_values: usize,
) -> Result<(Kernel, usize, usize), GgufError> {
    let kernel: Kernel = match ty {
        GgmlType::F32 => f32_rows,
        GgmlType::F16 => f16_rows,
        GgmlType::BF16 => bf16_rows,
        GgmlType::Q4_0 => q4_0_blocks,
        GgmlType::Q4_1 => q4_1_blocks,
        GgmlType::Q5_0 => q5_0_blocks,
        GgmlType::Q5_1 => q5_1_blocks,
        GgmlType::Q8_0 => q8_0_blocks,
        GgmlType::Q4_K => q4_k_blocks,
        GgmlType::Q5_K => q5_k_blocks,
        GgmlType::Q6_K => q6_k_blocks,
        _ => {
            return Err(GgufError::UnsupportedDequant {
                tensor: name.to_owned(),
                ty,
            });
        }
    };
    let bad_length = |expected: u64| GgufError::BadDataLength {
        tensor: name.to_owned(),
        ty,
        n_values: n_values as u64,
        expected,
        found: data.len() as u64,
    };
    let (block, bytes) = match ty.layout() {
        // Every supported type has a layout with a non-zero block size.
        Some(l) => (l.block_size as usize, l.type_size as usize),
        None => return Err(bad_length(0)),
    };
    if !n_values.is_multiple_of(block) {
        return Err(bad_length(0));
    }
    let expected = (n_values / block).checked_mul(bytes);
    if expected != Some(data.len()) {
        return Err(bad_length(expected.map_or(u64::MAX, |e| e as u64)));
    }
    Ok((kernel, block, bytes))
}

/// Dequantises whole blocks: `data.len() / type_size == out.len() / block_size`.
type Kernel = fn(&[u8], &mut [f32]);

/// Below this many values per thread a tensor is done on the calling thread (thread
/// start-up would cost more than it saves).
const MIN_VALUES_PER_THREAD: usize = 1 << 19;

fn run_parallel(
    kernel: Kernel,
    data: &[u8],
    out: &mut [f32],
    block: usize,
    bytes: usize,
    n_blocks: usize,
) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(n_blocks * block / MIN_VALUES_PER_THREAD).max(1);
    if threads == 1 {
        kernel(data, out);
        return;
    }
    let blocks_per_thread = n_blocks.div_ceil(threads);
    std::thread::scope(|scope| {
        for (src, dst) in data
            .chunks(blocks_per_thread * bytes)
            .zip(out.chunks_mut(blocks_per_thread * block))
        {
            scope.spawn(move || kernel(src, dst));
        }
    });
}

#[inline(always)]
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

fn f32_rows(data: &[u8], out: &mut [f32]) {
    for (o, b) in out.iter_mut().zip(data.chunks_exact(4)) {
        *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

fn f16_rows(data: &[u8], out: &mut [f32]) {
    for (o, b) in out.iter_mut().zip(data.chunks_exact(2)) {
        *o = f16::from_le_bytes([b[0], b[1]]).to_f32();
    }
}

fn bf16_rows(data: &[u8], out: &mut [f32]) {
    for (o, b) in out.iter_mut().zip(data.chunks_exact(2)) {
        *o = bf16::from_le_bytes([b[0], b[1]]).to_f32();
    }
}

fn q8_0_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(34).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(b, 0);
        for (o, &q) in o.iter_mut().zip(&b[2..34]) {
            *o = f32::from(q as i8) * d;
        }
    }
}

fn q4_0_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(18).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(b, 0);
        let (lo, hi) = o.split_at_mut(16);
        for ((l, h), &q) in lo.iter_mut().zip(hi.iter_mut()).zip(&b[2..18]) {
            *l = f32::from((q & 0x0F) as i8 - 8) * d;
            *h = f32::from((q >> 4) as i8 - 8) * d;
        }
    }
}

/// The fifth bits of a Q5 block: bit `j` of the little-endian u32 at `at`.
#[inline(always)]
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn q5_0_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(22).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(b, 0);
        let qh = u32_at(b, 2);
        let (lo, hi) = o.split_at_mut(16);
        for (j, ((l, h), &q)) in lo.iter_mut().zip(hi.iter_mut()).zip(&b[6..22]).enumerate() {
            let ql = (q & 0x0F) | ((((qh >> j) & 1) as u8) << 4);
            let qu = (q >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4);
            *l = f32::from(ql as i8 - 16) * d;
            *h = f32::from(qu as i8 - 16) * d;
        }
    }
}

fn q5_1_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(24).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(b, 0);
        let m = f16_at(b, 2);
        let qh = u32_at(b, 4);
        let (lo, hi) = o.split_at_mut(16);
        for (j, ((l, h), &q)) in lo.iter_mut().zip(hi.iter_mut()).zip(&b[8..24]).enumerate() {
            let ql = (q & 0x0F) | ((((qh >> j) & 1) as u8) << 4);
            let qu = (q >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4);
            *l = f32::from(ql) * d + m;
            *h = f32::from(qu) * d + m;
        }
    }
}

fn q4_1_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(20).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(b, 0);
        let m = f16_at(b, 2);
        let (lo, hi) = o.split_at_mut(16);
        for ((l, h), &q) in lo.iter_mut().zip(hi.iter_mut()).zip(&b[4..20]) {
            *l = f32::from(q & 0x0F) * d + m;
            *h = f32::from(q >> 4) * d + m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_1_block_by_hand() {
        // d = 0.5, m = -1.0, qs[j] = j | (15 - j) << 4
        let mut b = f16::from_f32(0.5).to_le_bytes().to_vec();
        b.extend_from_slice(&f16::from_f32(-1.0).to_le_bytes());
        b.extend((0u8..16).map(|j| j | ((15 - j) << 4)));
        let x = dequantize("t", GgmlType::Q4_1, &b, 32).expect("one block");
        for j in 0..16 {
            assert_eq!(x[j], j as f32 * 0.5 - 1.0);
            assert_eq!(x[j + 16], (15 - j) as f32 * 0.5 - 1.0);
        }
    }

    #[test]
    fn q4_0_and_q8_0_blocks_by_hand() {
        let mut b = f16::from_f32(2.0).to_le_bytes().to_vec();
        b.extend((0u8..16).map(|j| j | ((15 - j) << 4)));
        let x = dequantize("t", GgmlType::Q4_0, &b, 32).expect("one block");
        assert_eq!((x[0], x[15], x[16], x[31]), (-16.0, 14.0, 14.0, -16.0));

        let mut b = f16::from_f32(0.25).to_le_bytes().to_vec();
        b.extend((0..32).map(|j| (j as i8 - 16) as u8));
        let x = dequantize("t", GgmlType::Q8_0, &b, 32).expect("one block");
        assert_eq!((x[0], x[16], x[31]), (-4.0, 0.0, 3.75));
    }

    #[test]
    fn q5_0_and_q5_1_blocks_by_hand() {
        // qh = bits 0 and 31; qs[j] = j | (15 - j) << 4.
        let qh = 0x8000_0001u32.to_le_bytes();
        let qs = (0u8..16).map(|j| j | ((15 - j) << 4));
        // Q5_0, d = 0.5: x = 0.5 * (q - 16).
        let mut b = f16::from_f32(0.5).to_le_bytes().to_vec();
        b.extend_from_slice(&qh);
        b.extend(qs.clone());
        let x = dequantize("t", GgmlType::Q5_0, &b, 32).expect("one block");
        // q: 0+16, 1, 15, 15 (hi of qs[0]), 1 (hi of qs[14]), 0+16 (hi of qs[15], bit 31).
        let want = [
            (0, 0.0),
            (1, -7.5),
            (15, -0.5),
            (16, -0.5),
            (30, -7.5),
            (31, 0.0),
        ];
        for (i, w) in want {
            assert_eq!(x[i], w, "Q5_0 value {i}");
        }
        // Q5_1, d = 0.5, m = -1: x = 0.5 * q - 1.
        let mut b = f16::from_f32(0.5).to_le_bytes().to_vec();
        b.extend_from_slice(&f16::from_f32(-1.0).to_le_bytes());
        b.extend_from_slice(&qh);
        b.extend(qs);
        let x = dequantize("t", GgmlType::Q5_1, &b, 32).expect("one block");
        let want = [
            (0, 7.0),
            (1, -0.5),
            (15, 6.5),
            (16, 6.5),
            (30, -0.5),
            (31, 7.0),
        ];
        for (i, w) in want {
            assert_eq!(x[i], w, "Q5_1 value {i}");
        }
    }

    #[test]
    fn lengths_and_types_are_checked() {
        assert!(matches!(
            dequantize("t", GgmlType::Q8_0, &[0; 33], 32),
            Err(GgufError::BadDataLength { .. })
        ));
        assert!(matches!(
            dequantize("t", GgmlType::Q8_0, &[0; 34], 31),
            Err(GgufError::BadDataLength { .. })
        ));
        assert!(matches!(
            dequantize("t", GgmlType::Q2_K, &[0; 84], 256),
            Err(GgufError::UnsupportedDequant { .. })
        ));
    }

    #[test]
    fn a_lying_value_count_is_refused_before_allocating() {
        // usize::MAX f32s could never be allocated: the count must be checked first.
        for n in [usize::MAX, usize::MAX / 4 + 1, 1 << 60] {
            assert!(matches!(
                dequantize("t", GgmlType::F32, &[0; 16], n),
                Err(GgufError::BadDataLength { .. })
            ));
        }
    }

    #[test]
    fn parallel_split_matches_single_thread() {
        let n_blocks = MIN_VALUES_PER_THREAD / 32 * 3 + 7;
        let data: Vec<u8> = (0..n_blocks * 20)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 & 0x3B)
            .collect();
        let par = dequantize("t", GgmlType::Q4_1, &data, n_blocks * 32).expect("valid");
        let mut seq = vec![0f32; n_blocks * 32];
        q4_1_blocks(&data, &mut seq);
        assert!(
            par.iter()
                .zip(&seq)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
}
