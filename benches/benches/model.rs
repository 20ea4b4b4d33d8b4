//! Forward and forward+backward of the default model, at the shapes of the PyTorch
//! reference (`shared/notes/pytorch-reference.md`: 1×32 forward, 8×32 forward+backward with
//! the loss on the last 8 positions and every parameter requiring a gradient).

// The allocator and pool set-up of the `kne` binary (crates/kne-bench/src/main.rs): the
// iterations run on a pool thread, as the binary runs its commands.
#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};
use criterion::{Criterion, criterion_group};
use kne_model::{Llama, on_compute_pool, paths};

/// Deterministic token rows spread over the vocabulary.
fn token_rows(batch: usize, seq: usize, vocab: usize) -> Vec<Vec<u32>> {
    (0..batch)
        .map(|b| {
            (0..seq)
                .map(|t| ((b * seq + t) * 7919 % vocab) as u32)
                .collect()
        })
        .collect()
}

fn load() -> Llama {
    let path = paths::default_model_path();
    kne_model::load(&path, &Device::flex())
        .unwrap_or_else(|e| panic!("{e} (run `cargo xtask fetch-model`)"))
        .model
}

/// Mean negative log-likelihood of the next token over the last `last` positions.
fn loss_on_last(model: &Llama, ids: Tensor<2, Int>, last: usize) -> Tensor<1> {
    let [batch, seq] = ids.dims();
    let logits = model.forward(ids.clone());
    let logp = log_softmax(logits.narrow(1, seq - 1 - last, last), 2);
    let targets = ids.narrow(1, seq - last, last).reshape([batch, last, 1]);
    logp.gather(2, targets).mean().neg()
}

fn forward(c: &mut Criterion) {
    let model = load();
    let ids = model
        .ids_tensor(&token_rows(1, 32, model.config.vocab_size))
        .unwrap();
    c.bench_function("forward 1x32", |b| {
        on_compute_pool(|| b.iter(|| model.forward(ids.clone()).into_data()))
    });
}

fn forward_backward(c: &mut Criterion) {
    let model = load().trainable_autodiff();
    let rows = token_rows(8, 32, model.config.vocab_size);
    let ids = model.ids_tensor(&rows).unwrap();
    c.bench_function("forward+backward 8x32 (loss on last 8, all params)", |b| {
        on_compute_pool(|| b.iter(|| loss_on_last(&model, ids.clone(), 8).backward()))
    });
}

fn generation(c: &mut Criterion) {
    let model = load();
    let prompt = token_rows(1, 5, model.config.vocab_size).remove(0);
    let config = kne_model::GreedyConfig {
        max_new_tokens: 20,
        stop_token: None,
    };
    c.bench_function("greedy 20 new tokens (5-token prompt)", |b| {
        on_compute_pool(|| b.iter(|| model.generate_greedy(&prompt, config).unwrap()))
    });
}

/// One float32 matrix product of an MLP's shape (512 rows: 16 sequences of 32 tokens):
/// the machine's sgemm rate through burn-flex, the ceiling the fwd+bwd rate is judged by.
fn sgemm(c: &mut Criterion) {
    let device = Device::flex();
    let a = Tensor::<2>::ones([512, 576], &device).mul_scalar(0.5);
    let b = Tensor::<2>::ones([576, 1536], &device).mul_scalar(0.25);
    c.bench_function("sgemm 512x576 @ 576x1536", |bench| {
        on_compute_pool(|| bench.iter(|| a.clone().matmul(b.clone()).into_data()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(20));
    targets = sgemm, forward, forward_backward, generation
}
fn main() {
    kne_alloc::keep_freed_pages();
    kne_model::init_compute_pool();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
