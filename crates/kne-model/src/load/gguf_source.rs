//! GGUF as a [`TensorSource`]: HF names mapped to llama.cpp names, dequantised to f32, and
//! (Llama) q/k rows un-permuted back to HF order, or (Gemma-3) norm weights shifted back to
//! HF's convention.

use std::path::{Path, PathBuf};

use super::{DenseTensor, TensorSource};
use crate::ModelError;
use crate::gguf::GgufFile;

pub struct GgufSource {
    gguf: GgufFile,
    path: PathBuf,
    num_heads: usize,
    num_kv_heads: usize,
    gemma3: bool,
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
        let arch = gguf
            .meta_str("general.architecture")
            .map_err(wrap)?
            .to_owned();
        let num_heads = gguf
            .meta_u64(&format!("{arch}.attention.head_count"))
            .map_err(wrap)? as usize;
        let num_kv_heads = gguf
            .meta_u64(&format!("{arch}.attention.head_count_kv"))
            .map(|v| v as usize)
            .unwrap_or(num_heads);
        Ok(Self {
            gguf,
            path: path.to_path_buf(),
            num_heads,
            num_kv_heads,
            gemma3: arch == "gemma3",
        })
    }

    pub fn gguf(&self) -> &GgufFile {
        &self.gguf
    }
}

/// How a tensor read from the file is brought to HF's convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    None,
    /// Undo llama.cpp's q/k row permutation over this many heads (Llama).
    Unpermute(usize),
    /// llama.cpp's converter stores Gemma's RMSNorm weights as `1 + w`; HF's are `w`.
    NormMinusOne,
}

/// llama.cpp's name for an HF tensor name, and the fix its values need.
fn gguf_name(hf: &str, heads: usize, kv_heads: usize, gemma3: bool) -> Option<(String, Fix)> {
    let norm = if gemma3 { Fix::NormMinusOne } else { Fix::None };
    let fixed = match hf {
        "model.embed_tokens.weight" => Some(("token_embd.weight", Fix::None)),
        "model.norm.weight" => Some(("output_norm.weight", norm)),
        "lm_head.weight" => Some(("output.weight", Fix::None)),
        _ => None,
    };
    if let Some((name, fix)) = fixed {
        return Some((name.to_string(), fix));
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, tail) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    // Gemma's q/k are not permuted (llama.cpp rotates them NeoX-style, i.e. rotate_half).
    let (q, k) = if gemma3 {
        (Fix::None, Fix::None)
    } else {
        (Fix::Unpermute(heads), Fix::Unpermute(kv_heads))
    };
    let (short, fix) = match (tail, gemma3) {
        ("self_attn.q_proj.weight", _) => ("attn_q.weight", q),
        ("self_attn.k_proj.weight", _) => ("attn_k.weight", k),
        ("self_attn.v_proj.weight", _) => ("attn_v.weight", Fix::None),
        ("self_attn.o_proj.weight", _) => ("attn_output.weight", Fix::None),
        ("mlp.gate_proj.weight", _) => ("ffn_gate.weight", Fix::None),
        ("mlp.up_proj.weight", _) => ("ffn_up.weight", Fix::None),
        ("mlp.down_proj.weight", _) => ("ffn_down.weight", Fix::None),
        ("input_layernorm.weight", _) => ("attn_norm.weight", norm),
        // Llama's "post-attention" norm is the one before the MLP; Gemma's follows attention.
        ("post_attention_layernorm.weight", false) => ("ffn_norm.weight", norm),
        ("post_attention_layernorm.weight", true) => ("post_attention_norm.weight", norm),
        ("pre_feedforward_layernorm.weight", true) => ("ffn_norm.weight", norm),
        ("post_feedforward_layernorm.weight", true) => ("post_ffw_norm.weight", norm),
        ("self_attn.q_norm.weight", true) => ("attn_q_norm.weight", norm),
        ("self_attn.k_norm.weight", true) => ("attn_k_norm.weight", norm),
        _ => return None,
    };
    Some((format!("blk.{layer}.{short}"), fix))
}

impl TensorSource for GgufSource {
    fn get(&self, hf_name: &str) -> Result<Option<DenseTensor>, ModelError> {
        let Some((name, fix)) = gguf_name(hf_name, self.num_heads, self.num_kv_heads, self.gemma3)
        else {
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
        let values = match fix {
            Fix::Unpermute(heads) => {
                unpermute_rows(&values, &shape, heads).map_err(|message| ModelError::Format {
                    path: self.path.clone(),
                    message: format!("{name}: {message}"),
                })?
            }
            Fix::NormMinusOne => values.into_iter().map(|w| w - 1.0).collect(),
            Fix::None => values,
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
            gguf_name("model.layers.12.self_attn.k_proj.weight", 9, 3, false),
            Some(("blk.12.attn_k.weight".to_string(), Fix::Unpermute(3)))
        );
        assert_eq!(
            gguf_name(
                "model.layers.12.post_attention_layernorm.weight",
                9,
                3,
                false
            ),
            Some(("blk.12.ffn_norm.weight".to_string(), Fix::None))
        );
        assert_eq!(
            gguf_name("model.layers.x.mlp.up_proj.weight", 9, 3, false),
            None
        );
        assert_eq!(
            gguf_name("model.layers.0.self_attn.q_norm.weight", 9, 3, false),
            None
        );
    }

    #[test]
    fn gemma3_names_and_fixes() {
        let g = |hf: &str| gguf_name(hf, 4, 1, true);
        assert_eq!(
            g("model.layers.3.self_attn.q_proj.weight"),
            Some(("blk.3.attn_q.weight".to_string(), Fix::None))
        );
        for (hf, gguf) in [
            ("input_layernorm", "attn_norm"),
            ("post_attention_layernorm", "post_attention_norm"),
            ("pre_feedforward_layernorm", "ffn_norm"),
            ("post_feedforward_layernorm", "post_ffw_norm"),
            ("self_attn.q_norm", "attn_q_norm"),
            ("self_attn.k_norm", "attn_k_norm"),
        ] {
            assert_eq!(
                g(&format!("model.layers.5.{hf}.weight")),
                Some((format!("blk.5.{gguf}.weight"), Fix::NormMinusOne)),
                "{hf}"
            );
        }
        assert_eq!(
            g("model.norm.weight"),
            Some(("output_norm.weight".to_string(), Fix::NormMinusOne))
        );
    }
}
