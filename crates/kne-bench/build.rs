//! Records the commit the binary is built from (`KNE_BUILD_COMMIT`) and whether the sources
//! that go into it differed from that commit (`KNE_BUILD_DIRTY`), for the `code_version`
//! every result row carries.
//!
//! Asking git when a row is written instead would describe whatever checkout the binary's
//! source folder holds by then (a later commit, other uncommitted edits), not the code that
//! ran: a binary built at one commit and run while the checkout moved on labelled its rows
//! with the later commit.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the binary is compiled from, relative to the workspace root; an edit here makes the
/// build `-dirty`. Experiment files and results are read at run time (their settings are in
/// each row's config hash), so editing them does not.
const SOURCES: [&str; 3] = ["crates", "Cargo.toml", "Cargo.lock"];

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/kne-bench lies two levels below the workspace root")
        .to_path_buf();
    for source in SOURCES {
        println!("cargo:rerun-if-changed={}", root.join(source).display());
    }
    let commit = git(&root, &["rev-parse", "--short", "HEAD"]).filter(|c| !c.is_empty());
    let Some(commit) = commit else {
        // A source tarball: no git, no commit to name.
        println!("cargo:rustc-env=KNE_BUILD_COMMIT=unknown");
        println!("cargo:rustc-env=KNE_BUILD_DIRTY=");
        return;
    };
    // A new commit moves HEAD (detached) or the branch it names; staging changes the index.
    let mut watched = vec![
        "HEAD".to_owned(),
        "index".to_owned(),
        "packed-refs".to_owned(),
    ];
    if let Some(branch) = git(&root, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&root, &["rev-parse", "--git-path", &name]) {
            let path = root.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    // `--no-optional-locks`: a plain `git status` may rewrite the index it reads, which
    // would make every later build rerun this script.
    let mut status = vec![
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
    ];
    status.extend(SOURCES);
    let dirty = git(&root, &status).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=KNE_BUILD_COMMIT={commit}");
    println!(
        "cargo:rustc-env=KNE_BUILD_DIRTY={}",
        if dirty { "-dirty" } else { "" }
    );
}
