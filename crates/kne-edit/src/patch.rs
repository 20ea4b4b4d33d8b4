//! A [`WeightDelta`] as a sparse safetensors patch.
//!
//! Per site `S` (named like `14.down`): `S.indices` (U32 `[n]`) + `S.values` (F32
//! `[n, neuron_len]`) for neuron deltas, or `S.dense` (F32 `[d_in, d_out]`). The header
//! metadata holds `format = kne-weight-delta/1`, `S.axis` for neuron deltas, and whatever the
//! caller adds (method, config, model checksum).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use kne_attr::NeuronAxis;
use kne_model::Site;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::{EditError, SiteDelta, WeightDelta};

const FORMAT: &str = "kne-weight-delta/1";

fn le_bytes_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl WeightDelta {
    /// Writes the patch atomically ([`kne_model::write_atomic`]); `metadata` is stored in the
    /// header next to the format tag.
    pub fn save(&self, path: &Path, metadata: &BTreeMap<String, String>) -> Result<(), EditError> {
        let err = |message: String| EditError::Patch {
            path: path.to_path_buf(),
            message,
        };
        let mut header: HashMap<String, String> = metadata.clone().into_iter().collect();
        header.insert("format".into(), FORMAT.into());
        let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for (site, delta) in &self.sites {
            match delta {
                SiteDelta::Neurons {
                    axis,
                    indices,
                    neuron_len,
                    values,
                } => {
                    let axis = match axis {
                        NeuronAxis::Out => "out",
                        NeuronAxis::In => "in",
                    };
                    header.insert(format!("{site}.axis"), axis.into());
                    let idx: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
                    buffers.push((
                        format!("{site}.indices"),
                        Dtype::U32,
                        vec![indices.len()],
                        idx,
                    ));
                    buffers.push((
                        format!("{site}.values"),
                        Dtype::F32,
                        vec![indices.len(), *neuron_len],
                        le_bytes_f32(values),
                    ));
                }
                SiteDelta::Dense {
                    d_in,
                    d_out,
                    values,
                } => {
                    buffers.push((
                        format!("{site}.dense"),
                        Dtype::F32,
                        vec![*d_in, *d_out],
                        le_bytes_f32(values),
                    ));
                }
            }
        }
        let views = buffers
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| err(format!("{name}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bytes = safetensors::serialize(views, Some(header)).map_err(|e| err(e.to_string()))?;
        kne_model::write_atomic(path, &bytes).map_err(|e| err(e.to_string()))
    }

    /// Reads a patch written by [`WeightDelta::save`]; returns the delta and the header
    /// metadata. Errors name the file and the tensor or key at fault.
    pub fn load(path: &Path) -> Result<(Self, BTreeMap<String, String>), EditError> {
        let bytes = std::fs::read(path).map_err(|e| EditError::Patch {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(path, &bytes)
    }

    /// Parses the bytes of a patch, as [`WeightDelta::load`] does after reading the file;
    /// `path` is only used in error messages (the fuzz targets call this). The delta is not
    /// checked against any model: [`WeightDelta::check`] (or `apply`) does that.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<(Self, BTreeMap<String, String>), EditError> {
        let err = |message: String| EditError::Patch {
            path: path.to_path_buf(),
            message,
        };
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| err(e.to_string()))?;
        let metadata: BTreeMap<String, String> = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        if metadata.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(err(format!(
                "not a {FORMAT} patch (header `format` is {:?})",
                metadata.get("format")
            )));
        }
        let st = SafeTensors::deserialize(bytes).map_err(|e| err(e.to_string()))?;
        let mut sites = BTreeMap::new();
        let mut index_sites = Vec::new();
        for name in st.names() {
            let (site_name, kind) = name.rsplit_once('.').ok_or_else(|| {
                err(format!(
                    "tensor `{name}`: expected SITE.indices|values|dense"
                ))
            })?;
            let site: Site = site_name
                .parse()
                .map_err(|e| err(format!("tensor `{name}`: {e}")))?;
            // One spelling per site (`0.q`, not `00.q`), so two tensors cannot name the same
            // site without the duplicate check below seeing it.
            if site.to_string() != site_name {
                return Err(err(format!(
                    "tensor `{name}`: site written `{site_name}`, expected `{site}`"
                )));
            }
            let view = st.tensor(name).map_err(|e| err(e.to_string()))?;
            let f32s = |view: &TensorView| -> Result<Vec<f32>, EditError> {
                if view.dtype() != Dtype::F32 {
                    return Err(err(format!(
                        "tensor `{name}`: dtype {:?}, expected F32",
                        view.dtype()
                    )));
                }
                Ok(view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            };
            match kind {
                "dense" => {
                    let [d_in, d_out] = view.shape() else {
                        return Err(err(format!("tensor `{name}`: expected 2 dims")));
                    };
                    let delta = SiteDelta::Dense {
                        d_in: *d_in,
                        d_out: *d_out,
                        values: f32s(&view)?,
                    };
                    insert_once(&mut sites, site, delta).map_err(err)?;
                }
                "values" => {
                    let [_, neuron_len] = view.shape() else {
                        return Err(err(format!("tensor `{name}`: expected 2 dims")));
                    };
                    let values = f32s(&view)?;
                    let idx_name = format!("{site}.indices");
                    let idx = st
                        .tensor(&idx_name)
                        .map_err(|_| err(format!("tensor `{idx_name}` is missing")))?;
                    if idx.dtype() != Dtype::U32 {
                        return Err(err(format!(
                            "tensor `{idx_name}`: dtype {:?}, expected U32",
                            idx.dtype()
                        )));
                    }
                    let indices: Vec<u32> = idx
                        .data()
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    let axis = match metadata.get(&format!("{site}.axis")).map(String::as_str) {
                        Some("out") => NeuronAxis::Out,
                        Some("in") => NeuronAxis::In,
                        other => {
                            return Err(err(format!(
                                "header `{site}.axis` is {other:?}, expected \"out\" or \"in\""
                            )));
                        }
                    };
                    // Checked: a `[0, huge]` values tensor is valid safetensors.
                    if indices.len().checked_mul(*neuron_len) != Some(values.len()) {
                        return Err(err(format!(
                            "tensor `{name}`: {} rows for {} indices",
                            values.len() / neuron_len.max(&1),
                            indices.len()
                        )));
                    }
                    let delta = SiteDelta::Neurons {
                        axis,
                        indices,
                        neuron_len: *neuron_len,
                        values,
                    };
                    insert_once(&mut sites, site, delta).map_err(err)?;
                }
                // Read with its `values`; one without them is an error below.
                "indices" => index_sites.push((name.to_string(), site)),
                other => return Err(err(format!("tensor `{name}`: unknown kind `{other}`"))),
            }
        }
        for (name, site) in index_sites {
            if !matches!(sites.get(&site), Some(SiteDelta::Neurons { .. })) {
                return Err(err(format!(
                    "tensor `{name}` has no `{site}.values` beside it"
                )));
            }
        }
        Ok((WeightDelta { sites }, metadata))
    }
}

/// Adds the delta of `site`, refusing a second one (`S.dense` and `S.values` together).
fn insert_once(
    sites: &mut BTreeMap<Site, SiteDelta>,
    site: Site,
    delta: SiteDelta,
) -> Result<(), String> {
    if sites.insert(site, delta).is_some() {
        return Err(format!("site `{site}` has both a dense and a neuron delta"));
    }
    Ok(())
}
