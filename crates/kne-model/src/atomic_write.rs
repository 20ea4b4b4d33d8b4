//! Whole-file writes that either fully happen or leave the old file in place: the files the
//! crates write from memory (ensembles, attribution scores, patches, covariance statistics,
//! pre-edit caches, summaries and reports) go through here. Result rows are appended line by
//! line instead (`kne_bench::results::RowLog`), and plots are rendered by plotters into a
//! temporary path that is then renamed.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (created if
/// missing), fsync, rename onto `path`, then fsync of the folder so the rename survives a
/// crash. On error the temporary file is removed and `path` is untouched.
///
/// # Errors
/// The I/O error of the step that failed (callers name the path in their own error type).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    // A hidden `.<name>.*.tmp` (git-ignored) if a crash leaves it behind; tempfile's 0600
    // would make every result file private, so written files get the usual 0644.
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Best effort: not every platform can open a folder.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_folder_replaces_the_file_and_leaves_no_temporary() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("sub").join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(root.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            // What the process's umask lets through, from a file asked to be 0777.
            let probe = root.path().join("probe");
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o777)
                .open(&probe)
                .unwrap();
            assert_eq!(mode(&path), 0o644 & mode(&probe));
        }
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("a.json");
        write_atomic(&path, b"old").unwrap();
        // A folder where the file should be renamed to: the rename fails.
        let blocked = root.path().join("dir");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), b"").unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| n == "a.json" || n == "dir"),
            "{names:?}"
        );
    }
}
