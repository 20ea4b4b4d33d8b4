//! An experiment as data: everything a table or figure of the paper varies lives in
//! `experiments/<name>.toml`, never in code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use kne_attr::{AttributionConfig, SelectionScope};
use kne_edit::KneConfig;
use kne_eval::data::{DataSource, Dataset};
use kne_eval::metrics::GenerationConfig;
use serde::{Deserialize, Serialize};

use super::data_file::DataFile;
use super::split::{EvaluatedFile, LocalizeFrom};

/// One `experiments/*.toml` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Folder name under `results/` (e.g. `table1`).
    pub name: String,
    /// Heading of the report.
    pub title: String,
    /// `zsre`, `wiki_cf`, `wiki_recent` (may be empty when `data` names a file).
    #[serde(default)]
    pub datasets: Vec<String>,
    /// A researcher's own edit file, run after `datasets` ([`DataFile`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataFile>,
    /// Methods, in report order: `ft`, `ft-l`, `adalora`, `rome`, `memit`, `kne`. With a
    /// `[sweep]`, the sweep's KNE variants are the cells and this list is ignored.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Cases per dataset in the default (quick) run; `--full` uses `full_cases`.
    pub cases: usize,
    /// Cases per dataset with `--full` (0 = every case).
    #[serde(default)]
    pub full_cases: usize,
    /// Cases edited together (EasyEdit's KnowEdit runs: 1, each case on the restored model).
    #[serde(default = "one")]
    pub batch_size: usize,
    /// Seed of every random choice (sampling for fluency).
    #[serde(default)]
    pub seed: u64,
    /// Records reserved at the end of each evaluation file for localization, never
    /// evaluated by any cell, on datasets where a KNE cell localizes from `holdout`
    /// (`split.rs`). The paper localizes on about 200 facts.
    #[serde(default = "default_holdout")]
    pub holdout: usize,
    /// The file evaluated: `test` (tables, the default) or `train` (tuning experiments,
    /// `experiments/tune-*.toml`; only WikiData counterfact has one).
    #[serde(default)]
    pub evaluate: EvaluatedFile,
    pub eval: EvalSettings,
    pub kne: KneSettings,
    /// Baseline hyper-parameters (relative to the workspace root).
    #[serde(default = "default_baselines")]
    pub baselines: PathBuf,
    #[serde(default)]
    pub sweep: Option<Sweep>,
    /// The models to run on, in report order (Table 2: two model families). Empty: the
    /// model given to the run (`kne reproduce --model`, the default SmolLM2).
    #[serde(default)]
    pub models: Vec<ModelEntry>,
    /// The paper's numbers, `paper.<dataset>.<cell>.<metric>`, shown beside ours.
    #[serde(default)]
    pub paper: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    /// EasyEdit's corrected numbers for the same methods (its README since 2024-11,
    /// METHODS.md §6.2), `easyedit.<dataset>.<cell>.<metric>`, shown beside the paper's.
    #[serde(default)]
    pub easyedit: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    /// Column headings of the report, by cell label (`ft = "FT-M"`); default: the label.
    #[serde(default)]
    pub headings: BTreeMap<String, String>,
    /// Sentences added to the report's caption (stand-ins, departures, what a reference is).
    #[serde(default)]
    pub notes: Vec<String>,
}

fn one() -> usize {
    1
}

fn default_holdout() -> usize {
    200
}

fn default_baselines() -> PathBuf {
    PathBuf::from("experiments/baselines.toml")
}

/// One model of an experiment that names its models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Short name, used in cell labels and folder names (`gemma3-270m` → `kne@gemma3-270m`).
    pub key: String,
    /// Heading in reports (`Gemma-3-270M`).
    pub name: String,
    /// GGUF file or HF folder, relative to the workspace root (or absolute).
    pub path: PathBuf,
    /// Overrides of the experiment's `[kne]` for this model, merged table by table
    /// (`[models.kne.edit] learning_rate = 3e-4`); settings tuned on one model need not
    /// suit another.
    #[serde(default)]
    pub kne: Option<toml::Table>,
    /// Baseline hyper-parameters for this model (their layer indices depend on the depth);
    /// default: the experiment's `baselines`.
    #[serde(default)]
    pub baselines: Option<PathBuf>,
}

/// How edited models are scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSettings {
    /// Fluency generation (EasyEdit: top-5 sampling, 100 tokens in all, no EOS stop);
    /// absent = no fluency.
    #[serde(default)]
    pub generation: Option<GenerationConfig>,
}

/// KNE's localization and editing settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KneSettings {
    /// Fraction of attributed neurons in the ensemble (Eq. 6; the paper's ensembles cover
    /// about 1 % of the parameters).
    pub p: f64,
    #[serde(default)]
    pub scope: SelectionScope,
    /// How many facts the ensemble is localized on (the paper: about 200, a quarter of
    /// WikiData counterfact).
    pub localize: usize,
    /// Where those facts come from: `disjoint` (default), `train`, `holdout` or
    /// `transductive` ([`LocalizeFrom`]).
    #[serde(default)]
    pub localize_from: LocalizeFrom,
    /// `localize` with `--full`.
    #[serde(default)]
    pub full_localize: Option<usize>,
    pub attribution: AttributionConfig,
    pub edit: KneConfig,
}

impl KneSettings {
    /// Reads and checks a KNE settings file (`experiments/kne-default.toml`); errors name
    /// the file and field.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let settings: KneSettings = toml::from_str(&text)
            .with_context(|| format!("{}: invalid KNE settings", path.display()))?;
        settings
            .validate("")
            .with_context(|| format!("{}: invalid KNE settings", path.display()))?;
        Ok(settings)
    }

    /// Checks what can be checked without the model; errors name the field, after
    /// `prefix` (`kne.` in an experiment file, empty in a settings file of its own).
    /// Layers are checked against the model when it is loaded.
    pub fn validate(&self, prefix: &str) -> Result<()> {
        if !(self.p > 0.0 && self.p < 1.0) {
            bail!("field `{prefix}p` = {} is outside (0, 1)", self.p);
        }
        if self.localize == 0 || self.full_localize == Some(0) {
            bail!("fields `{prefix}localize` and `{prefix}full_localize` must be at least 1");
        }
        if self.attribution.steps == 0 {
            bail!("field `{prefix}attribution.steps` must be at least 1");
        }
        if self.attribution.modules.is_empty() {
            bail!("field `{prefix}attribution.modules` is empty");
        }
        self.edit
            .validate()
            .with_context(|| format!("field `{prefix}edit`"))?;
        Ok(())
    }
}

/// A one-parameter sweep of KNE (figures 2, B.3, B.4, B.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// `p`, `localize`, `module`, `batch_size`, the dotted path of any other `[kne]`
    /// setting (`edit.learning_rate`, `scope`, `attribution.steps`, `localize_from`), or
    /// `settings`, whose values are tables merged into `[kne]`
    /// (`{ scope = "per_module" }`, `{ attribution = { modules = ["down"] } }`).
    pub parameter: String,
    /// The values, in plot order.
    pub values: Vec<toml::Value>,
}

impl Experiment {
    /// Reads and checks an experiment file; errors name the file and field.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read experiment {}", path.display()))?;
        let experiment: Experiment = toml::from_str(&text)
            .with_context(|| format!("{}: invalid experiment", path.display()))?;
        experiment
            .validate()
            .with_context(|| format!("{}: invalid experiment", path.display()))?;
        Ok(experiment)
    }

    /// The names of what it evaluates, in report order: `datasets`, then `data`'s name.
    pub fn dataset_names(&self) -> Vec<String> {
        let mut names = self.datasets.clone();
        names.extend(self.data.as_ref().map(DataFile::name));
        names
    }

    /// What it evaluates, in [`Experiment::dataset_names`] order; `data`'s path is resolved
    /// against `root`.
    pub fn sources(&self, root: &Path) -> Result<Vec<DataSource>> {
        let mut sources = self
            .datasets
            .iter()
            .map(|d| {
                Dataset::from_name(d)
                    .map(DataSource::KnowEdit)
                    .with_context(|| format!("field `datasets`: `{d}`"))
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(data) = &self.data {
            sources.push(data.source(root)?);
        }
        Ok(sources)
    }

    fn validate(&self) -> Result<()> {
        if self.datasets.is_empty() && self.data.is_none() {
            bail!("fields `datasets` and `data` are both empty: nothing to evaluate");
        }
        if let Some(data) = &self.data {
            data.validate()?;
        }
        self.sources(Path::new(""))?;
        let names = self.dataset_names();
        if let Some(twice) = names
            .iter()
            .find(|n| names.iter().filter(|m| m == n).count() > 1)
        {
            bail!("field `datasets`: `{twice}` appears twice");
        }
        if self.cases == 0 {
            bail!("field `cases` must be at least 1");
        }
        if self.batch_size == 0 {
            bail!("field `batch_size` must be at least 1");
        }
        self.kne.validate("kne.")?;
        let mut keys = std::collections::BTreeSet::new();
        for model in &self.models {
            let ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
            if model.key.is_empty() || !model.key.chars().all(ok) {
                bail!(
                    "field `models.key` = `{}`: use letters, digits, `-`, `_` or `.` (it names folders)",
                    model.key
                );
            }
            if !keys.insert(&model.key) {
                bail!("field `models.key`: `{}` appears twice", model.key);
            }
            super::plan::model_kne(self, model)?
                .validate("models.kne.")
                .with_context(|| format!("model `{}`", model.key))?;
        }
        match &self.sweep {
            Some(sweep) => {
                if sweep.values.is_empty() {
                    bail!("field `sweep.values` is empty");
                }
                // Every swept value must make valid settings (e.g. p inside (0, 1)).
                for cell in super::plan::cells(self, false).context("field `sweep.values`")? {
                    cell.kne
                        .validate("kne.")
                        .with_context(|| format!("field `sweep.values`: cell `{}`", cell.label))?;
                }
            }
            None => {
                if self.methods.is_empty() {
                    bail!("field `methods` is empty (and there is no [sweep])");
                }
            }
        }
        Ok(())
    }
}
