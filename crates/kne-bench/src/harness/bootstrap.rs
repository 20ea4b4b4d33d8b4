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
    bootstrap_ci(values.len(), level, resamples, seed, |picks| {
        picks.iter().map(|&i| values[i]).sum::<f64>() / picks.len() as f64
    })
}

/// Percentile bootstrap interval of any `statistic` of `n` cases: each resample draws `n`
/// case indices with replacement and hands them to `statistic` (so paired data stay paired);
/// `None` for fewer than two cases.
pub fn bootstrap_ci(
    n: usize,
    level: f64,
    resamples: usize,
    seed: u64,
    statistic: impl Fn(&[usize]) -> f64,
) -> Option<(f64, f64)> {
    if n < 2 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64(seed);
    let mut picks = vec![0usize; n];
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            for p in picks.iter_mut() {
                *p = rng.below(n);
            }
            statistic(&picks)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    let at = |q: f64| stats[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Some((at(tail), at(1.0 - tail)))
}

/// Least-squares slope of `ys` against `xs` (`None` when the `xs` are all equal).
pub fn ols_slope(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
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

    #[test]
    fn slope_of_a_line_and_of_a_flat_set() {
        assert_eq!(ols_slope(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]), Some(2.0));
        assert_eq!(ols_slope(&[0.0, 1.0, 2.0], &[4.0, 4.0, 4.0]), Some(0.0));
        assert_eq!(ols_slope(&[1.0, 1.0], &[0.0, 1.0]), None);
    }

    #[test]
    fn paired_resampling_keeps_cases_together() {
        // b = a + 1 case by case: the paired difference is exactly 1 in every resample,
        // though a alone varies widely.
        let a = [0.0, 10.0, 3.0, 7.0, 1.0];
        let ci = bootstrap_ci(a.len(), 0.95, 500, 3, |picks| {
            picks.iter().map(|&i| (a[i] + 1.0) - a[i]).sum::<f64>() / picks.len() as f64
        });
        assert_eq!(ci, Some((1.0, 1.0)));
    }
}
