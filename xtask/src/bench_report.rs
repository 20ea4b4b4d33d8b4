//! Reads criterion's estimates and the PyTorch reference's JSON and writes them side by
//! side (`results/bench/bench.csv`, `summary.md`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::attribution_flop::{
    SHARED_PATHS, UNSHARED_PATHS, bench_all_sites_flop, bench_layer_flop,
};
use crate::bench_stages::{
    ATTRIBUTION_ALL_ID, ATTRIBUTION_LAYER, ATTRIBUTION_LAYER_ID, ATTRIBUTION_LAYER_UNSHARED_ID,
};

/// FLOPs of one forward+backward of the 8×32 bench: 2 · 134.5 M parameters · 256 tokens
/// for the forward, three times that with the backward (the reference notes' count;
/// attention's own FLOPs, under 2 % at 32 tokens, are left out on both sides).
pub const FWD_BWD_FLOP: f64 = 6.0 * 134_515_008.0 * 256.0;
/// FLOPs of the sgemm bench: 2 · 512 · 576 · 1536.
pub const SGEMM_FLOP: f64 = 2.0 * 512.0 * 576.0 * 1536.0;
pub const FWD_BWD_ID: &str = "forward+backward 8x32 (loss on last 8, all params)";
pub const SGEMM_ID: &str = "sgemm 512x576 @ 576x1536";

/// One criterion result: the median and its 95 % interval, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub id: String,
    pub median_ms: f64,
    pub lo_ms: f64,
    pub hi_ms: f64,
}

/// Every `new/` result under `dir` (criterion's output folder) written at or after `since`
/// (older ones are from earlier runs of benches this run filtered out).
pub fn read_criterion(dir: &Path, since: SystemTime) -> Result<Vec<Estimate>> {
    let mut found = Vec::new();
    visit(dir, &mut |new_dir| {
        let bench = new_dir.join("benchmark.json");
        let estimates = new_dir.join("estimates.json");
        let fresh = std::fs::metadata(&estimates)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if bench.exists() && fresh {
            found.push(parse_estimate(&bench, &estimates)?);
        }
        Ok(())
    })?;
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

fn visit(dir: &Path, on_new: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") {
                on_new(&path)?;
            } else {
                visit(&path, on_new)?;
            }
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))
}

fn number(v: &Value, pointer: &str, path: &Path) -> Result<f64> {
    v.pointer(pointer).and_then(Value::as_f64).with_context(|| {
        format!(
            "{}: field `{pointer}` missing or not a number",
            path.display()
        )
    })
}

fn parse_estimate(bench: &Path, estimates: &Path) -> Result<Estimate> {
    let b = read_json(bench)?;
    let id = b
        .get("full_id")
        .and_then(Value::as_str)
        .with_context(|| format!("{}: field `full_id` missing", bench.display()))?
        .to_string();
    let e = read_json(estimates)?;
    let ms = |p: &str| number(&e, p, estimates).map(|ns| ns / 1e6);
    Ok(Estimate {
        id,
        median_ms: ms("/median/point_estimate")?,
        lo_ms: ms("/median/confidence_interval/lower_bound")?,
        hi_ms: ms("/median/confidence_interval/upper_bound")?,
    })
}

/// The PyTorch side: versions and per-bench medians (ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub describe: String,
    pub medians_ms: BTreeMap<String, f64>,
}

pub fn read_reference(path: &Path) -> Result<Reference> {
    let v = read_json(path)?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    let describe = format!(
        "PyTorch {} eager (transformers {}), {} threads, {} timed runs after {} warm-up",
        text("torch"),
        text("transformers"),
        v.get("threads").and_then(Value::as_u64).unwrap_or(0),
        v.get("reps").and_then(Value::as_u64).unwrap_or(0),
        v.get("warmup").and_then(Value::as_u64).unwrap_or(0),
    );
    let benches = v
        .get("benches")
        .and_then(Value::as_object)
        .with_context(|| format!("{}: field `benches` missing", path.display()))?;
    let mut medians_ms = BTreeMap::new();
    for (id, b) in benches {
        medians_ms.insert(
            id.clone(),
            number(b, "/median_ms", path).with_context(|| format!("bench `{id}`"))?,
        );
    }
    Ok(Reference {
        describe,
        medians_ms,
    })
}

/// Where the numbers were measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub rustc: String,
    pub date: String,
}

impl Machine {
    pub fn here(root: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']))
            })
            .unwrap_or("unknown CPU")
            .to_string();
        let avx512 = cpuinfo.contains(" avx512f");
        let output = |cmd: &str, args: &[&str]| {
            std::process::Command::new(cmd)
                .current_dir(root)
                .args(args)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default()
        };
        Machine {
            cpu: format!("{cpu}{}", if avx512 { " (AVX-512)" } else { "" }),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            rustc: output("rustc", &["-V"]),
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}

/// Both sides of one run.
#[derive(Debug, Clone)]
pub struct Report {
    pub rust: Vec<Estimate>,
    pub reference: Option<Reference>,
    pub machine: Machine,
}

impl Report {
    pub fn new(rust: Vec<Estimate>, reference: Option<Reference>, machine: Machine) -> Self {
        Report {
            rust,
            reference,
            machine,
        }
    }

    fn reference_ms(&self, id: &str) -> Option<f64> {
        self.reference.as_ref()?.medians_ms.get(id).copied()
    }

    /// PyTorch time / our time: above 1, kne has the higher throughput.
    pub fn ratio(&self, e: &Estimate) -> Option<f64> {
        self.reference_ms(&e.id).map(|r| r / e.median_ms)
    }

    fn rate(&self, id: &str, flop: f64) -> (Option<f64>, Option<f64>) {
        let ours = self
            .rust
            .iter()
            .find(|e| e.id == id)
            .map(|e| flop / (e.median_ms * 1e6));
        let theirs = self.reference_ms(id).map(|ms| flop / (ms * 1e6));
        (ours, theirs)
    }

    pub fn csv(&self) -> String {
        let mut out = String::from(
            "bench,kne_median_ms,kne_lo_ms,kne_hi_ms,pytorch_median_ms,throughput_ratio\n",
        );
        for e in &self.rust {
            let opt = |v: Option<f64>, digits: usize| {
                v.map_or(String::new(), |v| format!("{v:.digits$}"))
            };
            out.push_str(&format!(
                "\"{}\",{:.3},{:.3},{:.3},{},{}\n",
                e.id.replace('"', "\"\""),
                e.median_ms,
                e.lo_ms,
                e.hi_ms,
                opt(self.reference_ms(&e.id), 3),
                opt(self.ratio(e), 3)
            ));
        }
        out
    }

    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = format!(
            "# Bench results (`cargo xtask bench`)\n\nMeasured {} on {} ({} cores), {}; burn \
             0.22.1 `flex`, float32. kne: criterion median [95 % interval]. PyTorch: {}.\n\
             Ratio = PyTorch time / kne time (above 1: kne is faster). Both sides ran in this \
             one command, one after the other, on the same model file.\n\n",
            m.date,
            m.cpu,
            m.cores,
            m.rustc,
            self.reference
                .as_ref()
                .map_or("not run (no Python given)".to_string(), |r| r
                    .describe
                    .clone())
        );
        out.push_str("| bench | kne | PyTorch | ratio |\n|---|---|---|---|\n");
        for e in &self.rust {
            out.push_str(&format!(
                "| {} | {:.1} ms [{:.1}, {:.1}] | {} | {} |\n",
                e.id,
                e.median_ms,
                e.lo_ms,
                e.hi_ms,
                self.reference_ms(&e.id)
                    .map_or("–".into(), |v| format!("{v:.1} ms")),
                self.ratio(e).map_or("–".into(), |v| format!("{v:.2}×"))
            ));
        }
        let (fb_ours, fb_theirs) = self.rate(FWD_BWD_ID, FWD_BWD_FLOP);
        let (mm_ours, mm_theirs) = self.rate(SGEMM_ID, SGEMM_FLOP);
        let ceiling = match (mm_ours, mm_theirs) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let gf = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.0} GFLOP/s"));
        let pct = |v: Option<f64>| match (v, ceiling) {
            (Some(v), Some(c)) => format!("{:.0} %", 100.0 * v / c),
            _ => "–".into(),
        };
        out.push_str(&format!(
            "\n## FLOP rates\n\nForward+backward 8×32 at {:.1} GFLOP per step (6 · 134.5 M \
             parameters · 256 tokens) and sgemm 512×576 @ 576×1536 at {:.3} GFLOP; the \
             machine's sgemm rate is the faster of the two sgemm rows.\n\n| | kne | PyTorch |\n\
             |---|---|---|\n| sgemm | {} | {} |\n| forward+backward | {} ({} of sgemm) | {} ({} of sgemm) |\n",
            FWD_BWD_FLOP / 1e9,
            SGEMM_FLOP / 1e9,
            gf(mm_ours),
            gf(mm_theirs),
            gf(fb_ours),
            pct(fb_ours),
            gf(fb_theirs),
            pct(fb_theirs),
        ));
        for (id, flop) in [
            (
                ATTRIBUTION_LAYER_ID,
                bench_layer_flop(ATTRIBUTION_LAYER, SHARED_PATHS),
            ),
            (
                ATTRIBUTION_LAYER_UNSHARED_ID,
                bench_layer_flop(ATTRIBUTION_LAYER, UNSHARED_PATHS),
            ),
            (ATTRIBUTION_ALL_ID, bench_all_sites_flop()),
        ] {
            if let (Some(rate), _) = self.rate(id, flop) {
                out.push_str(&format!(
                    "| {id} ({:.1} TFLOP) | {} ({} of sgemm) | – |\n",
                    flop / 1e12,
                    gf(Some(rate)),
                    pct(Some(rate))
                ));
            }
        }
        if let Some(ceiling) = ceiling {
            let all = bench_all_sites_flop();
            out.push_str(&format!(
                "\nAttribution is counted from the model's shapes (forward and input gradient of \
                 every block above a site and of the LM head, per path point; \
                 `experiments/attribution-cost.md` §6). One fact over all 210 sites at m = 20 \
                 is {:.1} TFLOP: at this machine's sgemm rate it cannot take less than {:.1} s, \
                 and 10 s would need {:.0} GFLOP/s.\n",
                all / 1e12,
                all / (ceiling * 1e9),
                all / 10.0 / 1e9,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, id: &str, median_ns: f64) {
        let new = dir.join(id.replace(['/', '+'], "_")).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            format!("{{\"full_id\":\"{id}\"}}"),
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            format!(
                "{{\"median\":{{\"point_estimate\":{median_ns},\"confidence_interval\":\
                 {{\"lower_bound\":{},\"upper_bound\":{}}}}}}}",
                median_ns - 1e6,
                median_ns + 1e6
            ),
        )
        .unwrap();
    }

    fn machine() -> Machine {
        Machine {
            cpu: "cpu".into(),
            cores: 2,
            rustc: "rustc".into(),
            date: "today".into(),
        }
    }

    #[test]
    fn reads_criterion_and_reference_and_computes_ratios() {
        let t = tempfile::tempdir().unwrap();
        let start = SystemTime::now() - std::time::Duration::from_secs(5);
        write(t.path(), FWD_BWD_ID, 2_000e6);
        write(t.path(), SGEMM_ID, 4.53e6);
        let rust = read_criterion(t.path(), start).unwrap();
        assert_eq!(rust.len(), 2);
        let fb = rust.iter().find(|e| e.id == FWD_BWD_ID).unwrap().clone();
        assert_eq!((fb.median_ms, fb.lo_ms, fb.hi_ms), (2000.0, 1999.0, 2001.0));

        let json = t.path().join("pytorch.json");
        std::fs::write(
            &json,
            format!(
                "{{\"torch\":\"2.15.0\",\"threads\":2,\"benches\":{{\"{FWD_BWD_ID}\":\
                 {{\"median_ms\":1600.0}},\"{SGEMM_ID}\":{{\"median_ms\":4.8}}}}}}"
            ),
        )
        .unwrap();
        let reference = read_reference(&json).unwrap();
        let report = Report::new(rust, Some(reference), machine());
        // 1600 ms / 2000 ms: PyTorch is faster, ratio 0.8.
        assert!((report.ratio(&fb).unwrap() - 0.8).abs() < 1e-12);
        let csv = report.csv();
        assert!(
            csv.contains(&format!(
                "\"{FWD_BWD_ID}\",2000.000,1999.000,2001.000,1600.000,0.800"
            )),
            "{csv}"
        );
        let md = report.markdown();
        // fwd+bwd 206.6 GFLOP in 2 s = 103 GFLOP/s; sgemm ceiling 0.906 GFLOP / 4.53 ms = 200.
        assert!(
            md.contains("| forward+backward | 103 GFLOP/s (52 % of sgemm)"),
            "{md}"
        );
        // 6.77 TFLOP at the 200 GFLOP/s ceiling: at least 33.8 s; 10 s needs 677 GFLOP/s.
        assert!(
            md.contains("cannot take less than 33.8 s, and 10 s would need 677 GFLOP/s"),
            "{md}"
        );
    }

    #[test]
    fn attribution_rows_get_their_flop_rate() {
        let t = tempfile::tempdir().unwrap();
        let start = SystemTime::now() - std::time::Duration::from_secs(5);
        write(t.path(), SGEMM_ID, 4.53e6);
        // Unshared, 385.1 GFLOP in 1.9253 s: 200 GFLOP/s, all of the 200 GFLOP/s sgemm;
        // shared, 77/134 of the work in the same time: 115 GFLOP/s.
        write(t.path(), ATTRIBUTION_LAYER_UNSHARED_ID, 1_925.33e6);
        write(t.path(), ATTRIBUTION_LAYER_ID, 1_925.33e6);
        let md = Report::new(read_criterion(t.path(), start).unwrap(), None, machine()).markdown();
        assert!(
            md.contains(&format!(
                "| {ATTRIBUTION_LAYER_UNSHARED_ID} (0.4 TFLOP) | 200 GFLOP/s (100 % of sgemm) | – |"
            )),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "| {ATTRIBUTION_LAYER_ID} (0.2 TFLOP) | 115 GFLOP/s (57 % of sgemm) | – |"
            )),
            "{md}"
        );
        assert!(!md.contains(ATTRIBUTION_ALL_ID), "{md}");
    }

    #[test]
    fn stale_results_are_left_out_and_bad_json_names_the_file() {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), "old", 1e6);
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        assert!(read_criterion(t.path(), later).unwrap().is_empty());
        let bad = t.path().join("pytorch.json");
        std::fs::write(&bad, "{\"benches\": {\"x\": {}}}").unwrap();
        let err = format!("{:#}", read_reference(&bad).unwrap_err());
        assert!(
            err.contains("pytorch.json") && err.contains("median_ms"),
            "{err}"
        );
    }
}
