//! GGUF metadata values: the 13 value types and their parsing.

use super::GgufError;
use super::reader::Reader;

/// Arrays of arrays deeper than this are rejected (real files nest at most once); it bounds
/// the recursion, so a hostile file cannot overflow the stack.
pub const MAX_ARRAY_NESTING: usize = 8;

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    /// Elements all have the array's element type (an empty array loses it).
    Array(Vec<MetaValue>),
}

impl MetaValue {
    /// The value as an unsigned integer: any integer type whose value is non-negative.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => Some(v),
            Self::I8(v) => u64::try_from(v).ok(),
            Self::I16(v) => u64::try_from(v).ok(),
            Self::I32(v) => u64::try_from(v).ok(),
            Self::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer: any integer type that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => i64::try_from(v).ok(),
            Self::I8(v) => Some(v.into()),
            Self::I16(v) => Some(v.into()),
            Self::I32(v) => Some(v.into()),
            Self::I64(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a float: `F32` or `F64` (narrowed).
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Self::F32(v) => Some(v),
            Self::F64(v) => Some(v as f32),
            _ => None,
        }
    }

    /// The value as an `f64`: `F32` (widened) or `F64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::F32(v) => Some(v.into()),
            Self::F64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Short type description for error messages (`"u32"`, `"array[49152]"`).
    pub fn type_name(&self) -> String {
        match self {
            Self::U8(_) => "u8".into(),
            Self::I8(_) => "i8".into(),
            Self::U16(_) => "u16".into(),
            Self::I16(_) => "i16".into(),
            Self::U32(_) => "u32".into(),
            Self::I32(_) => "i32".into(),
            Self::U64(_) => "u64".into(),
            Self::I64(_) => "i64".into(),
            Self::F32(_) => "f32".into(),
            Self::F64(_) => "f64".into(),
            Self::Bool(_) => "bool".into(),
            Self::Str(_) => "string".into(),
            Self::Array(a) => format!("array[{}]", a.len()),
        }
    }
}

/// GGUF value type ids (`enum gguf_type`).
mod type_id {
    pub const U8: u32 = 0;
    pub const I8: u32 = 1;
    pub const U16: u32 = 2;
    pub const I16: u32 = 3;
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
    pub const U64: u32 = 10;
    pub const I64: u32 = 11;
    pub const F64: u32 = 12;
}

/// The fewest bytes one value of type `ty` can occupy (a string is at least its u64 length,
/// an array at least its element type and length); `None` for an unknown type.
fn min_encoded_size(ty: u32) -> Option<u64> {
    Some(match ty {
        type_id::U8 | type_id::I8 | type_id::BOOL => 1,
        type_id::U16 | type_id::I16 => 2,
        type_id::U32 | type_id::I32 | type_id::F32 => 4,
        type_id::U64 | type_id::I64 | type_id::F64 | type_id::STRING => 8,
        type_id::ARRAY => 12,
        _ => return None,
    })
}

/// Reads one key/value pair.
pub(crate) fn read_kv(r: &mut Reader<'_>) -> Result<(String, MetaValue), GgufError> {
    let key = r.string("metadata key")?;
    let ty = r.u32(&key)?;
    let value = read_value(r, ty, &key, 0)?;
    Ok((key, value))
}

/// Reads a value of type `ty`; `key` names it in errors, `depth` counts array nesting.
fn read_value(
    r: &mut Reader<'_>,
    ty: u32,
    key: &str,
    depth: usize,
) -> Result<MetaValue, GgufError> {
    Ok(match ty {
        type_id::U8 => MetaValue::U8(r.u8(key)?),
        type_id::I8 => MetaValue::I8(r.i8(key)?),
        type_id::U16 => MetaValue::U16(r.u16(key)?),
        type_id::I16 => MetaValue::I16(r.i16(key)?),
        type_id::U32 => MetaValue::U32(r.u32(key)?),
        type_id::I32 => MetaValue::I32(r.i32(key)?),
        type_id::U64 => MetaValue::U64(r.u64(key)?),
        type_id::I64 => MetaValue::I64(r.i64(key)?),
        type_id::F32 => MetaValue::F32(r.f32(key)?),
        type_id::F64 => MetaValue::F64(r.f64(key)?),
        type_id::BOOL => MetaValue::Bool(r.bool(key)?),
        type_id::STRING => MetaValue::Str(r.string(key)?),
        type_id::ARRAY => {
            if depth >= MAX_ARRAY_NESTING {
                return Err(GgufError::NestingTooDeep {
                    key: key.to_owned(),
                    max: MAX_ARRAY_NESTING,
                });
            }
            let elem_offset = r.pos() as u64;
            let elem_ty = r.u32(key)?;
            let min_size =
                min_encoded_size(elem_ty).ok_or_else(|| GgufError::UnknownValueType {
                    key: key.to_owned(),
                    type_id: elem_ty,
                    offset: elem_offset,
                })?;
            let len = r.u64(key)?;
            // The length is trusted only once the elements could fit in the remaining bytes.
            let n = r.check_count(len, min_size, &format!("array `{key}`"))?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(read_value(r, elem_ty, key, depth + 1)?);
            }
            MetaValue::Array(items)
        }
        other => {
            return Err(GgufError::UnknownValueType {
                key: key.to_owned(),
                type_id: other,
                offset: r.pos().saturating_sub(4) as u64,
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv_bytes(key: &str, ty: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = (key.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(key.as_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn reads_nested_arrays() {
        // array of 2 arrays of u16: [[1, 2], [3]]
        let mut p = type_id::ARRAY.to_le_bytes().to_vec();
        p.extend_from_slice(&2u64.to_le_bytes());
        for inner in [&[1u16, 2][..], &[3u16][..]] {
            p.extend_from_slice(&type_id::U16.to_le_bytes());
            p.extend_from_slice(&(inner.len() as u64).to_le_bytes());
            for v in inner {
                p.extend_from_slice(&v.to_le_bytes());
            }
        }
        let bytes = kv_bytes("k", type_id::ARRAY, &p);
        let (key, value) = read_kv(&mut Reader::new(&bytes)).expect("valid");
        assert_eq!(key, "k");
        let expected = MetaValue::Array(vec![
            MetaValue::Array(vec![MetaValue::U16(1), MetaValue::U16(2)]),
            MetaValue::Array(vec![MetaValue::U16(3)]),
        ]);
        assert_eq!(value, expected);
    }

    #[test]
    fn huge_array_length_is_rejected_before_allocating() {
        let mut p = type_id::U32.to_le_bytes().to_vec();
        p.extend_from_slice(&(1u64 << 61).to_le_bytes());
        let bytes = kv_bytes("k", type_id::ARRAY, &p);
        let err = read_kv(&mut Reader::new(&bytes)).expect_err("lying length");
        assert!(matches!(err, GgufError::CountTooLarge { count, .. } if count == 1 << 61));
    }

    #[test]
    fn deep_nesting_and_unknown_types_are_errors() {
        let mut p = Vec::new();
        for _ in 0..(MAX_ARRAY_NESTING + 2) {
            p.extend_from_slice(&type_id::ARRAY.to_le_bytes());
            p.extend_from_slice(&1u64.to_le_bytes());
        }
        p.resize(p.len() + 64, 0);
        let bytes = kv_bytes("deep", type_id::ARRAY, &p);
        let err = read_kv(&mut Reader::new(&bytes)).expect_err("too deep");
        assert!(matches!(err, GgufError::NestingTooDeep { .. }));

        let bytes = kv_bytes("odd", 13, &[0; 8]);
        let err = read_kv(&mut Reader::new(&bytes)).expect_err("unknown type");
        assert!(matches!(
            err,
            GgufError::UnknownValueType { type_id: 13, .. }
        ));
    }

    #[test]
    fn integer_accessors_convert_and_refuse_negatives() {
        assert_eq!(MetaValue::I32(7).as_u64(), Some(7));
        assert_eq!(MetaValue::I32(-7).as_u64(), None);
        assert_eq!(MetaValue::U64(u64::MAX).as_i64(), None);
        assert_eq!(MetaValue::F64(0.5).as_f32(), Some(0.5));
        assert_eq!(MetaValue::Str("x".into()).as_u64(), None);
    }
}
