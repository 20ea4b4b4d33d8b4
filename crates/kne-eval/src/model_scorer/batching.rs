//! How teacher-forced requests are grouped into padded batches.

use serde::{Deserialize, Serialize};

/// Limits on one forward batch of [`ModelScorer::argmax_at_answers`](super::ModelScorer).
///
/// Rows are right-padded to the longest row of their batch, so a batch costs
/// `rows × longest` positions; requests are sorted by length first so that little is
/// padding. Batching does not change what is computed (causal attention keeps every real
/// position exact), only how fast, up to float rounding in the last bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchConfig {
    /// At most this many rows per forward. Default 8.
    pub max_rows: usize,
    /// At most this many padded positions (`rows × longest row`) per forward; a single
    /// request longer than this still runs, alone. Default 1024.
    pub max_tokens: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_rows: 8,
            max_tokens: 1024,
        }
    }
}

impl BatchConfig {
    /// One request per forward (the reference for batching tests).
    pub fn unbatched() -> Self {
        BatchConfig {
            max_rows: 1,
            max_tokens: 1,
        }
    }
}

/// Groups the items of lengths `lens` into batches under `cfg`: longest first, each batch
/// a list of item indices. Items of length 0 are left out (they need no forward).
pub(crate) fn plan_batches(lens: &[usize], cfg: BatchConfig) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).filter(|&i| lens[i] > 0).collect();
    // longest first; equal lengths keep their order
    order.sort_by(|&a, &b| lens[b].cmp(&lens[a]));
    let max_rows = cfg.max_rows.max(1);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // the batch's longest row is its first (sorted descending)
        let longest = current.first().map_or(lens[i], |&f| lens[f]);
        let fits = current.len() < max_rows && (current.len() + 1) * longest <= cfg.max_tokens;
        if !current.is_empty() && !fits {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_longest_first_and_respects_both_limits() {
        let lens = [3, 10, 0, 7, 7, 2];
        let cfg = BatchConfig {
            max_rows: 2,
            max_tokens: 20,
        };
        assert_eq!(
            plan_batches(&lens, cfg),
            vec![vec![1, 3], vec![4, 0], vec![5]]
        );
        let cfg = BatchConfig {
            max_rows: 8,
            max_tokens: 15,
        };
        // 10 alone (2 × 10 > 15), then 7 + 7 = 14, then 3 and 2 (padded to 2 × 3)
        assert_eq!(
            plan_batches(&lens, cfg),
            vec![vec![1], vec![3, 4], vec![0, 5]]
        );
    }

    #[test]
    fn an_oversized_request_runs_alone_and_unbatched_is_one_per_batch() {
        let lens = [50, 1, 1];
        let cfg = BatchConfig {
            max_rows: 8,
            max_tokens: 10,
        };
        assert_eq!(plan_batches(&lens, cfg), vec![vec![0], vec![1, 2]]);
        assert_eq!(
            plan_batches(&lens, BatchConfig::unbatched()),
            vec![vec![0], vec![1], vec![2]]
        );
    }

    #[test]
    fn every_nonempty_item_is_planned_once() {
        let lens: Vec<usize> = (0..40).map(|i| (i * 7919) % 23).collect();
        let mut seen: Vec<usize> = plan_batches(&lens, BatchConfig::default())
            .into_iter()
            .flatten()
            .collect();
        seen.sort_unstable();
        let expected: Vec<usize> = (0..40).filter(|&i| lens[i] > 0).collect();
        assert_eq!(seen, expected);
    }
}
