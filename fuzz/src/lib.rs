//! The cargo-fuzz targets of `kne` (issue 8) and the generator of their seed corpora.
//!
//! Each target body lives in [`targets`] as a plain `fn(&[u8])`, so the libFuzzer binaries
//! in `fuzz_targets/` are one line each, and the stable test `tests/replay.rs` can run every
//! committed seed (and every crash reproducer) through the same code without nightly.
//! A body may only panic on a broken *invariant* of the crate under test (an `Ok` result
//! that lies about its own shape); bad input must come back as an `Err`.
//!
//! [`seeds`] writes the small valid files of `corpus/<target>/` (run
//! `cargo run --manifest-path fuzz/Cargo.toml --bin make_seeds`).

pub mod seeds;
pub mod targets;
pub mod tiny;
