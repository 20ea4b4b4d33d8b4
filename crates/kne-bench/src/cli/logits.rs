//! `kne logits`: top-K logits at every position.

use clap::Args;
use serde::Serialize;

use super::model_args::{ModelArgs, PromptArgs};

#[derive(Args, Debug)]
pub struct LogitsArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    prompt: PromptArgs,
    /// How many of the largest logits to print per position.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Print JSON: `{"tokens": [ids], "positions": [{"top": [[id, logit], ...]}, ...]}`.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Position {
    top: Vec<(u32, f32)>,
}

#[derive(Serialize)]
struct Report {
    tokens: Vec<u32>,
    positions: Vec<Position>,
}

pub fn run(args: LogitsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.top > 0, "--top must be at least 1");
    let loaded = args.model.load()?;
    let ids = args.prompt.ids(&loaded)?;
    let logits = loaded.model.forward(loaded.model.ids_tensor(&[&ids])?);
    let [_, seq, vocab] = logits.dims();
    let values: Vec<f32> = logits
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("reading logits: {e:?}"))?;
    let positions: Vec<Position> = (0..seq)
        .map(|p| Position {
            top: top_k(&values[p * vocab..(p + 1) * vocab], args.top),
        })
        .collect();
    if args.json {
        let report = Report {
            tokens: ids,
            positions,
        };
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for (p, (id, pos)) in ids.iter().zip(&positions).enumerate() {
            let token = loaded.tokenizer.decode(&[*id])?;
            let top: Vec<String> = pos
                .top
                .iter()
                .map(|&(t, l)| {
                    let text = loaded.tokenizer.decode(&[t]).unwrap_or_default();
                    format!("{text:?} ({t}) {l:.3}")
                })
                .collect();
            println!("{p:>4} {token:?} ({id}) -> {}", top.join(", "));
        }
    }
    Ok(())
}

/// The `k` largest entries of `row` as `(index, value)`, largest first, lower index first on ties.
fn top_k(row: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    let k = k.min(row.len());
    order.select_nth_unstable_by(k.saturating_sub(1), |&a, &b| {
        row[b].total_cmp(&row[a]).then(a.cmp(&b))
    });
    order.truncate(k);
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
    order.into_iter().map(|i| (i as u32, row[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::top_k;

    #[test]
    fn top_k_orders_by_value_then_index() {
        let row = [0.5, 2.0, -1.0, 2.0, 1.0];
        assert_eq!(top_k(&row, 3), vec![(1, 2.0), (3, 2.0), (4, 1.0)]);
        assert_eq!(top_k(&row, 10).len(), 5);
    }
}
