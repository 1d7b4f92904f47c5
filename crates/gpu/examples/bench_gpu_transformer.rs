//! Benchmark: training tokens per second of the decoder-only transformer on the GPU
//! (`gpu::GpuTransformer`) and on the CPU (`engine::models::train::Trainer`, the autograd tape), in
//! one process, on the same model, batches and recipe.
//!
//! Run with `cargo run --release -p gpu --example bench_gpu_transformer [steps]`. The model,
//! batches and recipe are in `common/mod.rs` (chapter 5's small model, 512 tokens a step).
//! GPU time runs from the first submit to the last loss read back, as a page sees it;
//! building the pipelines is timed apart.

use std::time::Instant;

use engine::models::transformer::Batch;
use gpu::{Gpu, GpuTransformer, TrainSettings};

mod common;

fn main() {
    let steps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU benchmark: {error}");
            return;
        }
    };
    // The engine's trainer draws the windows, and a copy of it draws the same windows
    // first for the GPU.
    let mut trainer = common::trainer(100_000);
    let model = trainer.model.clone();
    let config = model.config;
    let settings = TrainSettings::from_config(&trainer.config);
    let mut drawer = trainer.clone();
    let batches: Vec<Batch> = (0..steps).map(|_| drawer.draw_batch()).collect();
    let tokens = (steps * settings.batch * settings.len) as f64;
    println!("# GPU: {}", gpu.describe());
    println!(
        "# model: {} parameters; {} steps of {} tokens",
        config.param_count(),
        steps,
        settings.batch * settings.len
    );

    let probe = GpuTransformer::new(&gpu, &model, settings).expect("fits the GPU");
    let per_kernel = probe.launches_per_step();
    let launches: usize = per_kernel.iter().map(|(_, n)| n).sum();
    println!("# launches per step: {launches}");
    for (label, count) in &per_kernel {
        println!("#   {label}: {count}");
    }
    drop(probe);

    // A throwaway model trains one step first, so the driver's first-use costs are not in
    // the timing; the timed model then starts from the same weights as the CPU.
    let start = Instant::now();
    let mut warm_up = GpuTransformer::new(&gpu, &model, settings).expect("fits the GPU");
    warm_up.train(&batches[..1]).expect("valid batches");
    pollster::block_on(warm_up.read_losses()).expect("read back");
    let mut on_gpu = GpuTransformer::new(&gpu, &model, settings).expect("fits the GPU");
    let setup = start.elapsed().as_secs_f64();
    let start = Instant::now();
    on_gpu.train(&batches).expect("valid batches");
    let gpu_losses = pollster::block_on(on_gpu.read_losses()).expect("read back");
    let gpu_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let cpu_losses: Vec<f32> = (0..steps).map(|_| trainer.step().expect("a finite step").loss).collect();
    let cpu_secs = start.elapsed().as_secs_f64();

    println!("\n| | tokens/s | ms per step | first loss | last loss |");
    println!("|---|---|---|---|---|");
    let last = |l: &[f32]| l.last().copied().unwrap_or(f32::NAN);
    println!(
        "| GPU | {:.0} | {:.1} | {:.4} | {:.4} |",
        tokens / gpu_secs,
        gpu_secs * 1e3 / steps as f64,
        gpu_losses[0],
        last(&gpu_losses)
    );
    println!(
        "| CPU (engine) | {:.0} | {:.1} | {:.4} | {:.4} |",
        tokens / cpu_secs,
        cpu_secs * 1e3 / steps as f64,
        cpu_losses[0],
        last(&cpu_losses)
    );
    let largest = gpu_losses.iter().zip(&cpu_losses).fold(0.0f32, |m, (g, c)| m.max((g - c).abs()));
    println!(
        "\nGPU / CPU speed: {:.2}x ({launches} launches per GPU step). Largest loss difference GPU vs CPU: {largest:.1e}. \
         (Not timed: building two GPU models and one warm-up step, {:.0} ms.)",
        cpu_secs / gpu_secs,
        setup * 1e3
    );
}
