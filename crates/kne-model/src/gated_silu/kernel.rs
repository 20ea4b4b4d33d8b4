//! The CPU kernels of [`super::gated_silu`]: `silu(g) ⊙ u` and its gradient, one pass each,
//! over contiguous `f32` slices.
//!
//! burn's composed `silu(g) * u` makes three passes forward and seven backward, and its
//! sigmoid is a scalar `expf` evaluated twice per element (burn-autodiff recomputes it in
//! backward): 9 % of a forward+backward pass of SmolLM2 (results/bench/PROFILE.md, finding
//! 5). Here the sigmoid is a branch-free polynomial `exp` that the compiler vectorises,
//! compiled for AVX2+FMA where the CPU has them, and long slices are split over the rayon
//! pool.

use rayon::prelude::*;

/// Elements per rayon task: large enough that a task outweighs its scheduling, small enough
/// that a `[8, 32, 1536]` activation splits over two cores.
const CHUNK: usize = 1 << 15;

/// `e^x` for `x` in `[-87, 88]` (clamped outside): Cody–Waite range reduction to
/// `r ∈ [-ln2/2, ln2/2]`, a degree-7 polynomial in `r` (the Cephes `expf` coefficients) and a
/// scale by `2^n` built from the exponent bits. Relative error below 2e-7
/// (`tests::exp_matches_std`). No branches, so loops over it vectorise.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2^23: adding it rounds to an integer, kept in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let exponent = (shifted.to_bits() as i32 - ROUND.to_bits() as i32) + 127;
    e_r * f32::from_bits((exponent << 23) as u32)
}

/// `1 / (1 + e^{-x})`.
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// `silu(gate) ⊙ up`, written over `up` (the caller's buffer is reused for the output).
///
/// # Panics
/// If the two slices differ in length.
pub fn forward(gate: &[f32], up_then_out: &mut [f32]) {
    assert_eq!(
        gate.len(),
        up_then_out.len(),
        "gated_silu: gate and up differ in length"
    );
    split(up_then_out, |start, piece| {
        forward_dispatch(&gate[start..start + piece.len()], piece)
    });
}

/// The gradients of `silu(g) ⊙ u` given the output's gradient, with `s = sigmoid(g)`:
/// `grad_then_grad_gate` holds the output's gradient and is overwritten with
/// `∂/∂g = grad · u · s · (1 + g (1 − s))`; `grad_up` receives `∂/∂u = grad · g · s`.
///
/// # Panics
/// If the four slices differ in length.
pub fn backward(gate: &[f32], up: &[f32], grad_then_grad_gate: &mut [f32], grad_up: &mut [f32]) {
    let n = gate.len();
    assert!(
        up.len() == n && grad_then_grad_gate.len() == n && grad_up.len() == n,
        "gated_silu backward: gate, up, grad and grad_up differ in length"
    );
    split_pair(grad_then_grad_gate, grad_up, |start, grad, grad_up| {
        let end = start + grad.len();
        backward_dispatch(&gate[start..end], &up[start..end], grad, grad_up)
    });
}

/// Runs `work(start, piece)` over `CHUNK`-sized pieces of `out`, on the rayon pool when there
/// is more than one piece.
fn split(out: &mut [f32], work: impl Fn(usize, &mut [f32]) + Sync) {
    if out.len() <= CHUNK {
        return work(0, out);
    }
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(i, piece)| work(i * CHUNK, piece));
}

/// [`split`] over two outputs of the same length, cut at the same places.
fn split_pair(a: &mut [f32], b: &mut [f32], work: impl Fn(usize, &mut [f32], &mut [f32]) + Sync) {
    if a.len() <= CHUNK {
        return work(0, a, b);
    }
    a.par_chunks_mut(CHUNK)
        .zip(b.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(i, (a, b))| work(i * CHUNK, a, b));
}

#[inline(always)]
fn forward_body(gate: &[f32], up_then_out: &mut [f32]) {
    for (h, &g) in up_then_out.iter_mut().zip(gate) {
        *h *= g * sigmoid_f32(g);
    }
}

#[inline(always)]
fn backward_body(gate: &[f32], up: &[f32], grad: &mut [f32], grad_up: &mut [f32]) {
    for (((dg, du), &g), &u) in grad.iter_mut().zip(grad_up.iter_mut()).zip(gate).zip(up) {
        let s = sigmoid_f32(g);
        let dh = *dg;
        *du = dh * g * s;
        *dg = dh * u * s * (1.0 + g * (1.0 - s));
    }
}

/// Generates a function that runs `$body` compiled for AVX2+FMA when the CPU has them
/// (checked once per call: a cached CPUID read) and for the build's baseline otherwise.
macro_rules! multiversion {
    ($name:ident, $avx2:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports the features `$avx2` is compiled for (checked above).
                return unsafe { $avx2($($arg),*) };
            }
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx2($($arg: $ty),*) {
            $body($($arg),*)
        }
    };
}

multiversion!(forward_dispatch, forward_avx2, forward_body, (gate: &[f32], up_then_out: &mut [f32]));
multiversion!(
    backward_dispatch,
    backward_avx2,
    backward_body,
    (gate: &[f32], up: &[f32], grad: &mut [f32], grad_up: &mut [f32])
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sigmoid_exact(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    #[test]
    fn exp_matches_std() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let exact = (x as f64).exp();
            let rel = ((exp_f32(x) as f64 - exact) / exact).abs();
            worst = worst.max(rel);
            x += 1.0e-3;
        }
        assert!(worst < 2.0e-7, "worst relative error of exp_f32: {worst:e}");
    }

    #[test]
    fn exp_clamps_outside_its_range() {
        assert_eq!(exp_f32(-1.0e4), exp_f32(-87.0));
        assert_eq!(exp_f32(1.0e4), exp_f32(88.0));
        assert!(exp_f32(88.0).is_finite());
        assert_eq!(sigmoid_f32(-1.0e4), sigmoid_f32(-88.0));
        assert_eq!(sigmoid_f32(1.0e4), 1.0);
    }

    proptest! {
        #[test]
        fn forward_and_backward_match_the_f64_formulas(
            data in prop::collection::vec((-30.0f32..30.0, -4.0f32..4.0, -2.0f32..2.0), 1..3 * CHUNK)
        ) {
            let gate: Vec<f32> = data.iter().map(|d| d.0).collect();
            let up: Vec<f32> = data.iter().map(|d| d.1).collect();
            let grad_out: Vec<f32> = data.iter().map(|d| d.2).collect();
            let mut out = up.clone();
            forward(&gate, &mut out);
            let mut grad = grad_out.clone();
            let mut grad_up = vec![0.0; gate.len()];
            backward(&gate, &up, &mut grad, &mut grad_up);
            for i in 0..gate.len() {
                let (g, u, dh) = (gate[i] as f64, up[i] as f64, grad_out[i] as f64);
                let s = sigmoid_exact(g);
                let close = |got: f32, want: f64, scale: f64| {
                    (got as f64 - want).abs() <= 1.0e-6 * scale.max(1.0)
                };
                prop_assert!(close(out[i], g * s * u, (g * u).abs()), "out[{i}]");
                prop_assert!(close(grad_up[i], dh * g * s, (dh * g).abs()), "grad_up[{i}]");
                let dg = dh * u * s * (1.0 + g * (1.0 - s));
                prop_assert!(close(grad[i], dg, (dh * u * (1.0 + g.abs())).abs()), "grad[{i}]");
            }
        }
    }
}
