//! Per-case result rows: one JSON object per line, appended and fsynced case by case.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What every row says about how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowMeta {
    /// [`config_hash`](super::config_hash) of the run's config; a results file holds rows
    /// of one config only.
    pub config_hash: String,
    /// The editing method (`none` for the unedited model).
    pub method: String,
    /// The model file or folder as given.
    pub model: String,
    /// SHA-256 of the model file (for an HF folder: of its files' `name  sha256` lines).
    pub model_sha256: String,
    /// [`code_version`](super::code_version) of the binary that wrote the row.
    pub code_version: String,
    /// [`cpu_description`](super::cpu_description) of the machine that wrote the row (empty
    /// in rows written before it was recorded, 2026-12-07).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu: String,
    /// Seconds this case took (editing and scoring).
    pub wall_s: f64,
}

/// One line of a results file: the metadata, then the payload's fields (flattened).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row<T> {
    /// How the row was made.
    #[serde(flatten)]
    pub meta: RowMeta,
    /// The scores (e.g. `kne_eval::metrics::CaseScores`).
    #[serde(flatten)]
    pub data: T,
}

/// An append-only JSON-lines file of [`Row`]s of one config.
#[derive(Debug)]
pub struct RowLog {
    path: PathBuf,
    file: File,
}

impl RowLog {
    /// Opens (or creates) `path` for appending and returns the rows already in it.
    ///
    /// A last line without its newline is what an interrupted write leaves: it is cut off
    /// the file (and reported on stderr); the case it held runs again. Every other line
    /// must parse, and every row must carry `config_hash`: a results file never mixes
    /// configs.
    ///
    /// # Errors
    /// I/O failure, a malformed line (with its line number), or a row of another config
    /// (telling the user to pick another output folder).
    pub fn open<T: DeserializeOwned>(
        path: &Path,
        config_hash: &str,
    ) -> Result<(Self, Vec<Row<T>>)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create folder {}", dir.display()))?;
        }
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes)
                .with_context(|| format!("{}: not UTF-8 text", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let (rows, complete) = parse_complete_lines(path, &text, config_hash)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} for appending", path.display()))?;
        if complete < text.len() {
            eprintln!(
                "{}: dropping an unfinished last line ({} bytes) left by an interrupted run",
                path.display(),
                text.len() - complete
            );
            file.set_len(complete as u64)
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot truncate {}", path.display()))?;
        }
        Ok((
            RowLog {
                path: path.to_owned(),
                file,
            },
            rows,
        ))
    }

    /// Appends one row as a line and fsyncs it.
    ///
    /// # Errors
    /// Serialisation or I/O failure.
    pub fn append<T: Serialize>(&mut self, row: &Row<T>) -> Result<()> {
        let mut line = serde_json::to_vec(row)
            .with_context(|| format!("cannot serialise a row for {}", self.path.display()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The rows of `text` (the contents of `path`) up to its last newline, and that length;
/// every row must carry `config_hash`.
fn parse_complete_lines<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    config_hash: &str,
) -> Result<(Vec<Row<T>>, usize)> {
    let complete = match text.rfind('\n') {
        Some(i) => i + 1,
        None => 0,
    };
    let mut rows = Vec::new();
    for (n, line) in text[..complete].lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}: line {}: invalid JSON", path.display(), n + 1))?;
        let hash = value.get("config_hash").and_then(|h| h.as_str());
        if hash != Some(config_hash) {
            bail!(
                "{}: line {} was made with config {} but this run's config is {config_hash}; \
                 results of different configs are never mixed: choose a new --out folder \
                 (or delete this one)",
                path.display(),
                n + 1,
                hash.map_or("(none)".to_owned(), |h| format!("`{h}`")),
            );
        }
        let row = serde_json::from_value(value)
            .with_context(|| format!("{}: line {}: not a result row", path.display(), n + 1))?;
        rows.push(row);
    }
    Ok((rows, complete))
}

/// Every rows file of a cell folder (`rows.jsonl`, `rows.shard-i-of-n.jsonl`), in file-name
/// order; none when the folder does not exist.
pub fn rows_files(cell_dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(cell_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", cell_dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rows") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The rows of `config_hash` in the cell's rows files other than `own`: what the same run
/// finished under another shard layout (an unsharded run resumed with `--jobs`, or another
/// shard count), so that a resumed shard does not run those cases again. Unfinished last
/// lines are ignored (another shard may be writing); a row of another config is an error,
/// as in [`RowLog::open`].
pub fn rows_in_other_files<T: DeserializeOwned>(
    own: &Path,
    config_hash: &str,
) -> Result<Vec<Row<T>>> {
    let Some(cell_dir) = own.parent() else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for file in rows_files(cell_dir)?.into_iter().filter(|f| f != own) {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        rows.extend(parse_complete_lines(&file, &text, config_hash)?.0);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::test_dir;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Scores {
        index: usize,
        acc: Option<f64>,
    }

    fn row(hash: &str, index: usize) -> Row<Scores> {
        Row {
            meta: RowMeta {
                config_hash: hash.into(),
                method: "none".into(),
                model: "m.gguf".into(),
                model_sha256: "ab".into(),
                code_version: "0.1.0+x".into(),
                cpu: "Test CPU (x86_64, avx2+fma)".into(),
                wall_s: 1.5,
            },
            data: Scores {
                index,
                acc: index.is_multiple_of(2).then_some(0.25),
            },
        }
    }

    #[test]
    fn rows_round_trip_flat_and_resume() {
        let dir = test_dir::fresh("rows");
        let path = dir.join("out").join("rows.jsonl");
        let (mut log, rows) = RowLog::open::<Scores>(&path, "h1").unwrap();
        assert!(rows.is_empty());
        log.append(&row("h1", 0)).unwrap();
        log.append(&row("h1", 1)).unwrap();
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["config_hash"], "h1");
        assert_eq!(first["index"], 0);
        assert_eq!(first["acc"], 0.25);
        let (mut log, rows) = RowLog::open::<Scores>(&path, "h1").unwrap();
        assert_eq!(rows, vec![row("h1", 0), row("h1", 1)]);
        log.append(&row("h1", 2)).unwrap();
        let (_, rows) = RowLog::open::<Scores>(&path, "h1").unwrap();
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn rows_written_before_the_cpu_was_recorded_still_load() {
        let dir = test_dir::fresh("rows-no-cpu");
        let path = dir.join("rows.jsonl");
        let old = r#"{"config_hash":"h","method":"none","model":"m.gguf","model_sha256":"ab","code_version":"0.1.0+x","wall_s":1.5,"index":3,"acc":null}"#;
        std::fs::write(&path, format!("{old}\n")).unwrap();
        let (_, rows) = RowLog::open::<Scores>(&path, "h").unwrap();
        assert_eq!(rows[0].meta.cpu, "");
        assert_eq!(rows[0].data.index, 3);
        let rewritten = serde_json::to_string(&rows[0]).unwrap();
        assert!(!rewritten.contains("cpu"), "{rewritten}");
        let first: serde_json::Value = serde_json::to_value(row("h", 0)).unwrap();
        assert_eq!(first["cpu"], "Test CPU (x86_64, avx2+fma)");
    }

    #[test]
    fn an_unfinished_last_line_is_dropped() {
        let dir = test_dir::fresh("rows-partial");
        let path = dir.join("rows.jsonl");
        let (mut log, _) = RowLog::open::<Scores>(&path, "h").unwrap();
        log.append(&row("h", 0)).unwrap();
        drop(log);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"config_hash":"h","meth"#).unwrap();
        drop(f);
        let (mut log, rows) = RowLog::open::<Scores>(&path, "h").unwrap();
        assert_eq!(rows.len(), 1);
        log.append(&row("h", 1)).unwrap();
        let (_, rows) = RowLog::open::<Scores>(&path, "h").unwrap();
        assert_eq!(rows, vec![row("h", 0), row("h", 1)]);
    }

    #[test]
    fn a_shard_sees_the_cases_other_layouts_of_its_cell_finished() {
        let dir = test_dir::fresh("rows-layouts");
        // An unsharded run finished cases 0 and 1; a shard resumes the same cell.
        let (mut log, _) = RowLog::open::<Scores>(&dir.join("rows.jsonl"), "h").unwrap();
        log.append(&row("h", 0)).unwrap();
        log.append(&row("h", 1)).unwrap();
        drop(log);
        let own = dir.join("rows.shard-0-of-2.jsonl");
        let (mut log, mine) = RowLog::open::<Scores>(&own, "h").unwrap();
        assert!(mine.is_empty());
        log.append(&row("h", 2)).unwrap();
        // The other shard is writing its first row.
        std::fs::write(
            dir.join("rows.shard-1-of-2.jsonl"),
            r#"{"config_hash":"h","met"#,
        )
        .unwrap();
        let others = rows_in_other_files::<Scores>(&own, "h").unwrap();
        let indices: Vec<usize> = others.iter().map(|r| r.data.index).collect();
        assert_eq!(indices, vec![0, 1]);
        assert_eq!(rows_files(&dir).unwrap().len(), 3);
        // Another config in a sibling file is refused, naming the file.
        std::fs::write(
            dir.join("rows.shard-1-of-2.jsonl"),
            format!("{}\n", serde_json::to_string(&row("other", 3)).unwrap()),
        )
        .unwrap();
        let err = rows_in_other_files::<Scores>(&own, "h")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rows.shard-1-of-2.jsonl") && err.contains("`other`"),
            "{err}"
        );
        assert!(rows_files(&dir.join("missing")).unwrap().is_empty());
    }

    #[test]
    fn another_config_or_a_bad_line_is_an_error() {
        let dir = test_dir::fresh("rows-mix");
        let path = dir.join("rows.jsonl");
        let (mut log, _) = RowLog::open::<Scores>(&path, "old").unwrap();
        log.append(&row("old", 0)).unwrap();
        drop(log);
        let err = RowLog::open::<Scores>(&path, "new")
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose a new --out"), "{err}");
        assert!(err.contains("`old`") && err.contains("new"), "{err}");
        std::fs::write(&path, "{not json}\n").unwrap();
        let err = format!("{:#}", RowLog::open::<Scores>(&path, "new").unwrap_err());
        assert!(err.contains("line 1"), "{err}");
    }
}
