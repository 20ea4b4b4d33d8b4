//! An experiment as data: everything a table or figure of the paper varies lives in
//! `experiments/<name>.toml`, never in code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use kne_attr::{AttributionConfig, SelectionScope};
use kne_edit::KneConfig;
use kne_eval::metrics::GenerationConfig;
use serde::{Deserialize, Serialize};

/// One `experiments/*.toml` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Folder name under `results/` (e.g. `table1`).
    pub name: String,
    /// Heading of the report.
    pub title: String,
    /// `zsre`, `wiki_cf`, `wiki_recent`.
    pub datasets: Vec<String>,
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
    pub eval: EvalSettings,
    pub kne: KneSettings,
    /// Baseline hyper-parameters (relative to the workspace root).
    #[serde(default = "default_baselines")]
    pub baselines: PathBuf,
    #[serde(default)]
    pub sweep: Option<Sweep>,
    /// The paper's numbers, `paper.<dataset>.<cell>.<metric>`, shown beside ours.
    #[serde(default)]
    pub paper: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
}

fn one() -> usize {
    1
}

fn default_baselines() -> PathBuf {
    PathBuf::from("experiments/baselines.toml")
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
    /// Facts the ensemble is localized on: the first `localize` cases of the dataset
    /// (the paper localizes about 200, a quarter of WikiData counterfact).
    pub localize: usize,
    /// `localize` with `--full`.
    #[serde(default)]
    pub full_localize: Option<usize>,
    pub attribution: AttributionConfig,
    pub edit: KneConfig,
}

impl KneSettings {
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
    /// `p`, `localize`, `module` or `batch_size`.
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

    fn validate(&self) -> Result<()> {
        if self.datasets.is_empty() {
            bail!("field `datasets` is empty");
        }
        for d in &self.datasets {
            kne_eval::data::Dataset::from_name(d)
                .with_context(|| format!("field `datasets`: `{d}`"))?;
        }
        if self.cases == 0 {
            bail!("field `cases` must be at least 1");
        }
        if self.batch_size == 0 {
            bail!("field `batch_size` must be at least 1");
        }
        self.kne.validate("kne.")?;
        match &self.sweep {
            Some(sweep) => {
                if !["p", "localize", "module", "batch_size"].contains(&sweep.parameter.as_str()) {
                    bail!(
                        "field `sweep.parameter` = `{}` (expected p, localize, module or batch_size)",
                        sweep.parameter
                    );
                }
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
