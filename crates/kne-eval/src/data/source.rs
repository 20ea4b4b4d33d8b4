//! Where an experiment's or a command's cases come from: one of KnowEdit's datasets, found
//! under a data folder, or a researcher's own file in any [`DataFormat`].

use std::path::{Path, PathBuf};

use super::counterfact::counterfact_cases;
use super::easyedit::easyedit_cases;
use super::load::{Required, knowedit_cases};
use super::record::{read_bytes, records};
use super::{DataFormat, Dataset, EditCase};
use crate::EvalError;

/// A user's edit file: where it is, which layout to read it in, and the name its cases and
/// results go by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditFile {
    /// The JSON file.
    pub path: PathBuf,
    /// Its layout; `None`: recognised from the first record ([`DataFormat::detect`]).
    pub format: Option<DataFormat>,
    /// The dataset name of its cases ([`EditCase::dataset`]), rows and result folders.
    pub name: String,
}

impl EditFile {
    /// The file at `path`, named by its file stem, its layout detected when loaded.
    ///
    /// # Errors
    /// [`EvalError::BadName`] if the stem is not a valid name ([`EditFile::with_name`]).
    pub fn new(path: impl Into<PathBuf>) -> Result<Self, EvalError> {
        let path = path.into();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            path,
            format: None,
            name: String::new(),
        }
        .with_name(stem)
    }

    /// The same file under another name: letters, digits, `_`, `-` and `.`, not empty, and
    /// none of KnowEdit's dataset names (which would mix the file's rows up with theirs).
    ///
    /// # Errors
    /// [`EvalError::BadName`] naming the file and what is wrong.
    pub fn with_name(mut self, name: impl Into<String>) -> Result<Self, EvalError> {
        let name = name.into();
        let problem = if name.is_empty() {
            Some("it is empty".to_owned())
        } else if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            || name.starts_with('.')
        {
            Some("use letters, digits, `_`, `-` and `.` only (it names folders)".to_owned())
        } else if Dataset::from_name(&name).is_ok() {
            Some("it is one of KnowEdit's dataset names".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(EvalError::BadName {
                path: self.path,
                name,
                problem,
            });
        }
        self.name = name;
        Ok(self)
    }

    /// The same file read in `format` instead of the detected one.
    pub fn with_format(mut self, format: DataFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// Reads every record; all of the file or nothing.
    ///
    /// # Errors
    /// As [`parse_edit_file`], and [`EvalError::Io`].
    pub fn load(&self) -> Result<LoadedFile, EvalError> {
        parse_edit_file(
            &self.path,
            &read_bytes(&self.path)?,
            &self.name,
            self.format,
        )
    }
}

/// The cases of a user's file and the layout they were read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedFile {
    /// The layout (given, or detected).
    pub format: DataFormat,
    /// One case per record, in file order.
    pub cases: Vec<EditCase>,
}

/// Parses the bytes of an edit file in `format`, or in the format of its first record when
/// `format` is `None`; every case is named `name`. `path` is only used in errors. The
/// KnowEdit layout requires only `subject`, `prompt` and `target_new` here (the rest is
/// optional, as in WikiData recent).
///
/// # Errors
/// [`EvalError::Json`] / [`EvalError::NotAnArray`] / [`EvalError::Empty`] for the file,
/// [`EvalError::UndetectedFormat`] if the first record is in no known layout, and
/// [`EvalError::Record`] (file, record index, field) for the first malformed record.
pub fn parse_edit_file(
    path: &Path,
    bytes: &[u8],
    name: &str,
    format: Option<DataFormat>,
) -> Result<LoadedFile, EvalError> {
    let records = records(path, bytes)?;
    let format = match format {
        Some(f) => f,
        None => DataFormat::detect(&records[0]).ok_or_else(|| EvalError::UndetectedFormat {
            path: path.to_owned(),
            keys: match &records[0] {
                serde_json::Value::Object(o) => o.keys().cloned().collect::<Vec<_>>().join(", "),
                _ => "(not an object)".to_owned(),
            },
        })?,
    };
    let cases = match format {
        DataFormat::KnowEdit => knowedit_cases(name, Required::NOTHING_OPTIONAL, path, &records),
        DataFormat::EasyEdit => easyedit_cases(name, path, &records),
        DataFormat::Counterfact => counterfact_cases(name, path, &records),
    }?;
    Ok(LoadedFile { format, cases })
}

/// Where cases come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// One of KnowEdit's datasets, its files under a data folder ([`Dataset::test_file`],
    /// [`Dataset::train_file`]).
    KnowEdit(Dataset),
    /// A user's file.
    File(EditFile),
}

impl DataSource {
    /// The dataset name of its cases and result folders.
    pub fn name(&self) -> &str {
        match self {
            DataSource::KnowEdit(d) => d.name(),
            DataSource::File(f) => &f.name,
        }
    }

    /// The KnowEdit dataset, if it is one.
    pub fn knowedit(&self) -> Option<Dataset> {
        match self {
            DataSource::KnowEdit(d) => Some(*d),
            DataSource::File(_) => None,
        }
    }

    /// The file evaluated: the dataset's test file under `data_dir`, or the user's file.
    pub fn evaluation_path(&self, data_dir: &Path) -> PathBuf {
        match self {
            DataSource::KnowEdit(d) => data_dir.join(d.test_file()),
            DataSource::File(f) => f.path.clone(),
        }
    }

    /// A file of the same data whose records are never evaluated, if there is one (only
    /// WikiData counterfact's `train_cf.json`; a user's file has none).
    pub fn train_path(&self, data_dir: &Path) -> Option<PathBuf> {
        self.knowedit()
            .and_then(Dataset::train_file)
            .map(|f| data_dir.join(f))
    }

    /// The cases of the evaluated file.
    ///
    /// # Errors
    /// As [`load_cases`](super::load_cases) or [`EditFile::load`].
    pub fn load(&self, data_dir: &Path) -> Result<Vec<EditCase>, EvalError> {
        Ok(self.load_with_format(data_dir)?.1)
    }

    /// [`DataSource::load`], with the layout a user's file was read in (given or
    /// detected); `None` for KnowEdit's datasets.
    ///
    /// # Errors
    /// As [`DataSource::load`].
    pub fn load_with_format(
        &self,
        data_dir: &Path,
    ) -> Result<(Option<DataFormat>, Vec<EditCase>), EvalError> {
        match self {
            DataSource::KnowEdit(d) => {
                Ok((None, super::load_cases(*d, self.evaluation_path(data_dir))?))
            }
            DataSource::File(f) => {
                let loaded = f.load()?;
                Ok((Some(loaded.format), loaded.cases))
            }
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::KnowEdit(d) => write!(f, "{d}"),
            DataSource::File(file) => write!(f, "{} ({})", file.name, file.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_stem_and_are_checked() {
        let f = EditFile::new("some/dir/my_edits.v2.json").unwrap();
        assert_eq!(f.name, "my_edits.v2");
        let err = EditFile::new("d/wiki_cf.json").unwrap_err().to_string();
        assert!(
            err.contains("d/wiki_cf.json") && err.contains("KnowEdit"),
            "{err}"
        );
        let err = f.clone().with_name("a b").unwrap_err().to_string();
        assert!(err.contains("`a b`") && err.contains("letters"), "{err}");
        assert!(f.clone().with_name("").is_err());
        assert!(f.with_name("../x").is_err());
    }

    #[test]
    fn undetected_layout_names_the_keys() {
        let err = parse_edit_file(Path::new("u.json"), br#"[{"question":"Q"}]"#, "u", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("u.json") && err.contains("question") && err.contains("--format"),
            "{err}"
        );
    }
}
