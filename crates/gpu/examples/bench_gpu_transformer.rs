//! Benchmark: training tokens per second of the decoder-only transformer on the GPU
//! (`gpu::GpuTransformer`) and on the CPU (`engine::transformer`, the autograd tape), in one
//! process, on the same model, batches and recipe.
//!
//! Run with `cargo run --release -p gpu --example bench_gpu_transformer [steps]`. The model is a
//! character-level one of the size a chapter trains: vocabulary 65, context 64, d_model 64,
//! 4 heads, 2 layers, d_ff 256, pre-norm, GELU (107,840 parameters); batches of 8
//! windows of 64 tokens (512 tokens a step); AdamW with warmup-cosine and clipping at 1.
//! GPU time runs from the first submit to the last loss read back, as a page sees it;
//! building the pipelines is timed apart.

use std::time::Instant;

use engine::optim::{clip_grad_norm, Method, Optimizer, Schedule};
use engine::rng::Rng;
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
    let settings = TrainSettings {
        batch: 8,
        len: 64,
        method: Method::adamw(0.1),
        schedule: Schedule::WarmupCosine {
            max_lr: 3e-3,
            min_lr: 3e-4,
            warmup_steps: 10,
            total_steps: 1000,
        },
        max_grad_norm: Some(1.0),
    };
    let model = Transformer::new(config, 1).expect("a valid configuration");
    let mut rng = Rng::new(2);
    let batches: Vec<Batch> = (0..steps)
        .map(|_| {
            let n = settings.batch * settings.len;
            let window: Vec<usize> = (0..n + 1).map(|_| rng.below(config.vocab)).collect();
            Batch {
                batch: settings.batch,
                len: settings.len,
                inputs: window[..n].to_vec(),
                targets: window[1..].to_vec(),
            }
        })
        .collect();
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
    let mut cpu = model.clone();
    let mut optimizers: Vec<Optimizer> = cpu
        .params
        .iter()
        .map(|p| Optimizer::new(settings.method, p.len()))
        .collect();
    let mut cpu_losses = vec![];
    for (step, batch) in batches.iter().enumerate() {
        let (loss, mut grads) = cpu.loss_and_grads(batch).expect("valid batch");
        let mut slices: Vec<&mut [f32]> = grads.iter_mut().map(|g| g.data.as_mut_slice()).collect();
        clip_grad_norm(&mut slices, 1.0);
        let lr = settings.schedule.lr_at(step as u64);
        for ((p, g), opt) in cpu.params.iter_mut().zip(&grads).zip(&mut optimizers) {
            opt.step(&mut p.data, &g.data, lr).expect("matching sizes");
        }
        cpu_losses.push(loss);
    }
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
