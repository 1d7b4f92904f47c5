//! Chapter 6's race: BERT's objective against GPT's, trained side by side.
//!
//! Two character-level transformers of the same shape start from the same initial weights
//! and see the same seeded windows of the same text at every step:
//!
//! - the **MLM** model (BERT's objective) reads each window bidirectionally after
//!   [`masked_lm::corrupt`](corrupt)'s 15% choice with 80/10/10 corruption, with a `[MASK]` token
//!   added to the vocabulary, and is graded only at the chosen positions;
//! - the **CLM** model (GPT's objective) reads each window through the causal mask and is
//!   graded on the next character at every position;
//! - optionally a **leaky** model trains like the CLM one but through
//!   [`Attention::SeesNext`], a mask that lets position i see position i + 1, the very
//!   character it is asked to predict.
//!
//! Every step records each loss and the running count of positions that gave a training
//! signal (MLM: the chosen ones; CLM: every one), so the curves can be drawn against steps
//! or against signals. Every [`EVAL_EVERY`] steps each model is scored on the same held-out
//! windows: the MLM one at a fixed seeded corruption of them, the CLM one on the next
//! character everywhere, and the leaky one both with its own mask and with the next
//! character hidden (the causal mask, what it has when it writes).
//!
//! After training, [`Race::guesses`] fills in a blanked character (the MLM model from both
//! sides, the CLM model from the left only), [`Race::fill_accuracy`] counts top-1 hits over
//! many seeded blanks, and [`Race::continue_clm`] / [`Race::continue_mlm`] /
//! [`Race::continue_leaky`] extend a prompt: the causal models one character at a time as
//! chapter 5 does, the MLM model by iterative unmasking (append k `[MASK]`s, fill the one it
//! is most sure of, repeat).
//!
//! The pair the book ships (`cargo xtask train-mlm-clm`, `assets/bert-vs-gpt/`) is a longer
//! race of the same two models: [`Race::new_long`] trains it, [`Race::checkpoints`] writes
//! it, [`Race::from_checkpoints`] reads it back so that every probe above works on it, and
//! [`Race::score_held_out`] scores it on every window of the held-out tenth.

use std::sync::Arc;

use crate::core::autograd::{self, Graph, Var};
use crate::core::optim::{clip_grad_norm, warmup_steps, Method, Optimizer, Schedule};
use crate::core::rng::Rng;
use crate::core::tensor::{self, Tensor};
use crate::labs::masked_lm::{corrupt, corrupt_ids, mlm_targets, Action, NOT_A_TARGET};
use crate::models::checkpoint::Checkpoint;
use crate::models::generate::{Decoder, Decoding};
use crate::models::transformer::{
    Activation, Attention, Batch, ModelError, Norm, Result, Transformer, TransformerConfig,
};
use crate::models::vocab::Vocab;

/// Characters per window (the models' context).
pub const CONTEXT: usize = 32;
/// Windows per step, the same windows for every model.
pub const BATCH: usize = 8;
/// Layers, width and heads of each model.
pub const LAYERS: usize = 1;
pub const D_MODEL: usize = 32;
pub const HEADS: usize = 2;
/// AdamW's peak learning rate (warmup over the first tenth, then half a cosine to a tenth).
pub const MAX_LR: f32 = 1e-2;
pub const WEIGHT_DECAY: f32 = 0.1;
pub const CLIP_NORM: f32 = 1.0;
/// A held-out check every this many steps (and at the end).
pub const EVAL_EVERY: u64 = 25;
/// Held-out windows scored at every check: the first ones of the held-out tenth.
pub const HELD_OUT_WINDOWS: usize = 32;
/// Seeds the fixed corruption of the held-out windows for the MLM model's held-out loss.
pub const HELD_OUT_SEED: u64 = 2024;
/// How a `[MASK]` is shown in text.
pub const MASK_CHAR: char = '▮';
/// Sampling temperature of the causal models' continuations (chapter 5's).
pub const TEMPERATURE: f64 = 0.8;
/// The score given to `[MASK]` when a causal model writes, so it is never chosen.
const NEVER: f32 = -1e9;
/// The longest run the lab offers.
pub const MAX_STEPS: u64 = 5_000;
/// The longest run [`Race::new_long`] accepts (the shipped pair's repo command).
pub const MAX_LONG_STEPS: u64 = 1_000_000;

/// The text, its characters, and the 90/10 split.
#[derive(Clone, Debug, PartialEq)]
pub struct Corpus {
    pub vocab: Vocab,
    /// The first 90%.
    pub train: Vec<usize>,
    /// The last 10%.
    pub held_out: Vec<usize>,
}

impl Corpus {
    pub fn from_text(text: &str) -> std::result::Result<Corpus, String> {
        let vocab = Vocab::from_text(text).map_err(|e| format!("The training text is unusable: {e}."))?;
        let ids = vocab.encode(text).map_err(|e| format!("The training text is unusable: {e}."))?;
        let split = ids.len() - ids.len() / 10;
        if ids.len() / 10 < HELD_OUT_WINDOWS * CONTEXT + 1 || split < CONTEXT + 1 {
            return Err(format!(
                "The training text has {} characters, too few for a training part and {HELD_OUT_WINDOWS} \
                 held-out windows of {CONTEXT}.",
                ids.len()
            ));
        }
        let held_out = ids[split..].to_vec();
        let mut train = ids;
        train.truncate(split);
        Ok(Corpus { vocab, train, held_out })
    }

    /// The id of `[MASK]`: one past the text's characters.
    pub fn mask_id(&self) -> usize {
        self.vocab.len()
    }

    /// The models' vocabulary: the characters and `[MASK]`.
    pub fn model_vocab(&self) -> usize {
        self.vocab.len() + 1
    }

    /// Held-out window `i` (of [`HELD_OUT_WINDOWS`]), [`CONTEXT`] characters, and the
    /// character after it.
    pub fn held_out_window(&self, i: usize) -> &[usize] {
        let start = (i % HELD_OUT_WINDOWS) * CONTEXT;
        &self.held_out[start..start + CONTEXT + 1]
    }

    /// The models' vocabulary as characters: the text's, then [`MASK_CHAR`] for `[MASK]`
    /// (id [`Corpus::mask_id`]), as a checkpoint stores it.
    pub fn model_vocabulary(&self) -> std::result::Result<Vocab, String> {
        let mut chars = self.vocab.chars().to_vec();
        chars.push(MASK_CHAR);
        Vocab::from_chars(chars).map_err(|e| format!("the text's characters and {MASK_CHAR:?}: {e}"))
    }

    /// How many whole windows of [`CONTEXT`] characters (each with the character after it)
    /// the held-out tenth holds, side by side.
    pub fn held_out_windows(&self) -> usize {
        (self.held_out.len() - 1) / CONTEXT
    }

    /// Held-out window `i` of [`Corpus::held_out_windows`] (no wrapping), with the
    /// character after it.
    fn any_held_out_window(&self, i: usize) -> &[usize] {
        &self.held_out[i * CONTEXT..i * CONTEXT + CONTEXT + 1]
    }

    /// Ids as text, `[MASK]` as [`MASK_CHAR`].
    pub fn show(&self, ids: &[usize]) -> String {
        ids.iter().map(|&id| self.vocab.chars().get(id).copied().unwrap_or(MASK_CHAR)).collect()
    }
}

/// The shape of each model.
pub fn model_config(vocab: usize) -> TransformerConfig {
    TransformerConfig {
        vocab,
        context: CONTEXT,
        d_model: D_MODEL,
        n_heads: HEADS,
        n_layers: LAYERS,
        d_ff: 4 * D_MODEL,
        norm: Norm::Pre,
        activation: Activation::Gelu,
        eps: 1e-5,
    }
}

/// Which objective a model trains on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    Mlm,
    Clm,
    Leaky,
}

impl Objective {
    /// The mask this objective trains through.
    pub fn attention(self) -> Attention {
        match self {
            Objective::Mlm => Attention::Bidirectional,
            Objective::Clm => Attention::Causal,
            Objective::Leaky => Attention::SeesNext,
        }
    }
}

/// The reader's choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Seeds the shared initial weights and the batches.
    pub seed: u64,
    /// The schedule's length; training stops there.
    pub total_steps: u64,
    /// Whether a third, leaky model trains alongside.
    pub leaky: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { seed: 1, total_steps: 600, leaky: false }
    }
}

/// One model and its optimizer state.
#[derive(Clone, Debug, PartialEq)]
pub struct Learner {
    pub objective: Objective,
    pub model: Transformer,
    optimizers: Vec<Optimizer>,
}

impl Learner {
    fn new(objective: Objective, model: Transformer) -> Learner {
        let optimizers = model
            .params
            .iter()
            .map(|p| {
                let decay = if p.shape.len() == 2 { WEIGHT_DECAY } else { 0.0 };
                Optimizer::new(Method::adamw(decay), p.len())
            })
            .collect();
        Learner { objective, model, optimizers }
    }

    /// One AdamW step on `batch`; returns the batch's loss before the update. A loss or
    /// gradient that is not finite leaves the weights as they were.
    fn step(&mut self, batch: &Batch, lr: f32, step: u64) -> Result<f32> {
        let (loss, mut grads) = loss_and_grads(&self.model, batch, self.objective.attention())?;
        let mut slices: Vec<&mut [f32]> = grads.iter_mut().map(|g| g.data.as_mut_slice()).collect();
        let norm = clip_grad_norm(&mut slices, CLIP_NORM);
        if !loss.is_finite() || !norm.is_finite() {
            return Err(ModelError::Diverged { step });
        }
        for ((param, grad), optimizer) in self.model.params.iter_mut().zip(&grads).zip(&mut self.optimizers) {
            optimizer.step(&mut param.data, &grad.data, lr)?;
        }
        Ok(loss)
    }
}

/// The mean cross-entropy over the batch's graded positions (targets other than
/// [`NOT_A_TARGET`]) through `attention`, and every gradient.
pub fn loss_and_grads(
    model: &Transformer,
    batch: &Batch,
    attention: Attention,
) -> Result<(f32, Vec<Tensor>)> {
    autograd::loss_and_grads(&model.params, |graph, vars| loss_on_tape(model, graph, vars, batch, attention))
}

fn loss_on_tape(
    model: &Transformer,
    graph: &mut Graph,
    vars: &[Var],
    batch: &Batch,
    attention: Attention,
) -> Result<Var> {
    if batch.targets.iter().all(|&t| t == NOT_A_TARGET) {
        return Err(ModelError::invalid("a batch needs at least one graded position"));
    }
    let checked = Batch {
        targets: batch.targets.iter().map(|&t| if t == NOT_A_TARGET { 0 } else { t }).collect(),
        ..batch.clone()
    };
    let logits = model.forward_on_tape_with(graph, vars, &checked, attention)?;
    Ok(graph.cross_entropy(logits, &batch.targets, Some(NOT_A_TARGET))?)
}

/// The mean loss without gradients.
pub fn loss(model: &Transformer, batch: &Batch, attention: Attention) -> Result<f32> {
    let mut graph = Graph::new();
    let vars: Vec<Var> = model.params.iter().map(|p| graph.input(p.clone())).collect();
    let loss = loss_on_tape(model, &mut graph, &vars, batch, attention)?;
    Ok(graph.value(loss).data[0])
}

/// Log-probabilities `[batch·len, vocab]` for every position of `inputs` (rows of `len`),
/// through `attention`, without gradients.
pub fn log_probs(model: &Transformer, inputs: &[usize], len: usize, attention: Attention) -> Result<Tensor> {
    if len == 0 || inputs.is_empty() || !inputs.len().is_multiple_of(len) {
        return Err(ModelError::invalid("log_probs needs whole windows of at least one token"));
    }
    let batch =
        Batch { batch: inputs.len() / len, len, inputs: inputs.to_vec(), targets: vec![0; inputs.len()] };
    let mut graph = Graph::new();
    let vars: Vec<Var> = model.params.iter().map(|p| graph.input(p.clone())).collect();
    let logits = model.forward_on_tape_with(&mut graph, &vars, &batch, attention)?;
    Ok(tensor::log_softmax_rows(graph.value(logits)))
}

/// The MLM input and targets for one window: `actions` applied with `[MASK]` = `mask_id`.
fn mlm_window(window: &[usize], actions: &[Action], mask_id: usize) -> (Vec<usize>, Vec<usize>) {
    (corrupt_ids(window, actions, mask_id), mlm_targets(window, actions))
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepRecord {
    /// Which step, from 0.
    pub step: u64,
    pub mlm_loss: f32,
    pub clm_loss: f32,
    pub leaky_loss: Option<f32>,
    /// Positions graded so far, this step included.
    pub mlm_signals: u64,
    pub clm_signals: u64,
}

/// A held-out check after `step` steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeldOut {
    pub step: u64,
    /// At the fixed corruption's chosen positions.
    pub mlm: f32,
    /// Next character, every position.
    pub clm: f32,
    /// The leaky model with its own mask.
    pub leaky: Option<f32>,
    /// The leaky model with the next character hidden (the causal mask).
    pub leaky_hidden: Option<f32>,
}

/// One row of log-probabilities over the vocabulary.
type Row = Vec<f32>;

/// A model's top guesses for one blank: (character id, probability), most likely first.
pub type Guesses = Vec<(usize, f32)>;

/// A blank: held-out window `window`, character `position` (1 ..= CONTEXT − 2, so that both
/// sides have text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blank {
    pub window: usize,
    pub position: usize,
}

/// `count` seeded blanks.
pub fn blanks(count: usize, seed: u64) -> Vec<Blank> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| Blank { window: rng.below(HELD_OUT_WINDOWS), position: 1 + rng.below(CONTEXT - 2) })
        .collect()
}

/// Both models scored on the whole held-out tenth, by [`Race::score_held_out`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeldOutScores {
    /// Whole windows of [`CONTEXT`] characters scored, one blank in each.
    pub windows: usize,
    /// The MLM model's mean loss (nats) at the chosen positions, and how many there were.
    pub mlm_loss: f64,
    pub mlm_graded: usize,
    /// The CLM model's mean loss (nats per character) on the next character, and how many.
    pub clm_loss: f64,
    pub clm_graded: usize,
    /// Blanks (one per window) each model's top guess filled correctly.
    pub mlm_hits: usize,
    pub clm_hits: usize,
}

impl HeldOutScores {
    /// Top-1 fill-in-the-blank accuracy of (MLM, CLM).
    pub fn accuracy(&self) -> (f64, f64) {
        let n = self.windows.max(1) as f64;
        (self.mlm_hits as f64 / n, self.clm_hits as f64 / n)
    }
}

/// What steps taken elsewhere (the GPU) did: per model, the losses (one per step, each
/// before its update) and the weights after the last step. For [`Race::record_steps`].
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    pub mlm: Transformer,
    pub clm: Transformer,
    pub leaky: Option<Transformer>,
    pub mlm_losses: Vec<f32>,
    pub clm_losses: Vec<f32>,
    pub leaky_losses: Option<Vec<f32>>,
}

/// Draws batches as the race does, from a copy of its generator.
struct Drawer {
    corpus: Arc<Corpus>,
    rng: Rng,
}

impl Drawer {
    fn draw_batches(&mut self) -> (Batch, Batch) {
        draw_batches(&self.corpus, &mut self.rng)
    }
}

/// `BATCH` windows of `CONTEXT + 1` characters of `corpus`'s training part from `rng`: the
/// CLM batch and the MLM batch of the same windows, corrupted.
fn draw_batches(corpus: &Corpus, rng: &mut Rng) -> (Batch, Batch) {
    let train = &corpus.train;
    let starts: Vec<usize> = (0..BATCH).map(|_| rng.below(train.len() - CONTEXT)).collect();
    let mut clm = Batch { batch: BATCH, len: CONTEXT, inputs: vec![], targets: vec![] };
    let mut mlm = clm.clone();
    for s in starts {
        let w = &train[s..s + CONTEXT + 1];
        clm.inputs.extend_from_slice(&w[..CONTEXT]);
        clm.targets.extend_from_slice(&w[1..]);
        let actions = corrupt(CONTEXT, corpus.vocab.len(), rng);
        let (inputs, targets) = mlm_window(&w[..CONTEXT], &actions, corpus.mask_id());
        mlm.inputs.extend(inputs);
        mlm.targets.extend(targets);
    }
    (clm, mlm)
}

/// The two (or three) models, their shared batches, and what they did.
#[derive(Clone, Debug, PartialEq)]
pub struct Race {
    pub corpus: Arc<Corpus>,
    pub settings: Settings,
    pub mlm: Learner,
    pub clm: Learner,
    pub leaky: Option<Learner>,
    pub records: Vec<StepRecord>,
    pub checks: Vec<HeldOut>,
    /// The loss every model starts from (they share the weights, and the CLM batch is scored).
    pub initial_clm_loss: f32,
    pub initial_mlm_loss: f32,
    rng: Rng,
    held_out_mlm: Batch,
    held_out_clm: Batch,
}

impl Race {
    /// A race of 1 to [`MAX_STEPS`] steps, the page's.
    pub fn new(corpus: Arc<Corpus>, settings: Settings) -> Result<Race> {
        Race::build(corpus, settings, MAX_STEPS, None)
    }

    /// A race of up to [`MAX_LONG_STEPS`] steps, the same in every other way: how the
    /// shipped pair is trained.
    pub fn new_long(corpus: Arc<Corpus>, settings: Settings) -> Result<Race> {
        Race::build(corpus, settings, MAX_LONG_STEPS, None)
    }

    /// The MLM and CLM models of a race trained elsewhere, read from their checkpoints, as a
    /// race of `settings` at step 0 (no records) whose first held-out check scores them. Each
    /// checkpoint must hold [`model_config`]'s shape over [`Corpus::model_vocabulary`].
    pub fn from_checkpoints(
        corpus: Arc<Corpus>,
        settings: Settings,
        mlm: &Checkpoint,
        clm: &Checkpoint,
    ) -> Result<Race> {
        let vocab = corpus.model_vocabulary().map_err(ModelError::invalid)?;
        let config = model_config(corpus.model_vocab());
        for (name, ck) in [("MLM", mlm), ("CLM", clm)] {
            if ck.vocab != vocab {
                return Err(ModelError::invalid(format!(
                    "the {name} checkpoint's {} characters are not the play text's {} and {MASK_CHAR:?}",
                    ck.vocab.len(),
                    corpus.vocab.len()
                )));
            }
            if ck.model.config != config {
                return Err(ModelError::invalid(format!(
                    "the {name} checkpoint's model is not this lab's shape (context {CONTEXT}, width \
                     {D_MODEL}, {HEADS} heads, {LAYERS} layer)"
                )));
            }
        }
        Race::build(corpus, settings, MAX_LONG_STEPS, Some((mlm.model.clone(), clm.model.clone())))
    }

    /// The MLM and CLM models with the models' vocabulary, to write as checkpoints.
    pub fn checkpoints(&self) -> Result<(Checkpoint, Checkpoint)> {
        let vocab = self.corpus.model_vocabulary().map_err(ModelError::invalid)?;
        Ok((
            Checkpoint::new(self.mlm.model.clone(), vocab.clone())?,
            Checkpoint::new(self.clm.model.clone(), vocab)?,
        ))
    }

    fn build(
        corpus: Arc<Corpus>,
        settings: Settings,
        limit: u64,
        trained: Option<(Transformer, Transformer)>,
    ) -> Result<Race> {
        if settings.total_steps == 0 || settings.total_steps > limit {
            return Err(ModelError::invalid(format!("a run is 1 to {limit} steps")));
        }
        let model = Transformer::new(model_config(corpus.model_vocab()), settings.seed)?;
        let (mlm_model, clm_model) = trained.unwrap_or_else(|| (model.clone(), model.clone()));
        let mut held_rng = Rng::new(HELD_OUT_SEED);
        let (mut mlm_in, mut mlm_t, mut clm_in, mut clm_t) = (vec![], vec![], vec![], vec![]);
        for i in 0..HELD_OUT_WINDOWS {
            let w = corpus.held_out_window(i);
            let actions = corrupt(CONTEXT, corpus.vocab.len(), &mut held_rng);
            let (inputs, targets) = mlm_window(&w[..CONTEXT], &actions, corpus.mask_id());
            mlm_in.extend(inputs);
            mlm_t.extend(targets);
            clm_in.extend_from_slice(&w[..CONTEXT]);
            clm_t.extend_from_slice(&w[1..]);
        }
        let held = |inputs, targets| Batch { batch: HELD_OUT_WINDOWS, len: CONTEXT, inputs, targets };
        let mut race = Race {
            settings,
            mlm: Learner::new(Objective::Mlm, mlm_model),
            clm: Learner::new(Objective::Clm, clm_model),
            leaky: settings.leaky.then(|| Learner::new(Objective::Leaky, model.clone())),
            records: vec![],
            checks: vec![],
            initial_clm_loss: 0.0,
            initial_mlm_loss: 0.0,
            rng: Rng::new(settings.seed ^ 0x006d_6c6d_5f63_6c6d),
            held_out_mlm: held(mlm_in, mlm_t),
            held_out_clm: held(clm_in, clm_t),
            corpus,
        };
        race.check()?;
        let first = race.checks[0];
        race.initial_clm_loss = first.clm;
        race.initial_mlm_loss = first.mlm;
        Ok(race)
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn finished(&self) -> bool {
        self.steps() >= self.settings.total_steps
    }

    /// The learning rate of every step: warmup over the first tenth to [`MAX_LR`], then half a
    /// cosine to a tenth of it at the run's end.
    pub fn schedule(&self) -> Schedule {
        let total = self.settings.total_steps;
        Schedule::WarmupCosine {
            max_lr: MAX_LR,
            min_lr: MAX_LR / 10.0,
            warmup_steps: warmup_steps(total, 0.1),
            total_steps: total,
        }
    }

    /// The next shared batch: `BATCH` windows of `CONTEXT + 1` characters, the CLM batch
    /// (inputs and next characters) and the MLM batch (the same windows, corrupted).
    pub fn draw_batches(&mut self) -> (Batch, Batch) {
        draw_batches(&self.corpus, &mut self.rng)
    }

    /// One step of every model on the same windows. On an error (divergence) no record is
    /// added, though a model that stepped before the failing one keeps its update.
    pub fn step(&mut self) -> Result<StepRecord> {
        if self.finished() {
            return Err(ModelError::invalid("the run is finished: reset to train again"));
        }
        let step = self.steps();
        let (clm, mlm) = self.draw_batches();
        let lr = self.schedule().lr_at(step);
        let mlm_loss = self.mlm.step(&mlm, lr, step)?;
        let clm_loss = self.clm.step(&clm, lr, step)?;
        let leaky_loss = match &mut self.leaky {
            Some(l) => Some(l.step(&clm, lr, step)?),
            None => None,
        };
        let (before_mlm, before_clm) = self.records.last().map_or((0, 0), |r| (r.mlm_signals, r.clm_signals));
        let graded = mlm.targets.iter().filter(|&&t| t != NOT_A_TARGET).count() as u64;
        let record = StepRecord {
            step,
            mlm_loss,
            clm_loss,
            leaky_loss,
            mlm_signals: before_mlm + graded,
            clm_signals: before_clm + clm.targets.len() as u64,
        };
        self.records.push(record);
        if self.steps().is_multiple_of(EVAL_EVERY) || self.finished() {
            self.check()?;
        }
        Ok(record)
    }

    /// The batches (CLM, MLM) of the next steps, up to `max` of them and stopping at the next
    /// held-out check or the run's end, exactly as [`Race::step`] would draw them; the race
    /// itself does not move. For training elsewhere (the GPU), then [`Race::record_steps`].
    pub fn upcoming(&self, max: u64) -> Vec<(Batch, Batch)> {
        let to_check = EVAL_EVERY - self.steps() % EVAL_EVERY;
        let n = max.min(to_check).min(self.settings.total_steps.saturating_sub(self.steps()));
        let mut ahead = self.clone_drawing();
        (0..n).map(|_| ahead.draw_batches()).collect()
    }

    /// A copy that can draw batches: only the corpus and the generator matter.
    fn clone_drawing(&self) -> Drawer {
        Drawer { corpus: Arc::clone(&self.corpus), rng: self.rng.clone() }
    }

    /// Records steps taken elsewhere on the batches [`Race::upcoming`] gave: each model's
    /// losses, one per step and each before its update, and its weights after the last one.
    /// The race draws the same batches again (so its generator moves on as if it had
    /// stepped), counts the graded positions, takes in the weights and runs the held-out
    /// check where [`Race::step`] would. The optimizers' moments stay as they were: if the
    /// race goes on here, AdamW starts from those. A loss that is not finite, or a count that
    /// does not match, records nothing.
    pub fn record_steps(&mut self, done: Trained) -> Result<()> {
        let n = done.mlm_losses.len();
        let expected = self.upcoming(n as u64).len();
        if n == 0
            || n != expected
            || done.clm_losses.len() != n
            || done.leaky_losses.as_ref().map(Vec::len) != self.leaky.as_ref().map(|_| n)
            || done.leaky.is_some() != self.leaky.is_some()
        {
            return Err(ModelError::invalid(format!(
                "{n} steps recorded from elsewhere do not fit this race (expected 1 to {expected})"
            )));
        }
        let leaky = done.leaky_losses.as_deref();
        for i in 0..n {
            let losses = [Some(done.mlm_losses[i]), Some(done.clm_losses[i]), leaky.map(|l| l[i])];
            if losses.iter().flatten().any(|l| !l.is_finite()) {
                return Err(ModelError::Diverged { step: self.steps() + i as u64 });
            }
        }
        for i in 0..n {
            let step = self.steps();
            let (clm, mlm) = self.draw_batches();
            let (before_mlm, before_clm) =
                self.records.last().map_or((0, 0), |r| (r.mlm_signals, r.clm_signals));
            let graded = mlm.targets.iter().filter(|&&t| t != NOT_A_TARGET).count() as u64;
            self.records.push(StepRecord {
                step,
                mlm_loss: done.mlm_losses[i],
                clm_loss: done.clm_losses[i],
                leaky_loss: leaky.map(|l| l[i]),
                mlm_signals: before_mlm + graded,
                clm_signals: before_clm + clm.targets.len() as u64,
            });
        }
        self.mlm.model = done.mlm;
        self.clm.model = done.clm;
        if let (Some(l), Some(model)) = (&mut self.leaky, done.leaky) {
            l.model = model;
        }
        if self.steps().is_multiple_of(EVAL_EVERY) || self.finished() {
            self.check()?;
        }
        Ok(())
    }

    /// Steps until `budget_ms` has passed on `clock` (at least one step), `max` steps are
    /// done, or the run ends.
    pub fn train_for(&mut self, budget_ms: f64, max: u64, clock: &mut dyn FnMut() -> f64) -> Result<u64> {
        let started = clock();
        let mut done = 0;
        while done < max && !self.finished() {
            self.step()?;
            done += 1;
            if clock() - started >= budget_ms {
                break;
            }
        }
        Ok(done)
    }

    /// Scores every model on the held-out windows and records it.
    fn check(&mut self) -> Result<HeldOut> {
        let step = self.steps();
        let finite = |v: f32| if v.is_finite() { Ok(v) } else { Err(ModelError::Diverged { step }) };
        let mlm = finite(loss(&self.mlm.model, &self.held_out_mlm, Attention::Bidirectional)?)?;
        let clm = finite(loss(&self.clm.model, &self.held_out_clm, Attention::Causal)?)?;
        let (leaky, leaky_hidden) = match &self.leaky {
            Some(l) => (
                Some(finite(loss(&l.model, &self.held_out_clm, Attention::SeesNext)?)?),
                Some(finite(loss(&l.model, &self.held_out_clm, Attention::Causal)?)?),
            ),
            None => (None, None),
        };
        let held = HeldOut { step, mlm, clm, leaky, leaky_hidden };
        self.checks.push(held);
        Ok(held)
    }

    /// The held-out window of `blank` with its character replaced by `[MASK]`.
    pub fn blanked(&self, blank: Blank) -> Vec<usize> {
        let mut w = self.corpus.held_out_window(blank.window)[..CONTEXT].to_vec();
        w[blank.position] = self.corpus.mask_id();
        w
    }

    /// Each model's `top` guesses for the blanked character: the MLM model reads the
    /// window with `[MASK]` there, both sides; the CLM model reads the characters before it
    /// and gives its distribution for the next one. `[MASK]` itself is never a guess.
    pub fn guesses(&self, blank: Blank, top: usize) -> Result<(Guesses, Guesses)> {
        let (mlm, clm) = self.blank_log_probs(&[blank])?;
        Ok((self.top(&mlm[0], top), self.top(&clm[0], top)))
    }

    /// Top-1 accuracy of the MLM and CLM models over `blanks`.
    pub fn fill_accuracy(&self, blanks: &[Blank]) -> Result<(f64, f64)> {
        let (mlm, clm) = self.blank_log_probs(blanks)?;
        let mut hits = (0usize, 0usize);
        for (i, b) in blanks.iter().enumerate() {
            let truth = self.corpus.held_out_window(b.window)[b.position];
            hits.0 += usize::from(self.top(&mlm[i], 1).first().map(|g| g.0) == Some(truth));
            hits.1 += usize::from(self.top(&clm[i], 1).first().map(|g| g.0) == Some(truth));
        }
        let n = blanks.len().max(1) as f64;
        Ok((hits.0 as f64 / n, hits.1 as f64 / n))
    }

    /// For each blank, the two models' log-probabilities at the blank.
    fn blank_log_probs(&self, blanks: &[Blank]) -> Result<(Vec<Row>, Vec<Row>)> {
        let at: Vec<(&[usize], usize)> =
            blanks.iter().map(|b| (self.corpus.held_out_window(b.window), b.position)).collect();
        self.log_probs_at_blanks(&at)
    }

    /// For each (window, position), the two models' log-probabilities for the character at
    /// `position` of the window's first [`CONTEXT`]: the MLM model's with `[MASK]` there, the
    /// CLM model's from the characters before it.
    fn log_probs_at_blanks(&self, at: &[(&[usize], usize)]) -> Result<(Vec<Row>, Vec<Row>)> {
        if at.iter().any(|&(w, p)| p == 0 || p >= CONTEXT || w.len() < CONTEXT) {
            return Err(ModelError::invalid(format!(
                "a blank needs text before it: positions 1 to {}",
                CONTEXT - 1
            )));
        }
        let v = self.corpus.model_vocab();
        let mask = self.corpus.mask_id();
        let mut mlm_in = Vec::with_capacity(at.len() * CONTEXT);
        let mut clm_in = Vec::with_capacity(at.len() * CONTEXT);
        for &(w, p) in at {
            let start = mlm_in.len();
            mlm_in.extend_from_slice(&w[..CONTEXT]);
            mlm_in[start + p] = mask;
            clm_in.extend_from_slice(&w[..CONTEXT]);
        }
        let mlm = log_probs(&self.mlm.model, &mlm_in, CONTEXT, Attention::Bidirectional)?;
        // The causal model's row p − 1 depends on characters 0 ..= p − 1 only.
        let clm = log_probs(&self.clm.model, &clm_in, CONTEXT, Attention::Causal)?;
        let row = |t: &Tensor, r: usize| t.data[r * v..(r + 1) * v].to_vec();
        Ok((
            at.iter().enumerate().map(|(i, &(_, p))| row(&mlm, i * CONTEXT + p)).collect(),
            at.iter().enumerate().map(|(i, &(_, p))| row(&clm, i * CONTEXT + p - 1)).collect(),
        ))
    }

    /// Scores the MLM and CLM models on every whole window of the held-out tenth (not only
    /// the [`HELD_OUT_WINDOWS`] the page checks): the MLM model at a seeded 15% / 80/10/10
    /// corruption of each window, graded at the chosen positions; the CLM model on the next
    /// character at every position; and one seeded blank per window (position 1 to
    /// `CONTEXT − 2`, as [`blanks`] places them) for both, as [`Race::fill_accuracy`] does.
    pub fn score_held_out(&self, seed: u64) -> Result<HeldOutScores> {
        const CHUNK: usize = 128;
        let c = &self.corpus;
        let (v, windows) = (c.model_vocab(), c.held_out_windows());
        let mut rng = Rng::new(seed);
        let mut s = HeldOutScores { windows, ..HeldOutScores::default() };
        let (mut mlm_nats, mut clm_nats) = (0.0f64, 0.0f64);
        let nats = |lp: &Tensor, row: usize, target: usize| -f64::from(lp.data[row * v + target]);
        for first in (0..windows).step_by(CHUNK) {
            let ids: Vec<usize> = (first..windows.min(first + CHUNK)).collect();
            let (mut mlm_in, mut mlm_t, mut clm_in, mut clm_t) = (vec![], vec![], vec![], vec![]);
            let mut at = vec![];
            for &i in &ids {
                let w = c.any_held_out_window(i);
                let actions = corrupt(CONTEXT, c.vocab.len(), &mut rng);
                let (inputs, targets) = mlm_window(&w[..CONTEXT], &actions, c.mask_id());
                mlm_in.extend(inputs);
                mlm_t.extend(targets);
                clm_in.extend_from_slice(&w[..CONTEXT]);
                clm_t.extend_from_slice(&w[1..]);
                at.push((w, 1 + rng.below(CONTEXT - 2)));
            }
            let mlm = log_probs(&self.mlm.model, &mlm_in, CONTEXT, Attention::Bidirectional)?;
            let clm = log_probs(&self.clm.model, &clm_in, CONTEXT, Attention::Causal)?;
            for (row, &t) in mlm_t.iter().enumerate().filter(|(_, &t)| t != NOT_A_TARGET) {
                mlm_nats += nats(&mlm, row, t);
                s.mlm_graded += 1;
            }
            for (row, &t) in clm_t.iter().enumerate() {
                clm_nats += nats(&clm, row, t);
                s.clm_graded += 1;
            }
            let (mlm_rows, clm_rows) = self.log_probs_at_blanks(&at)?;
            for (k, &(w, p)) in at.iter().enumerate() {
                let hit = |row: &Row| usize::from(self.top(row, 1).first().map(|g| g.0) == Some(w[p]));
                s.mlm_hits += hit(&mlm_rows[k]);
                s.clm_hits += hit(&clm_rows[k]);
            }
        }
        s.mlm_loss = mlm_nats / s.mlm_graded.max(1) as f64;
        s.clm_loss = clm_nats / s.clm_graded.max(1) as f64;
        if !s.mlm_loss.is_finite() || !s.clm_loss.is_finite() {
            return Err(ModelError::Diverged { step: self.steps() });
        }
        Ok(s)
    }

    /// The `top` most likely characters (never `[MASK]`) with their probabilities.
    fn top(&self, log_probs: &[f32], top: usize) -> Guesses {
        let mut order: Vec<usize> = (0..self.corpus.vocab.len()).collect();
        order.sort_by(|&a, &b| log_probs[b].total_cmp(&log_probs[a]).then(a.cmp(&b)));
        order.into_iter().take(top).map(|i| (i, libm::expf(log_probs[i]))).collect()
    }

    /// The CLM model continues `prompt` by `count` characters as chapter 5 samples
    /// (temperature [`TEMPERATURE`], seeded). At most [`CONTEXT`] characters in all.
    pub fn continue_clm(&self, prompt: &[usize], count: usize, seed: u64) -> Result<Vec<usize>> {
        self.check_prompt(prompt, count)?;
        let decoding = Decoding::Sample { temperature: TEMPERATURE, top_k: usize::MAX, top_p: 1.0 };
        let mut rng = Rng::new(seed);
        let mut decoder = Decoder::new(&self.clm.model, prompt, true)?;
        let mut out = vec![];
        for _ in 0..count {
            let mut logits = decoder.logits().to_vec();
            logits[self.corpus.mask_id()] = NEVER;
            let (token, _) = decoding.choose(&logits, &mut rng)?;
            decoder.push(&self.clm.model, token)?;
            out.push(token);
        }
        Ok(out)
    }

    /// The leaky model writes the same way, each character from its last position, where the
    /// character after it does not exist yet.
    pub fn continue_leaky(&self, prompt: &[usize], count: usize, seed: u64) -> Result<Option<Vec<usize>>> {
        let Some(leaky) = &self.leaky else { return Ok(None) };
        self.check_prompt(prompt, count)?;
        let decoding = Decoding::Sample { temperature: TEMPERATURE, top_k: usize::MAX, top_p: 1.0 };
        let mut rng = Rng::new(seed);
        let mut tokens = prompt.to_vec();
        let v = self.corpus.model_vocab();
        for _ in 0..count {
            let lp = log_probs(&leaky.model, &tokens, tokens.len(), Attention::SeesNext)?;
            let mut logits = lp.data[(tokens.len() - 1) * v..].to_vec();
            logits[self.corpus.mask_id()] = NEVER;
            tokens.push(decoding.choose(&logits, &mut rng)?.0);
        }
        Ok(Some(tokens[prompt.len()..].to_vec()))
    }

    /// The MLM model continues `prompt` by iterative unmasking: `count` `[MASK]`s are
    /// appended, and `count` times the masked position whose best character is most
    /// probable gets that character. Returns the characters in place and, for each, the
    /// round (from 0) in which it was filled.
    pub fn continue_mlm(&self, prompt: &[usize], count: usize) -> Result<(Vec<usize>, Vec<usize>)> {
        self.check_prompt(prompt, count)?;
        let v = self.corpus.model_vocab();
        let mask = self.corpus.mask_id();
        let mut tokens = prompt.to_vec();
        tokens.extend(std::iter::repeat_n(mask, count));
        let mut round = vec![usize::MAX; count];
        for r in 0..count {
            let lp = log_probs(&self.mlm.model, &tokens, tokens.len(), Attention::Bidirectional)?;
            let mut best: Option<(usize, usize, f32)> = None;
            for p in prompt.len()..tokens.len() {
                if tokens[p] != mask {
                    continue;
                }
                let row = &lp.data[p * v..(p + 1) * v];
                if let Some((c, score)) = self.top(row, 1).first().map(|g| (g.0, row[g.0])) {
                    if best.is_none_or(|b| score > b.2) {
                        best = Some((p, c, score));
                    }
                }
            }
            let Some((p, c, _)) = best else { break };
            tokens[p] = c;
            round[p - prompt.len()] = r;
        }
        Ok((tokens[prompt.len()..].to_vec(), round))
    }

    fn check_prompt(&self, prompt: &[usize], count: usize) -> Result<()> {
        if prompt.is_empty() {
            return Err(ModelError::invalid("the prompt is empty: give the models at least one character"));
        }
        if prompt.len() + count > CONTEXT {
            return Err(ModelError::invalid(format!(
                "a prompt of {} characters and {count} more do not fit in the models' {CONTEXT}",
                prompt.len()
            )));
        }
        if prompt.iter().any(|&t| t >= self.corpus.vocab.len()) {
            return Err(ModelError::invalid("the prompt must be characters of the text"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
