//! The library in a few calls: open a model, build an editor by name, edit, evaluate,
//! revert. The harness and the CLI go through the same functions ([`apply_edit`],
//! [`score_cases`]), so a number computed here is computed as in `kne reproduce`.
//!
//! ```no_run
//! use kne_bench::session::{Session, request_of};
//! use kne_eval::data::{DataSource, EditFile};
//!
//! # fn main() -> anyhow::Result<()> {
//! let mut session = Session::open_default()?;
//! let cases = DataSource::File(EditFile::new("my_edits.json")?).load("data/knowedit".as_ref())?;
//! let pre = session.pre_edit(&cases)?; // the unedited model's answers, for locality
//! let mut editor = session.editor("ft")?; // or "ft-l", "adalora", "rome", "memit"
//! let edit = session.edit(editor.as_mut(), &[request_of(&cases[0])])?;
//! let scores = session.evaluate(&cases[..1], &pre)?;
//! println!("edit success {:?}, locality {:?}", scores[0].edit_success, scores[0].locality);
//! session.revert(edit)?;
//! # Ok(())
//! # }
//! ```

mod apply;
mod score;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kne_attr::{Ensemble, FactTokens, attribute, select};
use kne_edit::{EditRequest, Editor, KneEditor, TokenizedRequest};
use kne_eval::ModelScorer;
use kne_eval::data::EditCase;
use kne_eval::metrics::{CaseScores, GenerationConfig, PreEditCache};
use kne_model::{LoadedModel, paths};

pub use apply::{AppliedEdit, RefusedEdit, apply_edit};
pub use score::{request_of, score_cases};

use crate::baselines::{BaselineConfigs, build_editor, load_baseline_configs};
use crate::harness::experiment::KneSettings;

/// A model loaded for editing and evaluation, with the workspace's default settings of
/// every method (`experiments/baselines.toml`, `experiments/kne-default.toml`).
pub struct Session {
    loaded: LoadedModel,
    model_path: PathBuf,
    /// Where relative settings paths (covariance statistics, corpora) are resolved.
    root: PathBuf,
}

impl Session {
    /// Loads the model at `path` (a GGUF file, or a folder of HF safetensors) on the CPU.
    ///
    /// # Errors
    /// A missing or unreadable model, naming the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let loaded = kne_model::load(path, &burn::tensor::Device::flex())
            .with_context(|| format!("loading model {}", path.display()))?;
        Ok(Self {
            loaded,
            model_path: path.to_owned(),
            root: paths::workspace_root(),
        })
    }

    /// The default model (SmolLM2-135M-Instruct, `cargo xtask fetch-model`).
    ///
    /// # Errors
    /// As [`Session::open`]; the message says how to fetch the model.
    pub fn open_default() -> Result<Self> {
        let path = paths::default_model_path();
        anyhow::ensure!(
            path.exists(),
            "model {} not found (run `cargo xtask fetch-model`)",
            path.display()
        );
        Self::open(path)
    }

    /// The model and its tokenizer.
    pub fn model(&self) -> &LoadedModel {
        &self.loaded
    }

    /// Where the model was loaded from.
    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// A baseline editor (`ft` = FT-M, `ft-l`, `adalora`, `rome`, `memit`) with the
    /// workspace's hyper-parameters for SmolLM2 (`experiments/baselines.toml`); for KNE see
    /// [`Session::kne_editor`].
    ///
    /// # Errors
    /// An unknown method or an invalid settings file, naming it.
    pub fn editor(&self, method: &str) -> Result<Box<dyn Editor>> {
        let path = self.root.join("experiments/baselines.toml");
        let configs = load_baseline_configs(&path)?;
        self.editor_with(method, &configs)
    }

    /// A baseline editor with the given hyper-parameters.
    ///
    /// # Errors
    /// An unknown method or invalid settings.
    pub fn editor_with(&self, method: &str, configs: &BaselineConfigs) -> Result<Box<dyn Editor>> {
        build_editor(method, configs, &self.root)
            .with_context(|| format!("building editor `{method}`"))
    }

    /// KNE's default settings (`experiments/kne-default.toml`).
    ///
    /// # Errors
    /// An unreadable or invalid settings file, naming the file and field.
    pub fn kne_settings(&self) -> Result<KneSettings> {
        KneSettings::load(&self.root.join("experiments/kne-default.toml"))
    }

    /// Localizes a knowledge neuronal ensemble on `facts` (attribution, Eq. 3–5, then the
    /// top-p selection, Eq. 6): the neurons KNE will edit.
    ///
    /// # Errors
    /// Settings that do not fit the model (layers it lacks), or a fact that does not
    /// tokenize.
    pub fn localize(&self, facts: &[EditRequest], settings: &KneSettings) -> Result<Ensemble> {
        let tokens = fact_tokens(&self.loaded, facts)?;
        let scores = attribute(&self.loaded.model, &tokens, &settings.attribution, |_| {})?;
        Ok(select(
            &scores,
            &self.loaded.model,
            settings.p,
            settings.scope,
        )?)
    }

    /// A KNE editor: the ensemble localized on `facts` (which should not be the facts you
    /// evaluate) and the edit settings of `settings`.
    ///
    /// # Errors
    /// As [`Session::localize`], or invalid edit settings.
    pub fn kne_editor(&self, facts: &[EditRequest], settings: &KneSettings) -> Result<KneEditor> {
        let ensemble = self.localize(facts, settings)?;
        Ok(KneEditor::new(settings.edit.clone(), ensemble)?)
    }

    /// The unedited model's predictions on the locality probes of `cases`, which locality
    /// compares the edited model with. Compute it before any edit.
    ///
    /// # Errors
    /// A case whose probes do not tokenize, naming it.
    pub fn pre_edit(&self, cases: &[EditCase]) -> Result<PreEditCache> {
        let name = cases.first().map_or("", |c| c.dataset.as_str());
        // Keyed by the model's path: a session's cache is never saved, so no checksum is
        // needed to tell models apart.
        let mut cache = PreEditCache::new(self.model_path.display().to_string(), name);
        let mut scorer = ModelScorer::from_loaded(&self.loaded);
        for case in cases {
            cache
                .get_or_compute(case, &mut scorer)
                .with_context(|| format!("{} case {}", case.dataset, case.index))?;
        }
        Ok(cache)
    }

    /// Edits `requests` (one batch) into the model and returns the edit in force: its delta,
    /// its statistics, and the handle [`Session::revert`] takes.
    ///
    /// # Errors
    /// The edit failed, or left the model with a non-finite loss ([`RefusedEdit`]); the
    /// model is then unchanged.
    pub fn edit(
        &mut self,
        editor: &mut dyn Editor,
        requests: &[EditRequest],
    ) -> Result<AppliedEdit> {
        Ok(apply_edit(&mut self.loaded, editor, requests)??)
    }

    /// The metrics of `cases` on the model as it is now (edited or not), without fluency.
    ///
    /// # Errors
    /// As [`score_cases`].
    pub fn evaluate(&self, cases: &[EditCase], pre: &PreEditCache) -> Result<Vec<CaseScores>> {
        self.evaluate_with(cases, pre, None, 0)
    }

    /// [`Session::evaluate`] with fluency generations (EasyEdit: top-5 sampling, 100 tokens
    /// in all) seeded with `seed + case index`.
    ///
    /// # Errors
    /// As [`score_cases`]; fluency also needs NLTK's Punkt tables (`cargo xtask fetch-data`).
    pub fn evaluate_with(
        &self,
        cases: &[EditCase],
        pre: &PreEditCache,
        generation: Option<GenerationConfig>,
        seed: u64,
    ) -> Result<Vec<CaseScores>> {
        let refs: Vec<&EditCase> = cases.iter().collect();
        score_cases(&self.loaded, &refs, pre, generation, seed)
    }

    /// Takes an edit back: the model's weights are bit-identical to before it.
    ///
    /// # Errors
    /// As [`AppliedEdit::revert`].
    pub fn revert(&mut self, edit: AppliedEdit) -> Result<()> {
        Ok(edit.revert(&mut self.loaded)?)
    }

    /// The greedy continuation of `prompt` (wrapped in the model's chat template when
    /// `chat`), at most `max_new_tokens`, stopping at end of sequence.
    ///
    /// # Errors
    /// A prompt that tokenizes to nothing, or a generation error.
    pub fn answer(&self, prompt: &str, chat: bool, max_new_tokens: usize) -> Result<String> {
        let tokenizer = &self.loaded.tokenizer;
        let text = if chat {
            tokenizer.chat_prompt(prompt)
        } else {
            prompt.to_owned()
        };
        let ids = tokenizer.encode(&text)?;
        anyhow::ensure!(!ids.is_empty(), "the prompt tokenises to nothing");
        let config = kne_model::GreedyConfig {
            max_new_tokens,
            stop_token: tokenizer.eos_id(),
        };
        let mut new = self.loaded.model.generate_greedy(&ids, config)?;
        if new.last().copied() == config.stop_token {
            new.pop();
        }
        Ok(tokenizer.decode(&new)?)
    }
}

/// The prompt and target tokens attribution reads, for each request.
///
/// # Errors
/// A request that does not tokenize, naming its index.
pub fn fact_tokens(loaded: &LoadedModel, requests: &[EditRequest]) -> Result<Vec<FactTokens>> {
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            TokenizedRequest::new(&loaded.tokenizer, &r.prompt, &r.target)
                .map(FactTokens::from)
                .with_context(|| format!("fact {i} ({:?} → {:?})", r.prompt, r.target))
        })
        .collect()
}
