//! The crate's one error type.

use std::path::PathBuf;

/// The error a model-side [`Scorer`](crate::metrics::Scorer) returns: any error type, boxed.
pub type ScorerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while loading KnowEdit files or scoring cases.
///
/// Data errors name the file, the record index (0-based, the position in the JSON array)
/// and the field path inside the record, e.g.
/// `data/knowedit/ZsRE/ZsRE-test-all.json: record 17: field `target_new`: expected a string, found a number`.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{}: invalid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error (it carries line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The file is valid JSON but its top level is not an array of records.
    #[error("{}: expected a JSON array of records, found {found}", path.display())]
    NotAnArray {
        /// The file.
        path: PathBuf,
        /// What the top level is instead ("an object", "a string", ...).
        found: &'static str,
    },
    /// The file is an empty array: there is nothing to edit or evaluate.
    #[error("{}: no records (an empty JSON array); is this the right file?", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// One record is malformed.
    #[error("{}: record {index}: field `{field}`: {problem}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// 0-based position of the record in the file's array.
        index: usize,
        /// Path of the offending field inside the record, e.g. `target_new` or
        /// `portability.Reasoning[0].ground_truth`.
        field: String,
        /// What is wrong ("missing", "expected a string, found a number", ...).
        problem: String,
    },
    /// A dataset name that [`Dataset::from_name`](crate::data::Dataset::from_name) does not know.
    #[error("unknown dataset `{0}` (expected one of: zsre, wiki_cf, wiki_recent)")]
    UnknownDataset(String),
    /// A data-format name that [`DataFormat::from_name`](crate::data::DataFormat::from_name)
    /// does not know.
    #[error("unknown data format `{0}` (expected one of: knowedit, easyedit, counterfact)")]
    UnknownFormat(String),
    /// The first record of a file is in none of the known layouts.
    #[error(
        "{}: record 0 is in none of the known layouts (keys: {keys}); expected KnowEdit's \
         (`prompt`, `target_new`, `subject`, …), EasyEdit's flat one (… `locality_prompt`) or \
         ROME's CounterFact (`requested_rewrite`); pass --format to force one",
        path.display()
    )]
    UndetectedFormat {
        /// The file.
        path: PathBuf,
        /// The first record's keys, comma-separated.
        keys: String,
    },
    /// A name for a user's data file that cannot be used.
    #[error("{}: cannot name its cases `{name}`: {problem}", path.display())]
    BadName {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
        /// Why not.
        problem: String,
    },
    /// The model side failed.
    #[error("case {index}: scorer failed: {source}")]
    Scorer {
        /// The case's index in its file.
        index: usize,
        /// The scorer's error.
        #[source]
        source: ScorerError,
    },
    /// The model side returned predictions that do not match the requests
    /// (wrong number of rows, or a row of the wrong length).
    #[error("case {index}: scorer answered {got} for {expected}")]
    ScorerShape {
        /// The case's index in its file.
        index: usize,
        /// What was asked for, in words.
        expected: String,
        /// What came back, in words.
        got: String,
    },
    /// NLTK's English Punkt parameters, which the fluency measure needs, could not be
    /// loaded (not fetched yet: `cargo xtask fetch-data`; or malformed).
    #[error("fluency: {0}")]
    Punkt(#[from] crate::metrics::PunktError),
    /// Cached pre-edit predictions do not belong to this case, or were made with another
    /// tokenizer (their answer tokens differ from the ones built now).
    #[error("case {index}: pre-edit cache does not match: {reason}")]
    CacheMismatch {
        /// The case's index in its file.
        index: usize,
        /// What differs.
        reason: String,
    },
}
