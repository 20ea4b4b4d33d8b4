//! A minimal GGUF v2/v3 writer for the seeds: metadata as [`MetaValue`]s, tensors as raw
//! bytes, the data section and every tensor aligned.

use kne_model::gguf::{GgmlType, MetaValue};

/// A GGUF file under construction.
pub struct GgufWriter {
    version: u32,
    alignment: usize,
    metadata: Vec<(String, MetaValue)>,
    /// (name, type, ggml dims with `ne0` first, bytes)
    tensors: Vec<(String, GgmlType, Vec<u64>, Vec<u8>)>,
}

impl GgufWriter {
    /// An empty file of format `version`; tensors are aligned to `alignment` bytes (written as
    /// `general.alignment` unless it is the default 32).
    pub fn new(version: u32, alignment: usize) -> Self {
        let mut metadata = Vec::new();
        if alignment != 32 {
            metadata.push(("general.alignment".into(), MetaValue::U32(alignment as u32)));
        }
        Self {
            version,
            alignment,
            metadata,
            tensors: Vec::new(),
        }
    }

    pub fn kv(&mut self, key: &str, value: MetaValue) -> &mut Self {
        self.metadata.push((key.to_owned(), value));
        self
    }

    /// A tensor of ggml `dims` (`ne0`, the contiguous row length, first) holding `bytes`.
    pub fn tensor(&mut self, name: &str, ty: GgmlType, dims: &[u64], bytes: Vec<u8>) -> &mut Self {
        self.tensors
            .push((name.to_owned(), ty, dims.to_vec(), bytes));
        self
    }

    /// The file's bytes.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            string(&mut out, key);
            out.extend_from_slice(&type_id(value).to_le_bytes());
            encode(&mut out, value);
        }
        let mut data = Vec::new();
        for (name, ty, dims, bytes) in &self.tensors {
            string(&mut out, name);
            out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&ty.id().to_le_bytes());
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            data.extend_from_slice(bytes);
            pad(&mut data, self.alignment);
        }
        pad(&mut out, self.alignment);
        out.extend_from_slice(&data);
        out
    }
}

fn pad(bytes: &mut Vec<u8>, alignment: usize) {
    bytes.resize(bytes.len().next_multiple_of(alignment), 0);
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// GGUF's value type id (`enum gguf_type`).
fn type_id(value: &MetaValue) -> u32 {
    match value {
        MetaValue::U8(_) => 0,
        MetaValue::I8(_) => 1,
        MetaValue::U16(_) => 2,
        MetaValue::I16(_) => 3,
        MetaValue::U32(_) => 4,
        MetaValue::I32(_) => 5,
        MetaValue::F32(_) => 6,
        MetaValue::Bool(_) => 7,
        MetaValue::Str(_) => 8,
        MetaValue::Array(_) => 9,
        MetaValue::U64(_) => 10,
        MetaValue::I64(_) => 11,
        MetaValue::F64(_) => 12,
    }
}

fn encode(out: &mut Vec<u8>, value: &MetaValue) {
    match value {
        MetaValue::U8(v) => out.push(*v),
        MetaValue::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::Bool(v) => out.push(u8::from(*v)),
        MetaValue::Str(s) => string(out, s),
        MetaValue::Array(items) => {
            // An empty array loses its element type when parsed; write it as u8.
            let elem = items.first().map_or(0, type_id);
            out.extend_from_slice(&elem.to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                encode(out, item);
            }
        }
    }
}
