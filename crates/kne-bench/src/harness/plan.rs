//! The cells of an experiment: one per method, or one per value of a KNE sweep.

use anyhow::{Context, Result, bail};
use kne_model::ModuleKind;
use serde::{Deserialize, Serialize};

use super::experiment::{Experiment, KneSettings};

/// One column of a table or one point of a figure: a method with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Unique within the experiment; also the folder name (`kne`, `p=0.01`, `module=down`).
    pub label: String,
    /// `kne` or a baseline name.
    pub method: String,
    /// KNE's settings (ignored by baselines, and left out of their config hash).
    pub kne: KneSettings,
    pub batch_size: usize,
    /// The swept value as text, for plots.
    pub sweep_value: Option<String>,
}

/// The experiment's cells; `full` switches to the full localization size.
pub fn cells(experiment: &Experiment, full: bool) -> Result<Vec<Cell>> {
    let mut kne = experiment.kne.clone();
    if full {
        kne.localize = kne.full_localize.unwrap_or(kne.localize);
    }
    let Some(sweep) = &experiment.sweep else {
        return Ok(experiment
            .methods
            .iter()
            .map(|m| Cell {
                label: m.clone(),
                method: m.clone(),
                kne: kne.clone(),
                batch_size: experiment.batch_size,
                sweep_value: None,
            })
            .collect());
    };
    let mut out = Vec::new();
    for value in &sweep.values {
        let mut cell = Cell {
            label: String::new(),
            method: "kne".into(),
            kne: kne.clone(),
            batch_size: experiment.batch_size,
            sweep_value: None,
        };
        let text = match sweep.parameter.as_str() {
            "p" => {
                let p = value
                    .as_float()
                    .context("sweep value for `p` must be a number")?;
                cell.kne.p = p;
                format!("{p}")
            }
            "localize" => {
                let n = as_count(value).context("sweep value for `localize`")?;
                cell.kne.localize = n;
                format!("{n}")
            }
            "batch_size" => {
                let n = as_count(value).context("sweep value for `batch_size`")?;
                cell.batch_size = n;
                format!("{n}")
            }
            "module" => {
                let name = value
                    .as_str()
                    .context("sweep value for `module` must be a string")?;
                let module: ModuleKind = name.parse()?;
                cell.kne.attribution.modules = vec![module];
                name.to_string()
            }
            other => bail!("unknown sweep parameter `{other}`"),
        };
        cell.label = format!("{}={text}", sweep.parameter);
        cell.sweep_value = Some(text);
        out.push(cell);
    }
    Ok(out)
}

fn as_count(value: &toml::Value) -> Result<usize> {
    let n = value.as_integer().context("expected an integer")?;
    if n < 1 {
        bail!("expected a positive integer, got {n}");
    }
    Ok(n as usize)
}
