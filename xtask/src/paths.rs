//! Where things live in the workspace.

use std::path::{Path, PathBuf};

/// The workspace root: the folder above this crate's manifest (`xtask/..`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.parent().unwrap_or(here);
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// `models/`: downloaded model files (git-ignored except its README).
pub fn models_dir(root: &Path) -> PathBuf {
    root.join("models")
}

/// `data/`: fetched datasets (git-ignored).
pub fn data_dir(root: &Path) -> PathBuf {
    root.join("data")
}

/// `datasets/manifest.sha256`: the files `fetch-data` copies, with sha256 and size.
pub fn data_manifest(root: &Path) -> PathBuf {
    root.join("datasets").join("manifest.sha256")
}

/// `datasets/punkt.sha256`: the Punkt parameter files `fetch-data` makes, with sha256
/// and size.
pub fn punkt_manifest(root: &Path) -> PathBuf {
    root.join("datasets").join("punkt.sha256")
}

/// The shared folder beside the checkout: `$KNE_SHARED`, else `<root>/../shared`
/// (the same rule as `kne_model::paths::shared_dir`).
pub fn shared_dir(root: &Path) -> PathBuf {
    std::env::var_os("KNE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let p = root.join("..").join("shared");
            p.canonicalize().unwrap_or(p)
        })
}

/// A path shown relative to the workspace root when it lies below it.
pub fn show(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| p.display().to_string())
}
