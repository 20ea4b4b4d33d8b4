//! How many path points attribution needs: the right Riemann sum (the paper's Eq. 5) and
//! Gauss–Legendre against a high-order reference, on facts of the tuning split.
//!
//! ```sh
//! cargo run --release -p kne-benches --example attribution_quadrature -- --facts 6 --out runs/attribution-quadrature
//! ```
//!
//! For each rule it attributes the first `--facts` records of WikiData counterfact's
//! `train_cf.json` (never evaluated by a table) over all sites, sums the scores over the
//! facts, and reports, against the reference (Gauss–Legendre, `--reference` points) and
//! against Riemann m = 20: the relative L2 distance of the score vectors, and the share of
//! the ensemble selected at p = 0.01 (global quantile) that both select; plus seconds per
//! fact. Writes `quadrature.csv` and `quadrature.md` under `--out`.

#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use kne_attr::{AttributionConfig, Ensemble, FactTokens, Quadrature, Scores, SelectionScope};
use kne_edit::TokenizedRequest;
use kne_eval::data::{Dataset, default_data_dir, load_cases};
use kne_model::{LoadedModel, on_compute_pool, paths};

/// Share of the attributed neurons kept in the ensemble compared (table1's p).
const P: f64 = 0.01;

struct Args {
    facts: usize,
    reference: usize,
    out: PathBuf,
}

fn parse_args() -> Args {
    let mut args = Args {
        facts: 6,
        reference: 16,
        out: PathBuf::from("runs/attribution-quadrature"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--facts" => args.facts = value.parse().expect("--facts: a count"),
            "--reference" => args.reference = value.parse().expect("--reference: a count"),
            "--out" => args.out = PathBuf::from(value),
            other => panic!("unknown flag {other} (--facts N, --reference N, --out DIR)"),
        }
    }
    args
}

fn facts(loaded: &LoadedModel, n: usize) -> Vec<FactTokens> {
    let dataset = Dataset::WikiCounterfact;
    let path = default_data_dir().join(
        dataset
            .train_file()
            .expect("WikiData counterfact has a train file"),
    );
    let cases =
        load_cases(dataset, &path).unwrap_or_else(|e| panic!("{e} (run `cargo xtask fetch-data`)"));
    cases[..n]
        .iter()
        .map(|c| {
            let t = TokenizedRequest::new(&loaded.tokenizer, &c.prompt, &c.target_new).unwrap();
            FactTokens {
                prompt_ids: t.prompt_ids,
                target_ids: t.target_ids,
            }
        })
        .collect()
}

/// One rule's summed scores, its ensemble and its cost.
struct Measured {
    quadrature: Quadrature,
    points: usize,
    scores: Scores,
    ensemble: Ensemble,
    seconds_per_fact: f64,
}

fn measure(
    loaded: &LoadedModel,
    facts: &[FactTokens],
    quadrature: Quadrature,
    points: usize,
) -> Measured {
    let config = AttributionConfig {
        steps: points,
        quadrature,
        ..AttributionConfig::default()
    };
    let start = Instant::now();
    let scores = kne_attr::attribute(&loaded.model, facts, &config, |i| {
        eprintln!(
            "{quadrature} m = {points}: fact {} of {}",
            i + 1,
            facts.len()
        )
    })
    .unwrap();
    let seconds_per_fact = start.elapsed().as_secs_f64() / facts.len() as f64;
    let ensemble = kne_attr::select(&scores, &loaded.model, P, SelectionScope::Global).unwrap();
    Measured {
        quadrature,
        points,
        scores,
        ensemble,
        seconds_per_fact,
    }
}

/// `‖a − b‖ / ‖b‖` over every neuron of every site.
fn relative_distance(a: &Scores, b: &Scores) -> f64 {
    let (mut diff, mut norm) = (0.0, 0.0);
    for (site, reference) in &b.sites {
        for (x, y) in a.sites[site].iter().zip(reference) {
            diff += (x - y).powi(2);
            norm += y * y;
        }
    }
    (diff / norm).sqrt()
}

fn shared_share(a: &Ensemble, b: &Ensemble) -> f64 {
    100.0 * a.shared_neurons(b) as f64 / b.neuron_count().max(1) as f64
}

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn main() {
    kne_alloc::keep_freed_pages();
    kne_model::init_compute_pool();
    let args = parse_args();
    on_compute_pool(move || {
        let loaded = kne_model::load(&paths::default_model_path(), &Device::flex())
            .unwrap_or_else(|e| panic!("{e} (run `cargo xtask fetch-model`)"));
        let facts = facts(&loaded, args.facts);
        let rules = [
            (Quadrature::Riemann, 4),
            (Quadrature::Riemann, 20),
            (Quadrature::GaussLegendre, 2),
            (Quadrature::GaussLegendre, 3),
            (Quadrature::GaussLegendre, 4),
            (Quadrature::GaussLegendre, 6),
            (Quadrature::GaussLegendre, 8),
            (Quadrature::GaussLegendre, args.reference),
        ];
        let measured: Vec<Measured> = rules
            .iter()
            .map(|&(q, m)| measure(&loaded, &facts, q, m))
            .collect();
        let reference = measured.last().unwrap();
        let riemann20 = &measured[1];
        std::fs::create_dir_all(&args.out).unwrap();
        let mut csv = String::from(
            "quadrature,points,seconds_per_fact,rel_l2_to_reference,rel_l2_to_riemann20,\
             shared_with_reference_pct,shared_with_riemann20_pct,neurons\n",
        );
        let mut md = format!(
            "# Attribution: path points against accuracy\n\n\
             SmolLM2-135M-Instruct, all {} sites, output neurons; the first {} records of \
             `wiki_counterfact/train_cf.json`, scores summed over them. Reference: \
             Gauss–Legendre with {} points. Ensembles: p = {P}, one global quantile. \
             Distances are ‖s − r‖/‖r‖ over all neurons; *shared* is the share of the other \
             ensemble's neurons this one also selects.\n\n\
             | rule | points | s / fact | rel. L2 to reference | rel. L2 to Riemann 20 | \
             shared with reference | shared with Riemann 20 |\n|---|---|---|---|---|---|---|\n",
            reference.scores.sites.len(),
            facts.len(),
            args.reference
        );
        for m in &measured {
            let (to_ref, to_r20) = (
                relative_distance(&m.scores, &reference.scores),
                relative_distance(&m.scores, &riemann20.scores),
            );
            let (sh_ref, sh_r20) = (
                shared_share(&m.ensemble, &reference.ensemble),
                shared_share(&m.ensemble, &riemann20.ensemble),
            );
            writeln!(
                csv,
                "{},{},{:.2},{to_ref:.3e},{to_r20:.3e},{sh_ref:.2},{sh_r20:.2},{}",
                m.quadrature,
                m.points,
                m.seconds_per_fact,
                m.ensemble.neuron_count()
            )
            .unwrap();
            writeln!(
                md,
                "| {} | {} | {:.1} | {to_ref:.2e} | {to_r20:.2e} | {sh_ref:.1} % | {sh_r20:.1} % |",
                m.quadrature, m.points, m.seconds_per_fact
            )
            .unwrap();
        }
        write_atomic(&args.out.join("quadrature.csv"), &csv);
        write_atomic(&args.out.join("quadrature.md"), &md);
        print!("{md}");
    });
}
