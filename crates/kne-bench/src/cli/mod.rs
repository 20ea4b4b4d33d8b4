//! One module per subcommand, plus what they share.

pub mod generate;
pub mod logits;
pub mod model_args;
