//! Benchmark: training tokens per second of the decoder-only transformer on the GPU
//! (`gpu::GpuTransformer`) and on the CPU (`engine::train::Trainer`, the autograd tape), in
//! one process, on the same model, batches and recipe.
//!
//! Run with `cargo run --release -p gpu --example bench_gpu_transformer [steps]`. The model is a
//! character-level one of the size a chapter trains: vocabulary 65, context 64, d_model 64,
//! 4 heads, 2 layers, d_ff 256, pre-norm, GELU (107,840 parameters); batches of 8
//! windows of 64 tokens (512 tokens a step) drawn by the engine's trainer from a seeded
//! stream; AdamW (decay 0.1 on the matrices) with warmup-cosine and clipping at 1.
//! GPU time runs from the first submit to the last loss read back, as a page sees it;
//! building the pipelines is timed apart.

use std::time::Instant;

use engine::rng::Rng;
use engine::train::{TrainConfig, Trainer};
use engine::transformer::{Activation, Batch, Norm, Transformer, TransformerConfig};
use gpu::{Gpu, GpuTransformer, TrainSettings};

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU benchmark: {error}");
            return;
        }
    };
    let config = TransformerConfig {
        vocab: 65,
        context: 64,
        d_model: 64,
        n_heads: 4,
        n_layers: 2,
        d_ff: 256,
        norm: Norm::Pre,
        activation: Activation::Gelu,
        eps: 1e-5,
    };
    let train_config = TrainConfig {
        batch: 8,
        len: 64,
        max_lr: 3e-3,
        min_lr: 3e-4,
        warmup_steps: 10,
        total_steps: 1000,
        weight_decay: 0.1,
        clip_norm: 1.0,
        seed: 2,
    };
    let settings = TrainSettings::from_config(&train_config);
    let model = Transformer::new(config, 1).expect("a valid configuration");
    // A seeded stream of 100,000 tokens; the engine's trainer draws the windows, and a copy
    // of it draws the same windows first for the GPU.
    let mut rng = Rng::new(3);
    let text: Vec<usize> = (0..100_000).map(|_| rng.below(config.vocab)).collect();
    let mut trainer = Trainer::new(model.clone(), text, train_config).expect("valid settings");
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
    let cpu_losses: Vec<f32> = (0..steps)
        .map(|_| trainer.step().expect("a finite step").loss)
        .collect();
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
    let largest = gpu_losses
        .iter()
        .zip(&cpu_losses)
        .fold(0.0f32, |m, (g, c)| m.max((g - c).abs()));
    println!(
        "\nGPU / CPU speed: {:.2}x. Largest loss difference GPU vs CPU: {largest:.1e}. \
         (Not timed: building two GPU models and one warm-up step, {:.0} ms.)",
        cpu_secs / gpu_secs,
        setup * 1e3
    );
}
