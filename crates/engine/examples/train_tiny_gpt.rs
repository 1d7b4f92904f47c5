//! Trains the tiny GPT that ships with the book: `cargo xtask train-gpt`.
//!
//! A character-level decoder-only transformer learns the six Shakespeare tragedies in
//! `assets/shakespeare/tragedies.txt`. The last tenth of the text is held out; the run
//! reports the held-out loss as it goes and writes the checkpoint plus a short report.
//! Everything is seeded and the number of steps is fixed, so the same command writes the
//! same bytes on any machine with the same compiler.
//!
//! Usage: train_tiny_gpt <text> <checkpoint out> <report out> [steps]

use std::time::Instant;

use engine::models::checkpoint::Checkpoint;
use engine::models::train::{unigram_entropy, validation_loss, TrainConfig, Trainer};
use engine::models::transformer::{Activation, Norm, Transformer, TransformerConfig};
use engine::models::vocab::Vocab;

/// The shipped model's shape: two pre-norm blocks, 64 wide, 4 heads, a 64-character context.
fn model_config(vocab: usize) -> TransformerConfig {
    TransformerConfig {
        vocab,
        context: 64,
        d_model: 64,
        n_heads: 4,
        n_layers: 2,
        d_ff: 256,
        norm: Norm::Pre,
        activation: Activation::Gelu,
        eps: 1e-5,
    }
}

const SEED: u64 = 1;
/// How much held-out text the progress lines score (the final figure uses all of it).
const QUICK_VALIDATION_TOKENS: usize = 8_192;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [text_path, out_path, report_path] = [0, 1, 2].map(|i| args.get(i).cloned());
    let (Some(text_path), Some(out_path), Some(report_path)) = (text_path, out_path, report_path) else {
        return Err("usage: train_tiny_gpt <text> <checkpoint out> <report out> [steps]".into());
    };
    let steps: u64 = match args.get(3) {
        Some(s) => s.parse().map_err(|_| format!("steps: {s:?} is not a whole number"))?,
        None => 3_000,
    };

    let text = std::fs::read_to_string(&text_path).map_err(|e| format!("{text_path}: {e}"))?;
    let vocab = Vocab::from_text(&text).map_err(|e| e.to_string())?;
    let ids = vocab.encode(&text).map_err(|e| e.to_string())?;
    let split = ids.len() - ids.len() / 10;
    let (train, held_out) = (ids[..split].to_vec(), &ids[split..]);

    let config = model_config(vocab.len());
    let model = Transformer::new(config, SEED).map_err(|e| e.to_string())?;
    let train_config = TrainConfig {
        batch: 16,
        len: config.context,
        max_lr: 3e-3,
        min_lr: 3e-4,
        warmup_steps: 100,
        total_steps: steps,
        weight_decay: 0.1,
        clip_norm: 1.0,
        seed: SEED,
    };
    let mut trainer = Trainer::new(model, train, train_config).map_err(|e| e.to_string())?;
    eprintln!(
        "{} parameters, {} characters, {} training and {} held-out tokens, {steps} steps",
        config.param_count(),
        vocab.len(),
        split,
        held_out.len()
    );

    let quick = &held_out[..QUICK_VALIDATION_TOKENS.min(held_out.len())];
    let started = Instant::now();
    for _ in 0..steps {
        let report = trainer.step().map_err(|e| e.to_string())?;
        if report.step % 250 == 0 || report.step + 1 == steps {
            let val = validation_loss(&trainer.model, quick, config.context).map_err(|e| e.to_string())?;
            eprintln!(
                "step {:>5}  loss {:.4}  held-out {:.4}  lr {:.2e}  {:.0} s",
                report.step,
                report.loss,
                val,
                report.lr,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let val = validation_loss(&trainer.model, held_out, config.context).map_err(|e| e.to_string())?;
    let unigram = unigram_entropy(held_out);
    let tokens_seen = steps * (train_config.batch * train_config.len) as u64;

    let checkpoint = Checkpoint::new(trainer.model, vocab).map_err(|e| e.to_string())?;
    std::fs::write(&out_path, checkpoint.to_bytes()).map_err(|e| format!("{out_path}: {e}"))?;
    let report = format!(
        "# The shipped tiny GPT\n\n\
         Written by `cargo xtask train-gpt` (crates/engine/examples/train_tiny_gpt.rs); do not edit by hand.\n\n\
         - Model: {} parameters; {} characters; context {}; d_model {}; {} heads; {} layers; d_ff {}; pre-norm; GELU; output tied to the embedding.\n\
         - Training: {steps} steps of {} windows × {} characters ({tokens_seen} tokens, {:.1} passes over the training text); AdamW, peak learning rate {}, warmup {} steps, cosine to {}; weight decay {}; gradient norm clipped to {}; seed {SEED}.\n\
         - Data: `assets/shakespeare/tragedies.txt`, first 90% for training ({split} characters), last 10% held out ({} characters).\n\
         - Held-out loss: {val:.4} nats per character (unigram entropy of the held-out text: {unigram:.4}; uniform over the vocabulary: {:.4}).\n\
         - Training time: {seconds:.0} s on one CPU core (native, release).\n",
        config.param_count(),
        config.vocab,
        config.context,
        config.d_model,
        config.n_heads,
        config.n_layers,
        config.d_ff,
        train_config.batch,
        train_config.len,
        tokens_seen as f64 / split as f64,
        train_config.max_lr,
        train_config.warmup_steps,
        train_config.min_lr,
        train_config.weight_decay,
        train_config.clip_norm,
        held_out.len(),
        libm::log(config.vocab as f64),
    );
    std::fs::write(&report_path, &report).map_err(|e| format!("{report_path}: {e}"))?;
    eprintln!("{report}");
    Ok(())
}
