//! Training a [`Transformer`] on a stream of token ids, and measuring it on held-out text.
//!
//! One step of [`Trainer::step`]:
//!
//! 1. draw `batch` windows of `len + 1` consecutive tokens at random offsets (a seeded
//!    [`Rng`]); the first `len` are the inputs and the last `len` the targets, so every
//!    position predicts the token after it;
//! 2. forward and backward on the tape: the mean cross-entropy and every gradient;
//! 3. clip the gradients' global norm to `clip_norm`;
//! 4. take an AdamW step at the learning rate the warmup + cosine schedule gives this step.
//!
//! Weight decay applies to the matrices (both embeddings, the attention and FFN weights) and
//! not to biases or layer-norm gains and shifts, as in GPT-2 and most later models: pulling
//! a gain towards 0 would fight the normalization rather than regularize.
//!
//! Everything random comes from the seeds, so the same seeds replay a run bit for bit.

use crate::core::autograd::Graph;
use crate::core::optim::{clip_grad_norm, Method, Optimizer, Schedule};
use crate::core::rng::Rng;
use crate::core::tensor;
use crate::models::transformer::{Batch, ModelError, Result, Transformer};

/// The settings of a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// Windows per step.
    pub batch: usize,
    /// Tokens per window (at most the model's context).
    pub len: usize,
    /// The peak learning rate, reached at the end of warmup.
    pub max_lr: f32,
    /// The learning rate the cosine decays to at `total_steps`.
    pub min_lr: f32,
    pub warmup_steps: u64,
    pub total_steps: u64,
    /// AdamW's decoupled weight decay, for matrices only.
    pub weight_decay: f32,
    /// The largest global gradient norm allowed through (larger ones are scaled down).
    pub clip_norm: f32,
    /// Seeds the batch sampler.
    pub seed: u64,
}

/// The most tokens one step may process, to keep a browser tab responsive.
pub const MAX_TOKENS_PER_STEP: usize = 1 << 16;

impl TrainConfig {
    /// The learning-rate schedule: linear warmup, then half a cosine down to `min_lr`.
    pub fn schedule(&self) -> Schedule {
        Schedule::WarmupCosine {
            max_lr: self.max_lr,
            min_lr: self.min_lr,
            warmup_steps: self.warmup_steps,
            total_steps: self.total_steps,
        }
    }

    /// Checks the settings against the model and the amount of training text.
    pub fn validate(&self, model: &Transformer, tokens: usize) -> Result<()> {
        let bad = |m: String| Err(ModelError::Invalid(m));
        if self.batch == 0 || self.len == 0 {
            return bad("the batch size and window length must both be at least 1".into());
        }
        if self.len > model.config.context {
            return bad(format!(
                "windows of {} tokens are longer than the model's context of {}",
                self.len, model.config.context
            ));
        }
        if self.batch.saturating_mul(self.len) > MAX_TOKENS_PER_STEP {
            return bad(format!(
                "{} windows of {} tokens is more than {MAX_TOKENS_PER_STEP} tokens per step",
                self.batch, self.len
            ));
        }
        if tokens < self.len + 1 {
            return bad(format!(
                "the training text has {tokens} tokens, too few for one window of {} plus \
                 the token after it",
                self.len
            ));
        }
        for (what, value) in [
            ("peak learning rate", self.max_lr),
            ("final learning rate", self.min_lr),
            ("weight decay", self.weight_decay),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(format!("the {what} must be a number ≥ 0, not {value}"));
            }
        }
        if !(self.clip_norm.is_finite() && self.clip_norm > 0.0) {
            return bad(format!(
                "the gradient clipping norm must be a positive number, not {}",
                self.clip_norm
            ));
        }
        Ok(())
    }
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Which step this was, from 0.
    pub step: u64,
    /// The batch's mean loss before the update.
    pub loss: f32,
    /// The learning rate used.
    pub lr: f32,
    /// The global gradient norm before clipping.
    pub grad_norm: f32,
}

/// The autograd tape a [`Trainer`] keeps between steps, so that each step's tensors reuse
/// the last step's buffers. Scratch space: a copy starts empty, and it never makes two
/// trainers differ.
#[derive(Default)]
struct Tape(Graph);

impl Clone for Tape {
    fn clone(&self) -> Tape {
        Tape::default()
    }
}

impl PartialEq for Tape {
    fn eq(&self, _: &Tape) -> bool {
        true
    }
}

impl std::fmt::Debug for Tape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tape")
    }
}

/// A model, its optimizer state, and the text it trains on.
#[derive(Clone, Debug, PartialEq)]
pub struct Trainer {
    pub model: Transformer,
    pub config: TrainConfig,
    /// One AdamW per parameter tensor, in layout order.
    pub optimizers: Vec<Optimizer>,
    /// Steps taken so far.
    pub steps: u64,
    tokens: Vec<usize>,
    rng: Rng,
    tape: Tape,
}

impl Trainer {
    /// A trainer for `model` on the token stream `tokens`.
    pub fn new(model: Transformer, tokens: Vec<usize>, config: TrainConfig) -> Result<Trainer> {
        config.validate(&model, tokens.len())?;
        if let Some(i) = tokens.iter().position(|&t| t >= model.config.vocab) {
            return Err(ModelError::invalid(format!(
                "training token {} at position {} is outside the vocabulary of {} tokens",
                tokens[i],
                i + 1,
                model.config.vocab
            )));
        }
        let optimizers = model
            .params
            .iter()
            .map(|p| {
                let decay = if p.shape.len() == 2 { config.weight_decay } else { 0.0 };
                Optimizer::new(Method::adamw(decay), p.len())
            })
            .collect();
        Ok(Trainer {
            model,
            optimizers,
            steps: 0,
            rng: Rng::new(config.seed),
            tokens,
            config,
            tape: Tape::default(),
        })
    }

    /// The next batch of random windows from the training text.
    pub fn draw_batch(&mut self) -> Batch {
        let (b, len) = (self.config.batch, self.config.len);
        // A window of len + 1 tokens may start anywhere from 0 to tokens − (len + 1).
        let starts = self.tokens.len() - len;
        let mut batch = Batch {
            batch: b,
            len,
            inputs: Vec::with_capacity(b * len),
            targets: Vec::with_capacity(b * len),
        };
        for _ in 0..b {
            let s = self.rng.below(starts);
            batch.inputs.extend_from_slice(&self.tokens[s..s + len]);
            batch.targets.extend_from_slice(&self.tokens[s + 1..s + len + 1]);
        }
        batch
    }

    // ANCHOR: step
    /// One training step. A loss or gradient that is not finite stops training with
    /// [`ModelError::Diverged`] and leaves the parameters as they were.
    pub fn step(&mut self) -> Result<StepReport> {
        let batch = self.draw_batch();
        let (loss, mut grads) = self.model.loss_and_grads_on(&mut self.tape.0, &batch)?;
        let mut slices: Vec<&mut [f32]> = grads.iter_mut().map(|g| g.data.as_mut_slice()).collect();
        let grad_norm = clip_grad_norm(&mut slices, self.config.clip_norm);
        if !loss.is_finite() || !grad_norm.is_finite() {
            return Err(ModelError::Diverged { step: self.steps });
        }
        let lr = self.config.schedule().lr_at(self.steps);
        let params = self.model.params.iter_mut();
        for ((param, grad), optimizer) in params.zip(&grads).zip(&mut self.optimizers) {
            optimizer.step(&mut param.data, &grad.data, lr)?;
        }
        // The tape is kept for the next step, which reuses its buffers, these included.
        for grad in grads {
            self.tape.0.recycle(grad);
        }
        let report = StepReport { step: self.steps, loss, lr, grad_norm };
        self.steps += 1;
        Ok(report)
    }
    // ANCHOR_END: step
}

/// The mean loss per token on held-out text: the text is cut into consecutive windows of
/// `len` tokens (each with the token after it as the last target), and every position of
/// every window is scored. A final piece shorter than a window is left out.
pub fn validation_loss(model: &Transformer, tokens: &[usize], len: usize) -> Result<f32> {
    if len == 0 || len > model.config.context {
        return Err(ModelError::invalid(format!(
            "validation windows must be 1 to {} tokens long, not {len}",
            model.config.context
        )));
    }
    if tokens.len() < len + 1 {
        return Err(ModelError::invalid(format!(
            "the held-out text has {} tokens, too few for one window of {len} plus the token \
             after it",
            tokens.len()
        )));
    }
    let vocab = model.config.vocab;
    let (mut total, mut count) = (0.0f64, 0usize);
    let mut start = 0;
    while start + len < tokens.len() {
        let logits = model.logits_for(&tokens[start..start + len])?;
        let log_probs = tensor::log_softmax_rows(&logits);
        for (i, &target) in tokens[start + 1..start + len + 1].iter().enumerate() {
            if target >= vocab {
                return Err(ModelError::invalid(format!(
                    "held-out token {target} is outside the vocabulary of {vocab} tokens"
                )));
            }
            total -= log_probs.data[i * vocab + target] as f64;
            count += 1;
        }
        start += len;
    }
    Ok((total / count as f64) as f32)
}

/// The entropy, in nats per token, of the tokens' own frequencies: −Σ p(t)·ln p(t). No model
/// that ignores context can have a lower expected loss on text with these frequencies, so a
/// validation loss below it shows that the model reads context.
pub fn unigram_entropy(tokens: &[usize]) -> f64 {
    let mut counts = std::collections::BTreeMap::new();
    for &t in tokens {
        *counts.entry(t).or_insert(0usize) += 1;
    }
    let n = tokens.len() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * libm::log(p)
        })
        .sum()
}

#[cfg(test)]
mod tests;
