//! GGUF as a [`TensorSource`]: HF names mapped to llama.cpp names, dequantised to f32, and
//! q/k rows un-permuted back to HF order.

use std::path::{Path, PathBuf};

use super::{DenseTensor, TensorSource};
use crate::ModelError;
use crate::gguf::GgufFile;

pub struct GgufSource {
    gguf: GgufFile,
    path: PathBuf,
    num_heads: usize,
    num_kv_heads: usize,
}

impl GgufSource {
    /// Reads and parses the `.gguf` file at `path`.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        Self::from_gguf(GgufFile::open(path)?, path)
    }

    /// A file already parsed (e.g. with [`GgufFile::from_bytes`]); `path` names it in errors.
    pub fn from_gguf(gguf: GgufFile, path: &Path) -> Result<Self, ModelError> {
        let wrap = |source| ModelError::Gguf {
            path: path.to_path_buf(),
            source,
        };
        let num_heads = gguf.meta_u64("llama.attention.head_count").map_err(wrap)? as usize;
        let num_kv_heads = gguf
            .meta_u64("llama.attention.head_count_kv")
            .map(|v| v as usize)
            .unwrap_or(num_heads);
        Ok(Self {
            gguf,
            path: path.to_path_buf(),
            num_heads,
            num_kv_heads,
        })
    }

    pub fn gguf(&self) -> &GgufFile {
        &self.gguf
    }
}

/// llama.cpp's name for an HF Llama tensor name, and the head count to un-permute with
/// (q and k rows only).
fn gguf_name(hf: &str, heads: usize, kv_heads: usize) -> Option<(String, Option<usize>)> {
    let fixed = match hf {
        "model.embed_tokens.weight" => Some("token_embd.weight"),
        "model.norm.weight" => Some("output_norm.weight"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(name) = fixed {
        return Some((name.to_string(), None));
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, tail) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (short, permute) = match tail {
        "self_attn.q_proj.weight" => ("attn_q.weight", Some(heads)),
        "self_attn.k_proj.weight" => ("attn_k.weight", Some(kv_heads)),
        "self_attn.v_proj.weight" => ("attn_v.weight", None),
        "self_attn.o_proj.weight" => ("attn_output.weight", None),
        "mlp.gate_proj.weight" => ("ffn_gate.weight", None),
        "mlp.up_proj.weight" => ("ffn_up.weight", None),
        "mlp.down_proj.weight" => ("ffn_down.weight", None),
        "input_layernorm.weight" => ("attn_norm.weight", None),
        "post_attention_layernorm.weight" => ("ffn_norm.weight", None),
        _ => return None,
    };
    Some((format!("blk.{layer}.{short}"), permute))
}

impl TensorSource for GgufSource {
    fn get(&self, hf_name: &str) -> Result<Option<DenseTensor>, ModelError> {
        let Some((name, permute)) = gguf_name(hf_name, self.num_heads, self.num_kv_heads) else {
            return Ok(None);
        };
        if self.gguf.tensor_info(&name).is_none() {
            return Ok(None);
        }
        let (shape, values) = self
            .gguf
            .tensor_f32(&name)
            .map_err(|source| ModelError::Gguf {
                path: self.path.clone(),
                source,
            })?;
        let values = match permute {
            Some(heads) => {
                unpermute_rows(&values, &shape, heads).map_err(|message| ModelError::Format {
                    path: self.path.clone(),
                    message: format!("{name}: {message}"),
                })?
            }
            None => values,
        };
        Ok(Some((shape, values)))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Undoes llama.cpp's q/k row permutation: within each head, GGUF stores rows in the order
/// (i, j) for pair i, member j; HF stores (j, i). In numpy terms:
/// `w.reshape(heads, hd/2, 2, in).swapaxes(1, 2).reshape(out, in)`.
///
/// # Shapes
/// - `values`: `[out, in]` with `out = heads · hd` → same
pub(crate) fn unpermute_rows(
    values: &[f32],
    shape: &[usize],
    heads: usize,
) -> Result<Vec<f32>, String> {
    let [out, cols] = shape else {
        return Err(format!("expected a matrix, got shape {shape:?}"));
    };
    if heads == 0 || !out.is_multiple_of(heads) || !(out / heads).is_multiple_of(2) {
        return Err(format!(
            "{out} rows do not split into {heads} heads of even width"
        ));
    }
    let half = out / heads / 2;
    let mut result = vec![0.0f32; values.len()];
    for h in 0..heads {
        for i in 0..half {
            for j in 0..2 {
                let src = (h * half * 2 + i * 2 + j) * cols;
                let dst = (h * half * 2 + j * half + i) * cols;
                result[dst..dst + cols].copy_from_slice(&values[src..src + cols]);
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpermute_matches_the_numpy_formula_on_one_head() {
        // One head of width 4 (pairs (0,1),(2,3)), one column: GGUF rows [a0 b0 a1 b1]
        // where a/b are the two members of pair 0/1 → HF rows [a0 a1 b0 b1].
        let w = [10.0, 20.0, 11.0, 21.0];
        let out = unpermute_rows(&w, &[4, 1], 1).unwrap();
        assert_eq!(out, vec![10.0, 11.0, 20.0, 21.0]);
    }

    #[test]
    fn names_map_to_llama_cpp() {
        assert_eq!(
            gguf_name("model.layers.12.self_attn.k_proj.weight", 9, 3),
            Some(("blk.12.attn_k.weight".to_string(), Some(3)))
        );
        assert_eq!(gguf_name("model.layers.x.mlp.up_proj.weight", 9, 3), None);
    }
}
