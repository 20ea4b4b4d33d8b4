//! `kne generate`: greedy continuation.

use clap::Args;
use kne_model::GreedyConfig;

use super::model_args::{ModelArgs, PromptArgs};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    prompt: PromptArgs,
    /// Tokens to generate at most.
    #[arg(long, default_value_t = 20)]
    max_new_tokens: usize,
    /// Keep going past the end-of-sequence token.
    #[arg(long)]
    ignore_eos: bool,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let ids = args.prompt.ids(&loaded)?;
    let config = GreedyConfig {
        max_new_tokens: args.max_new_tokens,
        stop_token: if args.ignore_eos {
            None
        } else {
            loaded.tokenizer.eos_id()
        },
    };
    let mut new = loaded.model.generate_greedy(&ids, config)?;
    // The stop token ends the answer; it is not part of it.
    if new.last().copied() == config.stop_token {
        new.pop();
    }
    println!("{}", loaded.tokenizer.decode(&new)?);
    Ok(())
}
