//! Benchmark: chapter 9's skip-gram, pairs trained per second on the CPU (the engine, one
//! pair at a time as the widget's CPU path trains, and in minibatches) and on the GPU
//! (`gpu::GpuSkipGram`, as the widget's GPU path runs it: the engine draws each chunk's
//! pairs, the GPU trains them, and the loss and both weight tables are read back), in one
//! process on whatever adapter wgpu finds, with the widget's settings (2,000 words, 50
//! dimensions, window 5, 5 noise words, chunks of 1,500 positions).
//!
//! Before timing, the GPU's first chunks are checked against the engine's minibatched SGD on
//! the same pairs. Then, for the minibatch sizes timed, the whole planned run (5 passes) in
//! minibatches on the CPU: its final loss and the neighbours of "thou", beside the widget's
//! pair-by-pair run, to show what summing a minibatch's gradients costs in quality.
//!
//! `cargo run --release -p gpu --example bench_skip_gram` (add `--quick` to skip the
//! 5-pass quality runs).

use std::time::Instant;

use engine::models::skip_gram::{Corpus, SkipGram, SkipGramConfig};
use gpu::{Gpu, GpuSkipGram};

/// Positions per chunk, as the widget reads per timer tick.
const POSITIONS: usize = 1500;
/// Chunks timed per backend.
const CHUNKS: usize = 20;
const BATCHES: [usize; 3] = [256, 1024, 4096];

fn setup() -> (Corpus, SkipGram) {
    let text = include_str!("../../../assets/shakespeare/tragedies.txt");
    let corpus = Corpus::new(text, 2000).expect("the play text has 2,000 words");
    let model = SkipGram::new(&corpus, SkipGramConfig::default()).expect("the default settings are valid");
    (corpus, model)
}

fn neighbours(model: &SkipGram, corpus: &Corpus, word: &str) -> String {
    let vectors = model.vectors(corpus).expect("finite vectors");
    let id = vectors.id(word).expect("a kept word");
    let near = vectors.nearest(vectors.unit(id), 6, &[id]);
    near.iter().map(|n| vectors.word(n.id)).collect::<Vec<_>>().join(", ")
}

fn main() {
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU benchmark: {error}");
            return;
        }
    };
    let quick = std::env::args().any(|a| a == "--quick");
    println!("# Skip-gram on {} (software: {})", gpu.describe(), gpu.is_software());
    let (corpus, start) = setup();
    let capacity = 2 * start.config.window * POSITIONS;

    // Checked first: three chunks on the GPU against the engine's minibatches.
    let mut cpu = start.clone();
    let mut net = GpuSkipGram::new(&gpu, &cpu, 1024, capacity).expect("the widget's sizes fit");
    let mut largest = 0.0f32;
    for _ in 0..3 {
        let samples = cpu.sampler.draw(&corpus, POSITIONS);
        net.train(&samples).expect("a chunk fits");
        let gpu_loss = pollster::block_on(net.read_loss()).expect("read back");
        let cpu_loss = cpu.apply_batched(&samples, 1024);
        largest = largest.max((gpu_loss - cpu_loss).abs());
    }
    let (centre, _) = pollster::block_on(net.read_weights()).expect("read back");
    let weight_gap = centre.iter().zip(&cpu.centre).fold(0.0f32, |d, (g, c)| d.max((g - c).abs()));
    assert!(
        largest < 1e-4 && weight_gap < 1e-4,
        "the GPU does not match the engine: loss {largest}, weights {weight_gap}"
    );
    println!("check: 3 chunks, GPU vs engine minibatches of 1,024: loss within {largest:e}, centre vectors within {weight_gap:e}\n");

    println!("{CHUNKS} chunks of {POSITIONS} positions from the start, widget settings.\n");
    println!("| path | pairs | seconds | pairs/s | vs CPU pair by pair |");
    println!("|---|---|---|---|---|");
    let mut model = start.clone();
    let t = Instant::now();
    for _ in 0..CHUNKS {
        model.train(&corpus, POSITIONS);
    }
    let (cpu_pairs, cpu_secs) = (model.sampler.pairs_seen, t.elapsed().as_secs_f64());
    let cpu_rate = cpu_pairs as f64 / cpu_secs;
    println!(
        "| CPU, pair by pair (the widget's CPU path) | {cpu_pairs} | {cpu_secs:.3} | {cpu_rate:.0} | 1.00 |"
    );
    let row = |path: String, pairs: u64, secs: f64| {
        let rate = pairs as f64 / secs;
        println!("| {path} | {pairs} | {secs:.3} | {rate:.0} | {:.2} |", rate / cpu_rate);
    };
    for batch in BATCHES {
        let mut model = start.clone();
        let t = Instant::now();
        for _ in 0..CHUNKS {
            model.train_batched(&corpus, POSITIONS, batch);
        }
        row(format!("CPU, minibatches of {batch}"), model.sampler.pairs_seen, t.elapsed().as_secs_f64());
    }
    for batch in BATCHES {
        let mut sampler = start.sampler.clone();
        let mut net = GpuSkipGram::new(&gpu, &start, batch, capacity).expect("the widget's sizes fit");
        let (mut draw, mut weights_too) = (0.0, 0.0);
        let t = Instant::now();
        for _ in 0..CHUNKS {
            let d = Instant::now();
            let samples = sampler.draw(&corpus, POSITIONS);
            draw += d.elapsed().as_secs_f64();
            net.train(&samples).expect("a chunk fits");
            pollster::block_on(net.read_loss()).expect("read back");
            let w = Instant::now();
            pollster::block_on(net.read_weights()).expect("read back");
            weights_too += w.elapsed().as_secs_f64();
        }
        let secs = t.elapsed().as_secs_f64();
        row(
            format!(
                "GPU, minibatches of {batch} (of which drawing {:.0}%, reading the weights {:.0}%)",
                100.0 * draw / secs,
                100.0 * weights_too / secs
            ),
            net.pairs,
            secs,
        );
    }

    if quick {
        return;
    }
    println!("\nThe whole planned run (5 passes) on the CPU: final chunk's loss, neighbours of \"thou\".\n");
    println!("| path | seconds | last loss | thou |");
    println!("|---|---|---|---|");
    let full = |batch: Option<usize>| {
        let mut model = start.clone();
        let t = Instant::now();
        let mut last = 0.0;
        while model.sampler.epochs < model.config.passes {
            last = match batch {
                None => model.train(&corpus, POSITIONS),
                Some(b) => model.train_batched(&corpus, POSITIONS, b),
            };
        }
        let name = batch.map_or("pair by pair".to_string(), |b| format!("minibatches of {b}"));
        println!(
            "| {name} | {:.1} | {last:.3} | {} |",
            t.elapsed().as_secs_f64(),
            neighbours(&model, &corpus, "thou")
        );
    };
    full(None);
    for batch in BATCHES {
        full(Some(batch));
    }
}
