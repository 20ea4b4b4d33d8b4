//! The matrix products of one forward+backward 8×32 of SmolLM2-135M, timed alone: the floor
//! the `forward+backward` bench would reach if nothing but its products took time (see
//! results/bench/PROFILE.md, finding 5).
//!
//! ```sh
//! cargo run --release -p kne-benches --example fwd_bwd_products
//! ```

#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use burn::tensor::{Device, Tensor};
use kne_model::on_compute_pool;

/// One product `[m, k] @ [k, n]` of the pass, with the operand layouts the pass gives it.
struct Product {
    what: &'static str,
    m: usize,
    k: usize,
    n: usize,
    /// The left operand is the transpose of a stored `[k, m]` (weight gradients `xᵀ dy`).
    lhs_transposed: bool,
    /// The right operand is the transpose of a stored `[n, k]` (input gradients `dy Wᵀ`).
    rhs_transposed: bool,
    /// How many times one pass runs it (SmolLM2: 30 layers).
    count: usize,
}

const fn product(
    what: &'static str,
    [m, k, n]: [usize; 3],
    lt: bool,
    rt: bool,
    count: usize,
) -> Product {
    Product {
        what,
        m,
        k,
        n,
        lhs_transposed: lt,
        rhs_transposed: rt,
        count,
    }
}

/// 256 rows (8 sequences × 32 tokens), hidden 576, KV width 192, MLP 1536, vocabulary 49 152.
const PRODUCTS: [Product; 15] = [
    product("forward q, o", [256, 576, 576], false, false, 60),
    product("forward k, v", [256, 576, 192], false, false, 60),
    product("forward gate, up", [256, 576, 1536], false, false, 60),
    product("forward down", [256, 1536, 576], false, false, 30),
    // The tied head as `head` runs it with a trained embedding: logitsᵀ = E hᵀ.
    product("forward head", [49152, 576, 256], false, true, 1),
    product("dx q, o", [256, 576, 576], false, true, 60),
    product("dx k, v", [256, 192, 576], false, true, 60),
    product("dx gate, up", [256, 1536, 576], false, true, 60),
    product("dx down", [256, 576, 1536], false, true, 30),
    product("dh head", [576, 49152, 256], true, true, 1),
    product("dW q, o", [576, 256, 576], true, false, 60),
    product("dW k, v", [576, 256, 192], true, false, 60),
    product("dW gate, up", [576, 256, 1536], true, false, 60),
    product("dW down", [1536, 256, 576], true, false, 30),
    product("dE head", [49152, 256, 576], true, false, 1),
];

fn filled(rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::<2>::ones([rows, cols], device).mul_scalar(0.5)
}

fn seconds_per_product(p: &Product, device: &Device) -> f64 {
    let lhs = match p.lhs_transposed {
        true => filled(p.k, p.m, device).transpose(),
        false => filled(p.m, p.k, device),
    };
    let rhs = match p.rhs_transposed {
        true => filled(p.n, p.k, device).transpose(),
        false => filled(p.k, p.n, device),
    };
    let run = || lhs.clone().matmul(rhs.clone()).into_data();
    for _ in 0..3 {
        run();
    }
    let reps = 20;
    let start = std::time::Instant::now();
    for _ in 0..reps {
        run();
    }
    start.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    kne_alloc::keep_freed_pages();
    let device = Device::flex();
    let (mut flop, mut seconds) = (0.0, 0.0);
    for p in &PRODUCTS {
        let t = on_compute_pool(|| seconds_per_product(p, &device));
        let f = 2.0 * (p.m * p.k * p.n) as f64;
        println!(
            "{:18} {:>5}×{:>5}×{:>5} {:8.3} ms {:5.0} GFLOP/s ×{}",
            p.what,
            p.m,
            p.k,
            p.n,
            t * 1e3,
            f / t / 1e9,
            p.count
        );
        flop += f * p.count as f64;
        seconds += t * p.count as f64;
    }
    println!(
        "all products of one pass: {:.1} GFLOP in {:.0} ms = {:.0} GFLOP/s",
        flop / 1e9,
        seconds * 1e3,
        flop / seconds / 1e9
    );
}
