//! KnowEdit data: the [`EditCase`] type shared by all datasets and the file loaders.

mod dataset;
mod edit_case;
mod kinds;
mod load;
mod paths;
mod probe;

pub use dataset::Dataset;
pub use edit_case::EditCase;
pub use kinds::{LocalityKind, PortabilityKind};
pub use load::{load_cases, parse_cases};
pub use paths::{DATA_DIR_ENV, default_data_dir};
pub use probe::Probe;
