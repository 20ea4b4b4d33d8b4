//! The arithmetic of one fact's attribution on SmolLM2-135M, counted from the model's
//! shapes (`experiments/attribution-cost.md` §6): the floor under the bench's attribution
//! rows at a given FLOP rate.
//!
//! A path at layer `L` runs `steps` batch rows through the blocks `L..30` (forward and the
//! input gradient; weights are frozen) on every token but the last (which no prediction
//! reads), and the LM head with its softmax on the target positions. A layer's seven sites
//! take four paths (`kne_attr::shared_paths`: q with k, v with o, gate, up with down), or
//! seven with `share_paths = false`. Attention's score products and elementwise work are left
//! out, so the count is a lower bound on the work.

/// SmolLM2-135M's shapes (`../shared/notes/pytorch-reference.md`).
const LAYERS: usize = 30;
const HIDDEN: f64 = 576.0;
const MLP: f64 = 1536.0;
/// Three KV heads of 64.
const KV: f64 = 192.0;
const VOCAB: f64 = 49_152.0;
/// Paths per layer with shared paths: q·k, v → o, gate, up → down.
pub const SHARED_PATHS: usize = 4;
/// Paths per layer without: q, k, v, o, gate, up, down.
pub const UNSHARED_PATHS: usize = 7;

/// The bench's fact (the first `test_cf.json` case): 13 prompt tokens and a one-token
/// target; `benches/benches/pipeline.rs` checks that it still has this shape.
pub const BENCH_FACT_TOKENS: usize = 14;
pub const BENCH_FACT_TARGET: usize = 1;

/// One token through one block, forward and input gradient: 2 FLOP per weight each way.
fn block_token_flop() -> f64 {
    let weights = 2.0 * HIDDEN * HIDDEN + 2.0 * HIDDEN * KV + 3.0 * HIDDEN * MLP;
    4.0 * weights
}

/// One row of the LM head at one target position, forward and input gradient.
fn head_row_flop() -> f64 {
    4.0 * HIDDEN * VOCAB
}

/// FLOPs of attributing a fact of `tokens` tokens (the last `target` of them the answer)
/// over all seven sites of each of `layers` in `paths` paths per layer, with `steps` Riemann
/// points. The α = 1 point is the unscaled network for every path: one row, once, from the
/// first layer; the paths run the other `steps − 1`. The blocks run `tokens − 1` positions
/// (`kne_attr::attribute_fact` leaves the last target token out).
pub fn attribution_flop(
    tokens: usize,
    target: usize,
    steps: usize,
    paths: usize,
    layers: impl IntoIterator<Item = usize>,
) -> f64 {
    let layers: Vec<usize> = layers.into_iter().collect();
    let positions = tokens.saturating_sub(1) as f64;
    let pass = |rows: f64, layer: usize| {
        let above = (LAYERS - layer) as f64;
        rows * (positions * above * block_token_flop() + target as f64 * head_row_flop())
    };
    let scaled_rows = (paths * steps.saturating_sub(1)) as f64;
    let scaled: f64 = layers.iter().map(|&layer| pass(scaled_rows, layer)).sum();
    let unscaled = layers.iter().min().map_or(0.0, |&layer| pass(1.0, layer));
    scaled + unscaled
}

/// The bench's fact at m = 20 over one layer's sites, in `paths` paths.
pub fn bench_layer_flop(layer: usize, paths: usize) -> f64 {
    attribution_flop(BENCH_FACT_TOKENS, BENCH_FACT_TARGET, 20, paths, [layer])
}

/// The bench's fact at m = 20 over all 210 sites (shared paths, the default).
pub fn bench_all_sites_flop() -> f64 {
    attribution_flop(
        BENCH_FACT_TOKENS,
        BENCH_FACT_TARGET,
        20,
        SHARED_PATHS,
        0..LAYERS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_cost_is_twice_the_forward_of_its_weights() {
        // 3 538 944 weights per block (attention 884 736, MLP 2 654 208).
        assert_eq!(block_token_flop(), 4.0 * 3_538_944.0);
    }

    #[test]
    fn all_sites_is_465_block_passes_and_30_heads() {
        // 76 rows (4 paths × 19 points below α = 1) × (13 positions × Σ_L (30 − L) = 465
        // block passes × 14.16 MFLOP + 1 target × 30 heads × 113.2 MFLOP), and the α = 1 row
        // once through all 30 blocks and the head.
        let expected = 76.0 * (13.0 * 465.0 * block_token_flop() + 30.0 * head_row_flop())
            + (13.0 * 30.0 * block_token_flop() + head_row_flop());
        assert!((bench_all_sites_flop() - expected).abs() < 1.0);
        assert!((bench_all_sites_flop() / 1e12 - 6.767).abs() < 0.001);
        // Layer 15: (7 × 19 + 1) rows unshared × (13 × 15 blocks × 14.16 MFLOP + 113.2 MFLOP);
        // shared, 4 × 19 + 1.
        let unit = 13.0 * 15.0 * block_token_flop() + head_row_flop();
        let unshared = bench_layer_flop(15, UNSHARED_PATHS);
        assert!((unshared - 134.0 * unit).abs() < 1.0, "{unshared}");
        assert!((unshared / 1e9 - 385.1).abs() < 0.1, "{unshared}");
        let shared = bench_layer_flop(15, SHARED_PATHS);
        assert!((shared - 77.0 * unit).abs() < 1.0, "{shared}");
    }

    #[test]
    fn the_paths_grow_with_the_steps_below_alpha_one() {
        let four = attribution_flop(23, 6, 4, SHARED_PATHS, 0..LAYERS);
        let twenty = attribution_flop(23, 6, 20, SHARED_PATHS, 0..LAYERS);
        // 16 more steps of 4 paths: 64 more rows through every layer.
        let per_row =
            attribution_flop(23, 6, 2, 1, 0..LAYERS) - attribution_flop(23, 6, 1, 1, 0..LAYERS);
        assert!(((twenty - four) / per_row - 64.0).abs() < 1e-9);
        // train_cf 0 (17 + 6 tokens) at m = 20: 23.1 TFLOP with seven paths of 20 rows
        // (attribution-cost.md §6–7); 12.6 with four of 19 and the shared α = 1 row.
        assert!((twenty / 1e12 - 12.57).abs() < 0.01, "{twenty}");
        assert!((four / 1e12 - 1.99).abs() < 0.01, "{four}");
    }
}
