//! How many path points attribution needs: the right Riemann sum (the paper's Eq. 5) and
//! Gauss–Legendre against a high-order reference, on facts of the tuning split.
//!
//! ```sh
//! cargo run --release -p kne-benches --example attribution_quadrature -- --facts 6 --out runs/attribution-quadrature
//! ```
//!
//! `--layers 0,18` attributes only those layers' sites (default: all 30); `--rules
//! midpoint:4,midpoint:8` picks the rules compared (Riemann 20 is always added).
//!
//! For each rule it attributes the first `--facts` records of WikiData counterfact's
//! `train_cf.json` (never evaluated by a table) over all sites, sums the scores over the
//! facts, and reports, against the reference (Gauss–Legendre, `--reference` points) and
//! against Riemann m = 20: the relative L2 distance of the score vectors, and the share of
//! the ensemble selected at p = 0.01 (global quantile) that both select; plus seconds per
//! fact. Writes `quadrature.csv` and `quadrature.md` under `--out`.
//!
//! Per site it also writes `sites.csv` and a section of `quadrature.md`: each rule's distance
//! to the reference on that site's neurons, and its completeness error. A site's summed
//! scores integrate `dP(αW)/dα`, so they must equal `P(W) − P(0·W)` (the target probability
//! with the site as it is minus with its output zeroed), an exact value that needs no
//! reference rule: which sites a rule gets wrong, and whether the reference itself is exact.

#[global_allocator]
static ALLOCATOR: kne_alloc::Allocator = kne_alloc::Allocator;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use kne_attr::{AttributionConfig, Ensemble, FactTokens, Quadrature, Scores, SelectionScope};
use kne_edit::TokenizedRequest;
use kne_eval::data::{Dataset, default_data_dir, load_cases};
use kne_model::{Captures, Interventions, Llama, LoadedModel, Site, on_compute_pool, paths};

/// Share of the attributed neurons kept in the ensemble compared (table1's p).
const P: f64 = 0.01;

struct Args {
    facts: usize,
    reference: usize,
    /// Attribute only these layers (default: all).
    layers: Option<Vec<usize>>,
    /// The rules compared (default: Riemann 4 and 20, Gauss–Legendre 2–32 below the
    /// reference); Riemann 20 is always among them.
    rules: Option<Vec<(Quadrature, usize)>>,
    out: PathBuf,
}

fn parse_args() -> Args {
    let mut args = Args {
        facts: 6,
        reference: 16,
        layers: None,
        rules: None,
        out: PathBuf::from("runs/attribution-quadrature"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--facts" => args.facts = value.parse().expect("--facts: a count"),
            "--reference" => args.reference = value.parse().expect("--reference: a count"),
            "--layers" => {
                args.layers = Some(
                    value
                        .split(',')
                        .map(|l| l.parse().expect("--layers: comma-separated layer indices"))
                        .collect(),
                )
            }
            "--rules" => args.rules = Some(value.split(',').map(parse_rule).collect()),
            "--out" => args.out = PathBuf::from(value),
            other => {
                panic!(
                    "unknown flag {other} (--facts N, --reference N, --layers A,B,…, \
                     --rules riemann:4,midpoint:8,…, --out DIR)"
                )
            }
        }
    }
    args
}

/// `midpoint:8` → (Midpoint, 8).
fn parse_rule(text: &str) -> (Quadrature, usize) {
    let (name, points) = text
        .split_once(':')
        .unwrap_or_else(|| panic!("--rules: `{text}` is not RULE:POINTS"));
    let rule = match name {
        "riemann" => Quadrature::Riemann,
        "midpoint" => Quadrature::Midpoint,
        "gauss_legendre" => Quadrature::GaussLegendre,
        other => panic!("--rules: unknown rule `{other}` (riemann, midpoint, gauss_legendre)"),
    };
    (rule, points.parse().expect("--rules: POINTS is a count"))
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
    (quadrature, points): (Quadrature, usize),
    layers: Option<Vec<usize>>,
) -> Measured {
    let config = AttributionConfig {
        steps: points,
        quadrature,
        layers,
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

/// The Riemann m = 20 measurement (the paper's rule), always among the rules.
fn riemann20_of(measured: &[Measured]) -> &Measured {
    measured
        .iter()
        .find(|m| m.quadrature == Quadrature::Riemann && m.points == 20)
        .expect("Riemann 20 is always measured")
}

/// `‖a − b‖ / ‖b‖` over every neuron of every site.
fn relative_distance(a: &Scores, b: &Scores) -> f64 {
    let (mut diff, mut norm) = (0.0, 0.0);
    for (site, reference) in &b.sites {
        diff += squared_distance(&a.sites[site], reference);
        norm += squared_norm(reference);
    }
    (diff / norm).sqrt()
}

/// `‖a − b‖²` of two score vectors.
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// `‖a‖²` of a score vector.
fn squared_norm(a: &[f64]) -> f64 {
    a.iter().map(|y| y * y).sum()
}

fn shared_share(a: &Ensemble, b: &Ensemble) -> f64 {
    100.0 * a.shared_neurons(b) as f64 / b.neuron_count().max(1) as f64
}

/// `P(W) − P(0·W)` of every site, summed over `facts`: the exact value of the site's summed
/// scores (completeness of the path integral). `P` is the teacher-forced probability of the
/// answer tokens, summed over them, as attribution differentiates it.
fn completeness_targets(
    model: &Llama,
    facts: &[FactTokens],
    sites: &[Site],
) -> BTreeMap<Site, f64> {
    let device = model.device();
    let layers = model.layers.len();
    let mut out: BTreeMap<Site, f64> = sites.iter().map(|&s| (s, 0.0)).collect();
    for fact in facts {
        let ids = fact.input_ids();
        let (first, span) = (fact.prompt_ids.len() - 1, fact.target_ids.len());
        let targets: Vec<i64> = fact.target_ids.iter().map(|&t| t as i64).collect();
        let targets = Tensor::<3, Int>::from_data(TensorData::new(targets, [1, span, 1]), &device);
        // Target probability of each batch row run from `layer` up with `hooks`.
        let probability = |hidden: Tensor<3>, layer: usize, hooks: Option<&Interventions>| {
            let rows = hidden.dims()[0];
            let top =
                model.forward_blocks(hidden, layer..layers, None, hooks, &mut Captures::new());
            let logits = model.head(top.narrow(1, first, span));
            softmax(logits, 2)
                .gather(2, targets.clone().repeat_dim(0, rows))
                .sum_dim(1)
                .reshape([rows])
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        let mut hidden = model.embed(model.ids_tensor(&[&ids]).unwrap());
        let whole = probability(hidden.clone(), 0, None)[0] as f64;
        for layer in 0..layers {
            let here: Vec<Site> = sites.iter().copied().filter(|s| s.layer == layer).collect();
            if !here.is_empty() {
                // Row r zeroes site r's output; every other site keeps its weights.
                let mut hooks = Interventions::new();
                for (r, &site) in here.iter().enumerate() {
                    let scales: Vec<f32> = (0..here.len())
                        .map(|row| if row == r { 0.0 } else { 1.0 })
                        .collect();
                    let scales = Tensor::from_data(TensorData::new(scales, [here.len()]), &device);
                    hooks = hooks.scale_output(site, scales);
                }
                let zeroed = probability(
                    hidden.clone().repeat_dim(0, here.len()),
                    layer,
                    Some(&hooks),
                );
                for (site, p0) in here.iter().zip(zeroed) {
                    *out.get_mut(site).unwrap() += whole - p0 as f64;
                }
            }
            hidden =
                model.forward_blocks(hidden, layer..layer + 1, None, None, &mut Captures::new());
        }
    }
    out
}

/// `‖a − b‖ / ‖b‖` on one site's neurons.
fn site_distance(a: &[f64], b: &[f64]) -> f64 {
    (squared_distance(a, b) / squared_norm(b)).sqrt()
}

/// `|Σ scores − exact| / |exact|`: a rule's completeness error on one site.
fn completeness_error(scores: &[f64], exact: f64) -> f64 {
    (scores.iter().sum::<f64>() - exact).abs() / exact.abs().max(f64::MIN_POSITIVE)
}

/// Per-site comparison of every rule: `sites.csv` and a markdown section.
fn per_site_report(measured: &[Measured], exact: &BTreeMap<Site, f64>, out: &Path) -> String {
    let reference = measured.last().unwrap();
    let riemann20 = riemann20_of(measured);
    let mut csv = String::from("site,exact_delta_p,reference_norm");
    for m in measured {
        write!(
            csv,
            ",{q}{p}_rel_l2,{q}{p}_completeness",
            q = m.quadrature,
            p = m.points
        )
        .unwrap();
    }
    csv.push('\n');
    for (site, r) in &reference.scores.sites {
        let norm = squared_norm(r).sqrt();
        write!(csv, "{site},{:.6e},{norm:.6e}", exact[site]).unwrap();
        for m in measured {
            let s = &m.scores.sites[site];
            write!(
                csv,
                ",{:.4e},{:.4e}",
                site_distance(s, r),
                completeness_error(s, exact[site])
            )
            .unwrap();
        }
        csv.push('\n');
    }
    write_atomic(&out.join("sites.csv"), &csv);

    let mut md = String::from(
        "\n## Completeness per rule\n\nFor each site, `|Σ scores − (P(W) − P(0·W))| / \
         |P(W) − P(0·W)|` (exact, no reference rule). *total*: the same over all sites at \
         once, `Σ_sites |…| / Σ_sites |P(W) − P(0·W)|`.\n\n\
         | rule | points | median site | 90th percentile | sites within 1 % | total |\n\
         |---|---|---|---|---|---|\n",
    );
    let total_exact: f64 = exact.values().map(|d| d.abs()).sum();
    for m in measured {
        let mut errors: Vec<f64> = exact
            .iter()
            .map(|(site, &d)| completeness_error(&m.scores.sites[site], d))
            .collect();
        errors.sort_by(f64::total_cmp);
        let within = errors.iter().filter(|&&e| e < 0.01).count();
        let total: f64 = exact
            .iter()
            .map(|(site, &d)| (m.scores.sites[site].iter().sum::<f64>() - d).abs())
            .sum::<f64>()
            / total_exact;
        writeln!(
            md,
            "| {} | {} | {:.2e} | {:.2e} | {within} of {} | {total:.2e} |",
            m.quadrature,
            m.points,
            errors[errors.len() / 2],
            errors[errors.len() * 9 / 10],
            errors.len()
        )
        .unwrap();
    }
    // Where Riemann m = 20 differs from the reference: the sites carrying most of it.
    let mut shares: Vec<(Site, f64)> = reference
        .scores
        .sites
        .iter()
        .map(|(site, r)| (*site, squared_distance(&riemann20.scores.sites[site], r)))
        .collect();
    let all: f64 = shares.iter().map(|(_, e)| e).sum();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    write!(
        md,
        "\n## Sites carrying Riemann 20's distance to the reference\n\n\
         | site | share of ‖R20 − ref‖² | P(W) − P(0·W) | R20 completeness | reference completeness | site's share of ‖ref‖² |\n\
         |---|---|---|---|---|---|\n"
    )
    .unwrap();
    let ref_norm2: f64 = reference
        .scores
        .sites
        .values()
        .map(|r| squared_norm(r))
        .sum();
    for (site, e) in shares.iter().take(12) {
        let r = &reference.scores.sites[site];
        writeln!(
            md,
            "| {site} | {:.1} % | {:.3e} | {:.2e} | {:.2e} | {:.1} % |",
            100.0 * e / all,
            exact[site],
            completeness_error(&riemann20.scores.sites[site], exact[site]),
            completeness_error(r, exact[site]),
            100.0 * squared_norm(r) / ref_norm2
        )
        .unwrap();
    }
    md
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
        let default_rules = vec![
            (Quadrature::Riemann, 4),
            (Quadrature::Riemann, 20),
            (Quadrature::GaussLegendre, 2),
            (Quadrature::GaussLegendre, 3),
            (Quadrature::GaussLegendre, 4),
            (Quadrature::GaussLegendre, 6),
            (Quadrature::GaussLegendre, 8),
            (Quadrature::GaussLegendre, 16),
            (Quadrature::GaussLegendre, 32),
        ];
        let mut rules = args.rules.clone().unwrap_or(default_rules);
        if !rules.contains(&(Quadrature::Riemann, 20)) {
            rules.insert(0, (Quadrature::Riemann, 20));
        }
        // The rules, without those Gauss–Legendre ones at or above the reference, then the
        // reference.
        let rules: Vec<(Quadrature, usize)> = rules
            .into_iter()
            .filter(|&(q, m)| q != Quadrature::GaussLegendre || m < args.reference)
            .chain([(Quadrature::GaussLegendre, args.reference)])
            .collect();
        let measured: Vec<Measured> = rules
            .iter()
            .map(|&rule| measure(&loaded, &facts, rule, args.layers.clone()))
            .collect();
        let reference = measured.last().unwrap();
        let riemann20 = riemann20_of(&measured);
        std::fs::create_dir_all(&args.out).unwrap();
        let mut csv = String::from(
            "quadrature,points,seconds_per_fact,rel_l2_to_reference,rel_l2_to_riemann20,\
             shared_with_reference_pct,shared_with_riemann20_pct,neurons\n",
        );
        let mut md = format!(
            "# Attribution: path points against accuracy\n\n\
             SmolLM2-135M-Instruct, {} sites, output neurons; the first {} records of \
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
        let sites: Vec<Site> = reference.scores.sites.keys().copied().collect();
        let exact = completeness_targets(&loaded.model, &facts, &sites);
        md.push_str(&per_site_report(&measured, &exact, &args.out));
        write_atomic(&args.out.join("quadrature.csv"), &csv);
        write_atomic(&args.out.join("quadrature.md"), &md);
        print!("{md}");
    });
}
