//! The model against the PyTorch/transformers reference (`shared/fixtures`): token ids,
//! top-5 logits at every position, log-normalisers, teacher-forced losses, the full logit
//! vector at one position, and probe-id logits.

mod support;

use support::{f64s, fixture, logits_of, logsumexp, model, u32s};

/// Logits agree with the float32 PyTorch reference within this (absolute).
const LOGIT_TOL: f64 = 1e-3;
/// Teacher-forced mean losses agree within this.
const LOSS_TOL: f64 = 1e-4;

#[test]
fn top5_logits_match_at_every_position_of_every_prompt() {
    let m = model();
    let mut max_diff = 0.0f64;
    for prompt in fixture()["prompts"].as_array().unwrap() {
        let name = prompt["name"].as_str().unwrap();
        let ids = u32s(&prompt["ids"]);
        assert_eq!(
            m.tokenizer
                .encode(prompt["text"].as_str().unwrap())
                .unwrap(),
            ids,
            "{name}: token ids"
        );
        let (logits, vocab) = logits_of(m, &ids);
        for (pos, (top_ids, top_logits)) in prompt["top5_ids"]
            .as_array()
            .unwrap()
            .iter()
            .zip(prompt["top5_logits"].as_array().unwrap())
            .enumerate()
        {
            let row = &logits[pos * vocab..(pos + 1) * vocab];
            let want_ids = u32s(top_ids);
            let want = f64s(top_logits);
            for (&id, &w) in want_ids.iter().zip(&want) {
                let diff = (row[id as usize] as f64 - w).abs();
                max_diff = max_diff.max(diff);
                assert!(
                    diff <= LOGIT_TOL,
                    "{name} pos {pos} id {id}: {} vs {w}",
                    row[id as usize]
                );
            }
            let mut order: Vec<usize> = (0..vocab).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            for (rank, (&got, &id)) in order.iter().zip(&want_ids).enumerate() {
                // A swap is acceptable only between reference values closer than the tolerance.
                if got as u32 != id {
                    let tie = want
                        .iter()
                        .any(|&w| (w - want[rank]).abs() <= LOGIT_TOL && w != want[rank]);
                    assert!(
                        tie,
                        "{name} pos {pos} rank {rank}: id {got} vs reference {id}"
                    );
                }
            }
        }
    }
    eprintln!("max |Δlogit| over top-5 of all prompts and positions: {max_diff:.3e}");
}

#[test]
fn log_normalisers_and_teacher_forced_losses_match() {
    let m = model();
    for prompt in fixture()["prompts"].as_array().unwrap() {
        let name = prompt["name"].as_str().unwrap();
        let ids = u32s(&prompt["ids"]);
        let (logits, vocab) = logits_of(m, &ids);
        let want_lse = f64s(&prompt["logsumexp"]);
        let mut total = 0.0f64;
        for (pos, &want) in want_lse.iter().enumerate() {
            let row = &logits[pos * vocab..(pos + 1) * vocab];
            let lse = logsumexp(row);
            assert!(
                (lse - want).abs() <= LOGIT_TOL,
                "{name} pos {pos}: lse {lse} vs {want}"
            );
            if pos + 1 < ids.len() {
                total += row[ids[pos + 1] as usize] as f64 - lse;
            }
        }
        let loss = -total / (ids.len() - 1) as f64;
        let want = prompt["teacher_forced_loss"].as_f64().unwrap();
        assert!(
            (loss - want).abs() <= LOSS_TOL,
            "{name}: loss {loss} vs {want}"
        );

        let last = &logits[(ids.len() - 1) * vocab..ids.len() * vocab];
        let probes = u32s(&fixture()["probe_ids"]);
        for (&id, want) in probes
            .iter()
            .zip(f64s(&prompt["last_position_logits_at_probe_ids"]))
        {
            let got = last[id as usize] as f64;
            assert!(
                (got - want).abs() <= LOGIT_TOL,
                "{name} probe {id}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn full_logit_vector_matches_at_one_position() {
    let full = &fixture()["full_logits_last_position_first_prompt"];
    let pos = full["position"].as_u64().unwrap() as usize;
    let want = f64s(&full["logits"]);
    let ids = u32s(&fixture()["prompts"][0]["ids"]);
    let (logits, vocab) = logits_of(model(), &ids);
    assert_eq!(want.len(), vocab);
    let row = &logits[pos * vocab..(pos + 1) * vocab];
    let max_diff = row
        .iter()
        .zip(&want)
        .map(|(&g, &w)| (g as f64 - w).abs())
        .fold(0.0, f64::max);
    eprintln!("max |Δlogit| over all {vocab} logits at position {pos}: {max_diff:.3e}");
    assert!(max_diff <= LOGIT_TOL, "max |Δlogit| {max_diff}");
}
