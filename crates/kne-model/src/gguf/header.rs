//! Parsing of the GGUF header: magic, version, metadata, tensor infos, data-section start.
//!
//! Layout (little-endian): `"GGUF"`, u32 version, u64 tensor count, u64 KV count, the KV pairs,
//! the tensor infos, padding to `general.alignment`, then the data section.

use std::collections::{BTreeMap, HashMap};

use super::GgufError;
use super::metadata::{self, MetaValue};
use super::reader::Reader;
use super::tensor_info::{self, MIN_TENSOR_INFO_SIZE, TensorInfo};

/// Alignment of the data section and of every tensor when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// The smallest encoded KV pair: empty key (8), value type (4), a one-byte value.
const MIN_KV_SIZE: u64 = 8 + 4 + 1;

/// Everything the header says, with the data section located and every tensor checked to lie
/// inside it.
#[derive(Debug)]
pub(crate) struct Header {
    pub version: u32,
    pub metadata: BTreeMap<String, MetaValue>,
    pub tensors: Vec<TensorInfo>,
    pub index: HashMap<String, usize>,
    pub alignment: u64,
    /// Absolute file offset of the data section.
    pub data_start: usize,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Header, GgufError> {
    let mut r = Reader::new(bytes);
    let magic = r.take(4, "magic")?;
    if magic != b"GGUF" {
        let mut found = [0u8; 4];
        found.copy_from_slice(magic);
        return Err(GgufError::BadMagic { found });
    }
    let version = r.u32("version")?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::UnsupportedVersion(version));
    }
    let n_tensors = r.u64("tensor count")?;
    let n_kv = r.u64("metadata count")?;

    // Counts are trusted only as far as the remaining bytes could hold that many entries.
    let n_kv = r.check_count(n_kv, MIN_KV_SIZE, "metadata")?;
    let mut metadata = BTreeMap::new();
    for _ in 0..n_kv {
        let (key, value) = metadata::read_kv(&mut r)?;
        if metadata.contains_key(&key) {
            return Err(GgufError::DuplicateKey(key));
        }
        metadata.insert(key, value);
    }
    let alignment = alignment(&metadata)?;

    let n_tensors = r.check_count(n_tensors, MIN_TENSOR_INFO_SIZE, "tensor")?;
    let mut tensors = Vec::with_capacity(n_tensors);
    let mut index = HashMap::with_capacity(n_tensors);
    for i in 0..n_tensors {
        let info = tensor_info::read_tensor_info(&mut r, i as u64, alignment)?;
        if index.insert(info.name.clone(), i).is_some() {
            return Err(GgufError::DuplicateTensor(info.name));
        }
        tensors.push(info);
    }

    // The data section starts at the next multiple of the alignment (it may be empty, or
    // absent altogether in a file without tensor data).
    let data_start = (r.pos() as u64)
        .div_ceil(alignment)
        .saturating_mul(alignment)
        .min(r.len());
    let data_len = r.len() - data_start;
    for t in &tensors {
        // n_bytes was validated when the info was read.
        let size = t.n_bytes().unwrap_or(u64::MAX);
        if t.offset.checked_add(size).is_none_or(|end| end > data_len) {
            return Err(GgufError::TensorOutOfBounds {
                tensor: t.name.clone(),
                offset: t.offset,
                size,
                data_len,
            });
        }
    }
    Ok(Header {
        version,
        metadata,
        tensors,
        index,
        alignment,
        // data_start <= file length, so it fits a usize.
        data_start: data_start as usize,
    })
}

/// `general.alignment` (any integer type), which must be a non-zero power of two.
fn alignment(metadata: &BTreeMap<String, MetaValue>) -> Result<u64, GgufError> {
    let Some(value) = metadata.get("general.alignment") else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    let a = value.as_u64().ok_or_else(|| GgufError::WrongType {
        key: "general.alignment".into(),
        expected: "an unsigned integer",
        found: value.type_name(),
    })?;
    if a == 0 || !a.is_power_of_two() {
        return Err(GgufError::BadAlignment(a));
    }
    Ok(a)
}
