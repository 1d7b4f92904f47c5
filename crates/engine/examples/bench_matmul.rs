//! Benchmark: the engine's matmul against the `matrixmultiply` crate, in one process.
//!
//! Run with `cargo xtask bench` (release build). Each size is timed alternately for both
//! implementations; the best of several rounds is kept, and the ratio is what to compare
//! across machines. Also times chapter 3's XOR run (10,000 epochs) on the CPU path.

use std::hint::black_box;
use std::time::Instant;

use engine::core::rng::Rng;
use engine::core::tensor::matmul_into;
use engine::models::mlp::{Mlp, XorConfig};

/// Best wall time in seconds of `rounds` runs of `f`, each repeated `reps` times.
fn best_of(rounds: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                f();
            }
            start.elapsed().as_secs_f64() / reps as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    println!("# CPU matmul, native: engine::core::tensor::matmul_into vs matrixmultiply::sgemm");
    println!("| n | engine GFLOP/s | matrixmultiply GFLOP/s | engine / matrixmultiply |");
    println!("|---|---|---|---|");
    let mut rng = Rng::new(1);
    for n in [64usize, 256, 512] {
        let a: Vec<f32> = (0..n * n).map(|_| rng.normal()).collect();
        let b: Vec<f32> = (0..n * n).map(|_| rng.normal()).collect();
        let mut c = vec![0.0f32; n * n];
        let reps = (512 / n).pow(3).clamp(1, 200);
        let flops = 2.0 * (n * n * n) as f64;
        let mut ours = f64::INFINITY;
        let mut theirs = f64::INFINITY;
        for _ in 0..5 {
            ours = ours.min(best_of(1, reps, || matmul_into(black_box(&a), black_box(&b), &mut c, n, n, n)));
            theirs = theirs.min(best_of(1, reps, || sgemm(black_box(&a), black_box(&b), &mut c, n)));
        }
        println!("| {n} | {:.2} | {:.2} | {:.2} |", flops / ours / 1e9, flops / theirs / 1e9, theirs / ours);
    }

    let start = Instant::now();
    let mut mlp = Mlp::new(XorConfig::default());
    let losses = mlp.train(10_000);
    let secs = start.elapsed().as_secs_f64();
    println!("\n# XOR, 2-4-1, 10,000 full-batch epochs on the CPU path (autograd tape)");
    println!(
        "native: {:.1} ms ({:.1} µs per epoch), final loss {:.2e}",
        secs * 1e3,
        secs * 1e6 / 1e4,
        losses.last().copied().unwrap_or(f32::NAN)
    );
}

/// C = A·B through `matrixmultiply::sgemm`, an `unsafe fn` on raw pointers and strides.
#[allow(unsafe_code)]
fn sgemm(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    assert!(a.len() >= n * n && b.len() >= n * n && c.len() >= n * n);
    let n_i = n as isize;
    // SAFETY: the three slices hold at least n·n elements (asserted above), and the
    // strides describe row-major n x n matrices inside them.
    unsafe {
        matrixmultiply::sgemm(
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n_i,
            1,
            b.as_ptr(),
            n_i,
            1,
            0.0,
            c.as_mut_ptr(),
            n_i,
            1,
        );
    }
}
