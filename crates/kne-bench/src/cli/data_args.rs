//! The data a command reads: one of KnowEdit's datasets (`--dataset`) or a researcher's own
//! edit file (`--data FILE`, in any [`DataFormat`]).

use std::path::PathBuf;

use anyhow::{Result, ensure};
use clap::Args;
use kne_eval::data::{DataFormat, DataSource, Dataset, EditCase, EditFile, default_data_dir};

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// KnowEdit dataset: zsre, wiki_cf or wiki_recent.
    #[arg(long, required_unless_present = "data", conflicts_with = "data")]
    dataset: Option<Dataset>,
    /// Your own edit file instead: KnowEdit JSON, EasyEdit's flat JSON (ZsRE/CounterFact
    /// style) or ROME's CounterFact JSON, recognised from its first record.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Read `--data` in this layout instead of the detected one: knowedit, easyedit or
    /// counterfact.
    #[arg(long, requires = "data")]
    format: Option<DataFormat>,
    /// The dataset name of `--data`'s cases and rows (default: the file stem).
    #[arg(long, requires = "data")]
    name: Option<String>,
    /// KnowEdit data folder (holding ZsRE/, wiki_counterfact/, wiki_recent/).
    /// Default: $KNE_DATA, else data/knowedit, else ../shared/datasets/knowedit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// A [`DataArgs`] resolved: what it names, the file evaluated, and its cases.
pub struct LoadedData {
    pub source: DataSource,
    pub file: PathBuf,
    /// The layout a `--data` file was read in (given or detected); `None` for KnowEdit's.
    pub format: Option<DataFormat>,
    pub cases: Vec<EditCase>,
}

impl DataArgs {
    /// The source the arguments name (clap guarantees exactly one of `--dataset`, `--data`).
    pub fn source(&self) -> Result<DataSource> {
        match (&self.dataset, &self.data) {
            (Some(d), _) => Ok(DataSource::KnowEdit(*d)),
            (None, Some(path)) => {
                let mut file = EditFile::new(path)?;
                if let Some(name) = &self.name {
                    file = file.with_name(name)?;
                }
                if let Some(format) = self.format {
                    file = file.with_format(format);
                }
                Ok(DataSource::File(file))
            }
            (None, None) => anyhow::bail!("pass --dataset or --data FILE"),
        }
    }

    /// The KnowEdit data folder.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// The evaluated file, checked to exist, and every case in it; nothing is half-loaded.
    pub fn load(&self) -> Result<LoadedData> {
        let source = self.source()?;
        let file = source.evaluation_path(&self.data_dir());
        ensure!(
            file.is_file(),
            "dataset file {} not found{}",
            file.display(),
            match source {
                DataSource::KnowEdit(_) => {
                    " (fetch the data with `cargo xtask fetch-data`, or pass --data-dir / set KNE_DATA)"
                }
                DataSource::File(_) => "",
            }
        );
        let (format, cases) = source.load_with_format(&self.data_dir())?;
        Ok(LoadedData {
            source,
            file,
            format,
            cases,
        })
    }
}
