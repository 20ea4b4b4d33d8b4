//! Bootstrap confidence intervals of a mean over cases.

/// SplitMix64: a tiny, well-mixed, seedable generator (resampling needs nothing more).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Percentile bootstrap interval (`level`, e.g. 0.95) of the mean of `values`, from
/// `resamples` resamples with replacement; `None` for fewer than two values.
pub fn bootstrap_mean_ci(
    values: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if values.len() < 2 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let sum: f64 = (0..values.len())
                .map(|_| values[rng.below(values.len())])
                .sum();
            sum / values.len() as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    let at = |q: f64| means[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Some((at(tail), at(1.0 - tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_mean_and_shrinks_with_more_cases() {
        let few: Vec<f64> = (0..10).map(|i| (i % 2) as f64).collect();
        let many: Vec<f64> = (0..1000).map(|i| (i % 2) as f64).collect();
        let (lo, hi) = bootstrap_mean_ci(&few, 0.95, 2000, 1).unwrap();
        assert!(lo < 0.5 && 0.5 < hi);
        let (lo2, hi2) = bootstrap_mean_ci(&many, 0.95, 2000, 1).unwrap();
        assert!(hi2 - lo2 < (hi - lo) / 3.0);
        assert!(bootstrap_mean_ci(&[1.0], 0.95, 100, 1).is_none());
        // Constant data: a degenerate interval at the constant.
        assert_eq!(bootstrap_mean_ci(&[3.0; 5], 0.95, 100, 1), Some((3.0, 3.0)));
    }
}
