//! `cargo xtask fetch-data` and `cargo xtask verify-data`: copy the datasets listed in
//! `datasets/manifest.sha256` from a local folder into `data/`, checking each file's
//! sha256 and size. Files already present and valid are skipped; every write is atomic.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::checksum::{self, Actual};
use crate::manifest::{self, Entry};
use crate::{atomic, paths};

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// Folder holding the files under the manifest's relative paths
    /// [default: `$KNE_SHARED/datasets`, else `<workspace>/../shared/datasets`]
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Where to put them [default: `<workspace>/data`]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// Copy again even when a valid copy is already there
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The data folder to check [default: `<workspace>/data`]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn fetch(root: &Path, args: FetchArgs) -> Result<()> {
    let manifest_path = paths::data_manifest(root);
    let entries = manifest::load(&manifest_path)?;
    let from = args
        .from
        .unwrap_or_else(|| paths::shared_dir(root).join("datasets"));
    let dest = args.dest.unwrap_or_else(|| paths::data_dir(root));
    if !from.is_dir() {
        bail!(
            "the source folder {} does not exist; pass the folder holding \
             knowedit/ and wikitext/ with --from DIR",
            from.display()
        );
    }
    println!(
        "fetch-data: {} files from {} into {} (manifest {})",
        entries.len(),
        from.display(),
        paths::show(root, &dest),
        paths::show(root, &manifest_path)
    );

    let mut failures = Vec::new();
    let (mut copied, mut kept) = (0, 0);
    for e in &entries {
        match fetch_one(e, &from, &dest, args.force) {
            Ok(Outcome::Kept) => {
                kept += 1;
                println!("  ok      {} (already present)", e.path);
            }
            Ok(Outcome::Copied { replaced }) => {
                copied += 1;
                let note = if replaced {
                    ", replaced a bad copy"
                } else {
                    ""
                };
                println!("  copied  {} ({} bytes{note})", e.path, e.expected.size);
            }
            Err(err) => {
                println!("  FAILED  {}", e.path);
                failures.push(format!("{err:#}"));
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} files could not be fetched ({copied} copied, {kept} already present):\n\n{}",
            failures.len(),
            entries.len(),
            failures.join("\n\n")
        );
    }
    println!("fetch-data: done ({copied} copied, {kept} already present, all verified)");
    Ok(())
}

enum Outcome {
    Kept,
    Copied { replaced: bool },
}

fn fetch_one(e: &Entry, from: &Path, dest_root: &Path, force: bool) -> Result<Outcome> {
    let dest = e.under(dest_root);
    let present = checksum::probe(&dest)?;
    if !force && present.as_ref().is_some_and(|a| a.matches(&e.expected)) {
        return Ok(Outcome::Kept);
    }
    let src = e.under(from);
    let mut f = match File::open(&src) {
        Ok(f) => f,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
            "missing source file {} (expected sha256 {}, {} bytes)",
            src.display(),
            e.expected.sha256,
            e.expected.size
        ),
        Err(err) => return Err(err).with_context(|| format!("cannot open {}", src.display())),
    };
    atomic::install_verified(&mut f, &src.display().to_string(), &dest, &e.expected)?;
    Ok(Outcome::Copied {
        replaced: present.is_some_and(|a| !a.matches(&e.expected)),
    })
}

/// Checks every manifest file in `dir`; returns the problems found (empty = all valid).
pub fn check_dir(root: &Path, dir: &Path) -> Result<Vec<String>> {
    let entries = manifest::load(&paths::data_manifest(root))?;
    let mut problems = Vec::new();
    for e in &entries {
        let p = e.under(dir);
        match checksum::probe(&p)? {
            None => problems.push(format!("missing {}", p.display())),
            Some(a) if !a.matches(&e.expected) => problems.push(mismatch_line(&p, e, &a)),
            Some(_) => {}
        }
    }
    Ok(problems)
}

fn mismatch_line(p: &Path, e: &Entry, a: &Actual) -> String {
    format!(
        "{}: expected sha256 {} ({} bytes), found sha256 {} ({} bytes)",
        p.display(),
        e.expected.sha256,
        e.expected.size,
        a.sha256,
        a.size
    )
}

pub fn verify(root: &Path, args: VerifyArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| paths::data_dir(root));
    let problems = check_dir(root, &dir)?;
    if !problems.is_empty() {
        bail!(
            "{} data file(s) missing or wrong in {}:\n  {}\nrun `cargo xtask fetch-data --from ../shared/datasets`",
            problems.len(),
            dir.display(),
            problems.join("\n  ")
        );
    }
    println!(
        "verify-data: every file of the manifest is present and valid in {}",
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::digest_reader;

    /// A workspace root with a manifest for two files, and a source folder holding them.
    fn setup(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("ws");
        let src = t.path().join("src");
        let mut manifest = String::from("# test\n");
        for (p, bytes) in files {
            let a = digest_reader(&mut &bytes[..]).unwrap();
            manifest += &format!("{}  {}  {p}\n", a.sha256, a.size);
            let f = src.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, bytes).unwrap();
        }
        std::fs::create_dir_all(root.join("datasets")).unwrap();
        std::fs::write(root.join("datasets/manifest.sha256"), manifest).unwrap();
        (t, root, src)
    }

    fn args(src: &Path) -> FetchArgs {
        FetchArgs {
            from: Some(src.to_path_buf()),
            dest: None,
            force: false,
        }
    }

    const FILES: &[(&str, &[u8])] = &[("k/a.json", b"[1,2]"), ("w/b.txt", b"text\n")];

    #[test]
    fn copies_verifies_and_skips() {
        let (_t, root, src) = setup(FILES);
        fetch(&root, args(&src)).unwrap();
        assert_eq!(std::fs::read(root.join("data/k/a.json")).unwrap(), b"[1,2]");
        assert!(check_dir(&root, &root.join("data")).unwrap().is_empty());
        // A second run copies nothing: the source may even be gone.
        std::fs::remove_dir_all(src.join("k")).unwrap();
        fetch(&root, args(&src)).unwrap();
        verify(&root, VerifyArgs { dir: None }).unwrap();
    }

    #[test]
    fn replaces_a_corrupt_copy() {
        let (_t, root, src) = setup(FILES);
        fetch(&root, args(&src)).unwrap();
        std::fs::write(root.join("data/w/b.txt"), b"texT\n").unwrap();
        assert_eq!(check_dir(&root, &root.join("data")).unwrap().len(), 1);
        assert!(verify(&root, VerifyArgs { dir: None }).is_err());
        fetch(&root, args(&src)).unwrap();
        assert_eq!(std::fs::read(root.join("data/w/b.txt")).unwrap(), b"text\n");
    }

    #[test]
    fn tampered_source_is_an_error_and_writes_nothing() {
        let (_t, root, src) = setup(FILES);
        std::fs::write(src.join("k/a.json"), b"[1,3]").unwrap();
        let err = format!("{:#}", fetch(&root, args(&src)).unwrap_err());
        let good = digest_reader(&mut &b"[1,2]"[..]).unwrap().sha256;
        let bad = digest_reader(&mut &b"[1,3]"[..]).unwrap().sha256;
        assert!(err.contains("k/a.json"), "{err}");
        assert!(err.contains(&good) && err.contains(&bad), "{err}");
        assert!(!root.join("data/k/a.json").exists());
        assert_eq!(std::fs::read_dir(root.join("data/k")).unwrap().count(), 0);
        // The good file was still copied.
        assert!(root.join("data/w/b.txt").exists());
    }

    #[test]
    fn missing_source_file_is_named() {
        let (_t, root, src) = setup(FILES);
        std::fs::remove_file(src.join("w/b.txt")).unwrap();
        let err = format!("{:#}", fetch(&root, args(&src)).unwrap_err());
        assert!(
            err.contains("missing source file") && err.contains("b.txt"),
            "{err}"
        );
    }

    #[test]
    fn missing_source_folder_is_an_error() {
        let (_t, root, src) = setup(FILES);
        let err = format!("{:#}", fetch(&root, args(&src.join("nope"))).unwrap_err());
        assert!(err.contains("nope") && err.contains("--from"), "{err}");
    }
}
