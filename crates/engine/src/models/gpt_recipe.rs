//! The recipe chapter 5's training panel trains its tiny GPT with, in one place for the
//! page's main thread, its CPU worker and the GPU path: the model sizes, the learning-rate
//! schedule, the split of the training text, the periodic check (held-out loss and a sample)
//! and the CPU's step loop.
//!
//! # The recipe
//! The text is split as the shipped model's training split it (`train_tiny_gpt.rs`): the
//! first 90% to learn from, the last 10% held out. Each step draws [`BATCH`] random windows
//! of [`CONTEXT`] characters from the training part with the run's seed
//! ([`Trainer::draw_batch`], also the GPU's batch source, so both backends see the same
//! batches), clips the gradient norm to 1 and takes an AdamW step; the learning rate warms up
//! over the first tenth of the run and then follows half a cosine down to a tenth of its
//! peak. Weight decay is [`WEIGHT_DECAY`], the shipped model's, on the weight matrices only.

use crate::core::optim::warmup_steps;
use crate::models::generate::{generate, Decoding};
use crate::models::train::{validation_loss, TrainConfig, Trainer};
use crate::models::transformer::{Activation, ModelError, Norm, Transformer, TransformerConfig};
use crate::models::vocab::Vocab;

/// How many held-out characters the validation loss scores: the first 4,096 of the held-out
/// tenth, 64 windows of 64, the same slice at every check.
pub const VALIDATION_CHARS: usize = 4_096;
/// Every this many steps: a validation loss and a sample.
pub const EVAL_EVERY: u64 = 25;
/// Characters in each sample.
pub const SAMPLE_CHARS: usize = 120;
/// What each sample continues: a new line, where the plays start a speech.
pub const SAMPLE_PROMPT: &str = "\n";
/// Sampling temperature for the samples (below 1: a little more conservative than the model).
pub const SAMPLE_TEMPERATURE: f64 = 0.8;
/// Windows per step, and characters per window (every preset's context).
pub const BATCH: usize = 8;
pub const CONTEXT: usize = 64;
/// AdamW's decoupled weight decay, as the shipped model was trained (`train_tiny_gpt.rs`).
pub const WEIGHT_DECAY: f32 = 0.1;

/// The model sizes the panel offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// One layer, 32 wide, 2 heads: learns character frequencies and common pairs quickly.
    Tiny,
    /// The shipped model's shape: two layers, 64 wide, 4 heads.
    Small,
    /// Four layers, 128 wide, 4 heads: about eight times the work per step.
    Large,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Tiny, Size::Small, Size::Large];

    /// The model for a vocabulary of `vocab` characters: pre-norm, GELU, d_ff = 4·d_model.
    pub fn config(self, vocab: usize) -> TransformerConfig {
        let (n_layers, d_model, n_heads) = match self {
            Size::Tiny => (1, 32, 2),
            Size::Small => (2, 64, 4),
            Size::Large => (4, 128, 4),
        };
        TransformerConfig {
            vocab,
            context: CONTEXT,
            d_model,
            n_heads,
            n_layers,
            d_ff: 4 * d_model,
            norm: Norm::Pre,
            activation: Activation::Gelu,
            eps: 1e-5,
        }
    }

    /// The name a form uses for this size.
    pub fn value(self) -> &'static str {
        match self {
            Size::Tiny => "tiny",
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    /// What the reader sees in the size menu.
    pub fn label(self) -> &'static str {
        match self {
            Size::Tiny => "tiny: 1 layer, d 32",
            Size::Small => "small: 2 layers, d 64 (the shipped shape)",
            Size::Large => "large: 4 layers, d 128",
        }
    }

    /// The size a form named (the shipped shape for a name it does not know).
    pub fn from_value(value: &str) -> Size {
        Size::ALL.into_iter().find(|s| s.value() == value).unwrap_or(Size::Small)
    }
}

/// What the reader chose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub size: Size,
    /// The peak learning rate.
    pub max_lr: f32,
    /// Seeds the initial weights, the batches and the samples.
    pub seed: u64,
    /// The schedule's length; training stops there.
    pub total_steps: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { size: Size::Small, max_lr: 3e-3, seed: 1, total_steps: 300 }
    }
}

impl Settings {
    /// The trainer's settings.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            batch: BATCH,
            len: CONTEXT,
            max_lr: self.max_lr,
            min_lr: self.max_lr / 10.0,
            warmup_steps: warmup_steps(self.total_steps, 0.1),
            total_steps: self.total_steps,
            weight_decay: WEIGHT_DECAY,
            clip_norm: 1.0,
            seed: self.seed,
        }
    }
}

/// The training text as tokens, split as the shipped model's was.
#[derive(Clone, Debug, PartialEq)]
pub struct Corpus {
    pub vocab: Vocab,
    pub chars: usize,
    /// The first 90%.
    pub train: Vec<usize>,
    /// The last 10%.
    pub held_out: Vec<usize>,
}

impl Corpus {
    pub fn from_text(text: &str) -> Result<Corpus, String> {
        let vocab = Vocab::from_text(text).map_err(|e| format!("The training text is unusable: {e}."))?;
        let ids = vocab.encode(text).map_err(|e| format!("The training text is unusable: {e}."))?;
        let split = ids.len() - ids.len() / 10;
        let held_out = ids[split..].to_vec();
        if held_out.len() <= CONTEXT {
            return Err(format!(
                "The training text has {} characters, too few to hold out a tenth of it for validation.",
                ids.len()
            ));
        }
        let mut train = ids;
        train.truncate(split);
        Ok(Corpus { chars: train.len() + held_out.len(), vocab, train, held_out })
    }

    /// The held-out characters every validation scores (one more than [`VALIDATION_CHARS`],
    /// for the last window's target).
    pub fn validation(&self) -> &[usize] {
        &self.held_out[..(VALIDATION_CHARS + 1).min(self.held_out.len())]
    }
}

/// One check of the model during training.
#[derive(Clone, Debug, PartialEq)]
pub struct Eval {
    pub step: u64,
    /// Mean loss per character on the validation slice.
    pub val_loss: f32,
    /// What the model wrote after [`SAMPLE_PROMPT`].
    pub sample: String,
}

/// Scores `model` on the validation slice and has it write a sample (seeded by `seed`).
pub fn evaluate(model: &Transformer, corpus: &Corpus, step: u64, seed: u64) -> Result<Eval, ModelError> {
    let val_loss = validation_loss(model, corpus.validation(), CONTEXT)?;
    if !val_loss.is_finite() {
        return Err(ModelError::Diverged { step });
    }
    let prompt = corpus.vocab.encode(SAMPLE_PROMPT)?;
    let decoding =
        Decoding::Sample { temperature: SAMPLE_TEMPERATURE, top_k: corpus.vocab.len(), top_p: 1.0 };
    let tokens: Vec<usize> =
        generate(model, &prompt, SAMPLE_CHARS, decoding, seed, true)?.iter().map(|t| t.token).collect();
    Ok(Eval { step, val_loss, sample: corpus.vocab.decode(&tokens)? })
}

/// The next step at which the run stops to check the model: the next multiple of
/// [`EVAL_EVERY`], or the end.
pub fn next_stop(done: u64, total: u64) -> u64 {
    ((done / EVAL_EVERY + 1) * EVAL_EVERY).min(total)
}

/// CPU training for one tick: whole steps until `budget_ms` has passed on `clock` (at least
/// one step) or `max_steps` are done. Returns each step's loss; a diverged step ends the
/// tick with its error after the losses before it.
pub fn cpu_steps(
    trainer: &mut Trainer,
    budget_ms: f64,
    max_steps: u64,
    clock: &mut dyn FnMut() -> f64,
) -> (Vec<f32>, Option<ModelError>) {
    let started = clock();
    let mut losses = vec![];
    while (losses.len() as u64) < max_steps {
        match trainer.step() {
            Ok(report) => losses.push(report.loss),
            Err(e) => return (losses, Some(e)),
        }
        if clock() - started >= budget_ms {
            break;
        }
    }
    (losses, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 60,000 characters of the real training text: enough for a split and a
    /// validation slice, small enough for a debug-build test.
    fn corpus() -> Corpus {
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        Corpus::from_text(&text[..60_000]).unwrap()
    }

    #[test]
    fn the_split_holds_out_the_last_tenth() {
        let c = corpus();
        assert_eq!(c.train.len(), 54_000);
        assert_eq!(c.held_out.len(), 6_000);
        assert_eq!(c.chars, 60_000);
        assert_eq!(c.validation().len(), VALIDATION_CHARS + 1);
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        assert_eq!(c.vocab.decode(&c.held_out[..20]).unwrap(), &text[54_000..54_020]);
        assert!(Corpus::from_text("short").unwrap_err().contains("too few"));
    }

    #[test]
    fn presets_are_valid_and_the_small_one_is_the_shipped_shape() {
        for size in Size::ALL {
            size.config(73).validate().unwrap();
            assert_eq!(Size::from_value(size.value()), size);
        }
        let small = Size::Small.config(73);
        assert_eq!(
            (small.n_layers, small.d_model, small.n_heads, small.d_ff, small.context),
            (2, 64, 4, 256, 64)
        );
        assert_eq!(small.param_count(), 108_352, "the shipped report's count");
    }

    #[test]
    fn checks_fall_every_25_steps_and_at_the_end() {
        assert_eq!(next_stop(0, 300), 25);
        assert_eq!(next_stop(24, 300), 25);
        assert_eq!(next_stop(25, 300), 50);
        assert_eq!(next_stop(290, 310), 300);
        assert_eq!(next_stop(300, 310), 310);
        assert_eq!(next_stop(0, 10), 10);
    }

    /// A short run on the CPU path, as the page runs it: ticks of a fake clock, a check at
    /// step 25; the loss falls, the check matches an independent validation call, and the
    /// sample is in the vocabulary.
    #[test]
    fn a_short_cpu_run_learns_and_checks_itself() {
        let c = corpus();
        let s = Settings { size: Size::Tiny, total_steps: 50, max_lr: 1e-2, seed: 4 };
        let model = Transformer::new(s.size.config(c.vocab.len()), s.seed).unwrap();
        let mut trainer = Trainer::new(model, c.train.clone(), s.train_config()).unwrap();
        // A clock that advances 5 ms per reading: each tick fits a few steps in 12 ms.
        let mut now = 0.0;
        let mut clock = || {
            now += 5.0;
            now
        };
        let mut losses = vec![];
        let mut ticks = 0;
        while trainer.steps < 25 {
            let left = next_stop(trainer.steps, s.total_steps) - trainer.steps;
            let (l, error) = cpu_steps(&mut trainer, 12.0, left, &mut clock);
            assert!(error.is_none());
            assert!(
                !l.is_empty() && l.len() <= 3,
                "a tick runs at least one step and stops near 12 ms: {}",
                l.len()
            );
            losses.extend(l);
            ticks += 1;
        }
        assert_eq!(losses.len(), 25, "ticks stop at the check");
        assert!(ticks >= 9);
        let uniform = libm::logf(c.vocab.len() as f32);
        assert!((losses[0] - uniform).abs() < 0.1, "starts near ln(vocab): {}", losses[0]);
        let eval = evaluate(&trainer.model, &c, 25, s.seed).unwrap();
        assert_eq!(eval.val_loss, validation_loss(&trainer.model, &c.held_out[..4_097], 64).unwrap());
        assert!(eval.val_loss < uniform - 0.3, "learned something: {} vs {uniform}", eval.val_loss);
        assert_eq!(eval.sample.chars().count(), SAMPLE_CHARS);
        assert!(eval.sample.chars().all(|ch| c.vocab.id(ch).is_some()));
        // The same seed writes the same sample.
        assert_eq!(evaluate(&trainer.model, &c, 25, s.seed).unwrap().sample, eval.sample);
    }

    #[test]
    fn a_huge_learning_rate_is_reported_not_panicked() {
        let c = corpus();
        let s = Settings { size: Size::Tiny, total_steps: 20, max_lr: 100.0, seed: 1 };
        let model = Transformer::new(s.size.config(c.vocab.len()), s.seed).unwrap();
        let mut trainer = Trainer::new(model, c.train.clone(), s.train_config()).unwrap();
        let mut clock = || 0.0;
        let (losses, error) = cpu_steps(&mut trainer, 12.0, 20, &mut clock);
        // Either the run diverges (an error, never a panic) or every loss is a number.
        match error {
            Some(ModelError::Diverged { step }) => assert_eq!(losses.len() as u64, step),
            Some(other) => panic!("unexpected error {other}"),
            None => assert!(losses.iter().all(|l| l.is_finite()) && losses.len() == 20),
        }
        if let Err(e) = evaluate(&trainer.model, &c, 20, 1) {
            assert!(matches!(e, ModelError::Diverged { .. } | ModelError::Invalid(_)), "{e}");
        }
    }
}
