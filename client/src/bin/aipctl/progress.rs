//! A progress indicator for slow steps (Argon2id, Lit round trips): a spinner on a terminal,
//! one line otherwise; always on standard error so `--json` output stays clean.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shows `label` while `work` runs on this thread, then how long it took.
pub fn step<T>(label: &str, work: impl FnOnce() -> T) -> T {
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let spinner = std::io::stderr().is_terminal().then(|| {
        let (done, label) = (Arc::clone(&done), label.to_owned());
        std::thread::spawn(move || {
            let frames = ['|', '/', '-', '\\'];
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                eprint!("\r{} {label}", frames[i % frames.len()]);
                let _ = std::io::stderr().flush();
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    });
    if spinner.is_none() {
        eprintln!("{label} ...");
    }
    let out = work();
    done.store(true, Ordering::Relaxed);
    if let Some(spinner) = spinner {
        let _ = spinner.join();
        eprint!("\r");
    }
    eprintln!("{label}: done in {:.1} s", started.elapsed().as_secs_f64());
    out
}

/// The same around a future, driven to completion on `runtime`.
pub fn step_async<F: std::future::Future>(
    runtime: &tokio::runtime::Runtime,
    label: &str,
    work: F,
) -> F::Output {
    step(label, || runtime.block_on(work))
}
