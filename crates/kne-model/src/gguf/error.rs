//! The typed error of the GGUF reader.
//!
//! Every variant names what was being read (key, tensor, offset), so a bad file can be
//! diagnosed from the message alone.

use super::GgmlType;

/// Everything that can be wrong with a GGUF file or a request made of it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GgufError {
    #[error(
        "file is truncated: {what} needs {needed} bytes at offset {offset}, but the file has {len} bytes"
    )]
    Truncated {
        what: String,
        offset: u64,
        needed: u64,
        len: u64,
    },
    #[error("not a GGUF file: the magic bytes are {found:02x?}, expected \"GGUF\"")]
    BadMagic { found: [u8; 4] },
    #[error(
        "unsupported GGUF version {0} (2 and 3 are supported; a big-endian file reads as a huge version)"
    )]
    UnsupportedVersion(u32),
    #[error(
        "{what} count {count} (at offset {offset}) cannot fit in the {remaining} bytes left in the file"
    )]
    CountTooLarge {
        what: String,
        count: u64,
        offset: u64,
        remaining: u64,
    },
    #[error("metadata key `{key}`: unknown value type id {type_id} at offset {offset}")]
    UnknownValueType {
        key: String,
        type_id: u32,
        offset: u64,
    },
    #[error("metadata key `{key}`: arrays nested deeper than {max} levels")]
    NestingTooDeep { key: String, max: usize },
    #[error("{what}: invalid UTF-8 in the string at offset {offset}")]
    InvalidUtf8 { what: String, offset: u64 },
    #[error("duplicate metadata key `{0}`")]
    DuplicateKey(String),
    #[error("duplicate tensor name `{0}`")]
    DuplicateTensor(String),
    #[error("general.alignment = {0} is not a non-zero power of two")]
    BadAlignment(u64),
    #[error("tensor `{tensor}`: {n_dims} dimensions, at most {max} are allowed")]
    TooManyDims {
        tensor: String,
        n_dims: u32,
        max: u32,
    },
    #[error("tensor `{tensor}`: dimensions {dims:?} overflow the element or byte count")]
    DimsOverflow { tensor: String, dims: Vec<u64> },
    #[error("tensor `{tensor}`: unknown ggml type id {type_id}")]
    UnknownTensorType { tensor: String, type_id: u32 },
    #[error("tensor `{tensor}`: row length {ne0} is not a multiple of the {ty} block size {block}")]
    BadRowLength {
        tensor: String,
        ty: GgmlType,
        ne0: u64,
        block: u64,
    },
    #[error("tensor `{tensor}`: offset {offset} is not a multiple of the alignment {alignment}")]
    Misaligned {
        tensor: String,
        offset: u64,
        alignment: u64,
    },
    #[error(
        "tensor `{tensor}`: its {size} bytes at data offset {offset} run past the end of the data section ({data_len} bytes)"
    )]
    TensorOutOfBounds {
        tensor: String,
        offset: u64,
        size: u64,
        data_len: u64,
    },
    #[error("metadata key `{0}` is missing")]
    MissingKey(String),
    #[error("metadata key `{key}`: expected {expected}, found {found}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: String,
    },
    #[error("no tensor named `{0}`")]
    TensorNotFound(String),
    #[error(
        "tensor `{tensor}`: dequantising {ty} is not supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K are)"
    )]
    UnsupportedDequant { tensor: String, ty: GgmlType },
    #[error(
        "tensor `{tensor}`: {found} bytes of {ty} data do not hold {n_values} values (expected {expected} bytes)"
    )]
    BadDataLength {
        tensor: String,
        ty: GgmlType,
        n_values: u64,
        expected: u64,
        found: u64,
    },
    #[error("tensor `{0}` is too large for this platform's address space")]
    TooLargeForPlatform(String),
}
