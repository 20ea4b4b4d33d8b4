//! Result files of experiment runs, shared by `kne eval` and the reproduce harness.
//!
//! A run writes into one output folder:
//! - per-case rows, one JSON object per line, appended and fsynced one case at a time
//!   ([`RowLog`]), each carrying the run's config hash, the model path and checksum and
//!   the code version ([`RowMeta`]), so an interrupted run resumes where it stopped and a
//!   row can always be traced to what made it;
//! - whole-file outputs (summary CSV/markdown, run description, caches) written atomically
//!   ([`write_atomic`]: temporary file in the same folder, fsync, rename), so a reader never
//!   sees a half-written file.

mod atomic;
mod provenance;
mod rows;
mod summary_table;

pub use atomic::{write_atomic, write_json_atomic};
pub use provenance::{
    CODE_VERSION, code_version, config_hash, cpu_description, sha256_file, sha256_hex,
};
pub use rows::{Row, RowLog, RowMeta, rows_files, rows_in_other_files};
pub use summary_table::{summary_csv, summary_markdown};

#[cfg(test)]
pub(crate) mod test_dir {
    use std::path::PathBuf;

    /// A fresh, empty folder under the system temp dir for one test.
    pub fn fresh(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kne-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
