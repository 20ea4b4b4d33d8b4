//! Issue 8, item 3: `kne reproduce` killed midway (SIGKILL, SIGINT, SIGTERM, one after the
//! other on the same output folder, plus a torn last line) and resumed loses no row,
//! duplicates none, and ends with the rows and summary of an uninterrupted run.

mod common;

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{comparable_rows, model_path, tiny_experiment};

const CASES: usize = 4;

/// `kne reproduce` of `experiment` into `out`, stderr to `log`.
fn reproduce(experiment: &Path, out: &Path, log: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kne"));
    cmd.arg("reproduce")
        .arg("--experiment")
        .arg(experiment)
        .arg("--model")
        .arg(model_path())
        .arg("--data-dir")
        .arg(kne_eval::data::default_data_dir())
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    // A shell starts background jobs (`cargo xtask test &`, `nohup … &`) with SIGINT
    // ignored, and children inherit that: kne would then finish its run instead of
    // stopping, and the test would fail for a reason outside kne. The child gets the
    // default action back, as a foreground process has it.
    // SAFETY: `signal` is async-signal-safe, which is all `pre_exec` requires.
    unsafe {
        cmd.pre_exec(|| {
            if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Whole lines in the rows file (0 while it does not exist).
fn complete_rows(rows: &Path) -> usize {
    std::fs::read(rows).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// Waits until the rows file holds at least `n` whole rows, then stops `child` with
/// `signal` and checks it died of it.
fn stop_after(mut child: Child, rows: &Path, n: usize, signal: i32, log: &Path) {
    let start = Instant::now();
    while complete_rows(rows) < n {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "kne exited ({status}) before writing {n} rows:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no row {n} after 5 min"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    if signal == 9 {
        child.kill().unwrap(); // std sends SIGKILL
    } else {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
    }
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(signal),
        "kne must have been stopped by signal {signal}, not {status}"
    );
}

/// The rows file holds only whole rows (each line a JSON object with its newline), one per
/// case, and fewer than every case.
fn assert_whole_partial_rows(rows: &Path) -> usize {
    let text = std::fs::read_to_string(rows).unwrap();
    assert!(text.ends_with('\n'), "torn last line: {text:?}");
    let n = comparable_rows(&text).len();
    assert!(
        n > 0 && n < CASES,
        "{n} rows: the run was not interrupted midway"
    );
    n
}

#[test]
fn killed_and_resumed_reproduce_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let experiment = tmp.path().join("tiny.toml");
    std::fs::write(&experiment, tiny_experiment(CASES)).unwrap();
    let log = tmp.path().join("kne.log");
    let fail = |what: &str| -> String {
        format!(
            "{what}:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    };

    let whole = tmp.path().join("whole");
    let status = reproduce(&experiment, &whole, &log).status().unwrap();
    assert!(status.success(), "{}", fail("uninterrupted run failed"));

    let out = tmp.path().join("interrupted");
    let rows = out.join("tiny/wiki_cf/kne/rows.jsonl");
    let mut done = 0;
    for signal in [9, 2, 15] {
        let child = reproduce(&experiment, &out, &log).spawn().unwrap();
        stop_after(child, &rows, done + 1, signal, &log);
        if signal == 2 {
            let log_text = std::fs::read_to_string(&log).unwrap();
            assert!(
                log_text.contains("dropping an unfinished last line"),
                "the run after the torn write must repair it:\n{log_text}"
            );
        }
        let now = assert_whole_partial_rows(&rows);
        assert!(now > done, "signal {signal}: no progress");
        done = now;
        assert!(
            !out.join("tiny/summary.csv").exists(),
            "reports are written only by a finished run"
        );
        if signal == 9 {
            // What a kill in the middle of an append would leave: half a row, no newline.
            let text = std::fs::read_to_string(&rows).unwrap();
            let torn = &text.lines().next().unwrap()[..60];
            std::fs::write(&rows, format!("{text}{torn}")).unwrap();
        }
    }
    let status = reproduce(&experiment, &out, &log).status().unwrap();
    assert!(status.success(), "{}", fail("resumed run failed"));

    let read = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    let resumed = comparable_rows(&read(&out, "tiny/wiki_cf/kne/rows.jsonl"));
    assert_eq!(resumed.len(), CASES, "one row per case, none lost");
    assert_eq!(
        resumed,
        comparable_rows(&read(&whole, "tiny/wiki_cf/kne/rows.jsonl")),
        "the resumed rows are the uninterrupted run's"
    );
    for file in ["tiny/summary.csv", "tiny/summary.md"] {
        assert_eq!(read(&out, file), read(&whole, file), "{file}");
    }
}
