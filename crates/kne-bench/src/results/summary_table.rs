//! The summary of a run as CSV and as a markdown table.

use kne_eval::metrics::Summary;

/// `metric,mean,count` with one row per [`Summary::columns`] entry plus `cases`; `mean`
/// is ×100 with 4 decimals (fluency: entropy ×100), empty when no case has the metric.
pub fn summary_csv(summary: &Summary) -> String {
    let mut out = String::from("metric,mean,count\n");
    for (name, stat) in summary.columns() {
        let mean = stat.mean.map_or(String::new(), |m| format!("{m:.4}"));
        out.push_str(&format!("{name},{mean},{}\n", stat.count));
    }
    out.push_str(&format!("cases,,{}\n", summary.cases));
    out
}

/// A markdown table (metric | mean ×100 | cases with the metric) under a title and
/// `key: value` lines describing the run.
pub fn summary_markdown(title: &str, about: &[(&str, String)], summary: &Summary) -> String {
    let mut out = format!("# {title}\n\n");
    for (key, value) in about {
        out.push_str(&format!("- {key}: {value}\n"));
    }
    out.push_str("\n| metric | mean (×100) | cases |\n|---|---:|---:|\n");
    for (name, stat) in summary.columns() {
        let mean = stat.mean.map_or("–".to_owned(), |m| format!("{m:.2}"));
        out.push_str(&format!("| {name} | {mean} | {} |\n", stat.count));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kne_eval::data::Dataset;
    use kne_eval::metrics::{CaseScores, summarize};

    #[test]
    fn csv_and_markdown_cells() {
        let mut a = CaseScores::empty(Dataset::ZsRE, 0);
        a.edit_success = Some(0.5);
        a.locality = Some(1.0);
        let mut b = CaseScores::empty(Dataset::ZsRE, 1);
        b.edit_success = Some(0.25);
        let s = summarize(&[a, b]);
        let csv = summary_csv(&s);
        assert!(
            csv.starts_with("metric,mean,count\nedit_success,37.5000,2\n"),
            "{csv}"
        );
        assert!(csv.contains("\nportability,,0\n"), "{csv}");
        assert!(csv.contains("\nlocality,100.0000,1\n"), "{csv}");
        assert!(csv.ends_with("cases,,2\n"), "{csv}");
        let md = summary_markdown("T", &[("model", "m".into())], &s);
        assert!(md.contains("- model: m\n"), "{md}");
        assert!(md.contains("| edit_success | 37.50 | 2 |"), "{md}");
        assert!(md.contains("| reasoning | – | 0 |"), "{md}");
    }
}
