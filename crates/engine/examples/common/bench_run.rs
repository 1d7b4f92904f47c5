//! The training run both CPU benchmarks time (`bench_transformer`, `bench_cpu_training`):
//! chapter 5's "small" preset with a vocabulary of 65, trained on 100,000 tokens of random
//! "words" (runs of letters separated by token 0), 8 windows of 64 tokens a step, AdamW with
//! warmup and cosine, clipping at 1. One step has already run, so first-touch allocations
//! stay out of any timing.

use engine::core::rng::Rng;
use engine::models::gpt_recipe::Size;
use engine::models::train::{TrainConfig, Trainer};
use engine::models::transformer::{Transformer, TransformerConfig};

/// The model's size.
pub fn config() -> TransformerConfig {
    Size::Small.config(65)
}

/// The training recipe.
pub fn settings() -> TrainConfig {
    TrainConfig {
        batch: 8,
        len: 64,
        max_lr: 3e-3,
        min_lr: 3e-4,
        warmup_steps: 10,
        total_steps: 100,
        weight_decay: 0.1,
        clip_norm: 1.0,
        seed: 3,
    }
}

/// A trainer for [`config`] and [`settings`], one step in.
pub fn warmed_up_trainer() -> Trainer {
    let model = Transformer::new(config(), 1).expect("the benchmark's configuration is valid");
    let mut rng = Rng::new(2);
    let tokens: Vec<usize> =
        (0..100_000).map(|_| if rng.below(6) == 0 { 0 } else { 1 + rng.below(64) }).collect();
    let mut trainer = Trainer::new(model, tokens, settings()).expect("settings fit the model");
    trainer.step().expect("a warm-up step");
    trainer
}
