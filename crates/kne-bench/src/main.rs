//! `kne`: the user command line of the toolkit.

mod cli;

use clap::{Parser, Subcommand};

/// Knowledge editing with Knowledge Neuronal Ensembles (and the methods it is compared with).
#[derive(Parser)]
#[command(name = "kne", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the top-K next-token logits at every position of a prompt.
    Logits(cli::logits::LogitsArgs),
    /// Greedy continuation of a prompt.
    Generate(cli::generate::GenerateArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Logits(args) => cli::logits::run(args),
        Command::Generate(args) => cli::generate::run(args),
    }
}
