//! HF safetensors (one file or an index of shards) as a [`TensorSource`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use super::{DenseTensor, TensorSource};
use crate::ModelError;

/// The raw bytes of every shard, and which shard holds which tensor.
pub struct SafetensorsSource {
    path: PathBuf,
    shards: Vec<(PathBuf, Vec<u8>)>,
    index: BTreeMap<String, usize>,
}

impl SafetensorsSource {
    /// `model.safetensors`, or the shards listed by `model.safetensors.index.json`.
    pub fn open_dir(dir: &Path) -> Result<Self, ModelError> {
        let single = dir.join("model.safetensors");
        let index_file = dir.join("model.safetensors.index.json");
        let files: Vec<PathBuf> = if single.exists() {
            vec![single]
        } else if index_file.exists() {
            let text = read(&index_file).and_then(|b| {
                String::from_utf8(b).map_err(|e| format_err(&index_file, e.to_string()))
            })?;
            let index: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format_err(&index_file, e.to_string()))?;
            let map = index
                .get("weight_map")
                .and_then(|m| m.as_object())
                .ok_or_else(|| format_err(&index_file, "no `weight_map` object".into()))?;
            let mut names: Vec<&str> = map.values().filter_map(|v| v.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.into_iter().map(|n| dir.join(n)).collect()
        } else {
            return Err(format_err(
                dir,
                "neither model.safetensors nor model.safetensors.index.json found".into(),
            ));
        };
        Self::open_files(dir, &files)
    }

    /// Reads the given shard files.
    pub fn open_files(path: &Path, files: &[PathBuf]) -> Result<Self, ModelError> {
        let mut source = Self::empty(path);
        for file in files {
            source.add_shard(file, read(file)?)?;
        }
        Ok(source)
    }

    /// One safetensors file held in memory; `file` is only used in error messages (the fuzz
    /// targets call this).
    pub fn from_bytes(file: &Path, bytes: Vec<u8>) -> Result<Self, ModelError> {
        let mut source = Self::empty(file);
        source.add_shard(file, bytes)?;
        Ok(source)
    }

    fn empty(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            shards: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    /// Parses one shard's header and indexes its tensor names.
    fn add_shard(&mut self, file: &Path, bytes: Vec<u8>) -> Result<(), ModelError> {
        let names: Vec<String> = SafeTensors::deserialize(&bytes)
            .map_err(|e| format_err(file, e.to_string()))?
            .names()
            .into_iter()
            .map(str::to_string)
            .collect();
        for name in names {
            self.index.insert(name, self.shards.len());
        }
        self.shards.push((file.to_path_buf(), bytes));
        Ok(())
    }

    /// Names of every tensor, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }
}

impl TensorSource for SafetensorsSource {
    fn get(&self, hf_name: &str) -> Result<Option<DenseTensor>, ModelError> {
        let Some(&shard) = self.index.get(hf_name) else {
            return Ok(None);
        };
        let (file, bytes) = &self.shards[shard];
        let st = SafeTensors::deserialize(bytes).map_err(|e| format_err(file, e.to_string()))?;
        let view = st
            .tensor(hf_name)
            .map_err(|e| format_err(file, format!("{hf_name}: {e}")))?;
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(format_err(
                    file,
                    format!("{hf_name}: dtype {other:?} is not supported (F32, F16, BF16)"),
                ));
            }
        };
        Ok(Some((view.shape().to_vec(), values)))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn format_err(path: &Path, message: String) -> ModelError {
    ModelError::Format {
        path: path.to_path_buf(),
        message,
    }
}
