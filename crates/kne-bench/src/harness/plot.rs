//! PNG plots of a KNE sweep: the metrics against the swept value.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::experiment::Experiment;
use super::plan::Cell;
use super::report::{METRICS, MetricStat, N_METRICS};

/// A 3×2 grid (one panel per metric) of ours ± the 95 % interval against the sweep values.
pub fn plot_sweep(
    experiment: &Experiment,
    dataset: &str,
    cells: &[(Cell, [MetricStat; N_METRICS], usize)],
    path: &Path,
) -> Result<()> {
    // The encoder picks the format from the extension, so the temporary name ends in .png.
    let tmp = path.with_extension("tmp.png");
    {
        let root = BitMapBackend::new(&tmp, (1500, 900)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let sweep = experiment
            .sweep
            .as_ref()
            .map_or("value", |s| s.parameter.as_str());
        let root = root
            .titled(
                &format!("{} — {dataset}", experiment.name),
                ("sans-serif", 28),
            )
            .map_err(|e| anyhow!("{e}"))?;
        let labels: Vec<String> = cells
            .iter()
            .map(|(c, _, _)| c.sweep_value.clone().unwrap_or_else(|| c.label.clone()))
            .collect();
        for (panel, (m, (_, heading, _))) in root
            .split_evenly((2, 3))
            .iter()
            .zip(METRICS.iter().enumerate())
        {
            let points: Vec<(usize, f64, f64, f64)> = cells
                .iter()
                .enumerate()
                .filter_map(|(i, (_, stats, _))| {
                    let s = stats[m];
                    s.mean.map(|mean| {
                        let (lo, hi) = s.ci.unwrap_or((mean, mean));
                        (i, mean, lo, hi)
                    })
                })
                .collect();
            let (y_lo, y_hi) = points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.2), b.max(p.3))
                });
            let (y_lo, y_hi) = if y_lo.is_finite() {
                (y_lo - 1.0, y_hi + 1.0)
            } else {
                (0.0, 100.0)
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(*heading, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(-0.5f64..(cells.len() as f64 - 0.5), y_lo..y_hi)
                .map_err(|e| anyhow!("{e}"))?;
            chart
                .configure_mesh()
                .x_desc(sweep)
                .x_labels(cells.len().max(2))
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && i >= 0.0 {
                        labels.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .draw()
                .map_err(|e| anyhow!("{e}"))?;
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.0 as f64, p.1)),
                    &BLUE,
                ))
                .map_err(|e| anyhow!("{e}"))?;
            chart
                .draw_series(points.iter().map(|p| {
                    PathElement::new(vec![(p.0 as f64, p.2), (p.0 as f64, p.3)], BLUE.mix(0.5))
                }))
                .map_err(|e| anyhow!("{e}"))?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new((p.0 as f64, p.1), 4, BLUE.filled())),
                )
                .map_err(|e| anyhow!("{e}"))?;
        }
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}
