//! One module per subcommand, plus what they share.

pub mod attr;
pub mod data_args;
pub mod edit;
pub mod eval;
pub mod generate;
pub mod logits;
pub mod model_args;
pub mod overlap;
pub mod reproduce;
pub mod select;
