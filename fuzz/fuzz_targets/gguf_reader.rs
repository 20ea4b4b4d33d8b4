//! `cargo +nightly fuzz run gguf_reader`: see `kne_fuzz::targets::gguf_reader`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kne_fuzz::targets::gguf_reader(data));
