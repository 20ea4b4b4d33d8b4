//! Edit data: the [`EditCase`] type shared by all datasets, the KnowEdit loaders, and the
//! loaders of a researcher's own files ([`DataFormat`]: KnowEdit, EasyEdit's flat layout,
//! ROME's CounterFact) behind one [`DataSource`].

mod counterfact;
mod dataset;
mod easyedit;
mod edit_case;
mod format;
mod kinds;
mod load;
mod paths;
mod probe;
mod record;
mod source;

pub use dataset::Dataset;
pub use edit_case::EditCase;
pub use format::DataFormat;
pub use kinds::{LocalityKind, PortabilityKind};
pub use load::{load_cases, parse_cases};
pub use paths::{DATA_DIR_ENV, default_data_dir};
pub use probe::Probe;
pub use source::{DataSource, EditFile, LoadedFile, parse_edit_file};
