//! Benchmark: the WGSL matmul against the engine's CPU matmul, and XOR's 10,000 epochs on the
//! GPU against the CPU path, in one process on whatever adapter wgpu finds.
//!
//! Run with `cargo xtask bench`. GPU timings include the submit and the wait for the result
//! (a read-back of the output), as a page would experience them.

use std::time::Instant;

use engine::core::rng::Rng;
use engine::core::tensor::{matmul_into, Tensor};
use engine::models::mlp::{Mlp, XorConfig};
use gpu::kernels::matmul::Matmul;
use gpu::{Gpu, GpuMlp, GpuTensor};

fn main() {
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU benchmark: {error}");
            return;
        }
    };
    println!("# GPU: {}", gpu.describe());
    println!("\n## matmul: WGSL (32x32 tiles, 4x4 per invocation) vs engine CPU, square f32");
    println!("| n | GPU GFLOP/s | CPU GFLOP/s | GPU / CPU |");
    println!("|---|---|---|---|");
    let mut rng = Rng::new(1);
    let kernel = Matmul::new(&gpu);
    for n in [64usize, 256, 512, 1024] {
        let a = Tensor::from_vec(&[n, n], (0..n * n).map(|_| rng.normal()).collect()).expect("n*n values");
        let b = Tensor::from_vec(&[n, n], (0..n * n).map(|_| rng.normal()).collect()).expect("n*n values");
        let (ga, gb) = (GpuTensor::from_tensor(&gpu, "a", &a), GpuTensor::from_tensor(&gpu, "b", &b));
        let gc = GpuTensor::zeros(&gpu, "c", &[n, n]);
        let dispatch = kernel.bind(&gpu, &ga, false, &gb, false, &gc).expect("square shapes");
        let reps = if n <= 256 { 50 } else { 10 };
        let flops = 2.0 * (n * n * n) as f64;
        let mut gpu_best = f64::INFINITY;
        for _ in 0..3 {
            let start = Instant::now();
            let many: Vec<&gpu::kernel::Dispatch> = (0..reps).map(|_| &dispatch).collect();
            gpu.run(&many);
            pollster::block_on(gc.read(&gpu)).expect("read back");
            gpu_best = gpu_best.min(start.elapsed().as_secs_f64() / reps as f64);
        }
        let mut c = vec![0.0f32; n * n];
        let cpu_reps = if n <= 256 { 20 } else { 2 };
        let mut cpu_best = f64::INFINITY;
        for _ in 0..3 {
            let start = Instant::now();
            for _ in 0..cpu_reps {
                matmul_into(&a.data, &b.data, &mut c, n, n, n);
            }
            cpu_best = cpu_best.min(start.elapsed().as_secs_f64() / cpu_reps as f64);
        }
        println!(
            "| {n} | {:.2} | {:.2} | {:.2} |",
            flops / gpu_best / 1e9,
            flops / cpu_best / 1e9,
            cpu_best / gpu_best
        );
    }

    println!("\n## XOR, 2-4-1, 10,000 full-batch epochs");
    let start = Instant::now();
    let mut on_gpu = GpuMlp::new(&gpu, XorConfig::default());
    on_gpu.train(10_000);
    let gpu_loss = pollster::block_on(on_gpu.read_loss()).expect("read back");
    let gpu_secs = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut on_cpu = Mlp::new(XorConfig::default());
    let cpu_loss = on_cpu.train(10_000).last().copied().unwrap_or(f32::NAN);
    let cpu_secs = start.elapsed().as_secs_f64();
    println!("GPU: {:.1} ms (final loss {gpu_loss:.3e}); CPU: {:.1} ms (final loss {cpu_loss:.3e}); GPU / CPU time {:.2}",
        gpu_secs * 1e3, cpu_secs * 1e3, gpu_secs / cpu_secs);
}
