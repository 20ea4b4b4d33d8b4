//! [`GgufFile`]: a parsed GGUF file that owns its bytes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::header::{self, Header};
use super::{GgufError, MetaValue, TensorInfo, dequant};
use crate::ModelError;

/// A GGUF file read into memory and parsed: metadata, tensor infos and the data section.
///
/// Parsing checks every length and offset against the file size, so once a `GgufFile`
/// exists every tensor's bytes are known to be inside the file.
#[derive(Debug)]
pub struct GgufFile {
    bytes: Vec<u8>,
    version: u32,
    metadata: BTreeMap<String, MetaValue>,
    tensors: Vec<TensorInfo>,
    index: HashMap<String, usize>,
    alignment: u64,
    data_start: usize,
}

impl GgufFile {
    /// Reads and parses the file at `path`.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(bytes).map_err(|source| ModelError::Gguf {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Parses a whole file held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GgufError> {
        let Header {
            version,
            metadata,
            tensors,
            index,
            alignment,
            data_start,
        } = header::parse(&bytes)?;
        Ok(Self {
            bytes,
            version,
            metadata,
            tensors,
            index,
            alignment,
            data_start,
        })
    }

    /// GGUF format version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of the data section and tensors (`general.alignment`, default 32).
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Absolute file offset where the tensor data section starts.
    pub fn data_offset(&self) -> u64 {
        self.data_start as u64
    }

    /// All metadata, sorted by key.
    pub fn metadata(&self) -> &BTreeMap<String, MetaValue> {
        &self.metadata
    }

    /// One metadata value.
    pub fn meta(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.get(key)
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        expected: &'static str,
        get: impl FnOnce(&'a MetaValue) -> Option<T>,
    ) -> Result<T, GgufError> {
        let value = self
            .meta(key)
            .ok_or_else(|| GgufError::MissingKey(key.to_owned()))?;
        get(value).ok_or_else(|| GgufError::WrongType {
            key: key.to_owned(),
            expected,
            found: value.type_name(),
        })
    }

    /// An integer of any type, as long as it is non-negative.
    pub fn meta_u64(&self, key: &str) -> Result<u64, GgufError> {
        self.typed(key, "a non-negative integer", MetaValue::as_u64)
    }

    /// An `f32` or `f64` (narrowed).
    pub fn meta_f32(&self, key: &str) -> Result<f32, GgufError> {
        self.typed(key, "a float", MetaValue::as_f32)
    }

    pub fn meta_str(&self, key: &str) -> Result<&str, GgufError> {
        self.typed(key, "a string", MetaValue::as_str)
    }

    pub fn meta_bool(&self, key: &str) -> Result<bool, GgufError> {
        self.typed(key, "a bool", MetaValue::as_bool)
    }

    /// An array (of any element type).
    pub fn meta_array(&self, key: &str) -> Result<&[MetaValue], GgufError> {
        self.typed(key, "an array", MetaValue::as_array)
    }

    /// Tensor infos in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.index.get(name).map(|&i| &self.tensors[i])
    }

    fn info_or_err(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.tensor_info(name)
            .ok_or_else(|| GgufError::TensorNotFound(name.to_owned()))
    }

    /// The raw (possibly quantised) bytes of a tensor.
    pub fn tensor_bytes(&self, name: &str) -> Result<&[u8], GgufError> {
        let info = self.info_or_err(name)?;
        // Parsing checked offset + size <= data length, so these fit and are in bounds.
        let too_large = || GgufError::TooLargeForPlatform(name.to_owned());
        let start = usize::try_from(info.offset).map_err(|_| too_large())?;
        let size =
            usize::try_from(info.n_bytes().ok_or_else(too_large)?).map_err(|_| too_large())?;
        let start = self.data_start + start;
        self.bytes
            .get(start..start + size)
            .ok_or_else(|| GgufError::TensorOutOfBounds {
                tensor: name.to_owned(),
                offset: info.offset,
                size: size as u64,
                data_len: (self.bytes.len() - self.data_start) as u64,
            })
    }

    /// Dequantised values and the shape in PyTorch/row-major order (ggml dims reversed:
    /// `ne = [in, out]` -> `[out, in]`).
    ///
    /// The output is at most 7.2 times the tensor's bytes (Q4_0: 18 bytes -> 32 f32s), which
    /// parsing checked are in the file, so a lying shape cannot make it allocate more.
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), GgufError> {
        let info = self.info_or_err(name)?;
        if !dequant::is_supported(info.ggml_type) {
            return Err(GgufError::UnsupportedDequant {
                tensor: name.to_owned(),
                ty: info.ggml_type,
            });
        }
        let too_large = || GgufError::TooLargeForPlatform(name.to_owned());
        let shape = info.shape().ok_or_else(too_large)?;
        let n = info
            .n_elements()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(too_large)?;
        let values = dequant::dequantize(name, info.ggml_type, self.tensor_bytes(name)?, n)?;
        Ok((shape, values))
    }
}
