//! Where the KnowEdit files are on this machine.

use std::path::{Path, PathBuf};

/// Environment variable naming the KnowEdit data directory (the one holding `ZsRE/`,
/// `wiki_counterfact/`, `wiki_recent/`).
pub const DATA_DIR_ENV: &str = "KNE_DATA";

/// The KnowEdit data directory: `$KNE_DATA` if set; otherwise `<workspace>/data/knowedit`
/// if it exists (where `cargo xtask fetch-data` puts the files); otherwise
/// `<workspace>/../shared/datasets/knowedit` (the shared copy). `<workspace>` is the
/// source checkout this crate was built from.
///
/// The result may not exist; callers report the missing file.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
        return PathBuf::from(dir);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let local = workspace.join("data").join("knowedit");
    if local.is_dir() {
        return local;
    }
    workspace
        .join("..")
        .join("shared")
        .join("datasets")
        .join("knowedit")
}
