//! What identifies a result: the checksum of its inputs, the hash of its config, the code.

use std::fs::File;
use std::io::Read;
use std::path::Path;

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

/// The code version: the crate version, then `+<short commit>` of the checkout the binary
/// was built from, with `-dirty` when its sources (`crates/`, `Cargo.toml`, `Cargo.lock`)
/// differed from that commit; `+unknown` when it was built without git. Recorded at build
/// time (`build.rs`), so it names the code that runs, whatever the checkout holds later;
/// `kne --version` prints it too.
pub const CODE_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("KNE_BUILD_COMMIT"),
    env!("KNE_BUILD_DIRTY")
);

/// [`CODE_VERSION`], owned (what a row stores).
pub fn code_version() -> String {
    CODE_VERSION.to_owned()
}

/// The CPU a row was computed on and the widest SIMD level its matrix kernels dispatch to,
/// e.g. `AMD EPYC (x86_64, avx2+fma)`. burn's gemm picks its kernel at run time (AVX-512,
/// AVX2+FMA, SSE), and kernels of different widths sum in different orders: the same code,
/// config and thread count give bit-identical rows on one CPU, but rows that differ in the
/// last bits (rarely in a metric) on another.
pub fn cpu_description() -> String {
    static CPU: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CPU.get_or_init(|| {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        format!("{model} ({}, {})", std::env::consts::ARCH, simd_level())
    })
    .clone()
}

/// The widest vector instruction set the matrix kernels can use on this CPU.
fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            "avx512f"
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            "avx2+fma"
        } else {
            "sse2"
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "scalar"
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
    fn cpu_description_names_the_architecture_and_a_simd_level() {
        let cpu = cpu_description();
        assert!(cpu.contains(std::env::consts::ARCH), "{cpu}");
        assert!(
            ["avx512f)", "avx2+fma)", "sse2)", "neon)", "scalar)"]
                .iter()
                .any(|level| cpu.ends_with(level)),
            "{cpu}"
        );
        assert_eq!(cpu, cpu_description());
    }

    #[test]
    fn code_version_names_a_commit_of_this_repository() {
        let version = code_version();
        let rest = version
            .strip_prefix(&format!("{}+", env!("CARGO_PKG_VERSION")))
            .unwrap_or_else(|| panic!("{version}"));
        let commit = rest.strip_suffix("-dirty").unwrap_or(rest);
        if commit == "unknown" {
            return; // built without git
        }
        assert!(
            commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{version}"
        );
        let known = std::process::Command::new("git")
            .args(["-C", env!("CARGO_MANIFEST_DIR"), "cat-file", "-e"])
            .arg(format!("{commit}^{{commit}}"))
            .status()
            .expect("git runs where the crate was built with git");
        assert!(
            known.success(),
            "{version}: not a commit of this repository"
        );
    }
}
