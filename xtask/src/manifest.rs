//! The data manifest, `datasets/manifest.sha256`: one file per line,
//!
//! ```text
//! # comment
//! <sha256, 64 hex digits>  <size in bytes>  <path relative to the data folder>
//! ```
//!
//! Fields are separated by whitespace, so paths hold no spaces. Paths are relative,
//! use `/`, and never contain `..`.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::checksum::{self, Expected};

/// One file the manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the data folder (and to the source folder of `fetch-data`).
    pub path: String,
    pub expected: Expected,
}

impl Entry {
    /// The file's place below `root`.
    pub fn under(&self, root: &Path) -> PathBuf {
        self.path
            .split('/')
            .fold(root.to_path_buf(), |p, c| p.join(c))
    }
}

/// Reads and parses the manifest at `path`.
pub fn load(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the data manifest {}", path.display()))?;
    parse(&text).with_context(|| format!("malformed data manifest {}", path.display()))
}

/// Parses manifest text; an error names the line.
pub fn parse(text: &str) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [sha, size, path] = fields[..] else {
            bail!(
                "line {n}: expected `<sha256> <size> <path>`, found {} fields",
                fields.len()
            );
        };
        let size: u64 = size
            .parse()
            .with_context(|| format!("line {n}: size `{size}` is not a byte count"))?;
        let expected = Expected::new(sha, size).with_context(|| format!("line {n}"))?;
        check_relative(path).with_context(|| format!("line {n}"))?;
        if entries.iter().any(|e| e.path == path) {
            bail!("line {n}: `{path}` is listed twice");
        }
        entries.push(Entry {
            path: path.to_string(),
            expected,
        });
    }
    if entries.is_empty() {
        bail!("it lists no files");
    }
    Ok(entries)
}

/// What is wrong with the files of `entries` below `dir`, one line each: missing, or not
/// the expected file (both digests). Empty when every file is present and valid.
pub fn problems(entries: &[Entry], dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in entries {
        let p = e.under(dir);
        match checksum::probe(&p)? {
            None => out.push(format!("missing {}", p.display())),
            Some(a) if !a.matches(&e.expected) => out.push(format!(
                "{}: expected sha256 {} ({} bytes), found sha256 {} ({} bytes)",
                p.display(),
                e.expected.sha256,
                e.expected.size,
                a.sha256,
                a.size
            )),
            Some(_) => {}
        }
    }
    Ok(out)
}

fn check_relative(path: &str) -> Result<()> {
    let p = Path::new(path);
    let ok = !path.contains('\\')
        && p.components().count() > 0
        && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        bail!("path `{path}` must be relative, use `/`, and contain no `.`/`..` parts");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0e0214dda853a906ef02bef58c7ce2978af5a962e91fc4a10827e0125459905c";

    #[test]
    fn parses_entries_comments_and_blank_lines() {
        let text = format!(
            "# header\n\n{A}  1519289  knowedit/ZsRE/ZsRE-test-all.json\n  {}\t12 wikitext/a.txt  \n",
            A.to_uppercase()
        );
        let e = parse(&text).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].path, "knowedit/ZsRE/ZsRE-test-all.json");
        assert_eq!(e[0].expected.size, 1_519_289);
        assert_eq!(e[0].expected.sha256, A);
        assert_eq!(e[1].expected.sha256, A, "hex is lowercased");
        assert_eq!(e[1].expected.size, 12);
        assert_eq!(
            e[0].under(Path::new("/d")),
            Path::new("/d/knowedit/ZsRE/ZsRE-test-all.json")
        );
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn rejects_bad_lines_naming_the_line() {
        assert!(err(&format!("# c\n{A} 12\n")).contains("line 2"));
        assert!(err(&format!("{A} twelve a.txt\n")).contains("twelve"));
        assert!(err("abc 12 a.txt\n").contains("not a sha256"));
        assert!(err(&format!("{A} 1 a b\n")).contains("4 fields"));
        assert!(err(&format!("{A} 1 a.txt\n{A} 2 a.txt\n")).contains("listed twice"));
        assert!(err("# nothing\n").contains("no files"));
    }

    #[test]
    fn rejects_paths_escaping_the_folder() {
        for p in ["../x", "/etc/passwd", "a/../../x", "./a", "a\\b"] {
            let e = err(&format!("{A} 1 {p}\n"));
            assert!(e.contains("must be relative"), "{p}: {e}");
        }
    }

    #[test]
    fn the_committed_manifest_parses_and_lists_the_provenance_files() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/manifest.sha256");
        let e = load(&path).unwrap();
        let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "knowedit/ZsRE/ZsRE-test-all.json",
                "knowedit/wiki_counterfact/test_cf.json",
                "knowedit/wiki_counterfact/train_cf.json",
                "knowedit/wiki_recent/recent_train.json",
                "wikitext/wikitext-2/valid.txt",
                "wikitext/wikitext-2/test.txt",
            ]
        );
    }
}
