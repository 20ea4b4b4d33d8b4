//! Replacing a committed results folder with a run's, whole or not at all.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Copies the tree `from` into the new folder `to`, leaving out files named in `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&path, &target, skip)?;
        } else {
            std::fs::copy(&path, &target)
                .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
        }
    }
    Ok(())
}

/// Makes `dest` a copy of `source` (without the files named in `skip`): the copy is built
/// beside `dest` and renamed into place, so an interrupted promotion leaves `dest` as it
/// was.
pub fn replace_dir(source: &Path, dest: &Path, skip: &[&str]) -> Result<()> {
    if !source.is_dir() {
        bail!("{} is not a folder", source.display());
    }
    let parent = dest
        .parent()
        .with_context(|| format!("{} has no parent folder", dest.display()))?;
    std::fs::create_dir_all(parent)?;
    let name = dest
        .file_name()
        .with_context(|| format!("{} has no name", dest.display()))?
        .to_string_lossy()
        .into_owned();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.promote-"))
        .tempdir_in(parent)
        .with_context(|| format!("creating a staging folder in {}", parent.display()))?;
    let copy = staging.path().join("new");
    copy_tree(source, &copy, skip)?;
    let old = staging.path().join("old");
    if dest.exists() {
        std::fs::rename(dest, &old).with_context(|| format!("moving {} aside", dest.display()))?;
    }
    if let Err(e) = std::fs::rename(&copy, dest) {
        if old.exists() {
            let _ = std::fs::rename(&old, dest);
        }
        return Err(e).with_context(|| format!("moving the copy to {}", dest.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_becomes_the_source_without_skipped_files() {
        let t = tempfile::tempdir().unwrap();
        let source = t.path().join("run/table1");
        std::fs::create_dir_all(source.join("wiki_cf/kne")).unwrap();
        std::fs::write(source.join("summary.csv"), "new").unwrap();
        std::fs::write(source.join("comparison.md"), "x").unwrap();
        std::fs::write(source.join("wiki_cf/kne/rows.jsonl"), "{}\n").unwrap();
        let dest = t.path().join("results/table1");
        std::fs::create_dir_all(dest.join("zsre")).unwrap();
        std::fs::write(dest.join("summary.csv"), "old").unwrap();
        replace_dir(&source, &dest, &["comparison.md"]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("summary.csv")).unwrap(),
            "new"
        );
        assert!(dest.join("wiki_cf/kne/rows.jsonl").exists());
        assert!(!dest.join("comparison.md").exists());
        assert!(
            !dest.join("zsre").exists(),
            "the old tree is replaced whole"
        );
        let leftovers: Vec<_> = std::fs::read_dir(t.path().join("results"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["table1"], "no staging folder is left behind");
        let err = replace_dir(&t.path().join("missing"), &dest, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dest.join("summary.csv")).unwrap(),
            "new"
        );
    }
}
