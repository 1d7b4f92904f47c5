//! Benchmark: training and generation speed of the engine's transformer on the CPU.
//!
//! Run with `cargo run --release -p engine --example bench_transformer`. The model is a
//! character-level GPT of the size a chapter trains in the browser: 65 tokens, context 64,
//! d_model 64, 4 heads, 2 layers, d_ff 256, pre-norm, GELU (about 0.11 M parameters).
//! Training uses batches of 8 windows of 64 tokens; the text is made up of random words, so
//! the numbers measure speed, not learning.

use std::time::Instant;

use engine::models::generate::{Decoder, Decoding, Generator};
use engine::models::transformer::{cached_step_multiply_adds, uncached_step_multiply_adds};

#[path = "common/bench_run.rs"]
mod bench_run;

fn main() {
    let (config, settings) = (bench_run::config(), bench_run::settings());
    let mut trainer = bench_run::warmed_up_trainer();
    let steps = 20;
    let start = Instant::now();
    let mut loss = f32::NAN;
    for _ in 0..steps {
        loss = trainer.step().expect("training does not diverge here").loss;
    }
    let secs = start.elapsed().as_secs_f64();
    let tokens_per_step = (settings.batch * settings.len) as f64;
    println!("# Transformer training, CPU engine (autograd tape), native release build");
    println!(
        "config: vocab 65, context 64, d_model 64, 4 heads, 2 layers, d_ff 256, pre-norm, GELU; \
         {} parameters",
        config.param_count()
    );
    println!(
        "batch 8 x 64 tokens: {:.1} ms per step, {:.0} training tokens/s (loss {loss:.3} after {} steps)",
        secs * 1e3 / steps as f64,
        tokens_per_step * steps as f64 / secs,
        steps + 1
    );

    // Generation of 63 tokens after a 1-token prompt, filling the context, both ways.
    let model = &trainer.model;
    println!("\n# Greedy generation of 63 tokens (to the full context of 64), with and without the KV cache");
    for use_cache in [false, true] {
        let start = Instant::now();
        let mut generator =
            Generator::new(model, &[1], Decoding::Greedy, 0, use_cache).expect("a valid prompt");
        let mut multiply_adds = 0;
        let mut text = vec![];
        for _ in 0..63 {
            let t = generator.next_token(model).expect("generation works");
            multiply_adds += t.multiply_adds;
            text.push(t.token);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{}: {:.2} ms total, {:.1} µs per token, {:.2} M multiply-adds counted",
            if use_cache { "with cache   " } else { "without cache" },
            secs * 1e3,
            secs * 1e6 / 63.0,
            multiply_adds as f64 / 1e6
        );
    }
    let decoder = Decoder::new(model, &[1; 63], true).expect("a valid prompt");
    println!(
        "last step (position 63): {} multiply-adds with the cache, {} without (prefill of 63: {})",
        cached_step_multiply_adds(&config, 63),
        uncached_step_multiply_adds(&config, 64),
        decoder.last_step_multiply_adds()
    );
}
