//! An experiment's own edit file (`data = "…"` in `experiments/*.toml`): a researcher's
//! edits, run beside (or instead of) KnowEdit's datasets.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use kne_eval::data::{DataFormat, DataSource, EditFile};
use serde::{Deserialize, Serialize};

/// `data = "my_edits.json"`, or `data = { path = "my_edits.json", format = "easyedit",
/// name = "mine" }`: the file (relative to the workspace root, or absolute), its layout
/// (default: detected from the first record) and the name its results go under (default:
/// the file stem).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct DataFile {
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<DataFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl TryFrom<toml::Value> for DataFile {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        let table = match value {
            toml::Value::String(path) => {
                return Ok(Self {
                    path: path.into(),
                    format: None,
                    name: None,
                });
            }
            toml::Value::Table(table) => table,
            other => {
                return Err(format!(
                    "field `data` must be a path or a table {{ path, format, name }}, not a {}",
                    other.type_str()
                ));
            }
        };
        let string = |key: &str| -> Result<Option<String>, String> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!(
                    "field `data.{key}` must be a string, not a {}",
                    other.type_str()
                )),
            }
        };
        if let Some(key) = table
            .keys()
            .find(|k| !["path", "format", "name"].contains(&k.as_str()))
        {
            return Err(format!(
                "field `data.{key}` is unknown (expected `path`, `format`, `name`)"
            ));
        }
        let path = string("path")?.ok_or("field `data.path` is missing")?;
        let format = string("format")?
            .map(|f| {
                f.parse::<DataFormat>()
                    .map_err(|e| format!("field `data.format`: {e}"))
            })
            .transpose()?;
        Ok(Self {
            path: path.into(),
            format,
            name: string("name")?,
        })
    }
}

impl DataFile {
    /// The name its cases and result folders go by.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }

    /// The source it names, its path resolved against `root` (the workspace root).
    ///
    /// # Errors
    /// A name that cannot name a folder or that is one of KnowEdit's datasets.
    pub fn source(&self, root: &Path) -> Result<DataSource> {
        let path = if self.path.is_absolute() {
            self.path.clone()
        } else {
            root.join(&self.path)
        };
        let mut file = EditFile::new(path)
            .and_then(|f| f.with_name(self.name()))
            .context("field `data`")?;
        if let Some(format) = self.format {
            file = file.with_format(format);
        }
        Ok(DataSource::File(file))
    }

    /// Checks what can be checked without reading the file.
    pub fn validate(&self) -> Result<()> {
        if self.path.as_os_str().is_empty() {
            bail!("field `data.path` is empty");
        }
        self.source(Path::new("")).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        data: DataFile,
    }

    fn parse(text: &str) -> Result<DataFile, String> {
        toml::from_str::<Holder>(text)
            .map(|h| h.data)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_path_or_a_table() {
        let f = parse(r#"data = "datasets/samples/my_edits_easyedit.json""#).unwrap();
        assert_eq!(f.name(), "my_edits_easyedit");
        assert_eq!(f.format, None);
        let f = parse(r#"data = { path = "x/e.json", format = "counterfact", name = "mine" }"#)
            .unwrap();
        assert_eq!(f.name(), "mine");
        assert_eq!(f.format, Some(DataFormat::Counterfact));
        let DataSource::File(file) = f.source(Path::new("/root")).unwrap() else {
            panic!("a file source");
        };
        assert_eq!(file.path, Path::new("/root/x/e.json"));
    }

    #[test]
    fn bad_tables_name_the_field() {
        for (text, expected) in [
            ("data = 3", "path or a table"),
            (r#"data = { format = "easyedit" }"#, "data.path"),
            (r#"data = { path = "a.json", fromat = "x" }"#, "data.fromat"),
            (
                r#"data = { path = "a.json", format = "csv" }"#,
                "data.format",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let f = parse(r#"data = { path = "a.json", name = "zsre" }"#).unwrap();
        let err = format!("{:#}", f.validate().unwrap_err());
        assert!(err.contains("KnowEdit"), "{err}");
    }
}
