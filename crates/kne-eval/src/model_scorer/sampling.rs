//! Top-k sampling with a small seeded generator (EasyEdit's `generate_fast` sampler).

/// PCG-XSH-RR 32 (O'Neill 2014): 64-bit state, 32-bit output. Small, fast, and the same
/// stream on every platform for a given seed.
#[derive(Debug, Clone)]
pub(crate) struct Pcg32 {
    state: u64,
    inc: u64,
}

impl Pcg32 {
    const MULTIPLIER: u64 = 6_364_136_223_846_793_005;

    /// The generator for `seed` (fixed stream selector, as `pcg32_srandom(seed, 54)`).
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = Pcg32 {
            state: 0,
            inc: (54 << 1) | 1,
        };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MULTIPLIER).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// A uniform draw in `[0, 1)` with 53 random bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        let hi = u64::from(self.next_u32()) << 21;
        let lo = u64::from(self.next_u32()) >> 11;
        ((hi | lo) as f64) / ((1u64 << 53) as f64)
    }
}

/// The `k` largest entries of `row` as indices, largest first (lower index first on ties,
/// as `torch.topk` on CPU in practice). NaN sorts below every number.
pub(crate) fn top_k_indices(row: &[f32], k: usize) -> Vec<usize> {
    let key = |i: usize| {
        let x = row[i];
        if x.is_nan() { f32::NEG_INFINITY } else { x }
    };
    let order = |a: &usize, b: &usize| key(*b).total_cmp(&key(*a)).then(a.cmp(b));
    let k = k.min(row.len());
    if k == 0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..row.len()).collect();
    idx.select_nth_unstable_by(k - 1, order);
    idx.truncate(k);
    idx.sort_by(order);
    idx
}

/// Samples one index of `row` from the softmax of its `k` largest values (= EasyEdit's
/// softmax over the vocabulary, top-k, renormalise, `torch.multinomial`), drawing one
/// uniform number from `rng`.
pub(crate) fn sample_top_k(row: &[f32], k: usize, rng: &mut Pcg32) -> Option<usize> {
    let top = top_k_indices(row, k.max(1));
    let max = f64::from(*row.get(*top.first()?)?);
    let weights: Vec<f64> = top
        .iter()
        .map(|&i| {
            let w = (f64::from(row[i]) - max).exp();
            if w.is_finite() { w } else { 0.0 }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let u = rng.next_f64() * total;
    let mut acc = 0.0;
    for (&i, &w) in top.iter().zip(&weights) {
        acc += w;
        if u < acc {
            return Some(i);
        }
    }
    // rounding left u at the very top: the last candidate with weight
    top.iter()
        .zip(&weights)
        .rev()
        .find(|(_, w)| **w > 0.0)
        .map(|(&i, _)| i)
        .or(Some(top[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg32_matches_the_reference_stream() {
        // pcg32-global demo (pcg-c-basic): pcg32_srandom(42, 54) -> first outputs
        let mut rng = Pcg32::new(42);
        let got: Vec<u32> = (0..6).map(|_| rng.next_u32()).collect();
        assert_eq!(
            got,
            [
                0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e
            ]
        );
    }

    #[test]
    fn uniform_draws_are_in_range_and_seeds_differ() {
        let mut a = Pcg32::new(1);
        let mut b = Pcg32::new(2);
        let xs: Vec<f64> = (0..1000).map(|_| a.next_f64()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "{mean}");
        assert_ne!(a.next_u32(), b.next_u32());
    }

    #[test]
    fn top_k_orders_by_value_then_index() {
        let row = [0.5, 2.0, -1.0, 2.0, f32::NAN, 1.0];
        assert_eq!(top_k_indices(&row, 3), vec![1, 3, 5]);
        assert_eq!(top_k_indices(&row, 10).len(), 6);
        assert!(top_k_indices(&row, 0).is_empty());
    }

    #[test]
    fn sampling_follows_the_renormalised_top_k_softmax() {
        // top-2 of [ln 3, ln 1, -inf-ish]: probabilities 3/4 and 1/4; index 2 never
        let row = [3f32.ln(), 0.0, -50.0];
        let mut rng = Pcg32::new(7);
        let mut counts = [0usize; 3];
        for _ in 0..20_000 {
            counts[sample_top_k(&row, 2, &mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[2], 0);
        let p0 = counts[0] as f64 / 20_000.0;
        assert!((p0 - 0.75).abs() < 0.015, "{p0}");
        // k = 1 is greedy
        assert_eq!(sample_top_k(&row, 1, &mut rng), Some(0));
        assert_eq!(sample_top_k(&[], 5, &mut rng), None);
    }
}
