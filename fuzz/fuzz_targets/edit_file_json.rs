//! `cargo +nightly fuzz run edit_file_json`: see `kne_fuzz::targets::edit_file_json`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kne_fuzz::targets::edit_file_json(data));
