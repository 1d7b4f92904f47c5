//! Benchmark: chapter 5's CPU training as the page's Web Worker does it, answered natively.
//!
//! `cargo run --release -p train-worker --example bench_worker [steps] [size]` sends
//! [`TrainWorker`] the requests the panel sends (the training text, a run of `steps` steps of
//! the `size` preset with the panel's other defaults, then "train for 200 ms" until the run
//! is done) and prints `native tokens/s: N ...`, counted as the panel counts it: tokens
//! trained over the milliseconds the worker reports for its training, checks left out.
//! `cargo xtask bench worker` runs it in turns with the same run in headless Chromium
//! (tests/bench/worker.mjs) and prints the ratio.

use std::time::Instant;

use engine::models::gpt_recipe::{Settings, Size, BATCH, CONTEXT};
use train_worker::{Reply, Request, TrainWorker};

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(40).max(1);
    let size =
        Size::ALL.into_iter().find(|s| Some(s.value()) == args.next().as_deref()).unwrap_or(Size::Small);
    let text = std::fs::read_to_string("assets/shakespeare/tragedies.txt")
        .expect("run from the repository root: assets/shakespeare/tragedies.txt");
    let start = Instant::now();
    let mut clock = move || start.elapsed().as_secs_f64() * 1e3;
    let mut worker = TrainWorker::default();
    let settings = Settings { size, total_steps: steps, ..Settings::default() };
    for request in [Request::Text(text), Request::Start { settings, from: None }] {
        assert_eq!(worker.handle(request, &mut clock), Reply::Accepted);
    }
    let cpu_before = thread_cpu_seconds();
    let (mut done, mut millis, mut loss) = (0, 0.0, f32::NAN);
    while done < steps {
        match worker.handle(Request::Train { budget_ms: 200.0 }, &mut clock) {
            Reply::Trained(t) => {
                assert!(t.error.is_none(), "the run diverged: {:?}", t.error);
                done = t.steps;
                millis += t.millis;
                loss = t.losses.last().copied().unwrap_or(loss);
            }
            other => panic!("the worker answered {other:?}"),
        }
    }
    let tokens = (steps as usize * BATCH * CONTEXT) as f64;
    println!(
        "native tokens/s: {:.0} ({} preset, {steps} steps of {BATCH} x {CONTEXT} tokens, {:.1} ms per step, last loss {loss:.3})",
        tokens * 1e3 / millis,
        size.value(),
        millis / steps as f64
    );
    // The whole run, the last check (validation and a sample) included, as the page's
    // on-CPU figure counts it.
    if let (Some(before), Some(after)) = (cpu_before, thread_cpu_seconds()) {
        println!(
            "native on-CPU tokens/s: {:.0} ({:.2} s of CPU for the run)",
            tokens / (after - before),
            after - before
        );
    }
}

/// Seconds this thread has spent running on a CPU (Linux: /proc/thread-self/schedstat);
/// `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(stat.split_whitespace().next()?.parse::<f64>().ok()? * 1e-9)
}
