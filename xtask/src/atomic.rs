//! Atomic file installation: write to a temporary file in the destination's folder,
//! verify, fsync, rename. A reader never sees a half-written file at the destination,
//! and a failed or interrupted write leaves nothing there (the temporary file is removed
//! when the write fails; after a crash, at worst a hidden `.<name>.*.tmp` stays, which
//! `.gitignore` ignores).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use tempfile::NamedTempFile;

use crate::checksum::{self, Actual, Expected, HashingWriter};

/// A file being written; [`AtomicFile::commit`] makes it appear at its destination,
/// dropping it without committing removes it.
pub struct AtomicFile {
    tmp: NamedTempFile,
    dest: std::path::PathBuf,
}

impl AtomicFile {
    /// Starts writing `dest` (its folder is created if missing).
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = parent_dir(dest);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
        let name = dest
            .file_name()
            .ok_or_else(|| anyhow!("{} has no file name", dest.display()))?
            .to_string_lossy()
            .into_owned();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // tempfile creates 0600 files; installed files are ordinary 0644 ones.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let tmp = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// fsyncs the data, renames it onto the destination (replacing any file there) and
    /// fsyncs the folder so the rename itself is durable.
    pub fn commit(self) -> Result<()> {
        let dest = self.dest;
        self.tmp
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot fsync the temporary file for {}", dest.display()))?;
        self.tmp
            .persist(&dest)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot rename the temporary file onto {}", dest.display()))?;
        sync_dir(parent_dir(&dest));
        Ok(())
    }
}

fn parent_dir(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Best effort: some file systems refuse to fsync a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

/// Writes `bytes` to `dest` atomically.
#[allow(dead_code)] // used by tests now, by result writers later
pub fn write(dest: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.file()
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    f.commit()
}

/// Copies `reader` to `dest` atomically, hashing on the way, and commits only if the
/// bytes match `expected`. At most `expected.size + 1` bytes reach the disk; the rest of
/// an oversized source is only hashed (so the error can show its real digest), up to a
/// bound of [`read_cap`] bytes, after which an endless source is cut off. On a mismatch
/// the error names `source`, `dest` and both digests, and nothing is left at `dest` (an
/// older file there is kept untouched).
pub fn install_verified(
    reader: &mut dyn Read,
    source: &str,
    dest: &Path,
    expected: &Expected,
) -> Result<Actual> {
    let mut f = AtomicFile::create(dest)?;
    let cap = read_cap(expected.size);
    let (sha256, size) = {
        let mut limited = reader.take(cap.saturating_add(1));
        let disk = Capped {
            inner: BufWriter::with_capacity(1 << 20, f.file()),
            room: expected.size.saturating_add(1),
        };
        let mut w = HashingWriter::new(disk);
        io::copy(&mut limited, &mut w).with_context(|| format!("cannot copy {source}"))?;
        let (disk, sha256, size) = w.finish();
        let Capped { inner, .. } = disk;
        inner
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", dest.display()))?;
        (sha256, size)
    };
    let actual = Actual {
        truncated: size > cap,
        sha256,
        size,
    };
    checksum::check(source, expected, &actual).with_context(|| {
        format!(
            "refusing to install {} (nothing was written there)",
            dest.display()
        )
    })?;
    f.commit()?;
    Ok(actual)
}

/// How many bytes of a source [`install_verified`] reads at most: four times the
/// expected size plus 1 MiB.
pub fn read_cap(expected_size: u64) -> u64 {
    expected_size.saturating_mul(4).saturating_add(1 << 20)
}

/// Passes the first `room` bytes on and drops the rest (still reporting them written).
struct Capped<W> {
    inner: W,
    room: u64,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.room).unwrap_or(usize::MAX));
        if n > 0 {
            self.inner.write_all(&buf[..n])?;
            self.room -= n as u64;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::digest_reader;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn expected_of(bytes: &[u8]) -> Expected {
        let a = digest_reader(&mut &bytes[..]).unwrap();
        Expected::new(&a.sha256, a.size).unwrap()
    }

    #[test]
    fn write_creates_folders_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c.txt");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        assert_eq!(names(&dir.path().join("a/b")), vec!["c.txt"]);
    }

    #[test]
    fn dropped_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.txt");
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.file().write_all(b"partial").unwrap();
        }
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn install_verified_good() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.gguf");
        let data = b"GGUF model bytes".to_vec();
        let a = install_verified(&mut &data[..], "src", &p, &expected_of(&data)).unwrap();
        assert_eq!(a.size, data.len() as u64);
        assert_eq!(std::fs::read(&p).unwrap(), data);
        assert_eq!(names(dir.path()), vec!["m.gguf"]);
    }

    #[test]
    fn wrong_checksum_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.gguf");
        let exp = expected_of(b"the right bytes");
        let err = install_verified(&mut &b"the wrong bytes"[..], "some.whl", &p, &exp).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("some.whl") && msg.contains(&exp.sha256),
            "{msg}"
        );
        assert!(msg.contains(&p.display().to_string()), "{msg}");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }

    #[test]
    fn wrong_checksum_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.gguf");
        write(&p, b"old").unwrap();
        let exp = expected_of(b"new!");
        assert!(install_verified(&mut &b"bad!"[..], "src", &p, &exp).is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(names(dir.path()), vec!["m.gguf"]);
    }

    #[test]
    fn oversized_source_is_cut_off_and_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m");
        let exp = expected_of(b"abc");
        // An endless source: must stop after size + 1 bytes.
        let mut endless = io::repeat(b'x');
        let err = install_verified(&mut endless, "endless", &p, &exp).unwrap_err();
        let cap = read_cap(3);
        assert!(
            format!("{err:#}").contains(&format!("more than {cap} bytes")),
            "{err:#}"
        );
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn long_source_reports_its_real_digest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m");
        let exp = expected_of(b"abc");
        let long = b"abc and then some".repeat(10);
        let err = install_verified(&mut &long[..], "long", &p, &exp).unwrap_err();
        let real = digest_reader(&mut &long[..]).unwrap();
        let msg = format!("{err:#}");
        assert!(
            msg.contains(&real.sha256) && msg.contains("170 bytes"),
            "{msg}"
        );
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn short_source_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m");
        let exp = expected_of(b"abcdef");
        assert!(install_verified(&mut &b"abc"[..], "short", &p, &exp).is_err());
        assert!(names(dir.path()).is_empty());
    }
}
