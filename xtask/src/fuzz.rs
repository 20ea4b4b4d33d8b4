//! `cargo xtask fuzz`: runs the cargo-fuzz targets of `fuzz/` for a bounded time each.
//!
//! Needs the nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
//! `cargo install cargo-fuzz --locked`). Not part of CI: the first build instruments every
//! dependency and takes about 20 minutes on two shared cores.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The targets, in the order they run (`fuzz/Cargo.toml` declares the same five).
pub const TARGETS: [&str; 5] = [
    "gguf_reader",
    "safetensors_config",
    "knowedit_json",
    "edit_file_json",
    "patch_loader",
];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run only this target (default: all five, one after the other)
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    pub target: Option<String>,
    /// Seconds of fuzzing per target
    #[arg(long, default_value_t = 60)]
    pub secs: u64,
    /// Sanitizer: `address` (the default of cargo-fuzz; slower) or `none`
    #[arg(long, default_value = "address", value_parser = ["address", "none"])]
    pub sanitizer: String,
}

pub fn run(root: &Path, args: Args) -> Result<()> {
    let fuzz_dir = root.join("fuzz");
    check_tools(&fuzz_dir)?;
    let targets: Vec<&str> = match &args.target {
        Some(t) => vec![t.as_str()],
        None => TARGETS.to_vec(),
    };
    for target in targets {
        // libFuzzer writes what it finds into the first corpus folder: a git-ignored scratch
        // folder, so the committed seeds in corpus/<target> stay as they are.
        let work = fuzz_dir.join("work").join(target);
        std::fs::create_dir_all(&work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        println!(
            "fuzz: {target} for {} s (sanitizer: {})",
            args.secs, args.sanitizer
        );
        let status = nightly_cargo(&fuzz_dir)
            .args(["fuzz", "run", "--sanitizer", &args.sanitizer, target])
            .arg(&work)
            .arg(fuzz_dir.join("corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={}", args.secs))
            // Per input: ten seconds is far more than any input under 64 KiB needs, and no
            // single allocation may exceed 256 MiB (lying sizes are refused before allocating).
            .args([
                "-timeout=10",
                "-malloc_limit_mb=256",
                "-print_final_stats=1",
            ])
            // Field names and extreme numbers, so mutations reach past the parsers.
            .arg(format!(
                "-dict={}",
                fuzz_dir
                    .join("dict")
                    .join(format!("{target}.dict"))
                    .display()
            ))
            .status()
            .context("cannot run `cargo +nightly fuzz run`")?;
        if !status.success() {
            bail!(
                "fuzz target `{target}` failed ({status}); the reproducer is in \
                 fuzz/artifacts/{target}/ (rerun it with `cd fuzz && cargo +nightly fuzz run \
                 {target} artifacts/{target}/<file>`)"
            );
        }
    }
    println!("fuzz: no crash found");
    Ok(())
}

/// `cargo +nightly` in `dir`, through rustup's proxy (`$CARGO` is the stable cargo itself,
/// which does not understand `+nightly`).
fn nightly_cargo(dir: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(dir)
        .arg("+nightly")
        .env_remove("RUSTUP_TOOLCHAIN");
    cmd
}

/// A clear error when the nightly toolchain or cargo-fuzz is missing.
fn check_tools(fuzz_dir: &Path) -> Result<()> {
    let works = |args: &[&str]| {
        nightly_cargo(fuzz_dir)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works(&["--version"]) {
        bail!(
            "the nightly toolchain is missing (cargo-fuzz needs it): \
             `rustup toolchain install nightly`"
        );
    }
    if !works(&["fuzz", "--version"]) {
        bail!("cargo-fuzz is not installed: `cargo install cargo-fuzz --locked`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list above agrees with `fuzz/Cargo.toml`, `fuzz_targets/`, `dict/` and `corpus/`.
    #[test]
    fn every_target_has_a_binary_and_seeds() {
        let fuzz = crate::paths::workspace_root().join("fuzz");
        let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
            assert!(
                fuzz.join("fuzz_targets")
                    .join(format!("{target}.rs"))
                    .is_file()
            );
            let dict = fuzz.join("dict").join(format!("{target}.dict"));
            assert!(dict.is_file(), "{target} has no dictionary");
            let seeds = std::fs::read_dir(fuzz.join("corpus").join(target)).expect("corpus");
            assert!(seeds.count() >= 3, "{target} has fewer than 3 seeds");
        }
    }
}
