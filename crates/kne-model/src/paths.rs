//! Where the default model and the shared reference files live.
//!
//! Tests, benches and binaries use these so that one environment variable moves them all.

use std::path::PathBuf;

/// File name of the default model (SmolLM2-135M-Instruct, GGUF Q4_1).
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The default model: `$KNE_MODEL`, else `<workspace>/models/SmolLM2-135M-Instruct.Q4_1.gguf`
/// (where `cargo xtask fetch-model` puts it).
pub fn default_model_path() -> PathBuf {
    std::env::var_os("KNE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models").join(DEFAULT_MODEL_FILE))
}

/// File name of the second model (Gemma-3-270M, GGUF Q4_K_M; `cargo xtask fetch-model
/// gemma3-270m`).
pub const GEMMA_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// The Gemma-3-270M file: `$KNE_GEMMA_MODEL`, else `<workspace>/models/gemma-3-270m-q4_k_m.gguf`.
pub fn gemma_model_path() -> PathBuf {
    std::env::var_os("KNE_GEMMA_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models").join(GEMMA_MODEL_FILE))
}

/// The shared folder beside the checkout: `$KNE_SHARED`, else `<workspace>/../shared`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("KNE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"))
}

/// The golden fixture of the PyTorch reference for the default model.
pub fn golden_fixture_path() -> PathBuf {
    shared_dir().join("fixtures/smollm2-135m-golden.json")
}
