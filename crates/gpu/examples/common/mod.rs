//! The run both GPU transformer examples measure: a character-level model of the shape of
//! chapter 5's "small" preset (vocabulary 65, context 64, d_model 64, 4 heads, 2 layers,
//! d_ff 256, pre-norm, GELU: 107,840 parameters), trained on 8 windows of 64 tokens a step
//! drawn by the engine's trainer from a seeded stream of random symbols, with the engine's
//! recipe: AdamW (decay 0.1 on the matrices), warmup then cosine, clipping at 1.

use engine::core::rng::Rng;
use engine::models::gpt_recipe::Size;
use engine::models::train::{TrainConfig, Trainer};
use engine::models::transformer::Transformer;

/// A trainer at step 0 on `stream_len` seeded random tokens; `trainer.model` holds the
/// initial weights both backends start from.
pub fn trainer(stream_len: usize) -> Trainer {
    let config = Size::Small.config(65);
    let recipe = TrainConfig {
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
    let model = Transformer::new(config, 1).expect("a valid configuration");
    let mut rng = Rng::new(3);
    let text: Vec<usize> = (0..stream_len).map(|_| rng.below(config.vocab)).collect();
    Trainer::new(model, text, recipe).expect("valid settings")
}
