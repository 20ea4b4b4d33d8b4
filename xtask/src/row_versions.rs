//! Which code wrote a run's rows: the `code_version` of every `rows*.jsonl` line, counted,
//! so that `promote` can refuse a reference whose rows came from several builds or from an
//! uncommitted tree.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// `code_version` → number of rows, over every `rows*.jsonl` below `dir`.
pub fn count(dir: &Path) -> Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    add_dir(dir, &mut counts)?;
    Ok(counts)
}

fn add_dir(dir: &Path, counts: &mut BTreeMap<String, usize>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            add_dir(&path, counts)?;
        } else if name.starts_with("rows") && name.ends_with(".jsonl") {
            add_file(&path, counts)?;
        }
    }
    Ok(())
}

fn add_file(path: &Path, counts: &mut BTreeMap<String, usize>) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let row: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), i + 1))?;
        let version = row
            .get("code_version")
            .and_then(|v| v.as_str())
            .with_context(|| {
                format!("{} line {}: no field `code_version`", path.display(), i + 1)
            })?;
        *counts.entry(version.to_owned()).or_default() += 1;
    }
    Ok(())
}

/// The counts in one line, e.g. `0.1.0+4209cb3: 1050 rows, 0.1.0+abc1234: 3 rows`.
pub fn describe(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(v, n)| format!("{v}: {n} rows"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses rows from more than one build, from a tree with uncommitted edits (`-dirty`) or
/// from an unknown commit, unless `allow` (the caller then says so in the results' README).
pub fn check_single_clean(counts: &BTreeMap<String, usize>, allow: bool) -> Result<()> {
    let unclean: Vec<&String> = counts
        .keys()
        .filter(|v| v.ends_with("-dirty") || v.ends_with("+unknown"))
        .collect();
    let problem = if counts.len() > 1 {
        Some(format!("rows from {} builds", counts.len()))
    } else if !unclean.is_empty() {
        Some("rows from a tree with uncommitted edits or an unknown commit".to_string())
    } else {
        None
    };
    match problem {
        Some(p) if !allow => bail!(
            "{p} ({}): a reference should come from one clean commit; rerun it, or pass \
             --allow-mixed-versions and say why in results/README.md",
            describe(counts)
        ),
        Some(p) => {
            eprintln!("warning: {p} ({}), promoted as asked", describe(counts));
            Ok(())
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_rows(dir: &Path, name: &str, versions: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        let text: String = versions
            .iter()
            .map(|v| format!("{{\"code_version\":\"{v}\",\"index\":0}}\n"))
            .collect();
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn counts_every_rows_file_below_the_folder_and_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        write_rows(
            &t.path().join("wiki_cf/ft"),
            "rows.jsonl",
            &["0.1.0+a", "0.1.0+a"],
        );
        write_rows(
            &t.path().join("zsre/kne"),
            "rows.shard-0-of-2.jsonl",
            &["0.1.0+b"],
        );
        write_rows(&t.path().join("zsre"), "pre_edit.json", &["0.1.0+c"]);
        let counts = count(t.path()).unwrap();
        assert_eq!(describe(&counts), "0.1.0+a: 2 rows, 0.1.0+b: 1 rows");
    }

    #[test]
    fn one_clean_build_passes_and_anything_else_needs_the_flag() {
        let one: BTreeMap<String, usize> = [("0.1.0+4209cb3".to_string(), 3)].into();
        assert!(check_single_clean(&one, false).is_ok());
        let mixed: BTreeMap<String, usize> =
            [("0.1.0+a".to_string(), 1), ("0.1.0+b".to_string(), 1)].into();
        let err = check_single_clean(&mixed, false).unwrap_err().to_string();
        assert!(
            err.contains("2 builds") && err.contains("--allow-mixed-versions"),
            "{err}"
        );
        assert!(check_single_clean(&mixed, true).is_ok());
        let dirty: BTreeMap<String, usize> = [("0.1.0+a-dirty".to_string(), 1)].into();
        assert!(check_single_clean(&dirty, false).is_err());
        let unknown: BTreeMap<String, usize> = [("0.1.0+unknown".to_string(), 1)].into();
        assert!(check_single_clean(&unknown, false).is_err());
    }

    #[test]
    fn a_row_without_a_version_names_file_and_line() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("rows.jsonl"), "{\"index\":0}\n").unwrap();
        let err = format!("{:#}", count(t.path()).unwrap_err());
        assert!(
            err.contains("rows.jsonl line 1") && err.contains("code_version"),
            "{err}"
        );
    }
}
