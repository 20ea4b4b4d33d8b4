//! Tensor descriptors of the GGUF header and their validation.

use super::reader::Reader;
use super::{GgmlType, GgufError};

/// ggml tensors have at most four dimensions (`GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;

/// One tensor as the header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub ggml_type: GgmlType,
    /// ggml order: `ne0` (the contiguous row length) first.
    pub dims: Vec<u64>,
    /// Byte offset within the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Number of values (checked: `None` on overflow).
    pub fn n_elements(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Size of the tensor's data in bytes; `None` for an unknown type, a row length that is not
    /// a whole number of blocks, or overflow.
    pub fn n_bytes(&self) -> Option<u64> {
        let layout = self.ggml_type.layout()?;
        let ne0 = self.dims.first().copied().unwrap_or(1);
        if !ne0.is_multiple_of(layout.block_size) {
            return None;
        }
        let row_bytes = (ne0 / layout.block_size).checked_mul(layout.type_size)?;
        self.dims
            .iter()
            .skip(1)
            .try_fold(row_bytes, |acc, &d| acc.checked_mul(d))
    }

    /// Shape in PyTorch / row-major order (ggml dims reversed: `[in, out]` -> `[out, in]`).
    pub fn shape(&self) -> Option<Vec<usize>> {
        self.dims
            .iter()
            .rev()
            .map(|&d| usize::try_from(d).ok())
            .collect()
    }
}

/// The fewest bytes a tensor info can take: empty name (8), n_dims (4), type (4), offset (8).
pub(crate) const MIN_TENSOR_INFO_SIZE: u64 = 8 + 4 + 4 + 8;

/// Reads the `index`-th tensor info and checks everything that does not need the data section.
pub(crate) fn read_tensor_info(
    r: &mut Reader<'_>,
    index: u64,
    alignment: u64,
) -> Result<TensorInfo, GgufError> {
    let name = r.string(&format!("name of tensor #{index}"))?;
    let n_dims = r.u32(&name)?;
    if n_dims > MAX_DIMS {
        return Err(GgufError::TooManyDims {
            tensor: name,
            n_dims,
            max: MAX_DIMS,
        });
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        dims.push(r.u64(&name)?);
    }
    let type_id = r.u32(&name)?;
    let offset = r.u64(&name)?;
    let ggml_type = GgmlType::from_id(type_id);
    let info = TensorInfo {
        name,
        ggml_type,
        dims,
        offset,
    };
    validate(&info, type_id, alignment)?;
    Ok(info)
}

fn validate(info: &TensorInfo, type_id: u32, alignment: u64) -> Result<(), GgufError> {
    let layout = info
        .ggml_type
        .layout()
        .ok_or_else(|| GgufError::UnknownTensorType {
            tensor: info.name.clone(),
            type_id,
        })?;
    let ne0 = info.dims.first().copied().unwrap_or(1);
    if !ne0.is_multiple_of(layout.block_size) {
        return Err(GgufError::BadRowLength {
            tensor: info.name.clone(),
            ty: info.ggml_type,
            ne0,
            block: layout.block_size,
        });
    }
    // ggml keeps element counts in int64_t; refuse anything beyond that as well.
    let fits_i64 = info.n_elements().is_some_and(|n| n <= i64::MAX as u64);
    if !fits_i64 || info.n_bytes().is_none() {
        return Err(GgufError::DimsOverflow {
            tensor: info.name.clone(),
            dims: info.dims.clone(),
        });
    }
    if !info.offset.is_multiple_of(alignment) {
        return Err(GgufError::Misaligned {
            tensor: info.name.clone(),
            offset: info.offset,
            alignment,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(ty: GgmlType, dims: &[u64]) -> TensorInfo {
        TensorInfo {
            name: "t".into(),
            ggml_type: ty,
            dims: dims.to_vec(),
            offset: 0,
        }
    }

    #[test]
    fn sizes_and_shape() {
        let t = info(GgmlType::Q4_1, &[576, 1536]);
        assert_eq!(t.n_elements(), Some(884_736));
        assert_eq!(t.n_bytes(), Some(552_960));
        assert_eq!(t.shape(), Some(vec![1536, 576]));
        assert_eq!(info(GgmlType::F32, &[576]).n_bytes(), Some(2304));
    }

    #[test]
    fn validation_catches_bad_dims() {
        let overflow = info(GgmlType::F32, &[1 << 40, 1 << 40]);
        assert!(matches!(
            validate(&overflow, 0, 32),
            Err(GgufError::DimsOverflow { .. })
        ));
        let ragged = info(GgmlType::Q8_0, &[33]);
        assert!(matches!(
            validate(&ragged, 8, 32),
            Err(GgufError::BadRowLength { .. })
        ));
        let mut misaligned = info(GgmlType::F32, &[4]);
        misaligned.offset = 4;
        assert!(matches!(
            validate(&misaligned, 0, 32),
            Err(GgufError::Misaligned { .. })
        ));
        let unknown = info(GgmlType::from_id(99), &[4]);
        assert!(matches!(
            validate(&unknown, 99, 32),
            Err(GgufError::UnknownTensorType { type_id: 99, .. })
        ));
    }
}
