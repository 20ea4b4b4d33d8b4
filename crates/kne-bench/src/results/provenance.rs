//! What identifies a result: the checksum of its inputs, the hash of its config, the code.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// SHA-256 of a file, 64 lowercase hex digits.
///
/// # Errors
/// The file cannot be read (the error names it).
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file =
        File::open(path).with_context(|| format!("cannot open {} to hash it", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 of bytes, 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A short, stable hash of a config: the first 16 hex digits of the SHA-256 of its JSON
/// (serde writes struct fields in declaration order and `BTreeMap`s sorted, so equal
/// configs give equal hashes).
///
/// # Errors
/// The config cannot be serialised.
pub fn config_hash<T: Serialize + ?Sized>(config: &T) -> Result<String> {
    let json = serde_json::to_vec(config).context("cannot serialise the config to hash it")?;
    let mut hex = sha256_hex(&json);
    hex.truncate(16);
    Ok(hex)
}

/// The code version: the crate version, then `+<short commit>` of the source checkout the
/// binary was built from (with `-dirty` when tracked files differ from it), asked of `git`
/// at run time; `+unknown` when git or the checkout is not available.
pub fn code_version() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) if !commit.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!("{version}+{commit}{}", if dirty { "-dirty" } else { "" })
        }
        _ => format!("{version}+unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::test_dir;

    #[test]
    fn sha256_of_a_known_file() {
        let dir = test_dir::fresh("sha");
        let path = dir.join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = sha256_file(&dir.join("missing")).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn config_hash_is_stable_and_sensitive() {
        #[derive(Serialize)]
        struct C {
            a: u32,
            b: &'static str,
        }
        let h = config_hash(&C { a: 1, b: "x" }).unwrap();
        assert_eq!(h.len(), 16);
        assert_eq!(h, config_hash(&C { a: 1, b: "x" }).unwrap());
        assert_ne!(h, config_hash(&C { a: 2, b: "x" }).unwrap());
    }

    #[test]
    fn code_version_starts_with_the_crate_version() {
        assert!(code_version().starts_with(&format!("{}+", env!("CARGO_PKG_VERSION"))));
    }
}
