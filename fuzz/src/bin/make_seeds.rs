//! Writes the seed corpora into `fuzz/corpus/<target>/`:
//! `cargo run --manifest-path fuzz/Cargo.toml --bin make_seeds`.

fn main() -> std::io::Result<()> {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    kne_fuzz::seeds::write_all(&corpus)?;
    println!("seeds written to {}", corpus.display());
    Ok(())
}
