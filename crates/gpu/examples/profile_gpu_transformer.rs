//! Where a training step of `gpu::GpuTransformer` spends its time: every launch of one step
//! is run alone, `repeats` times in one submit, with the GPU idle before and after, and
//! timed on the wall clock; the launches are then added up per kernel.
//!
//! Run with `cargo run --release -p gpu --example profile_gpu_transformer [repeats]`. The
//! model and batch are `bench_gpu_transformer`'s (`common/mod.rs`). A launch run out of its place in the
//! step reads whatever its inputs hold, so the numbers it computes are meaningless, but the
//! work it does (and so its time) is the same: no kernel's running time depends on the
//! values. The sum over launches is printed beside a whole step timed the same way.

use std::collections::BTreeMap;
use std::time::Instant;

use gpu::kernel::Dispatch;
use gpu::{Gpu, GpuTransformer, TrainSettings};

mod common;

/// Records `launches` `repeats` times into one pass, submits, and waits: seconds per repeat.
fn time(gpu: &Gpu, launches: &[Dispatch], repeats: usize) -> f64 {
    let wait = || {
        gpu.device.poll(wgpu::PollType::wait_indefinitely()).expect("the GPU finishes");
    };
    wait();
    let start = Instant::now();
    let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        for _ in 0..repeats {
            for launch in launches {
                launch.record(&mut pass);
            }
        }
    }
    gpu.queue.submit([encoder.finish()]);
    wait();
    start.elapsed().as_secs_f64() / repeats as f64
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU to profile: {error}");
            return;
        }
    };
    let mut trainer = common::trainer(10_000);
    let model = trainer.model.clone();
    let batch = trainer.draw_batch();
    let mut on_gpu =
        GpuTransformer::new(&gpu, &model, TrainSettings::from_config(&trainer.config)).expect("fits the GPU");
    // One real step first: the ids are in place and the driver's first-use costs are paid.
    on_gpu.train(&[batch]).expect("a valid batch");
    pollster::block_on(on_gpu.read_losses()).expect("read back");

    println!("# GPU: {}", gpu.describe());
    let launches = on_gpu.step_launches();
    let whole = time(&gpu, &launches, repeats);
    // Per kernel: launches per step, seconds per step, and the slowest single launch.
    let mut per_kernel: BTreeMap<&str, (usize, f64, f64, [u32; 3])> = BTreeMap::new();
    let mut each = vec![];
    for (i, launch) in launches.iter().enumerate() {
        let secs = time(&gpu, std::slice::from_ref(launch), repeats);
        each.push((secs, i, launch.label(), launch.workgroups()));
        let entry = per_kernel.entry(launch.label()).or_insert((0, 0.0, 0.0, [0; 3]));
        entry.0 += 1;
        entry.1 += secs;
        if secs > entry.2 {
            entry.2 = secs;
            entry.3 = launch.workgroups();
        }
    }
    each.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("\nThe slowest launches:\n\n| launch | kernel | workgroups | ms |\n|---|---|---|---|");
    for (secs, i, label, [x, y, z]) in each.iter().take(12) {
        println!("| {i} | {label} | {x}x{y}x{z} | {:.2} |", secs * 1e3);
    }
    let total: f64 = per_kernel.values().map(|e| e.1).sum();
    let mut rows: Vec<_> = per_kernel.into_iter().collect();
    rows.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
    println!(
        "\n{} launches per step; whole step {:.1} ms, launches one by one {:.1} ms in all\n",
        launches.len(),
        whole * 1e3,
        total * 1e3
    );
    println!("| kernel | launches | ms per step | share | slowest launch ms (workgroups) |");
    println!("|---|---|---|---|---|");
    for (label, (count, secs, slowest, groups)) in rows {
        println!(
            "| {label} | {count} | {:.1} | {:.0}% | {:.2} ({}x{}x{}) |",
            secs * 1e3,
            100.0 * secs / total,
            slowest * 1e3,
            groups[0],
            groups[1],
            groups[2]
        );
    }
}
