//! The CPU kernels of [`super::rms_norm`] over contiguous `f32` rows: `y = x / rms(x) ⊙ γ`,
//! `rms(x) = sqrt(mean(x²) + ε)`, and its gradient, one pass over the rows each.
//!
//! burn's `RmsNorm` is eight tensor operations forward (square, mean, add, sqrt, divide,
//! multiply, and two casts) and about twice as many backward, each a pass over the
//! activation and a node of the autodiff graph; a forward+backward of SmolLM2 runs 61 of
//! them (PROFILE.md, finding 6).

use rayon::prelude::*;

/// Elements per rayon task (whole rows): a `[256, 576]` activation splits over two cores.
const CHUNK: usize = 1 << 15;

/// `Σ aᵢ bᵢ` with eight independent partial sums, so the compiler vectorises it.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (a, b) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += a[i] * b[i];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(a, b)| a * b).sum();
    lanes.iter().sum::<f32>() + tail
}

/// `sqrt(mean(x²) + ε)` of one row.
#[inline(always)]
fn rms(row: &[f32], epsilon: f32) -> f32 {
    (dot(row, row) / row.len() as f32 + epsilon).sqrt()
}

/// Rows per rayon task for rows of `width`.
fn rows_per_task(width: usize) -> usize {
    (CHUNK / width.max(1)).max(1)
}

/// `x / rms(x) ⊙ γ` row by row, written over `x`.
///
/// # Shapes
/// - `x_then_y`: `[rows · width]`, `gamma`: `[width]`
///
/// # Panics
/// If `x_then_y`'s length is not a multiple of `gamma`'s.
pub fn forward(x_then_y: &mut [f32], gamma: &[f32], epsilon: f32) {
    let width = gamma.len();
    assert!(
        width > 0 && x_then_y.len().is_multiple_of(width),
        "rms_norm: {} elements do not form rows of width {width}",
        x_then_y.len()
    );
    let normalise = |block: &mut [f32]| {
        for row in block.chunks_exact_mut(width) {
            let rms = rms(row, epsilon);
            for (x, &g) in row.iter_mut().zip(gamma) {
                *x = *x / rms * g;
            }
        }
    };
    let block = rows_per_task(width) * width;
    if x_then_y.len() <= block {
        normalise(x_then_y);
    } else {
        x_then_y.par_chunks_mut(block).for_each(normalise);
    }
}

/// The gradients of [`forward`] given the output's gradient. With `x̂ = x / rms(x)` and
/// `g = ∂y ⊙ γ`: `∂x = (g − x̂ · mean(g ⊙ x̂)) / rms(x)`, written over `grad`; and
/// `∂γ = Σ_rows ∂y ⊙ x̂`, added into `grad_gamma`.
///
/// # Shapes
/// - `x`, `grad_then_grad_x`: `[rows · width]`, `gamma`, `grad_gamma`: `[width]`
///
/// # Panics
/// If the lengths do not match.
pub fn backward(
    x: &[f32],
    gamma: &[f32],
    epsilon: f32,
    grad_then_grad_x: &mut [f32],
    grad_gamma: &mut [f32],
) {
    let width = gamma.len();
    assert!(
        width > 0
            && x.len().is_multiple_of(width)
            && grad_then_grad_x.len() == x.len()
            && grad_gamma.len() == width,
        "rms_norm backward: x, grad and gamma do not match"
    );
    // One block of rows: the input's gradient in place, the block's share of γ's gradient.
    let block_backward = |x: &[f32], grad: &mut [f32]| -> Vec<f32> {
        let mut partial = vec![0.0f32; width];
        let mut scaled = vec![0.0f32; width];
        for (x, dy) in x.chunks_exact(width).zip(grad.chunks_exact_mut(width)) {
            let rms = rms(x, epsilon);
            for ((s, &d), &g) in scaled.iter_mut().zip(dy.iter()).zip(gamma) {
                *s = d * g;
            }
            for ((p, &d), &x) in partial.iter_mut().zip(dy.iter()).zip(x) {
                *p += d * (x / rms);
            }
            let mean = dot(&scaled, x) / rms / width as f32;
            for ((dx, &s), &x) in dy.iter_mut().zip(&scaled).zip(x) {
                *dx = (s - x / rms * mean) / rms;
            }
        }
        partial
    };
    let block = rows_per_task(width) * width;
    let partial = if x.len() <= block {
        block_backward(x, grad_then_grad_x)
    } else {
        x.par_chunks(block)
            .zip(grad_then_grad_x.par_chunks_mut(block))
            .map(|(x, grad)| block_backward(x, grad))
            .reduce(Vec::new, add_into)
    };
    for (g, p) in grad_gamma.iter_mut().zip(&partial) {
        *g += p;
    }
}

/// Element-wise sum of two partial sums (either may be the empty identity).
fn add_into(mut a: Vec<f32>, b: Vec<f32>) -> Vec<f32> {
    if a.is_empty() {
        return b;
    }
    for (a, b) in a.iter_mut().zip(&b) {
        *a += b;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `y`, `∂x` and `∂γ` in f64 from the definitions, for `loss = Σ ∂y ⊙ y`.
    fn reference(x: &[f32], gamma: &[f32], eps: f64, dy: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let w = gamma.len();
        let (mut y, mut dx, mut dg) = (vec![], vec![], vec![0.0; w]);
        for (x, dy) in x.chunks(w).zip(dy.chunks(w)) {
            let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let rms = (x.iter().map(|v| v * v).sum::<f64>() / w as f64 + eps).sqrt();
            let g: Vec<f64> = (0..w).map(|i| dy[i] as f64 * gamma[i] as f64).collect();
            let mean = (0..w).map(|i| g[i] * x[i] / rms).sum::<f64>() / w as f64;
            for i in 0..w {
                y.push(x[i] / rms * gamma[i] as f64);
                dx.push((g[i] - x[i] / rms * mean) / rms);
                dg[i] += dy[i] as f64 * x[i] / rms;
            }
        }
        (y, dx, dg)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn forward_and_backward_match_the_f64_definitions(
            width in 1usize..70,
            rows in 1usize..1200,
            seed in any::<u64>(),
        ) {
            // A cheap deterministic fill: values in (-3, 3), γ in (0.5, 1.5).
            let mut state = seed | 1;
            let mut next = || {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32
            };
            let x: Vec<f32> = (0..rows * width).map(|_| next() * 6.0 - 3.0).collect();
            let dy: Vec<f32> = (0..rows * width).map(|_| next() * 2.0 - 1.0).collect();
            let gamma: Vec<f32> = (0..width).map(|_| next() + 0.5).collect();
            let eps = 1e-5;
            let (y_ref, dx_ref, dg_ref) = reference(&x, &gamma, eps as f64, &dy);
            let mut y = x.clone();
            forward(&mut y, &gamma, eps);
            let mut dx = dy.clone();
            let mut dg = vec![0.0f32; width];
            backward(&x, &gamma, eps, &mut dx, &mut dg);
            let close = |got: f32, want: f64, scale: f64| (got as f64 - want).abs() <= 2e-5 * scale.max(1.0);
            for i in 0..x.len() {
                prop_assert!(close(y[i], y_ref[i], y_ref[i].abs()), "y[{i}]");
                prop_assert!(close(dx[i], dx_ref[i], dx_ref[i].abs()), "dx[{i}]");
            }
            for i in 0..width {
                prop_assert!(close(dg[i], dg_ref[i], rows as f64), "dgamma[{i}]");
            }
        }
    }

    #[test]
    fn gamma_gradient_is_added_not_overwritten() {
        let (x, gamma, dy) = (
            [1.0f32, 2.0, 3.0, 4.0],
            [1.0f32, 1.0],
            [1.0f32, 0.0, 0.0, 1.0],
        );
        let mut dg = [10.0f32, 20.0];
        let mut dx = dy;
        backward(&x, &gamma, 0.0, &mut dx, &mut dg);
        // rms of [1, 2] is sqrt(2.5), of [3, 4] sqrt(12.5): ∂γ₀ = 1/sqrt(2.5), ∂γ₁ = 4/sqrt(12.5).
        assert!((dg[0] - (10.0 + 1.0 / 2.5f32.sqrt())).abs() < 1e-5);
        assert!((dg[1] - (20.0 + 4.0 / 12.5f32.sqrt())).abs() < 1e-5);
    }
}
