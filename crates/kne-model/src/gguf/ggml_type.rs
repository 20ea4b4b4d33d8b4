//! ggml tensor element types and their block layouts.
//!
//! A quantised ggml tensor stores each row as blocks of `block_size` values in `type_size`
//! bytes. The reader needs the layout of every type that may appear in a file (to bounds-check
//! the data section), even of types it cannot dequantise.

use std::fmt;

/// A ggml tensor type. The ids are ggml's `enum ggml_type` values.
#[allow(non_camel_case_types)] // the names follow ggml's (Q4_0, Q8_K, ...)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    Q8_K,
    BF16,
    /// Any other id; [`GgmlType::layout`] still knows the layout of ggml's other types
    /// (IQ*, TQ*, integer and F64 tensors, MXFP4).
    Other(u32),
}

/// Values per block and bytes per block of a ggml type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLayout {
    pub block_size: u64,
    pub type_size: u64,
}

/// Super-block size of the k-quants and i-quants.
const QK_K: u64 = 256;

/// (id, name, values per block, bytes per block) for every ggml type in current ggml.
/// Ids 4, 5 (Q4_2, Q4_3) and 31..=33, 36..=38 (repacked types) were removed from ggml and never
/// appear in files. Q8_1 is listed with ggml's 36-byte block (two f16 + 32 i8).
const TABLE: &[(u32, &str, u64, u64)] = &[
    (0, "F32", 1, 4),
    (1, "F16", 1, 2),
    (2, "Q4_0", 32, 2 + 16),
    (3, "Q4_1", 32, 2 + 2 + 16),
    (6, "Q5_0", 32, 2 + 4 + 16),
    (7, "Q5_1", 32, 2 + 2 + 4 + 16),
    (8, "Q8_0", 32, 2 + 32),
    (9, "Q8_1", 32, 2 + 2 + 32),
    (10, "Q2_K", QK_K, 2 + 2 + QK_K / 16 + QK_K / 4),
    (11, "Q3_K", QK_K, 2 + QK_K / 4 + QK_K / 8 + 12),
    (12, "Q4_K", QK_K, 2 + 2 + QK_K / 2 + 12),
    (13, "Q5_K", QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12),
    (14, "Q6_K", QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16),
    (15, "Q8_K", QK_K, 4 + QK_K + QK_K / 8),
    (16, "IQ2_XXS", QK_K, 2 + QK_K / 4),
    (17, "IQ2_XS", QK_K, 2 + QK_K / 4 + QK_K / 32),
    (18, "IQ3_XXS", QK_K, 2 + QK_K / 4 + QK_K / 8),
    (19, "IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 16),
    (20, "IQ4_NL", 32, 2 + 16),
    (21, "IQ3_S", QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4),
    (22, "IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 16),
    (23, "IQ4_XS", QK_K, 2 + 2 + QK_K / 2 + QK_K / 64),
    (24, "I8", 1, 1),
    (25, "I16", 1, 2),
    (26, "I32", 1, 4),
    (27, "I64", 1, 8),
    (28, "F64", 1, 8),
    (29, "IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
    (30, "BF16", 1, 2),
    (34, "TQ1_0", QK_K, 2 + 4 * 13),
    (35, "TQ2_0", QK_K, 2 + 64),
    (39, "MXFP4", 32, 1 + 16),
];

impl GgmlType {
    /// The type with ggml id `id` (unknown ids become [`GgmlType::Other`]).
    pub fn from_id(id: u32) -> Self {
        match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            7 => Self::Q5_1,
            8 => Self::Q8_0,
            9 => Self::Q8_1,
            10 => Self::Q2_K,
            11 => Self::Q3_K,
            12 => Self::Q4_K,
            13 => Self::Q5_K,
            14 => Self::Q6_K,
            15 => Self::Q8_K,
            30 => Self::BF16,
            other => Self::Other(other),
        }
    }

    /// ggml's id of this type.
    pub fn id(self) -> u32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q5_0 => 6,
            Self::Q5_1 => 7,
            Self::Q8_0 => 8,
            Self::Q8_1 => 9,
            Self::Q2_K => 10,
            Self::Q3_K => 11,
            Self::Q4_K => 12,
            Self::Q5_K => 13,
            Self::Q6_K => 14,
            Self::Q8_K => 15,
            Self::BF16 => 30,
            Self::Other(id) => id,
        }
    }

    fn entry(self) -> Option<&'static (u32, &'static str, u64, u64)> {
        let id = self.id();
        TABLE.iter().find(|e| e.0 == id)
    }

    /// Block layout, or `None` for an id ggml does not define.
    pub fn layout(self) -> Option<BlockLayout> {
        self.entry()
            .map(|&(_, _, block_size, type_size)| BlockLayout {
                block_size,
                type_size,
            })
    }

    /// Values per block (1 for plain float/integer types).
    pub fn block_size(self) -> Option<u64> {
        self.layout().map(|l| l.block_size)
    }

    /// Bytes per block.
    pub fn type_size(self) -> Option<u64> {
        self.layout().map(|l| l.type_size)
    }

    /// ggml's name of the type (`"Q4_1"`), or `None` for an unknown id.
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|e| e.1)
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ggml type {}", self.id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_layouts_match_ggml() {
        for &(id, name, _, _) in TABLE {
            let ty = GgmlType::from_id(id);
            assert_eq!(ty.id(), id);
            assert_eq!(ty.to_string(), name);
        }
        let q41 = GgmlType::Q4_1.layout();
        assert_eq!(q41.map(|l| (l.block_size, l.type_size)), Some((32, 20)));
        assert_eq!(GgmlType::Q8_0.type_size(), Some(34));
        assert_eq!(GgmlType::Q4_0.type_size(), Some(18));
        assert_eq!(GgmlType::Q6_K.type_size(), Some(210));
        assert_eq!(GgmlType::from_id(4).layout(), None);
        assert_eq!(GgmlType::from_id(4).to_string(), "ggml type 4");
    }
}
