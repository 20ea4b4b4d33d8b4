//! `kne`: the user command line of the toolkit.

mod cli;

// mimalloc, keeping freed pages: the activation buffers of one pass are reused by the
// next instead of page-faulted back in (crates/kne-alloc, results/bench/PROFILE.md).
#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use clap::{Parser, Subcommand};

/// Knowledge editing with Knowledge Neuronal Ensembles (and the methods it is compared with).
#[derive(Parser)]
// `--version` prints the code version the rows carry (commit built from, `-dirty`).
#[command(name = "kne", version = kne_bench::results::CODE_VERSION, about)]
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
    /// KnowEdit metrics of the unedited model (method `none`): per-case rows and a summary.
    Eval(cli::eval::EvalArgs),
    /// Localize a Knowledge Neuronal Ensemble on the first cases of a dataset.
    Attr(cli::attr::AttrArgs),
    /// Edit one fact (KNE or a baseline) and save the change as a safetensors patch.
    Edit(cli::edit::EditArgs),
    /// Apply a patch and show a greedy continuation before and after.
    ApplyPatch(cli::edit::ApplyPatchArgs),
    /// An ensemble from saved attribution scores, at any p and scope (no attribution).
    Select(cli::select::SelectArgs),
    /// Neurons two ensembles share (count, share of each, Jaccard).
    Overlap(cli::overlap::OverlapArgs),
    /// Run an experiment file (a table or figure of the paper) into a fresh run folder:
    /// rows, summaries, plots, and the comparison with the committed results.
    Reproduce(cli::reproduce::ReproduceArgs),
    /// Write an experiment's reports (and results/claims.md) from its rows, all shards.
    Report(cli::reproduce::ReportArgs),
}

fn main() -> anyhow::Result<()> {
    kne_alloc::keep_freed_pages();
    kne_model::init_compute_pool();
    let cli = Cli::parse();
    // The whole command runs on a pool thread, which then computes its own share of every
    // matrix product (kne-model `compute_pool`).
    kne_model::on_compute_pool(move || match cli.command {
        Command::Logits(args) => cli::logits::run(args),
        Command::Generate(args) => cli::generate::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Attr(args) => cli::attr::run(args),
        Command::Edit(args) => cli::edit::run(args),
        Command::ApplyPatch(args) => cli::edit::run_apply(args),
        Command::Select(args) => cli::select::run(args),
        Command::Overlap(args) => cli::overlap::run(args),
        Command::Reproduce(args) => cli::reproduce::run_reproduce(args),
        Command::Report(args) => cli::reproduce::run_report(args),
    })
}
