//! Benchmark: encoding a 20-token sentence with all-MiniLM-L6-v2 on the CPU
//! (`engine::models::minilm::MiniLm::forward`) and on the GPU (`gpu::GpuMiniLm`), in one
//! process, with the shipped weights (`assets/minilm/`); then a batch of 16 sentences, as
//! chapter 9's search encodes paragraphs.
//!
//! Run with `cargo run --release -p gpu --example bench_minilm [repeats]`. The results are
//! checked before anything is timed: every layer's hidden states within the GPU tests'
//! tolerance and the sentence vectors to cosine > 0.9999. GPU time runs from the submit to
//! the last number read back, as a page sees it; uploading the weights and compiling the
//! pipelines is timed apart, as is the first run of a batch shape (its buffers and launches
//! are built then and kept).

use std::time::Instant;

use engine::models::minilm::{cosine, MiniLm};
use engine::models::wordpiece::WordPiece;
use gpu::{Gpu, GpuMiniLm};

/// Twenty tokens with [CLS] and [SEP]: the sentence the page times on each backend
/// (`src/hooks/minilm_backend.rs`).
const SENTENCE: &str =
    "The quick brown fox jumps over the lazy dog while the old farmer watched from his porch.";

/// Sixteen sentences of 8 to 40 tokens: chapter 9's four, and lines of the kind the book's
/// paragraphs are made of.
const PARAGRAPHS: [&str; 16] = [
    "I sat on the bank of the river and watched the water.",
    "The river bank was muddy after the rain.",
    "She deposited her paycheck at the bank on Monday.",
    "The bank raised its interest rates again.",
    "A word vector is a list of numbers that places a word in a space where similar words sit close together.",
    "Attention lets every token look at every other token and take a weighted average of what it finds.",
    "The encoder reads the whole sentence at once, so each word's vector depends on its neighbours on both sides.",
    "Cosine similarity compares directions and ignores length.",
    "Mean pooling averages the last layer's token vectors into one vector for the sentence.",
    "Layer norm rescales each token's vector to mean zero and variance one before the learned scale and shift.",
    "The feed-forward block widens each vector to 1,536 numbers, applies GELU, and narrows it back.",
    "Semantic search ranks paragraphs by the cosine between their vectors and the query's.",
    "Training pulls paraphrases together and pushes unrelated sentences apart.",
    "Six layers of twelve heads each.",
    "Tokens are WordPiece pieces: a rare word is cut into several known pieces.",
    "The model was trained on over a billion sentence pairs.",
];

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let asset = |name: &str| format!("{}/../../assets/minilm/{name}", env!("CARGO_MANIFEST_DIR"));
    let model = MiniLm::from_bytes(&std::fs::read(asset("minilm-l6.bin")).expect("the shipped weights"))
        .expect("valid weights");
    let vocab = std::fs::read_to_string(asset("vocab.txt")).expect("the shipped vocabulary");
    let tokenizer = WordPiece::from_vocab(&vocab).expect("a valid vocabulary");
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            println!("No GPU benchmark: {error}");
            return;
        }
    };
    let ids = tokenizer.encode(SENTENCE, model.config.positions).ids;
    println!("# GPU: {}", gpu.describe());
    println!("# sentence: {} tokens; {repeats} repeats, the median reported", ids.len());

    let start = Instant::now();
    let encoder = GpuMiniLm::new(&gpu, &model);
    let on_gpu = pollster::block_on(encoder.forward(&[&ids]).expect("valid ids")).expect("read back");
    println!("# GPU setup (upload, pipelines, first run): {:.0} ms", start.elapsed().as_secs_f64() * 1e3);

    // Checked first: the same numbers on both sides.
    let on_cpu = model.forward(&ids).expect("valid ids");
    let largest = on_gpu[0]
        .states
        .iter()
        .zip(&on_cpu.states)
        .flat_map(|(g, c)| g.iter().zip(c).map(|(g, c)| (g - c).abs()))
        .fold(0.0f32, f32::max);
    let cos = cosine(&on_gpu[0].sentence_vector(), &on_cpu.sentence_vector());
    println!("# check: largest hidden-state difference {largest:.1e}, sentence cosine {cos:.7}");
    assert!(largest < 1e-3 && cos > 0.9999, "the GPU disagrees with the CPU");

    let cpu_ms = median_ms(repeats, || {
        model.forward(&ids).expect("valid ids");
    });
    let gpu_all_ms = median_ms(repeats, || {
        pollster::block_on(encoder.forward(&[&ids]).expect("valid ids")).expect("read back");
    });
    let gpu_vector_ms = median_ms(repeats, || {
        pollster::block_on(encoder.sentence_vectors(&[&ids]).expect("valid ids")).expect("read back");
    });

    // Sixteen sentences: one at a time on the CPU, one padded batch on the GPU.
    let batch_ids: Vec<Vec<u32>> =
        PARAGRAPHS.iter().map(|p| tokenizer.encode(p, model.config.positions).ids).collect();
    let batch: Vec<&[u32]> = batch_ids.iter().map(|i| &i[..]).collect();
    let tokens: usize = batch.iter().map(|i| i.len()).sum();
    let vectors =
        pollster::block_on(encoder.sentence_vectors(&batch).expect("valid ids")).expect("read back");
    let worst = batch
        .iter()
        .zip(&vectors)
        .map(|(ids, v)| cosine(v, &model.forward(ids).expect("valid ids").sentence_vector()))
        .fold(1.0f32, f32::min);
    println!(
        "# batch: {} sentences, {tokens} tokens (padded to {}); worst sentence cosine {worst:.7}",
        batch.len(),
        batch.iter().map(|i| i.len()).max().unwrap_or(0) * batch.len()
    );
    assert!(worst > 0.9999, "the GPU disagrees with the CPU on the batch");
    let batch_repeats = repeats.div_ceil(4);
    let cpu_batch_ms = median_ms(batch_repeats, || {
        for ids in &batch {
            model.forward(ids).expect("valid ids");
        }
    });
    let gpu_batch_ms = median_ms(batch_repeats, || {
        pollster::block_on(encoder.sentence_vectors(&batch).expect("valid ids")).expect("read back");
    });

    println!("\n| | CPU (engine) | GPU, every layer read back | GPU, sentence vector only | CPU / GPU |");
    println!("|---|---|---|---|---|");
    println!(
        "| one {}-token sentence | {cpu_ms:.1} ms | {gpu_all_ms:.1} ms | {gpu_vector_ms:.1} ms | {:.2} |",
        ids.len(),
        cpu_ms / gpu_all_ms
    );
    println!(
        "| {} sentences ({tokens} tokens), per sentence | {:.1} ms | | {:.1} ms (one batch) | {:.2} |",
        batch.len(),
        cpu_batch_ms / batch.len() as f64,
        gpu_batch_ms / batch.len() as f64,
        cpu_batch_ms / gpu_batch_ms
    );
}

/// The median wall time of `runs` calls of `f`, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
