//! Independent jobs (localization facts) side by side, one per core, results in order.
//!
//! burn-flex splits each matrix product over rayon's pool, but on a 2-core machine the
//! split buys little for attribution's products: one fact on two threads took about as
//! long as one fact on one thread while a second fact ran beside it on the other core
//! (`experiments/attribution-cost.md`). Running independent jobs on one thread each keeps
//! every core busy with its own products instead. The arithmetic does not change: the
//! products split their output, never the sum over the inner dimension, so a job computes
//! the same bits on one thread as on several (checked by `kne-attr`'s
//! `parallel_facts_are_bit_identical`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use burn::tensor::Device;

use crate::flex_buffers::is_flex;

/// How many jobs should run at once on `device`: one per thread of rayon's global pool on
/// the CPU (Flex) backend, where that is one per core; one on any other device, whose
/// work runs on the accelerator anyway.
pub fn job_workers(device: &Device) -> usize {
    if is_flex(device.clone()) {
        rayon::current_num_threads().max(1)
    } else {
        1
    }
}

/// Runs `job(i)` for `i` in `0..jobs` on up to `workers` threads, each with a one-thread
/// rayon pool of its own (so the job's products run unsplit on that thread), and hands
/// each result to `consume(i, result)` in the order of `i`, on the caller's thread.
///
/// Stops at the first error, from a job or from `consume`, and returns it after the
/// results before it were consumed; jobs already running finish, jobs not started are not
/// started. With one worker (or one job) the jobs run on the caller's thread, in its pool,
/// as a plain loop.
pub fn ordered_jobs<T, E>(
    jobs: usize,
    workers: usize,
    job: impl Fn(usize) -> Result<T, E> + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: Send + From<String>,
{
    let workers = workers.clamp(1, jobs.max(1));
    if workers == 1 {
        for i in 0..jobs {
            consume(i, job(i)?)?;
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, Result<T, E>)>();
        for _ in 0..workers {
            let sender = sender.clone();
            let (job, next, stop) = (&job, &next, &stop);
            scope.spawn(move || {
                let pool = match rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .stack_size(8 << 20)
                    .build()
                {
                    Ok(pool) => pool,
                    Err(e) => {
                        let _ = sender.send((usize::MAX, Err(E::from(format!("{e}")))));
                        return;
                    }
                };
                pool.install(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs {
                            break;
                        }
                        let result = job(i);
                        if result.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if sender.send((i, result)).is_err() {
                            break;
                        }
                    }
                });
            });
        }
        drop(sender);
        let outcome = consume_in_order(jobs, receiver, &mut consume);
        if outcome.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        outcome
    })
}

/// Hands results to `consume` in index order as they arrive (out-of-order ones wait); a
/// job's error is returned in its turn, after the jobs before it.
fn consume_in_order<T, E: From<String>>(
    jobs: usize,
    receiver: mpsc::Receiver<(usize, Result<T, E>)>,
    consume: &mut impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let mut waiting = BTreeMap::new();
    let mut expected = 0;
    for (i, result) in receiver {
        // A worker that could not start reports at index usize::MAX.
        if i == usize::MAX {
            return result.map(|_| ());
        }
        waiting.insert(i, result);
        while let Some(result) = waiting.remove(&expected) {
            consume(expected, result?)?;
            expected += 1;
        }
    }
    if expected < jobs {
        return Err(E::from(format!(
            "{} of {jobs} jobs never reported (a worker thread panicked?)",
            jobs - expected
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the workers and the order jobs finish in, `consume` sees every index
        /// once, in order, with its own result.
        #[test]
        fn results_come_in_order(jobs in 0usize..40, workers in 1usize..5, seed in 0u64..1000) {
            let mut seen = Vec::new();
            ordered_jobs::<u64, String>(
                jobs,
                workers,
                |i| {
                    // Uneven job lengths, so jobs finish out of order.
                    let spin = (seed.wrapping_mul(i as u64 + 7) % 5) * 200;
                    std::thread::sleep(std::time::Duration::from_micros(spin));
                    Ok(i as u64 * 3)
                },
                |i, v| {
                    seen.push((i, v));
                    Ok(())
                },
            )
            .unwrap();
            let expected: Vec<(usize, u64)> = (0..jobs).map(|i| (i, i as u64 * 3)).collect();
            prop_assert_eq!(seen, expected);
        }
    }

    #[test]
    fn each_worker_has_a_one_thread_pool() {
        let threads = std::sync::Mutex::new(Vec::new());
        ordered_jobs::<(), String>(
            6,
            2,
            |_| {
                threads.lock().unwrap().push(rayon::current_num_threads());
                Ok(())
            },
            |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(threads.into_inner().unwrap(), vec![1; 6]);
    }

    #[test]
    fn the_first_error_stops_the_jobs_and_is_returned() {
        let started = AtomicUsize::new(0);
        let mut consumed = Vec::new();
        let err = ordered_jobs::<usize, String>(
            1000,
            2,
            |i| {
                started.fetch_add(1, Ordering::Relaxed);
                if i == 3 {
                    Err(format!("job {i} failed"))
                } else {
                    Ok(i)
                }
            },
            |i, _| {
                consumed.push(i);
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(err, "job 3 failed");
        assert_eq!(consumed, vec![0, 1, 2]);
        assert!(started.load(Ordering::Relaxed) < 1000);
    }

    #[test]
    fn an_error_from_consume_stops_too() {
        let err = ordered_jobs::<usize, String>(50, 3, Ok, |i, _| {
            if i == 5 { Err("full".into()) } else { Ok(()) }
        })
        .unwrap_err();
        assert_eq!(err, "full");
    }
}
