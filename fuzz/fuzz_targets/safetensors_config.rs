//! `cargo +nightly fuzz run safetensors_config`: see `kne_fuzz::targets::safetensors_config`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kne_fuzz::targets::safetensors_config(data));
