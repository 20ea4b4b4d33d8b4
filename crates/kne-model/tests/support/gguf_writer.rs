//! A little-endian GGUF writer for hand-made (valid or hostile) files, shared by the
//! reader tests (`gguf_reader.rs`) and the lying-header tests (`lying_headers.rs`).

#![allow(dead_code)]

/// The bytes written so far; every method appends and returns the writer.
#[derive(Default, Clone)]
pub struct W(pub Vec<u8>);

impl W {
    /// Magic, `version`, and the two counts (which may lie).
    pub fn header(version: u32, n_tensors: u64, n_kv: u64) -> Self {
        W::default()
            .bytes(b"GGUF")
            .u32(version)
            .u64(n_tensors)
            .u64(n_kv)
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    /// A GGUF string: u64 length, then the bytes.
    pub fn str(self, s: &str) -> Self {
        self.u64(s.len() as u64).bytes(s.as_bytes())
    }
    /// A u32 metadata entry.
    pub fn kv_u32(self, key: &str, v: u32) -> Self {
        self.str(key).u32(4).u32(v)
    }
    /// A tensor-info entry: name, dims, ggml type id, offset in the data section.
    pub fn tensor(self, name: &str, dims: &[u64], ty: u32, offset: u64) -> Self {
        let mut w = self.str(name).u32(dims.len() as u32);
        for &d in dims {
            w = w.u64(d);
        }
        w.u32(ty).u64(offset)
    }
    pub fn pad_to(mut self, alignment: usize) -> Self {
        while !self.0.len().is_multiple_of(alignment) {
            self.0.push(0);
        }
        self
    }
    /// Pads to the default 32-byte alignment and appends `data` as the data section.
    pub fn data(self, data: &[u8]) -> Vec<u8> {
        self.pad_to(32).bytes(data).0
    }
}
