//! Whole-file writes that either fully happen or leave the old file in place.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// Writes `bytes` to `path` atomically ([`kne_model::write_atomic`]: a temporary file in the
/// same folder, fsync, rename onto `path`); on error `path` is untouched.
///
/// # Errors
/// Any I/O failure, naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    kne_model::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// [`write_atomic`] of `value` as pretty JSON with a final newline.
///
/// # Errors
/// Serialisation or I/O failure.
pub fn write_json_atomic<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(value)
        .with_context(|| format!("cannot serialise {}", path.display()))?;
    json.push(b'\n');
    write_atomic(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::test_dir;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = test_dir::fresh("atomic");
        let path = dir.join("sub").join("a.csv");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.csv"]);
        write_json_atomic(&dir.join("b.json"), &serde_json::json!({"x": 1})).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("b.json")).unwrap(),
            "{\n  \"x\": 1\n}\n"
        );
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = test_dir::fresh("atomic-fail");
        let path = dir.join("a");
        write_atomic(&path, b"old").unwrap();
        // the destination is a non-empty folder: the rename fails
        let blocked = dir.join("blocked");
        std::fs::create_dir_all(blocked.join("x")).unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let tmp_left = std::fs::read_dir(&dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
        assert!(!tmp_left);
    }
}
