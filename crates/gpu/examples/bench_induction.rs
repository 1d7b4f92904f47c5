//! Benchmark: chapter 10's two-layer attention-only transformer
//! (`engine::labs::induction_heads`), training steps per second on the GPU
//! (`gpu::GpuInduction`) and on the CPU (`Trainer::step`, the autograd tape), in one process,
//! from the same weights on the same batches.
//!
//! Run with `cargo run --release -p gpu --example bench_induction [steps]` (default 200).
//! The GPU trains in chunks of 50 steps, each one submit with its losses and the weights at
//! every tenth step read back, as the page does; its time runs from the first submit to the
//! last read. The CPU steps the engine's trainer, as the page's fallback does. Neither side
//! counts the evaluations (the engine's, on the CPU either way).

use std::time::Instant;

use engine::labs::induction_heads::{Config, Trainer};
use gpu::{Gpu, GpuInduction};

/// Steps per GPU submit, as the page's `GPU_CHUNK`.
const CHUNK: usize = 50;

fn main() {
    let steps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU benchmark: {error}");
            return;
        }
    };
    let config = Config::two_layer(1);
    let mut trainer = Trainer::new(config).expect("the chapter's configuration");
    let mut stream = trainer.batches();
    let batches: Vec<_> = (0..steps).map(|_| stream.next_batch()).collect();
    println!("# GPU: {}", gpu.describe());
    println!(
        "# model: {} layers of {} heads, d_model {}; {steps} steps of {} sequences of {} tokens",
        config.n_layers, config.n_heads, config.d_model, config.batch, config.context
    );

    // A throwaway model trains one chunk first, so the driver's first-use costs are not timed.
    let start = Instant::now();
    let mut warm_up = GpuInduction::new(&gpu, config, &trainer.model.params).expect("fits the GPU");
    warm_up.train(&batches[..CHUNK.min(steps)]).expect("valid batches");
    pollster::block_on(warm_up.read_snapshots()).expect("read back");
    let mut on_gpu = GpuInduction::new(&gpu, config, &trainer.model.params).expect("fits the GPU");
    let setup = start.elapsed().as_secs_f64();
    println!("# launches per step: {}", on_gpu.launches_per_step());

    let start = Instant::now();
    let mut gpu_losses = vec![];
    for chunk in batches.chunks(CHUNK) {
        on_gpu.train(chunk).expect("valid batches");
        gpu_losses.extend(pollster::block_on(on_gpu.read_losses()).expect("read back"));
        pollster::block_on(on_gpu.read_snapshots()).expect("read back");
    }
    let gpu_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let cpu_losses: Vec<f32> = (0..steps).map(|_| trainer.step().expect("a finite step")).collect();
    let cpu_secs = start.elapsed().as_secs_f64();

    println!("\n| | steps/s | ms per step | first loss | last loss |");
    println!("|---|---|---|---|---|");
    let last = |l: &[f32]| l.last().copied().unwrap_or(f32::NAN);
    for (name, secs, losses) in [("GPU", gpu_secs, &gpu_losses), ("CPU (engine)", cpu_secs, &cpu_losses)] {
        println!(
            "| {name} | {:.0} | {:.2} | {:.4} | {:.4} |",
            steps as f64 / secs,
            secs * 1e3 / steps as f64,
            losses[0],
            last(losses)
        );
    }
    let largest = gpu_losses.iter().zip(&cpu_losses).fold(0.0f32, |m, (g, c)| m.max((g - c).abs()));
    println!(
        "\nGPU / CPU speed: {:.2}x. Largest loss difference GPU vs CPU: {largest:.1e}. \
         (Not timed: building two GPU models and one warm-up chunk, {:.0} ms.)",
        cpu_secs / gpu_secs,
        setup * 1e3
    );
}
