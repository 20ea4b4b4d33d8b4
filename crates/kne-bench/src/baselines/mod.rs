//! The five baselines of Table 1 (Appendix A.1), each a [`kne_edit::Editor`]:
//!
//! | name | editor | what changes |
//! |---|---|---|
//! | `ft` | [`FtEditor`] | one MLP down projection, unconstrained fine-tuning |
//! | `ft-l` | [`FtLEditor`] | one MLP down projection, last-prompt-token loss, L∞ clamp |
//! | `adalora` | [`AdaLoraEditor`] | q and v of every layer, adaptive-rank SVD adapters, merged |
//! | `rome` | [`RomeEditor`] | one MLP down projection, rank one per fact |
//! | `memit` | [`MemitEditor`] | the down projections of a layer range, least squares |
//!
//! Every editor leaves the model unchanged and returns dense [`kne_edit::SiteDelta`]s.
//! Hyper-parameters come from `experiments/baselines.toml` ([`load_baseline_configs`]);
//! [`build_editor`] picks a method by name. Their sources and the choices made for SmolLM2
//! are in `crates/kne-bench/BASELINES.md`.

pub mod adalora;
pub mod common;
pub mod context;
pub mod finetune;
pub mod ft;
pub mod ft_l;
pub mod kv;
pub mod linalg;
pub mod memit;
pub mod rng;
pub mod rome;
pub mod stats;

use std::path::{Path, PathBuf};

use kne_edit::{EditError, Editor};
use serde::{Deserialize, Serialize};

pub use adalora::{AdaLoraConfig, AdaLoraEditor};
pub use ft::{FtConfig, FtEditor};
pub use ft_l::{FtLConfig, FtLEditor, NormConstraint};
pub use memit::{MemitConfig, MemitEditor};
pub use rome::{RomeConfig, RomeEditor, RomeTrace};
pub use stats::{LayerStats, Mom2Config, second_moments};

/// The method names [`build_editor`] accepts.
pub const BASELINE_METHODS: [&str; 5] = ["ft", "ft-l", "adalora", "rome", "memit"];

/// The hyper-parameters of every baseline: one table per method in `experiments/baselines.toml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfigs {
    #[serde(default)]
    pub ft: FtConfig,
    #[serde(default)]
    pub ft_l: FtLConfig,
    #[serde(default)]
    pub adalora: AdaLoraConfig,
    #[serde(default)]
    pub rome: RomeConfig,
    #[serde(default)]
    pub memit: MemitConfig,
}

impl BaselineConfigs {
    /// Validates every table.
    pub fn validate(&self) -> Result<(), EditError> {
        self.ft.validate()?;
        self.ft_l.validate()?;
        self.adalora.validate()?;
        self.rome.validate()?;
        self.memit.validate()
    }
}

/// Loading a config or choosing a method failed.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "unknown method `{0}` (expected one of ft, ft-l, adalora, rome, memit; kne is built by kne-edit)"
    )]
    UnknownMethod(String),
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// Reads and validates `experiments/baselines.toml` (or any file of that shape). Missing
/// tables and fields take the documented defaults; unknown ones are errors.
pub fn load_baseline_configs(path: &Path) -> Result<BaselineConfigs, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let configs: BaselineConfigs = toml::from_str(&text).map_err(|e| BaselineError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    configs.validate().map_err(|e| BaselineError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(configs)
}

/// The default config file: `<workspace>/experiments/baselines.toml`.
pub fn default_config_path() -> PathBuf {
    kne_model::paths::workspace_root()
        .join("experiments")
        .join("baselines.toml")
}

/// The editor of `method` (`ft`, `ft-l`, `adalora`, `rome`, `memit`; `ft_l` is accepted for
/// `ft-l`) with its table of `configs`. Relative paths in the configs (the second-moment
/// corpus and cache) are taken under `root` (the workspace root).
pub fn build_editor(
    method: &str,
    configs: &BaselineConfigs,
    root: &Path,
) -> Result<Box<dyn Editor>, BaselineError> {
    Ok(match method.to_ascii_lowercase().as_str() {
        "ft" => Box::new(FtEditor::new(configs.ft.clone())?),
        "ft-l" | "ft_l" => Box::new(FtLEditor::new(configs.ft_l.clone())?),
        "adalora" => Box::new(AdaLoraEditor::new(configs.adalora.clone())?),
        "rome" => {
            let mut c = configs.rome.clone();
            c.mom2 = c.mom2.under(root);
            Box::new(RomeEditor::new(c)?)
        }
        "memit" => {
            let mut c = configs.memit.clone();
            c.mom2 = c.mom2.under(root);
            Box::new(MemitEditor::new(c)?)
        }
        _ => return Err(BaselineError::UnknownMethod(method.to_string())),
    })
}
