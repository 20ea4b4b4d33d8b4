//! Dequantisation kernels of the k-quants Q4_K, Q5_K and Q6_K (ggml's "super-block"
//! formats: 256 values per block, split into sub-blocks that each have their own scale).
//!
//! Layouts (f16 values little-endian; byte offsets within one block):
//! - **Q4_K** (144 bytes): `d` (0..2), `dmin` (2..4), 12 bytes of eight 6-bit scales and
//!   eight 6-bit mins (4..16, packing in [`scale_min`]), 128 bytes of 4-bit quants (16..144).
//!   Eight sub-blocks of 32. Values `64c .. 64c+32` are the low nibbles of bytes
//!   `qs[32c .. 32c+32]` (sub-block `2c`), values `64c+32 .. 64c+64` their high nibbles
//!   (sub-block `2c+1`). `x = (d * sc) * q - (dmin * m)`.
//! - **Q5_K** (176 bytes): as Q4_K, with 32 bytes of high bits `qh` (16..48) before the
//!   quants (48..176): value `64c + l` (low nibble) gains 16 when bit `2c` of `qh[l]` is set,
//!   value `64c + 32 + l` (high nibble) when bit `2c+1` is.
//! - **Q6_K** (210 bytes): `ql` low 4 bits (0..128), `qh` high 2 bits (128..192), sixteen i8
//!   scales (192..208), `d` (208..210). Sixteen sub-blocks of 16 (value `i` uses scale
//!   `i / 16`). In each half `h` of 128 values, with `ql = ql[64h..]`, `qh = qh[32h..]` and
//!   `l < 32`, the four values `128h + l + 32k` (k = 0..4) take the low nibble of `ql[l]`,
//!   the low nibble of `ql[l+32]`, the high nibble of `ql[l]`, the high nibble of
//!   `ql[l+32]`, and bits `2k, 2k+1` of `qh[l]` as their top two bits. `x = (d * sc) * (q - 32)`.
//!
//! The order of the f32 operations follows ggml's reference dequantisers (and gguf-py's),
//! so results agree bit for bit. Each kernel takes whole blocks (the caller checks lengths).

use half::f16;

/// Values per super-block.
pub const QK_K: usize = 256;

#[inline(always)]
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// The 6-bit scale and min of sub-block `j` (0..8) from the 12 packed bytes `s` of Q4_K/Q5_K.
///
/// Sub-blocks 0..4 keep their scale in the low 6 bits of `s[j]` and their min in the low 6
/// bits of `s[j+4]`. Sub-blocks 4..8 keep their low 4 bits in `s[j+4]` (scale in the low
/// nibble, min in the high nibble) and their top 2 bits in the top 2 bits of `s[j-4]`
/// (scale) and `s[j]` (min).
#[inline(always)]
pub fn scale_min(s: &[u8], j: usize) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// Per sub-block `(d * sc, dmin * m)` of a Q4_K/Q5_K block.
#[inline(always)]
fn scales_and_offsets(block: &[u8]) -> [(f32, f32); 8] {
    let d = f16_at(block, 0);
    let dmin = f16_at(block, 2);
    let s = &block[4..16];
    std::array::from_fn(|j| {
        let (sc, m) = scale_min(s, j);
        (d * f32::from(sc), dmin * f32::from(m))
    })
}

pub fn q4_k_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(144).zip(out.chunks_exact_mut(QK_K)) {
        let sm = scales_and_offsets(b);
        let qs = &b[16..144];
        for c in 0..4 {
            let (d1, m1) = sm[2 * c];
            let (d2, m2) = sm[2 * c + 1];
            let q = &qs[32 * c..32 * c + 32];
            let (lo, hi) = o[64 * c..64 * c + 64].split_at_mut(32);
            for ((l, h), &q) in lo.iter_mut().zip(hi.iter_mut()).zip(q) {
                *l = d1 * f32::from(q & 0x0F) - m1;
                *h = d2 * f32::from(q >> 4) - m2;
            }
        }
    }
}

pub fn q5_k_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(176).zip(out.chunks_exact_mut(QK_K)) {
        let sm = scales_and_offsets(b);
        let qh = &b[16..48];
        let qs = &b[48..176];
        for c in 0..4 {
            let (d1, m1) = sm[2 * c];
            let (d2, m2) = sm[2 * c + 1];
            let q = &qs[32 * c..32 * c + 32];
            let (lo, hi) = o[64 * c..64 * c + 64].split_at_mut(32);
            for (((l, h), &q), &qh) in lo.iter_mut().zip(hi.iter_mut()).zip(q).zip(qh) {
                let ql = (q & 0x0F) | (((qh >> (2 * c)) & 1) << 4);
                let qu = (q >> 4) | (((qh >> (2 * c + 1)) & 1) << 4);
                *l = d1 * f32::from(ql) - m1;
                *h = d2 * f32::from(qu) - m2;
            }
        }
    }
}

pub fn q6_k_blocks(data: &[u8], out: &mut [f32]) {
    for (b, o) in data.chunks_exact(210).zip(out.chunks_exact_mut(QK_K)) {
        let d = f16_at(b, 208);
        // d * sc per sub-block of 16.
        let ds: [f32; 16] = std::array::from_fn(|i| d * f32::from(b[192 + i] as i8));
        for h in 0..2 {
            let ql = &b[64 * h..64 * h + 64];
            let qh = &b[128 + 32 * h..128 + 32 * h + 32];
            let o = &mut o[128 * h..128 * h + 128];
            let ds = &ds[8 * h..8 * h + 8];
            for l in 0..32 {
                let hb = qh[l];
                let q = [
                    (ql[l] & 0x0F) | ((hb & 3) << 4),
                    (ql[l + 32] & 0x0F) | (((hb >> 2) & 3) << 4),
                    (ql[l] >> 4) | (((hb >> 4) & 3) << 4),
                    (ql[l + 32] >> 4) | (((hb >> 6) & 3) << 4),
                ];
                for (k, &q) in q.iter().enumerate() {
                    let i = l + 32 * k;
                    o[i] = ds[i / 16] * f32::from(q as i8 - 32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::gguf::GgmlType;
    use crate::gguf::dequant::dequantize;

    fn h(v: f32) -> [u8; 2] {
        f16::from_f32(v).to_le_bytes()
    }

    /// Scales (1, 2, 3, 4, 17, 33, 49, 63) and mins (0, 1, 2, 3, 16, 32, 48, 60), packed by
    /// hand: bytes 0..4 are `sc[j] | (sc[j+4] >> 4) << 6`, bytes 4..8 `m[j] | (m[j+4] >> 4) << 6`,
    /// bytes 8..12 `sc[j+4] & 15 | (m[j+4] & 15) << 4`.
    const SCALES: [u8; 12] = [
        0x41, 0x82, 0xC3, 0xC4, 0x40, 0x81, 0xC2, 0xC3, 0x01, 0x01, 0x01, 0xCF,
    ];

    /// `qs[32c + l] = (l % 16) | (15 - l % 16) << 4`: value `64c + l` has q = l % 16, value
    /// `64c + 32 + l` has q = 15 - l % 16.
    fn nibbles() -> impl Iterator<Item = u8> {
        (0..128u8).map(|i| (i % 16) | ((15 - i % 16) << 4))
    }

    #[test]
    fn q4_k_block_by_hand() {
        // d = 0.5, dmin = 0.25; x = 0.5 * sc * q - 0.25 * m.
        let mut b = [h(0.5), h(0.25)].concat();
        b.extend_from_slice(&SCALES);
        b.extend(nibbles());
        assert_eq!(b.len(), 144);
        let x = dequantize("t", GgmlType::Q4_K, &b, 256).expect("one block");
        for (i, want) in [
            (0, 0.0),     // sub 0: 0.5*1*0 - 0
            (5, 2.5),     // sub 0: 0.5*1*5
            (32, 14.75),  // sub 1: 0.5*2*15 - 0.25*1
            (67, 4.0),    // sub 2: 0.5*3*3 - 0.25*2
            (111, -0.75), // sub 3: 0.5*4*0 - 0.25*3
            (135, 55.5),  // sub 4: 0.5*17*7 - 0.25*16
            (160, 239.5), // sub 5: 0.5*33*15 - 0.25*32
            (223, 355.5), // sub 6: 0.5*49*15 - 0.25*48
            (240, 457.5), // sub 7: 0.5*63*15 - 0.25*60
            (255, -15.0), // sub 7: 0.5*63*0 - 0.25*60
        ] {
            assert_eq!(x[i], want, "value {i}");
        }
    }

    #[test]
    fn q5_k_block_by_hand() {
        // As Q4_K, with qh[l] = 0xAA (the odd sub-blocks gain 16) except qh[3] = 0xFF.
        let mut b = [h(0.5), h(0.25)].concat();
        b.extend_from_slice(&SCALES);
        b.extend((0..32).map(|l| if l == 3 { 0xFF } else { 0xAA }));
        b.extend(nibbles());
        assert_eq!(b.len(), 176);
        let x = dequantize("t", GgmlType::Q5_K, &b, 256).expect("one block");
        for (i, want) in [
            (0, 0.0),     // sub 0, bit 0 clear: q = 0
            (3, 9.5),     // sub 0, bit 0 of qh[3] set: 0.5*1*19
            (32, 30.75),  // sub 1: 0.5*2*(15+16) - 0.25
            (67, 28.0),   // sub 2, bit 2 of qh[3] set: 0.5*3*19 - 0.5
            (68, 5.5),    // sub 2, bit 2 of qh[4] clear: 0.5*3*4 - 0.5
            (135, 55.5),  // sub 4, bit 4 clear: 0.5*17*7 - 4
            (160, 503.5), // sub 5: 0.5*33*31 - 8
            (255, 489.0), // sub 7: 0.5*63*16 - 15
        ] {
            assert_eq!(x[i], want, "value {i}");
        }
    }

    #[test]
    fn q6_k_block_by_hand() {
        // ql[i] = i; qh[i] = (i % 4) * 0x55 (all four 2-bit fields = i % 4);
        // scales -8..=7; d = 0.5. x = 0.5 * sc * (q - 32).
        let mut b: Vec<u8> = (0..128u8).collect();
        b.extend((0..64u8).map(|i| (i % 4) * 0x55));
        b.extend((0..16i8).map(|i| (i - 8) as u8));
        b.extend_from_slice(&h(0.5));
        assert_eq!(b.len(), 210);
        let x = dequantize("t", GgmlType::Q6_K, &b, 256).expect("one block");
        for (i, want) in [
            (0, 128.0),   // low(ql[0]) = 0, top 0: q = -32; sc -8
            (1, 60.0),    // low(ql[1]) = 1, top 1: q = 17 - 32 = -15; sc -8
            (35, -57.0),  // low(ql[35]) = 3, top 3: q = 51 - 32 = 19; sc -6
            (70, 0.0),    // high(ql[6]) = 0, top 2: q = 0; sc -4
            (127, -9.5),  // high(ql[63]) = 3, top 3: q = 19; sc -1
            (173, -3.0),  // low(ql[109]) = 13, top(qh[45]) = 1: q = -3; sc 2
            (200, -56.0), // high(ql[72]) = 4, top(qh[40]) = 0: q = -28; sc 4
            (255, 80.5),  // high(ql[127]) = 7, top(qh[63]) = 3: q = 23; sc 7
        ] {
            assert_eq!(x[i], want, "value {i}");
        }
    }

    #[test]
    fn scale_min_unpacks_every_bit() {
        // Sub-block j has scale 63 - j and min j + 32 (every 6-bit position exercised).
        let (sc, m): (Vec<u8>, Vec<u8>) = (0..8).map(|j| (63 - j, j + 32)).unzip();
        let mut s = [0u8; 12];
        for j in 0..4 {
            s[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
            s[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6);
            s[j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
        }
        for j in 0..8 {
            assert_eq!(scale_min(&s, j), (sc[j], m[j]), "sub-block {j}");
        }
    }
}
