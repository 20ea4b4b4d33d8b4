//! `cargo +nightly fuzz run patch_loader`: see `kne_fuzz::targets::patch_loader`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kne_fuzz::targets::patch_loader(data));
