//! SHA-256 digests of files and streams, and the comparison against an expected digest.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

/// What a file must be: its SHA-256 (64 lowercase hex digits) and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub sha256: String,
    pub size: u64,
}

impl Expected {
    /// Builds an expectation, checking that `sha256` is 64 hex digits (stored lowercase).
    pub fn new(sha256: &str, size: u64) -> Result<Self> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("`{sha256}` is not a sha256 (64 hex digits)");
        }
        Ok(Self {
            sha256: sha256.to_ascii_lowercase(),
            size,
        })
    }
}

/// What a file or stream actually is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub sha256: String,
    pub size: u64,
    /// The stream was longer than a reader was willing to read and reading stopped
    /// after `size` bytes, so `sha256` covers only those (an endless source is cut off).
    pub truncated: bool,
}

impl Actual {
    pub fn matches(&self, expected: &Expected) -> bool {
        !self.truncated && self.size == expected.size && self.sha256 == expected.sha256
    }
}

/// A file or stream that is not what it should be.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// What was checked (a path or a description of a source).
    pub what: String,
    pub expected: Expected,
    pub actual: Actual,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mismatch {
            what,
            expected,
            actual,
        } = self;
        writeln!(f, "checksum mismatch for {what}")?;
        writeln!(
            f,
            "  expected: sha256 {} ({} bytes)",
            expected.sha256, expected.size
        )?;
        if actual.truncated {
            write!(
                f,
                "  actual:   more than {} bytes (reading stopped there)",
                actual.size - 1
            )
        } else {
            write!(
                f,
                "  actual:   sha256 {} ({} bytes)",
                actual.sha256, actual.size
            )
        }
    }
}

impl std::error::Error for Mismatch {}

/// Compares `actual` with `expected`; the error names `what` and both digests.
pub fn check(what: impl fmt::Display, expected: &Expected, actual: &Actual) -> Result<()> {
    if actual.matches(expected) {
        Ok(())
    } else {
        Err(Mismatch {
            what: what.to_string(),
            expected: expected.clone(),
            actual: actual.clone(),
        }
        .into())
    }
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The digest of everything written so far, and the inner writer.
    pub fn finish(self) -> (W, String, u64) {
        let sha = hex::encode(self.hasher.finalize().as_slice());
        (self.inner, sha, self.size)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 and size of everything `reader` yields.
pub fn digest_reader(reader: &mut dyn Read) -> io::Result<Actual> {
    let mut w = HashingWriter::new(io::sink());
    io::copy(reader, &mut w)?;
    let (_, sha256, size) = w.finish();
    Ok(Actual {
        sha256,
        size,
        truncated: false,
    })
}

/// SHA-256 and size of the file at `path`.
pub fn digest_file(path: &Path) -> Result<Actual> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    digest_reader(&mut f).with_context(|| format!("cannot read {}", path.display()))
}

/// Whether `path` exists and has the expected digest. A missing file is `Ok(None)`;
/// otherwise `Ok(Some(actual))` for the caller to compare (and report).
pub fn probe(path: &Path) -> Result<Option<Actual>> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => digest_file(path).map(Some),
        Ok(_) => bail!("{} exists but is not a regular file", path.display()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot stat {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // sha256("abc"), FIPS 180-2 test vector.
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    // sha256(""), FIPS 180-2.
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn known_vectors() {
        let a = digest_reader(&mut &b"abc"[..]).unwrap();
        assert_eq!(a.sha256, ABC);
        assert_eq!(a.size, 3);
        let e = digest_reader(&mut &b""[..]).unwrap();
        assert_eq!(e.sha256, EMPTY);
        assert_eq!(e.size, 0);
    }

    #[test]
    fn hashing_writer_counts_and_passes_through() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (inner, sha, size) = w.finish();
        assert_eq!(inner, b"abc");
        assert_eq!(sha, ABC);
        assert_eq!(size, 3);
    }

    #[test]
    fn digest_of_file_and_probe() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        assert!(probe(&p).unwrap().is_none());
        std::fs::write(&p, b"abc").unwrap();
        let a = probe(&p).unwrap().unwrap();
        assert!(a.matches(&Expected::new(ABC, 3).unwrap()));
        assert!(!a.matches(&Expected::new(ABC, 4).unwrap()));
        assert!(!a.matches(&Expected::new(EMPTY, 3).unwrap()));
    }

    #[test]
    fn expected_validates_and_lowercases() {
        assert_eq!(
            Expected::new(&ABC.to_uppercase(), 3).unwrap().sha256,
            ABC.to_string()
        );
        assert!(Expected::new("abc", 3).is_err());
        assert!(Expected::new(&"g".repeat(64), 3).is_err());
    }

    #[test]
    fn mismatch_message_names_file_and_both_hashes() {
        let exp = Expected::new(ABC, 3).unwrap();
        let act = digest_reader(&mut &b"abd"[..]).unwrap();
        let err = check("data/x.json", &exp, &act).unwrap_err().to_string();
        assert!(err.contains("data/x.json"), "{err}");
        assert!(err.contains(ABC), "{err}");
        assert!(err.contains(&act.sha256), "{err}");
        assert!(check("x", &exp, &digest_reader(&mut &b"abc"[..]).unwrap()).is_ok());
    }
}
