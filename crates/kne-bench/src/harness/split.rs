//! Which cases a dataset's cells evaluate, and which facts KNE localizes its ensemble on.
//!
//! The paper appears to localize on the evaluated dataset itself (METHODS §7.3); a number
//! measured on cases the ensemble was localized on is not evidence of generalization, so the
//! default keeps the two apart:
//! - `train`: the dataset's train file (WikiData counterfact: `train_cf.json`);
//! - `holdout`: the last `holdout` records of the evaluation file, which no cell of the
//!   experiment evaluates (ZsRE and WikiData recent have no train file);
//! - `transductive`: the first evaluated cases (the paper's apparent reading), reported
//!   beside the others, never alone;
//! - `disjoint` (the default): `train` where the dataset has a train file, else `holdout`.
//!
//! Everything here is index arithmetic on file lengths ([`SplitPlan`]), so that the
//! disjointness of the default tables is tested without a model.

use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, bail};
use kne_eval::data::{DataSource, EditCase, load_cases};
use serde::{Deserialize, Serialize};

/// Where KNE's ensemble is localized (`[kne] localize_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalizeFrom {
    /// `train` where the dataset has a train file, else `holdout`.
    #[default]
    Disjoint,
    /// The dataset's train file ([`Dataset::train_file`](kne_eval::data::Dataset::train_file)).
    Train,
    /// The held-out slice at the end of the evaluation file.
    Holdout,
    /// The first evaluated cases (the ensemble sees the cases it is scored on).
    Transductive,
}

/// Which file of a dataset an experiment evaluates (`evaluate`): the test file (tables) or
/// the train file (tuning: every setting is chosen on it, never on evaluated test cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvaluatedFile {
    #[default]
    Test,
    Train,
}

impl EvaluatedFile {
    /// The file evaluated on `source`, as captions and cache keys name it: relative to the
    /// data directory for a KnowEdit dataset, the path as given for a user's file.
    pub fn file_name(self, source: &DataSource) -> Result<String> {
        match (self, source) {
            (EvaluatedFile::Test, DataSource::KnowEdit(d)) => Ok(d.test_file().to_owned()),
            (EvaluatedFile::Test, DataSource::File(f)) => Ok(f.path.display().to_string()),
            (EvaluatedFile::Train, _) => source
                .knowedit()
                .and_then(|d| d.train_file())
                .map(str::to_owned)
                .with_context(|| {
                    format!(
                        "field `evaluate` = \"train\", but dataset `{}` has no train file",
                        source.name()
                    )
                }),
        }
    }
}

/// A [`LocalizeFrom`] resolved for one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalizationSource {
    Train,
    Holdout,
    Transductive,
}

impl LocalizeFrom {
    /// The source this setting names on `dataset` when `evaluated` is the evaluated file;
    /// `train` without a train file distinct from the evaluated one is an error naming both.
    pub fn resolve(
        self,
        dataset: &DataSource,
        evaluated: EvaluatedFile,
    ) -> Result<LocalizationSource> {
        let train = dataset
            .knowedit()
            .and_then(|d| d.train_file())
            .filter(|_| evaluated == EvaluatedFile::Test);
        Ok(match (self, train) {
            (LocalizeFrom::Disjoint, Some(_)) | (LocalizeFrom::Train, Some(_)) => {
                LocalizationSource::Train
            }
            (LocalizeFrom::Disjoint, None) | (LocalizeFrom::Holdout, _) => {
                LocalizationSource::Holdout
            }
            (LocalizeFrom::Transductive, _) => LocalizationSource::Transductive,
            (LocalizeFrom::Train, None) => bail!(
                "field `kne.localize_from` = \"train\", but dataset `{}` has no train \
                 file other than the evaluated one (use \"holdout\" or \"disjoint\")",
                dataset.name()
            ),
        })
    }
}

impl LocalizationSource {
    /// Short name for captions and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            LocalizationSource::Train => "train",
            LocalizationSource::Holdout => "holdout",
            LocalizationSource::Transductive => "transductive",
        }
    }
}

/// Which file a range of records is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitFile {
    /// [`Dataset::test_file`](kne_eval::data::Dataset::test_file), the file the tables evaluate.
    Evaluation,
    /// [`Dataset::train_file`](kne_eval::data::Dataset::train_file).
    Train,
}

/// The record ranges of one dataset, from file lengths alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitPlan {
    /// Records in the evaluation file.
    pub evaluation_len: usize,
    /// Records in the train file (0 when there is none).
    pub train_len: usize,
    /// Records reserved at the end of the evaluation file (0 when no cell localizes there).
    pub holdout: usize,
}

impl SplitPlan {
    /// The reserved slice must leave something to evaluate.
    pub fn new(evaluation_len: usize, train_len: usize, holdout: usize) -> Result<Self> {
        if holdout >= evaluation_len && holdout > 0 {
            bail!(
                "field `holdout` = {holdout} reserves the whole evaluation file \
                 ({evaluation_len} records); lower it (the held-out records are where KNE \
                 localizes on data without a train file)"
            );
        }
        Ok(Self {
            evaluation_len,
            train_len,
            holdout,
        })
    }

    /// Records of the evaluation file a cell may evaluate (the file without the slice).
    pub fn pool(&self) -> Range<usize> {
        0..self.evaluation_len - self.holdout
    }

    /// The first `limit` records of the pool (`usize::MAX`: all of them).
    pub fn evaluated(&self, limit: usize) -> Range<usize> {
        0..limit.min(self.pool().end)
    }

    /// The `n` facts `source` localizes on: a file and a range of its records.
    pub fn localization(
        &self,
        source: LocalizationSource,
        n: usize,
    ) -> Result<(SplitFile, Range<usize>)> {
        let (file, range, available) = match source {
            LocalizationSource::Train => (SplitFile::Train, 0..n, self.train_len),
            LocalizationSource::Holdout => {
                let start = self.pool().end;
                (SplitFile::Evaluation, start..start + n, self.holdout)
            }
            LocalizationSource::Transductive => (SplitFile::Evaluation, 0..n, self.pool().end),
        };
        if n > available {
            bail!(
                "localizing on {n} facts from the {} split, which has {available}{}",
                source.name(),
                match source {
                    LocalizationSource::Holdout => " (raise the experiment's `holdout`)",
                    _ => "",
                }
            );
        }
        Ok((file, range))
    }

    /// Whether localizing `n` facts from `source` stays clear of the first `limit`
    /// evaluated records.
    pub fn is_disjoint(&self, source: LocalizationSource, n: usize, limit: usize) -> Result<bool> {
        let (file, range) = self.localization(source, n)?;
        let evaluated = self.evaluated(limit);
        Ok(file == SplitFile::Train || range.start >= evaluated.end || range.is_empty())
    }
}

/// Whether the evaluated file of `dataset` keeps a held-out slice: when there is no other
/// file to localize on (ZsRE, WikiData recent, a user's file, or counterfact's train file
/// when it is the one evaluated).
pub fn reserves_holdout(dataset: &DataSource, evaluated: EvaluatedFile) -> bool {
    dataset.knowedit().and_then(|d| d.train_file()).is_none() || evaluated == EvaluatedFile::Train
}

/// One dataset's records as an experiment splits them: the evaluation file, the train file
/// when a cell localizes there, and the [`SplitPlan`] over both.
#[derive(Debug, Clone)]
pub struct DatasetSplit {
    pub dataset: DataSource,
    /// The evaluated file as captions and cache keys name it ([`EvaluatedFile::file_name`]).
    pub evaluation_file: String,
    pub evaluation: Vec<EditCase>,
    pub train: Vec<EditCase>,
    pub plan: SplitPlan,
}

impl DatasetSplit {
    /// Loads what `sources` need from `data_dir`. The last `holdout` records of the evaluated
    /// file are reserved (never evaluated, by any experiment) on every dataset without a
    /// train file distinct from the evaluated one ([`reserves_holdout`]), whether or not a
    /// cell localizes there, so that all experiments on a dataset evaluate the same records.
    pub fn load(
        dataset: DataSource,
        evaluated: EvaluatedFile,
        data_dir: &Path,
        sources: &[LocalizationSource],
        holdout: usize,
    ) -> Result<Self> {
        let evaluation_file = evaluated.file_name(&dataset)?;
        let evaluation = match &dataset {
            DataSource::KnowEdit(d) => load_cases(*d, data_dir.join(&evaluation_file))?,
            DataSource::File(f) => f.load()?.cases,
        };
        let train = match dataset.knowedit().and_then(|d| Some((d, d.train_file()?))) {
            Some((d, file))
                if sources.contains(&LocalizationSource::Train)
                    && evaluated == EvaluatedFile::Test =>
            {
                load_cases(d, data_dir.join(file))?
            }
            _ => Vec::new(),
        };
        let holdout = if reserves_holdout(&dataset, evaluated) {
            holdout
        } else {
            0
        };
        let plan = SplitPlan::new(evaluation.len(), train.len(), holdout)
            .with_context(|| format!("dataset `{dataset}`"))?;
        Ok(Self {
            dataset,
            evaluation_file,
            evaluation,
            train,
            plan,
        })
    }

    /// The first `limit` evaluable cases (`usize::MAX`: all).
    pub fn evaluated(&self, limit: usize) -> &[EditCase] {
        &self.evaluation[self.plan.evaluated(limit)]
    }

    /// The `n` facts `source` localizes on, and a description of them for captions and
    /// cache keys (`wiki_counterfact/train_cf.json records 0..6`).
    pub fn localization(
        &self,
        source: LocalizationSource,
        n: usize,
    ) -> Result<(&[EditCase], String)> {
        let (file, range) = self
            .plan
            .localization(source, n)
            .with_context(|| format!("dataset `{}`", self.dataset))?;
        let (cases, name) = match file {
            SplitFile::Evaluation => (&self.evaluation, self.evaluation_file.as_str()),
            SplitFile::Train => (
                &self.train,
                self.dataset
                    .knowedit()
                    .and_then(|d| d.train_file())
                    .context("no train file")?,
            ),
        };
        let text = format!("{name} records {}..{}", range.start, range.end);
        Ok((&cases[range], text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kne_eval::data::Dataset;
    use proptest::prelude::*;

    const WIKI_CF: DataSource = DataSource::KnowEdit(Dataset::WikiCounterfact);
    const ZSRE: DataSource = DataSource::KnowEdit(Dataset::ZsRE);
    const WIKI_RECENT: DataSource = DataSource::KnowEdit(Dataset::WikiRecent);

    #[test]
    fn disjoint_resolves_per_dataset() {
        use LocalizationSource::*;
        let test = EvaluatedFile::Test;
        assert_eq!(
            LocalizeFrom::Disjoint.resolve(&WIKI_CF, test).unwrap(),
            Train
        );
        assert_eq!(
            LocalizeFrom::Disjoint.resolve(&ZSRE, test).unwrap(),
            Holdout
        );
        assert_eq!(
            LocalizeFrom::Disjoint.resolve(&WIKI_RECENT, test).unwrap(),
            Holdout
        );
        assert_eq!(
            LocalizeFrom::Transductive.resolve(&ZSRE, test).unwrap(),
            Transductive
        );
        let err = LocalizeFrom::Train
            .resolve(&ZSRE, test)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("zsre") && err.contains("localize_from"),
            "{err}"
        );
        // Tuning on the train file: its own holdout slice, never the file it evaluates.
        let train = EvaluatedFile::Train;
        assert_eq!(
            LocalizeFrom::Disjoint.resolve(&WIKI_CF, train).unwrap(),
            Holdout
        );
        assert!(LocalizeFrom::Train.resolve(&WIKI_CF, train).is_err());
        assert!(train.file_name(&ZSRE).is_err());
    }

    #[test]
    fn the_holdout_slice_is_the_end_of_the_file_and_never_evaluated() {
        let plan = SplitPlan::new(570, 0, 200).unwrap();
        assert_eq!(plan.pool(), 0..370);
        assert_eq!(plan.evaluated(usize::MAX), 0..370);
        assert_eq!(plan.evaluated(50), 0..50);
        assert_eq!(
            plan.localization(LocalizationSource::Holdout, 6).unwrap(),
            (SplitFile::Evaluation, 370..376)
        );
        let err = plan
            .localization(LocalizationSource::Holdout, 201)
            .unwrap_err()
            .to_string();
        assert!(err.contains("201") && err.contains("holdout"), "{err}");
        assert!(SplitPlan::new(10, 0, 10).is_err());
    }

    #[test]
    fn transductive_localization_overlaps_the_evaluated_cases() {
        let plan = SplitPlan::new(839, 1427, 0).unwrap();
        assert!(
            !plan
                .is_disjoint(LocalizationSource::Transductive, 6, 50)
                .unwrap()
        );
        assert!(
            plan.is_disjoint(LocalizationSource::Train, 200, 50)
                .unwrap()
        );
    }

    proptest! {
        /// Train and holdout localization never touch an evaluated record, whatever the
        /// sizes; transductive always does (when both are non-empty).
        #[test]
        fn non_transductive_sources_are_disjoint(
            evaluation_len in 2usize..2000,
            train_len in 0usize..2000,
            holdout_frac in 0.0f64..0.99,
            n_frac in 0.0f64..1.0,
            limit in 1usize..3000,
        ) {
            let holdout = ((evaluation_len - 1) as f64 * holdout_frac) as usize;
            let plan = SplitPlan::new(evaluation_len, train_len, holdout).unwrap();
            let evaluated = plan.evaluated(limit);
            prop_assert!(evaluated.end <= evaluation_len - holdout);
            let n = (holdout as f64 * n_frac) as usize;
            let (file, range) = plan.localization(LocalizationSource::Holdout, n).unwrap();
            prop_assert_eq!(file, SplitFile::Evaluation);
            prop_assert!(range.end <= evaluation_len);
            prop_assert!(range.clone().all(|i| !evaluated.contains(&i)));
            let n = (train_len as f64 * n_frac) as usize;
            prop_assert!(plan.is_disjoint(LocalizationSource::Train, n, limit).unwrap());
            let n = 1 + ((evaluated.end - 1) as f64 * n_frac) as usize;
            prop_assert!(!plan.is_disjoint(LocalizationSource::Transductive, n, limit).unwrap());
        }
    }
}
