//! The cells of an experiment: one per method, or one per value of a KNE sweep; with
//! `[[models]]`, that for each model in turn.

use anyhow::{Context, Result, bail};
use kne_model::ModuleKind;
use serde::{Deserialize, Serialize};

use super::experiment::{Experiment, KneSettings, ModelEntry};
use super::split::LocalizeFrom;

/// The method name of KNE localized transductively (on the first evaluated cases).
pub const TRANSDUCTIVE_KNE: &str = "kne-transductive";

/// One column of a table or one point of a figure: a method with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Unique within the experiment; also the folder name (`kne`, `p=0.01`, `module=down`;
    /// `kne@gemma3-270m` when the experiment names its models).
    pub label: String,
    /// The key of the experiment's `[[models]]` entry the cell runs on; `None` when the
    /// experiment runs on the model given to the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `kne` or a baseline name.
    pub method: String,
    /// KNE's settings (ignored by baselines, and left out of their config hash).
    pub kne: KneSettings,
    pub batch_size: usize,
    /// The swept value as text, for plots.
    pub sweep_value: Option<String>,
}

/// The experiment's cells, model by model; `full` switches to the full localization size.
pub fn cells(experiment: &Experiment, full: bool) -> Result<Vec<Cell>> {
    if experiment.models.is_empty() {
        return cells_with(experiment, experiment.kne.clone(), full);
    }
    let mut out = Vec::new();
    for model in &experiment.models {
        let kne = model_kne(experiment, model)?;
        for mut cell in cells_with(experiment, kne, full)? {
            cell.label = format!("{}@{}", cell.label, model.key);
            cell.model = Some(model.key.clone());
            out.push(cell);
        }
    }
    Ok(out)
}

/// The experiment's `[kne]` with the model's `[models.kne]` merged into it, table by table
/// (a field the override names replaces the experiment's; unknown fields are errors).
pub fn model_kne(experiment: &Experiment, model: &ModelEntry) -> Result<KneSettings> {
    let Some(overrides) = &model.kne else {
        return Ok(experiment.kne.clone());
    };
    let mut merged = toml::Table::try_from(&experiment.kne).context("serializing `kne`")?;
    merge_tables(&mut merged, overrides);
    merged
        .try_into()
        .with_context(|| format!("field `models.kne` of model `{}`", model.key))
}

/// Writes `overrides` into `base`, recursing into tables both have.
fn merge_tables(base: &mut toml::Table, overrides: &toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The cells of one model's settings.
fn cells_with(experiment: &Experiment, mut kne: KneSettings, full: bool) -> Result<Vec<Cell>> {
    if full {
        kne.localize = kne.full_localize.unwrap_or(kne.localize);
    }
    let Some(sweep) = &experiment.sweep else {
        return Ok(experiment
            .methods
            .iter()
            .map(|m| {
                let mut cell = Cell {
                    label: m.clone(),
                    model: None,
                    method: m.clone(),
                    kne: kne.clone(),
                    batch_size: experiment.batch_size,
                    sweep_value: None,
                };
                // KNE with its ensemble localized on the evaluated cases, the paper's
                // apparent reading, shown beside the disjoint `kne` row.
                if m == TRANSDUCTIVE_KNE {
                    cell.method = "kne".into();
                    cell.kne.localize_from = LocalizeFrom::Transductive;
                }
                cell
            })
            .collect());
    };
    let mut out = Vec::new();
    for value in &sweep.values {
        let mut cell = Cell {
            label: String::new(),
            model: None,
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
            "settings" => {
                let overrides = value
                    .as_table()
                    .context("sweep values for `settings` must be tables of [kne] settings")?;
                let mut table = toml::Table::try_from(&cell.kne).context("serializing `kne`")?;
                merge_tables(&mut table, overrides);
                cell.kne = table
                    .try_into()
                    .with_context(|| format!("sweep value {value}"))?;
                settings_label(overrides)
            }
            path => {
                cell.kne = with_setting(&cell.kne, path, value)
                    .with_context(|| format!("sweep parameter `{path}`"))?;
                match value {
                    toml::Value::String(s) => s.clone(),
                    v => v.to_string(),
                }
            }
        };
        cell.label = if sweep.parameter == "settings" {
            text.clone()
        } else {
            format!("{}={text}", sweep.parameter)
        };
        cell.sweep_value = Some(text);
        out.push(cell);
    }
    Ok(out)
}

/// `scope=per_module,attribution.modules=down`: a folder-safe label of a settings override.
fn settings_label(overrides: &toml::Table) -> String {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(t) => walk(&path, t, out),
                toml::Value::String(s) => out.push(format!("{path}={s}")),
                toml::Value::Array(items) => {
                    let items: Vec<String> = items
                        .iter()
                        .map(|v| v.as_str().map_or(v.to_string(), String::from))
                        .collect();
                    out.push(format!("{path}={}", items.join("+")));
                }
                v => out.push(format!("{path}={v}")),
            }
        }
    }
    let mut parts = Vec::new();
    walk("", overrides, &mut parts);
    parts.join(",")
}

/// `kne` with the setting at the dotted `path` (`edit.learning_rate`, `scope`,
/// `attribution.steps`) replaced by `value`; a path that names no setting is an error.
fn with_setting(kne: &KneSettings, path: &str, value: &toml::Value) -> Result<KneSettings> {
    let mut table = toml::Table::try_from(kne).context("serializing `kne`")?;
    let keys: Vec<&str> = path.split('.').collect();
    let (last, parents) = keys.split_last().context("empty path")?;
    let mut at = &mut table;
    for key in parents {
        at = at
            .get_mut(*key)
            .and_then(|v| v.as_table_mut())
            .with_context(|| format!("`kne.{path}` names no setting (no table `{key}`)"))?;
    }
    if !at.contains_key(*last) {
        bail!("`kne.{path}` names no setting");
    }
    at.insert((*last).to_string(), value.clone());
    table
        .try_into()
        .with_context(|| format!("`kne.{path}` = {value}"))
}

fn as_count(value: &toml::Value) -> Result<usize> {
    let n = value.as_integer().context("expected an integer")?;
    if n < 1 {
        bail!("expected a positive integer, got {n}");
    }
    Ok(n as usize)
}
