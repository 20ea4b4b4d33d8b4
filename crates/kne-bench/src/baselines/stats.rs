//! Second-moment statistics `C = E[k kᵀ]` of the down-projection inputs `k` (ROME's and
//! MEMIT's keys) over a text corpus, computed once per (model, layer, corpus sample) and
//! cached on disk.
//!
//! EasyEdit (`easyeditor/models/rome/layer_stats.py`, `mom2_dataset: wikipedia`,
//! `mom2_n_samples: 100000`, `mom2_dtype: float32`) collects the raw second moment (not the
//! covariance) of the input of `mlp.down_proj` at every non-pad token of 100k Wikipedia
//! texts. Here: the first `n_tokens` tokens of WikiText-2 (`valid.txt`, then `test.txt`),
//! each non-empty line tokenised on its own and the lines concatenated, cut into windows of
//! `window` tokens; every token of every window contributes. Sums are kept in `f64`.
//!
//! Cache file: `<stats_dir>/<model file stem>-<sha256 of the model, 16 hex>/layer<L>.down.
//! mom2.<corpus>-<n_tokens>tok-w<window>.safetensors`, one F64 tensor `mom2` `[d, d]` plus the
//! token count and provenance in the header; written atomically. The model's checksum in the
//! path means a different model never reads these statistics.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::tensor::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use kne_edit::EditError;
use kne_model::{Captures, Interventions, LoadedModel, ModelError, ModuleKind, Site};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::common::{resolve, to_vec};
use super::linalg::Cholesky;

const FORMAT: &str = "kne-mom2/1";

/// Where the statistics come from and where they are cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mom2Config {
    /// Folder of the corpus text files; relative paths are under the workspace root
    /// (default `data/wikitext/wikitext-2`, where `cargo xtask fetch-data` puts WikiText-2).
    #[serde(default = "default_corpus_dir")]
    pub corpus_dir: PathBuf,
    /// Files read in order until `n_tokens` tokens are collected
    /// (default `["valid.txt", "test.txt"]`; the train split is not fetched).
    #[serde(default = "default_corpus_files")]
    pub corpus_files: Vec<String>,
    /// Tokens the moment averages over (default 100 000; EasyEdit: 100 000 Wikipedia texts,
    /// far more tokens, which a CPU cannot afford; the estimate of a 1536 × 1536 moment is
    /// already well conditioned at this size).
    #[serde(default = "default_n_tokens")]
    pub n_tokens: usize,
    /// Tokens per window (default 256; EasyEdit uses the model's context length).
    #[serde(default = "default_window")]
    pub window: usize,
    /// Windows per forward pass (default 4).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Cache folder; relative paths are under the workspace root (default `data/stats`).
    #[serde(default = "default_stats_dir")]
    pub stats_dir: PathBuf,
}

fn default_corpus_dir() -> PathBuf {
    PathBuf::from("data/wikitext/wikitext-2")
}
fn default_corpus_files() -> Vec<String> {
    vec!["valid.txt".into(), "test.txt".into()]
}
fn default_n_tokens() -> usize {
    100_000
}
fn default_window() -> usize {
    256
}
fn default_batch() -> usize {
    4
}
fn default_stats_dir() -> PathBuf {
    PathBuf::from("data/stats")
}

impl Default for Mom2Config {
    fn default() -> Self {
        Self {
            corpus_dir: default_corpus_dir(),
            corpus_files: default_corpus_files(),
            n_tokens: default_n_tokens(),
            window: default_window(),
            batch: default_batch(),
            stats_dir: default_stats_dir(),
        }
    }
}

impl Mom2Config {
    pub fn validate(&self) -> Result<(), EditError> {
        if self.n_tokens == 0 || self.window < 2 || self.batch == 0 || self.corpus_files.is_empty()
        {
            return Err(EditError::Config(format!(
                "mom2: n_tokens ({}), window ({} ≥ 2), batch ({}) and corpus_files ({}) must be non-empty",
                self.n_tokens,
                self.window,
                self.batch,
                self.corpus_files.len()
            )));
        }
        Ok(())
    }

    /// The same config with relative paths taken under `root`.
    pub fn under(mut self, root: &Path) -> Self {
        if self.corpus_dir.is_relative() {
            self.corpus_dir = root.join(&self.corpus_dir);
        }
        if self.stats_dir.is_relative() {
            self.stats_dir = root.join(&self.stats_dir);
        }
        self
    }

    /// Short corpus tag for file names: `wikitext-2-valid+test`.
    fn corpus_tag(&self) -> String {
        let dir = self
            .corpus_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "corpus".into());
        let files: Vec<String> = self
            .corpus_files
            .iter()
            .map(|f| {
                Path::new(f)
                    .file_stem()
                    .map_or(f.clone(), |s| s.to_string_lossy().into_owned())
            })
            .collect();
        sanitize(&format!("{dir}-{}", files.join("+")))
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-+_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The second moment of one layer's down-projection inputs.
#[derive(Debug)]
pub struct LayerStats {
    pub layer: usize,
    /// Key dimension (the MLP width, 1536 for SmolLM2-135M).
    pub dim: usize,
    /// Tokens averaged over.
    pub count: u64,
    /// `E[k kᵀ]`, row-major `[dim, dim]`.
    pub mom2: Vec<f64>,
    pub path: PathBuf,
    factor: Mutex<Option<Arc<(Cholesky, f64)>>>,
}

impl LayerStats {
    /// The Cholesky factor of `C` (computed once), with the relative diagonal jitter that was
    /// needed to factor it (0 unless `C` is numerically singular).
    pub fn cholesky(&self) -> Result<Arc<(Cholesky, f64)>, EditError> {
        let mut guard = self.factor.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = guard.as_ref() {
            return Ok(f.clone());
        }
        let f = Cholesky::new_with_jitter(&self.mom2, self.dim).map_err(|e| {
            EditError::Config(format!(
                "{}: second moment of layer {}: {e}",
                self.path.display(),
                self.layer
            ))
        })?;
        let f = Arc::new(f);
        *guard = Some(f.clone());
        Ok(f)
    }

    /// `C⁻¹ x`.
    pub fn solve(&self, x: &[f64]) -> Result<Vec<f64>, EditError> {
        Ok(self.cholesky()?.0.solve(x))
    }
}

fn io_err(path: &Path, source: std::io::Error) -> EditError {
    EditError::Model(ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 of the model: of the file, or of a folder's files in name order. Cached per path.
pub fn model_sha256(path: &Path) -> Result<String, EditError> {
    static CACHE: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = guard.get_or_insert_with(HashMap::new);
    if let Some(h) = cache.get(path) {
        return Ok(h.clone());
    }
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| io_err(path, e))? {
            let p = entry.map_err(|e| io_err(path, e))?.path();
            if p.is_file() {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let mut file = std::fs::File::open(f).map_err(|e| io_err(f, e))?;
        loop {
            let n = file.read(&mut buf).map_err(|e| io_err(f, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
    }
    let hex = hex::encode(hasher.finalize());
    cache.insert(path.to_path_buf(), hex.clone());
    Ok(hex)
}

/// The cache file of one layer's statistics.
pub fn stats_path(
    model: &LoadedModel,
    layer: usize,
    config: &Mom2Config,
) -> Result<PathBuf, EditError> {
    let sha = model_sha256(&model.path)?;
    let stem = model
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let dir = resolve(&config.stats_dir).join(format!("{}-{}", sanitize(&stem), &sha[..16]));
    Ok(dir.join(format!(
        "layer{layer}.down.mom2.{}-{}tok-w{}.safetensors",
        config.corpus_tag(),
        config.n_tokens,
        config.window
    )))
}

/// Loaded statistics, shared by every editor of the process.
static LOADED: Mutex<BTreeMap<PathBuf, Arc<LayerStats>>> = Mutex::new(BTreeMap::new());

/// The second moments of `layers`, from memory, from the disk cache, or computed (all missing
/// layers in one pass over the corpus, with a progress bar) and then cached.
pub fn second_moments(
    model: &LoadedModel,
    layers: &[usize],
    config: &Mom2Config,
) -> Result<BTreeMap<usize, Arc<LayerStats>>, EditError> {
    config.validate()?;
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for &layer in layers {
        model.model.site(Site::new(layer, ModuleKind::Down))?;
        let path = stats_path(model, layer, config)?;
        if let Some(s) = LOADED.lock().unwrap_or_else(|e| e.into_inner()).get(&path) {
            out.insert(layer, s.clone());
            continue;
        }
        if path.exists() {
            let s = Arc::new(read_stats(&path, layer)?);
            LOADED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path, s.clone());
            out.insert(layer, s);
        } else {
            missing.push((layer, path));
        }
    }
    if !missing.is_empty() {
        let ls: Vec<usize> = missing.iter().map(|(l, _)| *l).collect();
        let computed = compute(model, &ls, config)?;
        for ((layer, path), (count, mom2)) in missing.into_iter().zip(computed) {
            let dim = (mom2.len() as f64).sqrt() as usize;
            write_stats(&path, &mom2, dim, count, layer, model, config)?;
            let s = Arc::new(LayerStats {
                layer,
                dim,
                count,
                mom2,
                path: path.clone(),
                factor: Mutex::new(None),
            });
            LOADED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path, s.clone());
            out.insert(layer, s);
        }
    }
    Ok(out)
}

/// The corpus tokens: non-empty lines tokenised one by one, concatenated, cut at `n_tokens`.
fn corpus_tokens(model: &LoadedModel, config: &Mom2Config) -> Result<Vec<u32>, EditError> {
    let dir = resolve(&config.corpus_dir);
    let mut tokens = Vec::with_capacity(config.n_tokens);
    for file in &config.corpus_files {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            tokens.extend(model.tokenizer.encode(line.trim_end())?);
            if tokens.len() >= config.n_tokens {
                tokens.truncate(config.n_tokens);
                return Ok(tokens);
            }
        }
    }
    if tokens.len() < config.window {
        return Err(EditError::Config(format!(
            "{}: only {} tokens in {:?}",
            dir.display(),
            tokens.len(),
            config.corpus_files
        )));
    }
    Ok(tokens)
}

/// One pass over the corpus collecting `Σ k kᵀ` at every layer of `layers`.
fn compute(
    model: &LoadedModel,
    layers: &[usize],
    config: &Mom2Config,
) -> Result<Vec<(u64, Vec<f64>)>, EditError> {
    let tokens = corpus_tokens(model, config)?;
    let m = &model.model;
    let top = layers.iter().max().copied().unwrap_or(0);
    let sites: Vec<Site> = layers
        .iter()
        .map(|&l| Site::new(l, ModuleKind::Down))
        .collect();
    let dim = m.site(sites[0])?.dims()[0];
    let mut sums = vec![vec![0.0f64; dim * dim]; layers.len()];
    let windows: Vec<&[u32]> = tokens
        .chunks(config.window)
        .filter(|w| w.len() >= 2)
        .collect();
    let bar = ProgressBar::new(windows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} windows ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("second moments, layers {layers:?}"));
    let mut hooks = Interventions::new();
    for s in &sites {
        hooks = hooks.capture(*s);
    }
    let mut count = 0u64;
    // Full windows share a batch; a shorter last window runs alone.
    let mut groups: Vec<Vec<&[u32]>> = Vec::new();
    for w in windows {
        match groups.last_mut() {
            Some(g) if g.len() < config.batch && g[0].len() == w.len() => g.push(w),
            _ => groups.push(vec![w]),
        }
    }
    for group in groups {
        let ids = m.ids_tensor(&group)?;
        let mut captures = Captures::new();
        let _ = m.forward_blocks(m.embed(ids), 0..top + 1, None, Some(&hooks), &mut captures);
        for (sum, site) in sums.iter_mut().zip(&sites) {
            let keys = captures
                .get(site)
                .ok_or_else(|| EditError::Config(format!("{site}: nothing captured")))?
                .input
                .clone();
            let [b, s, d] = keys.dims();
            let k: Tensor<2> = keys.reshape([b * s, d]);
            let ktk = to_vec(k.clone().transpose().matmul(k))?;
            for (acc, v) in sum.iter_mut().zip(ktk) {
                *acc += v as f64;
            }
        }
        count += group.iter().map(|w| w.len() as u64).sum::<u64>();
        bar.inc(group.len() as u64);
    }
    bar.finish_and_clear();
    Ok(sums
        .into_iter()
        .map(|mut s| {
            // Exact symmetry (the f32 products are symmetric up to rounding).
            for i in 0..dim {
                for j in 0..i {
                    let v = 0.5 * (s[i * dim + j] + s[j * dim + i]) / count as f64;
                    s[i * dim + j] = v;
                    s[j * dim + i] = v;
                }
                s[i * dim + i] /= count as f64;
            }
            (count, s)
        })
        .collect())
}

fn write_stats(
    path: &Path,
    mom2: &[f64],
    dim: usize,
    count: u64,
    layer: usize,
    model: &LoadedModel,
    config: &Mom2Config,
) -> Result<(), EditError> {
    let bytes: Vec<u8> = mom2.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = TensorView::new(Dtype::F64, vec![dim, dim], &bytes)
        .map_err(|e| EditError::Config(format!("{}: {e}", path.display())))?;
    let meta: HashMap<String, String> = [
        ("format", FORMAT.to_string()),
        ("count", count.to_string()),
        ("layer", layer.to_string()),
        ("site", Site::new(layer, ModuleKind::Down).to_string()),
        ("model_sha256", model_sha256(&model.path)?),
        ("corpus", config.corpus_tag()),
        ("n_tokens", config.n_tokens.to_string()),
        ("window", config.window.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let data = safetensors::serialize(vec![("mom2".to_string(), view)], Some(meta))
        .map_err(|e| EditError::Config(format!("{}: {e}", path.display())))?;
    kne_model::write_atomic(path, &data).map_err(|e| io_err(path, e))
}

fn read_stats(path: &Path, layer: usize) -> Result<LayerStats, EditError> {
    let bad = |m: String| {
        EditError::Config(format!(
            "{}: {m} (delete the file to recompute it)",
            path.display()
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(bad(format!("not a {FORMAT} file")));
    }
    let count: u64 = meta
        .get("count")
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("no token count".into()))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let view = st.tensor("mom2").map_err(|e| bad(e.to_string()))?;
    let [d0, d1] = view.shape() else {
        return Err(bad(format!("mom2 has shape {:?}", view.shape())));
    };
    if d0 != d1 || view.dtype() != Dtype::F64 {
        return Err(bad(format!(
            "mom2 is {:?} {:?}, expected square F64",
            view.dtype(),
            view.shape()
        )));
    }
    let mom2: Vec<f64> = view
        .data()
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    Ok(LayerStats {
        layer,
        dim: *d0,
        count,
        mom2,
        path: path.to_path_buf(),
        factor: Mutex::new(None),
    })
}
