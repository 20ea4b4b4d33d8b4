//! Token-level accuracy and agreement: the arithmetic under Edit Succ., portability and
//! locality.

/// Teacher-forced token accuracy: the fraction of answer positions where the model's
/// argmax equals the answer token (EasyEdit: `np.mean(np.equal(ans, label))`).
///
/// `predictions[j]` is the argmax at the position that predicts `answer_ids[j]` (see
/// [`ScoringRequest`](super::ScoringRequest)). Positions past the shorter slice count as
/// misses. Returns `None` when `answer_ids` is empty (EasyEdit gets NaN there and drops the
/// value).
///
/// # Shapes
/// - `predictions`: `[answer_len]`
/// - `answer_ids`: `[answer_len]`
pub fn token_accuracy(predictions: &[u32], answer_ids: &[u32]) -> Option<f64> {
    if answer_ids.is_empty() {
        return None;
    }
    let hits = predictions
        .iter()
        .zip(answer_ids)
        .filter(|(p, a)| p == a)
        .count();
    Some(hits as f64 / answer_ids.len() as f64)
}

/// Locality agreement: the fraction of answer positions where the edited model's argmax
/// equals the unedited model's argmax (both teacher-forced on the same ground-truth
/// answer). Agreement with the ground truth itself plays no role.
///
/// Returns `None` when both are empty; if the lengths differ (they cannot when both come
/// from the same request) the longer length is the denominator.
pub fn agreement(pre: &[u32], post: &[u32]) -> Option<f64> {
    let n = pre.len().max(post.len());
    if n == 0 {
        return None;
    }
    let same = pre.iter().zip(post).filter(|(a, b)| a == b).count();
    Some(same as f64 / n as f64)
}

/// Mean of the values, `None` for an empty input.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_two_of_three() {
        // answer tokens [5, 6, 7]; the model predicts 5, 9, 7 -> 2 of 3 right
        assert_eq!(token_accuracy(&[5, 9, 7], &[5, 6, 7]), Some(2.0 / 3.0));
        assert_eq!(token_accuracy(&[5, 6, 7], &[5, 6, 7]), Some(1.0));
        assert_eq!(token_accuracy(&[], &[]), None);
        // a short prediction row counts the missing positions as misses
        assert_eq!(token_accuracy(&[5], &[5, 6]), Some(0.5));
    }

    #[test]
    fn agreement_ignores_ground_truth() {
        assert_eq!(agreement(&[1, 2, 3, 4], &[1, 2, 3, 4]), Some(1.0));
        assert_eq!(agreement(&[1, 2, 3, 4], &[1, 0, 3, 0]), Some(0.5));
        assert_eq!(agreement(&[], &[]), None);
    }

    #[test]
    fn mean_of_nothing_is_none() {
        assert_eq!(mean([]), None);
        assert_eq!(mean([1.0, 0.0, 0.5]), Some(0.5));
    }
}
