//! Pieces every baseline shares: PyTorch-default Adam, reading tensors back, dense site
//! deltas, the subject's last token, right-padded batches, the mean loss over batches, and
//! path resolution.

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::optim::AdamConfig;
use burn::tensor::{Int, Tensor, TensorData};
use kne_edit::loss::TargetBatch;
use kne_edit::{EditError, SiteDelta};
use kne_model::{Interventions, Llama, Site, Tokenizer};

/// Adam with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8; burn's default ε is 1e-5),
/// the optimiser EasyEdit's FT, LoRA, ROME and MEMIT all use.
pub fn torch_adam() -> AdamConfig {
    AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
}

/// The teacher-forced NLL over every batch, weighted by its rows (the per-request mean), under
/// `hooks`; `None` for no rows. Each batch comes with its hidden state at `layer`, the lowest
/// edited layer, so only the blocks from there up run.
///
/// # Shapes
/// - `chunks[i].1`: `[batch_i, seq_i, hidden]`
pub fn mean_nll(
    model: &Llama,
    chunks: &[(TargetBatch, Tensor<3>)],
    layer: usize,
    hooks: &Interventions,
) -> Option<f32> {
    let (mut sum, mut count) = (0.0f32, 0usize);
    for (batch, prefix) in chunks {
        let rows = batch.ids.dims()[0];
        sum += batch
            .nll_from(model, prefix.clone(), layer, Some(hooks))
            .into_scalar::<f32>()
            * rows as f32;
        count += rows;
    }
    (count > 0).then(|| sum / count as f32)
}

/// A tensor's values, row-major.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, EditError> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| EditError::Config(format!("reading a tensor back: {e:?}")))
}

/// A float tensor from row-major values.
pub fn from_vec<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &burn::tensor::Device,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Replaces a trainable parameter's value, keeping its id (so Adam keeps its moments) and
/// its gradient requirement.
pub fn set_param<const D: usize>(
    param: Param<Tensor<D>>,
    f: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Param<Tensor<D>> {
    param.map(|t| {
        let autodiff = t.is_autodiff();
        let value = f(t.inner());
        if autodiff {
            value.autodiff().require_grad()
        } else {
            value
        }
    })
}

/// The dense delta of `site` from row-major `[d_in, d_out]` values; errors on non-finite
/// values (a diverged optimisation) naming the site.
pub fn dense_delta(model: &Llama, site: Site, values: Vec<f32>) -> Result<SiteDelta, EditError> {
    let [d_in, d_out] = model.site(site)?.dims();
    if values.len() != d_in * d_out {
        return Err(EditError::Delta {
            site,
            message: format!("{} values for [{d_in}, {d_out}]", values.len()),
        });
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(EditError::Delta {
            site,
            message: format!("non-finite weight change {v}"),
        });
    }
    Ok(SiteDelta::Dense {
        d_in,
        d_out,
        values,
    })
}

/// Position of the subject's last token in `text`'s tokens (ROME's `subject_last` fact token):
/// the length of the tokenised text up to the end of the subject's first occurrence, minus one.
pub fn subject_last_token(
    tokenizer: &Tokenizer,
    text: &str,
    subject: &str,
) -> Result<usize, EditError> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err(EditError::Config(format!("empty subject for {text:?}")));
    }
    let start = text
        .find(subject)
        .or_else(|| {
            text.to_lowercase()
                .find(&subject.to_lowercase())
                .filter(|&s| text.is_char_boundary(s + subject.len()))
        })
        .ok_or_else(|| {
            EditError::Config(format!("subject {subject:?} does not occur in {text:?}"))
        })?;
    let n = tokenizer.encode(&text[..start + subject.len()])?.len();
    if n == 0 {
        return Err(EditError::Config(format!(
            "subject {subject:?} has no tokens in {text:?}"
        )));
    }
    Ok(n - 1)
}

/// Right-pads `rows` with token 0 to a common length (exact here: attention is causal, so
/// padding never reaches the positions read).
///
/// # Shapes
/// - → `[rows.len(), max len]`
pub fn padded_ids(model: &Llama, rows: &[Vec<u32>]) -> Result<(Tensor<2, Int>, usize), EditError> {
    let seq = rows.iter().map(Vec::len).max().unwrap_or(0);
    let padded: Vec<Vec<u32>> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.resize(seq, 0);
            r
        })
        .collect();
    Ok((model.ids_tensor(&padded)?, seq))
}

/// A `[n]` index tensor.
pub fn index_tensor(indices: &[usize], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let v: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(v, [indices.len()]), device)
}

/// `path` as is when absolute, else under the workspace root.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        kne_model::paths::workspace_root().join(path)
    }
}

/// Checks a layer list against the model and returns it sorted and deduplicated.
pub fn check_layers(model: &Llama, layers: &[usize], what: &str) -> Result<Vec<usize>, EditError> {
    let n = model.layers.len();
    if layers.is_empty() {
        return Err(EditError::Config(format!("{what}: no layers given")));
    }
    if let Some(l) = layers.iter().find(|&&l| l >= n) {
        return Err(EditError::Config(format!(
            "{what}: layer {l} is outside the model's {n} layers"
        )));
    }
    let mut sorted = layers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    Ok(sorted)
}

/// A value that must be finite and positive.
pub fn positive(name: &str, v: f64) -> Result<(), EditError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(EditError::Config(format!("{name} {v} must be positive")))
    }
}

/// A value that must be finite and non-negative.
pub fn non_negative(name: &str, v: f64) -> Result<(), EditError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(EditError::Config(format!(
            "{name} {v} must be non-negative"
        )))
    }
}
