//! Benchmark: training tokens per second of chapter 5's tiny GPT on the CPU, the engine's
//! trainer alone (`Trainer::step`: forward and backward on the tape, clipping, AdamW).
//!
//! `cargo run --release -p engine --example bench_cpu_training [steps]` prints one line,
//! `engine tokens/s: N ...`. `cargo xtask bench` runs it in turns with the same model in
//! PyTorch on one thread (tests/bench/torch_tiny_gpt.py) and prints the ratio. The model
//! and recipe are `bench_transformer`'s (examples/common/bench_run.rs): vocabulary 65, context 64, d_model 64, 4 heads,
//! 2 layers, d_ff 256, pre-norm, GELU; 8 windows of 64 tokens per step; AdamW with decay 0.1
//! on the matrices, warmup and cosine, clipping at 1; random "words" as text.

use std::time::Instant;

#[path = "common/bench_run.rs"]
mod bench_run;

fn main() {
    let steps: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20).max(1);
    let (config, settings) = (bench_run::config(), bench_run::settings());
    let mut trainer = bench_run::warmed_up_trainer();
    let (start, start_cpu) = (Instant::now(), thread_cpu_seconds());
    let mut loss = f32::NAN;
    for _ in 0..steps {
        loss = trainer.step().expect("training does not diverge here").loss;
    }
    let secs = start.elapsed().as_secs_f64();
    let tokens = (settings.batch * settings.len) as f64 * steps as f64;
    println!(
        "engine tokens/s: {:.0} ({:.1} ms per step, {steps} steps, loss {loss:.3}; {} parameters, 1 thread; {})",
        tokens / secs,
        secs * 1e3 / steps as f64,
        config.param_count(),
        if cfg!(target_feature = "avx512f") {
            "built for this CPU: AVX-512"
        } else if cfg!(target_feature = "avx") {
            "built for this CPU: AVX"
        } else {
            "baseline build: SSE2 on x86-64"
        }
    );
    if let (Some(start), Some(end)) = (start_cpu, thread_cpu_seconds()) {
        let cpu_secs = end - start;
        println!(
            "engine on-CPU tokens/s: {:.0} ({:.1} ms of CPU per step)",
            tokens / cpu_secs,
            cpu_secs * 1e3 / steps as f64
        );
    }
}

/// Seconds this thread has spent running on a CPU (Linux: /proc/thread-self/schedstat), so
/// that time the shared cores give to other jobs is not counted; `None` elsewhere. The
/// trainer runs on this one thread.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(stat.split_whitespace().next()?.parse::<f64>().ok()? * 1e-9)
}
