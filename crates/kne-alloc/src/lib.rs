//! The memory allocator of the toolkit's programs.
//!
//! A program opts in with two lines (a library never chooses the allocator):
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;
//!
//! fn main() {
//!     kne_alloc::keep_freed_pages();
//!     // …
//! }
//! ```
//!
//! Why (results/bench/PROFILE.md, findings 3–5): every forward/backward pass allocates and
//! frees the same large buffers (activations, 50 MB of logits, gradients). glibc's malloc
//! hands them back to the kernel and page-faults them in again, zero-filled, on the next
//! pass; mimalloc reuses them, and with purging off it never returns them at all.

use std::ffi::c_long;

/// mimalloc, the global allocator of the `kne` binary and the benches.
pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay` of the mimalloc bundled with libmimalloc-sys 0.1.49 (v2 and v3
/// headers alike: the option after `eager_commit_delay`, 14, and before `use_numa_nodes`,
/// 16, which the bindings do name). The bindings have no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The user's own setting, which [`keep_freed_pages`] leaves alone.
const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

/// Tells mimalloc never to return freed memory to the OS (`purge_delay = -1`), so the
/// buffers of one pass are reused by the next without page faults: forward+backward 8×32
/// ~1.1 s → ~1.0 s. The process keeps its peak memory. Does nothing when the user set
/// `MIMALLOC_PURGE_DELAY`. Only takes effect if [`Allocator`] is the global allocator.
pub fn keep_freed_pages() {
    if std::env::var_os(PURGE_DELAY_ENV).is_some() {
        return;
    }
    // SAFETY: sets one integer option; mimalloc reads it on its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1 as c_long) }
}

/// mimalloc's current purge delay in milliseconds (-1: never purge).
pub fn purge_delay_ms() -> i64 {
    // SAFETY: reads one integer option.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index 15 is the purge delay: its documented default (v3: 1000 ms, v2: 10 ms) unless
    /// the environment set it, and -1 after `keep_freed_pages`.
    #[test]
    fn keep_freed_pages_turns_purging_off() {
        if std::env::var_os(PURGE_DELAY_ENV).is_none() {
            assert!(
                [10, 1000].contains(&purge_delay_ms()),
                "option 15 is not the purge delay: {}",
                purge_delay_ms()
            );
            keep_freed_pages();
            assert_eq!(purge_delay_ms(), -1);
        }
    }
}
