//! Property tests of the quantile selection (Eq. 6–7).

use kne_attr::top_fraction_threshold;
use proptest::prelude::*;

proptest! {
    /// With distinct scores, `≥ t_p` keeps exactly k = max(1, ceil(p·N)) of them, and they
    /// are the k largest.
    #[test]
    fn keeps_exactly_the_top_fraction_when_distinct(
        values in prop::collection::hash_set(-1_000_000i64..1_000_000, 1..400),
        p in 0.001f64..0.999,
    ) {
        let values: Vec<f64> = values.into_iter().map(|v| v as f64 / 1000.0).collect();
        let t = top_fraction_threshold(&values, p).unwrap();
        let kept: Vec<f64> = values.iter().copied().filter(|&v| v >= t).collect();
        let k = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
        prop_assert_eq!(kept.len(), k);
        let smallest_kept = kept.iter().copied().fold(f64::INFINITY, f64::min);
        prop_assert!(values.iter().filter(|&&v| v < t).all(|&v| v < smallest_kept));
    }

    /// Ties at the threshold are all kept: never fewer than k, and everything kept is ≥
    /// everything dropped.
    #[test]
    fn ties_only_enlarge_the_selection(
        values in prop::collection::vec(0u8..6, 1..200),
        p in 0.001f64..0.999,
    ) {
        let values: Vec<f64> = values.into_iter().map(f64::from).collect();
        let t = top_fraction_threshold(&values, p).unwrap();
        let k = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
        let kept = values.iter().filter(|&&v| v >= t).count();
        prop_assert!(kept >= k);
        let dropped_max = values.iter().copied().filter(|&v| v < t).fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(dropped_max < t);
        // Without the tied values, fewer than k would remain.
        prop_assert!(values.iter().filter(|&&v| v > t).count() < k);
    }

    #[test]
    fn fractions_outside_the_open_interval_are_refused(p in prop_oneof![-10.0f64..=0.0, 1.0f64..10.0]) {
        prop_assert!(top_fraction_threshold(&[1.0, 2.0], p).is_err());
    }
}
