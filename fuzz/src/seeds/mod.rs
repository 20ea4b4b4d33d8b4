//! The seed corpora of `corpus/<target>/`: small valid (and a few edge-case) inputs for each
//! target, written by the generators of this module. `make_seeds` runs [`write_all`].

mod gguf;
mod edit_file;
mod gguf_writer;
mod knowedit;
mod patch;
mod safetensors;

use std::io;
use std::path::Path;

pub use gguf::tiny_llama_config;
pub use gguf_writer::GgufWriter;

/// The fuzz targets, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: [&str; 5] = [
    "gguf_reader",
    "safetensors_config",
    "knowedit_json",
    "edit_file_json",
    "patch_loader",
];

/// Writes every seed into `corpus/<target>/<name>` (existing files of the same name are
/// replaced; others are left alone).
pub fn write_all(corpus: &Path) -> io::Result<()> {
    let write = |target: &str, seeds: Vec<(&str, Vec<u8>)>| -> io::Result<()> {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in seeds {
            std::fs::write(dir.join(name), bytes)?;
        }
        Ok(())
    };
    write("gguf_reader", gguf::seeds())?;
    write("safetensors_config", safetensors::seeds())?;
    write("knowedit_json", knowedit::seeds())?;
    write("edit_file_json", edit_file::seeds())?;
    let patches = corpus.join("patch_loader");
    std::fs::create_dir_all(&patches)?;
    patch::write(&patches)
}
