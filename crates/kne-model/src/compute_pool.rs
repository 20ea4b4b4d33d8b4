//! Where a program's heavy work should run: on a thread of rayon's global pool.
//!
//! burn-flex splits every matrix product over rayon's pool. Called from a thread outside
//! the pool (a program's main thread), each product hands its pieces to the pool's threads
//! and parks the caller until they are done: the caller's core idles during the product,
//! and the hand-over and wake-up repeat for the ~600 products of one forward+backward
//! pass. Called from a pool thread, the caller computes its own share of each product and
//! goes straight on to the next operation. Measured on the 2-core CI machine:
//! forward+backward 8×32 ~1.0 s → ~0.9 s (results/bench/PROFILE.md, finding 5).

/// Runs `work` on a thread of rayon's global pool, or inline when already on one.
///
/// Wrap a whole loop of forward/backward passes (an attribution, an edit, an evaluation),
/// not each operation: the hand-over costs one wake-up.
pub fn on_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// Gives the global pool's threads a main thread's stack (8 MiB) before anything starts
/// the pool, for programs that run their whole command through [`on_compute_pool`]
/// (rayon's default is 2 MiB). Returns `false`, changing nothing, if the pool was
/// already started.
pub fn init_compute_pool() -> bool {
    rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .build_global()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_thread_and_its_result_comes_back() {
        assert_eq!(
            rayon::current_thread_index(),
            None,
            "test threads are not pool threads"
        );
        let (on_pool, value) = on_compute_pool(|| (rayon::current_thread_index().is_some(), 42));
        assert!(on_pool);
        assert_eq!(value, 42);
        // Nested calls run inline on the same thread.
        let outer = on_compute_pool(|| {
            let here = rayon::current_thread_index();
            on_compute_pool(move || rayon::current_thread_index() == here)
        });
        assert!(outer);
    }
}
