//! Chapter 7's experiment: pre-norm against post-norm, each with and without learning-rate
//! warmup, trained side by side on the same deep, small transformer.
//!
//! # Four lanes, one starting line
//!
//! The four runs ("lanes") differ only in where layer norm sits and in whether the learning
//! rate ramps up from 0 or starts at its peak:
//!
//! ```text
//! pre-norm,  warmup      x = x + F(LN(x)),  lr rises linearly over `warmup_steps`, then cosine
//! pre-norm,  no warmup   x = x + F(LN(x)),  lr starts at its peak, then cosine
//! post-norm, warmup      x = LN(x + F(x)),  lr rises linearly over `warmup_steps`, then cosine
//! post-norm, no warmup   x = LN(x + F(x)),  lr starts at its peak, then cosine
//! ```
//!
//! Everything else is shared. All four models are built from the same seed, and their
//! initial weights are identical tensor for tensor: the only difference is the pre-norm
//! model's extra layer norm after the last block, whose gains start at 1 and shifts at 0, so
//! it draws nothing from the random generator and comes last in the parameter order. All four
//! trainers are seeded alike, so step k of every lane trains on the very same batch. Any
//! difference between the curves is caused by the norm placement and the warmup, nothing
//! else.
//!
//! # What counts as diverged
//!
//! A lane stops as diverged when its loss or gradient is not a finite number (the trainer's
//! own check), or when its loss climbs above [`DIVERGENCE_FACTOR`] times the loss of
//! guessing uniformly, ln(vocab). Layer norm keeps a transformer's activations bounded, so a
//! run that has blown up often stays finite: its loss sits far above where it started
//! instead of turning into NaN. A loss twice as bad as knowing nothing at all is the point at
//! which we call it.
//!
//! # The data
//!
//! [`race_text`] writes sentences from a small grammar with a fixed seed; the model reads
//! them one character at a time. No download is needed, and the text is the same on every
//! machine.

use crate::core::rng::Rng;
use crate::models::train::{unigram_entropy, TrainConfig, Trainer};
use crate::models::transformer::{Activation, ModelError, Norm, Result, Transformer, TransformerConfig};
use crate::models::vocab::Vocab;

/// The width of the residual stream.
pub const D_MODEL: usize = 16;
/// Attention heads per layer.
pub const N_HEADS: usize = 2;
/// The feed-forward block's hidden width.
pub const D_FF: usize = 4 * D_MODEL;
/// Characters per training window (and the model's context).
pub const CONTEXT: usize = 16;
/// Windows per batch.
pub const BATCH: usize = 4;
/// The deepest model the lab builds, to keep four runs quick in a browser tab.
pub const MAX_LAYERS: usize = 12;
/// The most steps a run may take.
pub const MAX_STEPS: u64 = 2000;
/// The largest peak learning rate the lab accepts.
pub const MAX_LR: f32 = 1.0;
/// Global gradient-norm clipping threshold, as in most transformer recipes.
pub const CLIP_NORM: f32 = 1.0;
/// AdamW's weight decay on the matrices.
pub const WEIGHT_DECAY: f32 = 0.01;
/// A loss above this many times ln(vocab) counts as diverged.
pub const DIVERGENCE_FACTOR: f32 = 2.0;
/// The final loss of a lane is the mean training loss over this many last steps: one batch is
/// noisy, a short average is not.
pub const FINAL_WINDOW: usize = 20;

/// The knobs of the experiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RaceSettings {
    /// Transformer blocks stacked.
    pub n_layers: usize,
    /// The peak learning rate (reached at once without warmup, after warmup with it).
    pub max_lr: f32,
    /// Warmup length for the two lanes that warm up.
    pub warmup_steps: u64,
    /// Steps every lane takes (unless it diverges first).
    pub total_steps: u64,
    /// Seeds the initial weights and the batches.
    pub seed: u64,
}

impl Default for RaceSettings {
    fn default() -> RaceSettings {
        RaceSettings { n_layers: 6, max_lr: 0.03, warmup_steps: 40, total_steps: 200, seed: 7 }
    }
}

impl RaceSettings {
    /// Checks every setting, with a message that says what to change.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_LAYERS).contains(&self.n_layers) {
            return Err(ModelError::invalid(format!(
                "the depth must be 1 to {MAX_LAYERS} layers, not {}",
                self.n_layers
            )));
        }
        if !(self.max_lr.is_finite() && self.max_lr > 0.0 && self.max_lr <= MAX_LR) {
            return Err(ModelError::invalid(format!(
                "the peak learning rate must be above 0 and at most {MAX_LR}, not {}",
                self.max_lr
            )));
        }
        if !(1..=MAX_STEPS).contains(&self.total_steps) {
            return Err(ModelError::invalid(format!(
                "a run must take 1 to {MAX_STEPS} steps, not {}",
                self.total_steps
            )));
        }
        if self.warmup_steps > self.total_steps {
            return Err(ModelError::invalid(format!(
                "the warmup ({} steps) cannot be longer than the run ({} steps)",
                self.warmup_steps, self.total_steps
            )));
        }
        Ok(())
    }
}

/// One of the four combinations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lane {
    pub norm: Norm,
    pub warmup: bool,
}

/// The four lanes, in the order every result lists them.
pub const LANES: [Lane; 4] = [
    Lane { norm: Norm::Pre, warmup: true },
    Lane { norm: Norm::Pre, warmup: false },
    Lane { norm: Norm::Post, warmup: true },
    Lane { norm: Norm::Post, warmup: false },
];

impl Lane {
    /// A short name for legends and tables.
    pub fn label(self) -> &'static str {
        match (self.norm, self.warmup) {
            (Norm::Pre, true) => "pre-norm, warmup",
            (Norm::Pre, false) => "pre-norm, no warmup",
            (Norm::Post, true) => "post-norm, warmup",
            (Norm::Post, false) => "post-norm, no warmup",
        }
    }
}

/// One lane's run so far.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneRun {
    pub lane: Lane,
    /// The training loss of every step taken, in order.
    pub losses: Vec<f32>,
    /// The global gradient norm (before clipping) of every step taken.
    pub grad_norms: Vec<f32>,
    /// The step at which the run diverged, if it did; it takes no further steps.
    pub diverged_at: Option<u64>,
    trainer: Trainer,
}

impl LaneRun {
    /// The mean loss over the last [`FINAL_WINDOW`] steps (fewer if fewer were taken);
    /// `None` before the first step or once the run has diverged.
    pub fn final_loss(&self) -> Option<f32> {
        if self.diverged_at.is_some() || self.losses.is_empty() {
            return None;
        }
        let last = &self.losses[self.losses.len().saturating_sub(FINAL_WINDOW)..];
        Some(last.iter().sum::<f32>() / last.len() as f32)
    }
}

/// Sentences from a small grammar, drawn with a fixed seed: the lab's training text.
pub fn race_text() -> String {
    let who = ["the fox", "a crow", "the miller", "my aunt", "a small boy", "the queen"];
    let does = ["carries", "paints", "mends", "buries", "counts"];
    let what = ["the lamp", "a boat", "the fence", "two stones", "an old map"];
    let how = [".", " slowly.", " at noon.", " again."];
    let mut rng = Rng::new(2020);
    let mut text = String::new();
    for _ in 0..400 {
        for words in [&who[..], &does[..], &what[..]] {
            text.push_str(words[rng.below(words.len())]);
            text.push(' ');
        }
        text.pop();
        text.push_str(how[rng.below(how.len())]);
        text.push(' ');
    }
    text
}

/// The four runs of one experiment, advanced a step at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct NormRace {
    pub settings: RaceSettings,
    /// The size of the character vocabulary; ln(vocab) is the loss of a uniform guess.
    pub vocab: usize,
    /// The entropy of the text's character frequencies, in nats: the loss of a model that
    /// has learned how often each character occurs and nothing else.
    pub unigram_loss: f32,
    /// One run per entry of [`LANES`], in that order.
    pub lanes: Vec<LaneRun>,
}

// ANCHOR: norm_race
impl NormRace {
    /// Four fresh runs on [`race_text`]: same initial weights, same batches.
    pub fn new(settings: RaceSettings) -> Result<NormRace> {
        settings.validate()?;
        let text = race_text();
        let vocab = Vocab::from_text(&text)?;
        let tokens = vocab.encode(&text)?;
        let lanes = LANES
            .iter()
            .map(|&lane| {
                let config = TransformerConfig {
                    vocab: vocab.len(),
                    context: CONTEXT,
                    d_model: D_MODEL,
                    n_heads: N_HEADS,
                    n_layers: settings.n_layers,
                    d_ff: D_FF,
                    norm: lane.norm,
                    activation: Activation::Gelu,
                    eps: 1e-5,
                };
                // The same seed for every lane: the same weights, and the same batches.
                let model = Transformer::new(config, settings.seed)?;
                let train = TrainConfig {
                    batch: BATCH,
                    len: CONTEXT,
                    max_lr: settings.max_lr,
                    min_lr: settings.max_lr / 10.0,
                    warmup_steps: if lane.warmup { settings.warmup_steps } else { 0 },
                    total_steps: settings.total_steps,
                    weight_decay: WEIGHT_DECAY,
                    clip_norm: CLIP_NORM,
                    seed: settings.seed,
                };
                Ok(LaneRun {
                    lane,
                    losses: Vec::new(),
                    grad_norms: Vec::new(),
                    diverged_at: None,
                    trainer: Trainer::new(model, tokens.clone(), train)?,
                })
            })
            .collect::<Result<Vec<LaneRun>>>()?;
        Ok(NormRace { settings, vocab: vocab.len(), unigram_loss: unigram_entropy(&tokens) as f32, lanes })
    }

    /// The loss above which a lane counts as diverged: twice that of a uniform guess.
    pub fn divergence_threshold(&self) -> f32 {
        DIVERGENCE_FACTOR * libm::logf(self.vocab as f32)
    }

    /// Whether a lane still has steps to take.
    fn is_running(&self, run: &LaneRun) -> bool {
        run.diverged_at.is_none() && (run.losses.len() as u64) < self.settings.total_steps
    }

    /// True once every lane has finished its steps or diverged.
    pub fn is_done(&self) -> bool {
        self.lanes.iter().all(|run| !self.is_running(run))
    }

    /// One training step of the lane that is furthest behind, so the four advance together.
    /// Returns false when there is nothing left to do.
    pub fn step(&mut self) -> bool {
        let threshold = self.divergence_threshold();
        let Some(i) = (0..self.lanes.len())
            .filter(|&i| self.is_running(&self.lanes[i]))
            .min_by_key(|&i| self.lanes[i].losses.len())
        else {
            return false;
        };
        let run = &mut self.lanes[i];
        match run.trainer.step() {
            Ok(report) => {
                run.losses.push(report.loss);
                run.grad_norms.push(report.grad_norm);
                if report.loss > threshold {
                    run.diverged_at = Some(report.step);
                }
            }
            Err(ModelError::Diverged { step }) => run.diverged_at = Some(step),
            // The settings were checked when the runs were built, so a step cannot find an
            // invalid input; should one ever appear, the lane stops rather than loop forever.
            Err(ModelError::Invalid(_)) => run.diverged_at = Some(run.trainer.steps),
        }
        true
    }

    /// Runs every lane to the end.
    pub fn run(settings: RaceSettings) -> Result<NormRace> {
        let mut race = NormRace::new(settings)?;
        while race.step() {}
        Ok(race)
    }
}
// ANCHOR_END: norm_race

#[cfg(test)]
mod tests;
