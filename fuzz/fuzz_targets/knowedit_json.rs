//! `cargo +nightly fuzz run knowedit_json`: see `kne_fuzz::targets::knowedit_json`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kne_fuzz::targets::knowedit_json(data));
