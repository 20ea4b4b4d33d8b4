//! `cargo xtask bench`: the criterion benches of `benches/` (package `kne-benches`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Passed on to `cargo bench` (e.g. `-- forward` to filter benches)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

pub fn run(root: &Path, args: Args) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    println!(
        "bench: the benches are criterion benches of the package `kne-benches` (benches/); \
         running `cargo bench -p kne-benches {}`",
        args.rest.join(" ")
    );
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["bench", "-p", "kne-benches"])
        .args(&args.rest)
        .status()
        .with_context(|| format!("cannot run `{cargo} bench`"))?;
    if !status.success() {
        bail!("`cargo bench -p kne-benches` failed ({status})");
    }
    Ok(())
}
