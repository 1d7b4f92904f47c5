//! Chapter 5's training panel: the reader trains a tiny GPT on six Shakespeare tragedies,
//! on WebGPU (`gpu::GpuTransformer`) or on the CPU (`engine::train::Trainer`), and watches
//! the training loss, the held-out loss and a sample of the model's writing change as it
//! learns. When the reader pauses or the run ends, the model replaces the chapter's tiny GPT,
//! so the generation lab and the KV-cache race use it; it can also be saved to the browser's
//! storage and loaded back.
//!
//! # The recipe (the same on both backends)
//! The text is split as the shipped model's training split it (`train_tiny_gpt.rs`): the
//! first 90% to learn from, the last 10% held out. Each step draws 8 random windows of 64
//! characters from the training part with the run's seed ([`Trainer::draw_batch`], also the
//! GPU's batch source, so both backends see the same batches), clips the gradient norm to 1
//! and takes an Adam step; the learning rate warms up over the first tenth of the run and
//! then follows half a cosine down to a tenth of its peak. There is no weight decay: the
//! GPU applies one decay to every tensor while the CPU trainer spares gains and biases, and
//! with decay off the two recipes are the same; a run of a few hundred steps is too short
//! for decay to matter.
//!
//! # Keeping the page responsive
//! On the CPU, each timer tick runs whole steps for about [`CPU_BUDGET_MS`] and then gives
//! the browser back its thread. On the GPU, a tick queues a chunk of steps (one submit) and
//! awaits its losses; the chunk grows while chunks come back quickly and shrinks when they do
//! not ([`next_chunk`]). Every [`EVAL_EVERY`] steps the current weights (read back from the
//! GPU on that path) are scored on a fixed held-out slice and write a short sample, on the
//! CPU. Those read-back weights are also what a lost GPU hands over to the CPU.

use std::rc::Rc;

use leptos::prelude::*;

use crate::widgets::ticker::tick_while;
use leptos::task::spawn_local;

use engine::checkpoint::Checkpoint;
use engine::generate::{generate, Decoding};
use engine::optim::{warmup_steps, Method};
use engine::train::{validation_loss, TrainConfig, Trainer};
use engine::transformer::{Activation, ModelError, Norm, Transformer, TransformerConfig};
use engine::vocab::Vocab;
use gpu::{Gpu, GpuTransformer, TrainSettings};

use crate::browser::now_ms;
use crate::plot::line_chart::LineChart;
use crate::widgets::model_store;
use crate::widgets::number_field::{is_whole_in, learning_rate, rule, NumberField};
use crate::widgets::tiny_gpt::{use_tiny_gpt, ModelState, Origin, TinyGpt, SHIPPED_PATH};
use crate::widgets::xor_trainer::downsample;

/// The training text, relative to the page (copied from `assets/shakespeare`).
pub const TEXT_PATH: &str = "shakespeare/tragedies.txt";
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
/// CPU time per timer tick, in milliseconds, before the page gets its thread back.
pub const CPU_BUDGET_MS: f64 = 12.0;
/// Windows per step, and characters per window (every preset's context).
pub const BATCH: usize = 8;
pub const CONTEXT: usize = 64;
/// The most steps one GPU submit may carry.
pub const MAX_CHUNK: usize = 32;

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
        TransformerConfig { vocab, context: CONTEXT, d_model, n_heads, n_layers, d_ff: 4 * d_model, norm: Norm::Pre, activation: Activation::Gelu, eps: 1e-5 }
    }

    fn value(self) -> &'static str {
        match self {
            Size::Tiny => "tiny",
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Size::Tiny => "tiny: 1 layer, d 32",
            Size::Small => "small: 2 layers, d 64 (the shipped shape)",
            Size::Large => "large: 4 layers, d 128",
        }
    }

    fn from_value(value: &str) -> Size {
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
    /// The CPU trainer's settings.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            batch: BATCH,
            len: CONTEXT,
            max_lr: self.max_lr,
            min_lr: self.max_lr / 10.0,
            warmup_steps: warmup_steps(self.total_steps, 0.1),
            total_steps: self.total_steps,
            weight_decay: 0.0,
            clip_norm: 1.0,
            seed: self.seed,
        }
    }

    /// The same recipe for the GPU.
    pub fn gpu_settings(&self) -> TrainSettings {
        let c = self.train_config();
        TrainSettings { batch: c.batch, len: c.len, method: Method::adamw(c.weight_decay), schedule: c.schedule(), max_grad_norm: Some(c.clip_norm) }
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
            return Err(format!("The training text has {} characters, too few to hold out a tenth of it for validation.", ids.len()));
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
    let decoding = Decoding::Sample { temperature: SAMPLE_TEMPERATURE, top_k: corpus.vocab.len(), top_p: 1.0 };
    let tokens: Vec<usize> = generate(model, &prompt, SAMPLE_CHARS, decoding, seed, true)?.iter().map(|t| t.token).collect();
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
pub fn cpu_steps(trainer: &mut Trainer, budget_ms: f64, max_steps: u64, clock: &mut dyn FnMut() -> f64) -> (Vec<f32>, Option<ModelError>) {
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

/// How many steps the next GPU submit carries: double the last chunk when it came back in
/// under 60 ms, halve it past 250 ms, within 1..=[`MAX_CHUNK`].
pub fn next_chunk(last: usize, millis: f64) -> usize {
    let next = if millis < 60.0 {
        last * 2
    } else if millis > 250.0 {
        last / 2
    } else {
        last
    };
    next.clamp(1, MAX_CHUNK)
}

/// Training throughput: tokens processed over the time spent training (not the pauses
/// between timer ticks, nor validation and sampling).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Throughput {
    pub tokens: u64,
    pub millis: f64,
}

impl Throughput {
    pub fn add(&mut self, steps: usize, millis: f64) {
        self.tokens += (steps * BATCH * CONTEXT) as u64;
        self.millis += millis;
    }

    pub fn per_second(&self) -> Option<f64> {
        (self.millis > 0.0).then(|| self.tokens as f64 * 1000.0 / self.millis)
    }
}

fn lr_rule(v: f64) -> Result<(), String> {
    learning_rate(v)
}

fn seed_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 4_294_967_295.0), "Use a whole number from 0 to 4294967295.")
}

fn steps_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 10.0, 100_000.0), "Use a whole number of steps from 10 to 100,000.")
}

/// Where the model trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Cpu,
    Gpu,
}

impl Backend {
    fn value(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }
}

/// What the browser said when asked for a GPU.
#[derive(Clone, Debug, PartialEq)]
enum GpuState {
    Probing,
    Ready(String),
    Unavailable(String),
    Lost(String),
}

/// A run in progress: the CPU trainer (the batch source on both paths, and on the GPU path
/// the holder of the last weights read back) and, on the GPU path, the GPU's copy.
struct Session {
    /// Which run this is; answers from the GPU for an older run are dropped.
    id: u64,
    trainer: Trainer,
    on_gpu: Option<GpuTransformer>,
}

impl Session {
    /// Steps taken: the GPU's count on that path, else the trainer's.
    fn steps(&self) -> u64 {
        self.on_gpu.as_ref().map_or(self.trainer.steps, GpuTransformer::steps)
    }
}

/// The widget.
#[component]
pub fn GptTrainer() -> impl IntoView {
    let slot = use_tiny_gpt();
    let settings = RwSignal::new(Settings::default());
    let backend = RwSignal::new(Backend::Cpu);
    // Set once the reader picks a backend; a GPU that answers later must not override them.
    let reader_chose = StoredValue::new(false);
    let gpu_state = RwSignal::new(GpuState::Probing);
    let gpu = StoredValue::new_local(None::<Gpu>);
    let corpus = RwSignal::new_local(None::<Result<Rc<Corpus>, String>>);
    let session = StoredValue::new_local(None::<Session>);
    let next_id = StoredValue::new(0u64);

    let losses = RwSignal::new(Vec::<f32>::new());
    let evals = RwSignal::new(Vec::<Eval>::new());
    let throughput = RwSignal::new(Throughput::default());
    let chunk = StoredValue::new(1usize);
    let running = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let syncing = RwSignal::new(false);
    let diverged = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let notice = RwSignal::new(String::new());
    let store_message = RwSignal::new(String::new());

    // The training text, once.
    spawn_local(async move {
        let text = crate::browser::text(TEXT_PATH).await;
        corpus.set(Some(text.and_then(|t| Corpus::from_text(&t)).map(Rc::new)));
    });
    // A GPU, once; the panel runs on it when there is one.
    spawn_local(async move {
        match Gpu::request().await {
            Ok(device) => {
                device.on_lost(move |reason| gpu_state.set(GpuState::Lost(reason)));
                gpu_state.set(GpuState::Ready(device.describe()));
                gpu.set_value(Some(device));
                if losses.with_untracked(Vec::is_empty) && !reader_chose.get_value() {
                    backend.set(Backend::Gpu);
                }
            }
            Err(error) => gpu_state.set(GpuState::Unavailable(error.to_string())),
        }
    });

    let reset = move || {
        running.set(false);
        session.set_value(None);
        next_id.update_value(|id| *id += 1);
        losses.set(Vec::new());
        evals.set(Vec::new());
        throughput.set(Throughput::default());
        chunk.set_value(1);
        busy.set(false);
        diverged.set(false);
        status.set(String::new());
        notice.set(String::new());
    };

    // Builds the run from the settings: the same initial weights on either backend.
    let start_session = move || -> Result<(), String> {
        let Some(Ok(text)) = corpus.get_untracked() else {
            return Err("The training text has not arrived yet.".into());
        };
        let s = settings.get_untracked();
        let model = Transformer::new(s.size.config(text.vocab.len()), s.seed).map_err(|e| format!("{e}."))?;
        let trainer = Trainer::new(model, text.train.clone(), s.train_config()).map_err(|e| format!("{e}."))?;
        let mut on_gpu = None;
        if backend.get_untracked() == Backend::Gpu {
            match gpu.with_value(|g| g.as_ref().map(|g| GpuTransformer::new(g, &trainer.model, s.gpu_settings()))) {
                Some(Ok(m)) => on_gpu = Some(m),
                Some(Err(e)) => {
                    backend.set(Backend::Cpu);
                    notice.set(format!("The GPU cannot train this model ({e}); it trains on the CPU instead."));
                }
                None => backend.set(Backend::Cpu),
            }
        }
        session.set_value(Some(Session { id: next_id.get_value(), trainer, on_gpu }));
        Ok(())
    };

    // Training cannot go on: the numbers blew up, or (never expected) a setting was refused.
    let stop_diverged = move |error: ModelError| {
        running.set(false);
        match error {
            ModelError::Diverged { step } => {
                diverged.set(true);
                status.set(format!("Diverged at step {step}: the loss is no longer a finite number. Lower the peak learning rate, then press Train to start over."));
            }
            ModelError::Invalid(why) => status.set(format!("Training stopped: {why}.")),
        }
    };

    // The held-out loss and a sample from the trainer's current weights.
    let check = move |step: u64| {
        let Some(Ok(text)) = corpus.get_untracked() else { return };
        let seed = settings.get_untracked().seed;
        let result = session.with_value(|s| s.as_ref().map(|s| evaluate(&s.trainer.model, &text, step, seed)));
        match result {
            Some(Ok(eval)) => evals.update(|e| e.push(eval)),
            Some(Err(e)) => stop_diverged(e),
            None => {}
        }
    };

    // Hands the trained model to the chapter (after reading it back from the GPU).
    let publish = move || {
        let Some(Ok(text)) = corpus.get_untracked() else { return };
        let share = move |model: Transformer, steps: u64| match Checkpoint::new(model, text.vocab.clone()) {
            Ok(checkpoint) => slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Trained { steps } }),
            Err(e) => status.set(format!("{e}.")),
        };
        let read = session.with_value(|s| {
            let s = s.as_ref()?;
            Some(match &s.on_gpu {
                Some(m) if m.steps() != s.trainer.steps => Err((s.id, m.read_model(), m.steps())),
                _ => Ok((s.trainer.model.clone(), s.trainer.steps)),
            })
        });
        match read {
            None => {}
            Some(Ok((model, steps))) => share(model, steps),
            Some(Err((id, model, steps))) => {
                syncing.set(true);
                spawn_local(async move {
                    let model = model.await;
                    syncing.set(false);
                    match model {
                        Ok(model) => {
                            let current = session.try_update_value(|s| match s {
                                Some(s) if s.id == id && s.on_gpu.is_some() => {
                                    s.trainer.model = model.clone();
                                    s.trainer.steps = steps;
                                    true
                                }
                                _ => false,
                            });
                            if current == Some(true) {
                                share(model, steps);
                            }
                        }
                        Err(e) => gpu_state.set(GpuState::Lost(e.to_string())),
                    }
                });
            }
        }
    };

    // After each batch of steps: record the losses, stop on divergence, check and finish.
    let record = move |new_losses: Vec<f32>, done: u64| {
        let bad = new_losses.iter().position(|l| !l.is_finite());
        losses.update(|l| l.extend(&new_losses));
        if let Some(i) = bad {
            let step = done - new_losses.len() as u64 + i as u64;
            stop_diverged(ModelError::Diverged { step });
            return;
        }
        let total = settings.get_untracked().total_steps;
        if done == next_stop(done.saturating_sub(1), total) {
            check(done);
        }
        if done >= total && !diverged.get_untracked() {
            running.set(false);
            status.set(format!("Finished {total} steps. The chapter's generation lab now uses this model."));
            publish();
        }
    };

    let advance = move || {
        if busy.get_untracked() || !running.get_untracked() {
            return;
        }
        let total = settings.get_untracked().total_steps;
        let on_gpu = session.with_value(|s| s.as_ref().map(|s| s.on_gpu.is_some()));
        match on_gpu {
            None => {}
            Some(false) => {
                let step = session.try_update_value(|s| {
                    let s = s.as_mut()?;
                    let done = s.trainer.steps;
                    let started = now_ms();
                    let (new_losses, error) = cpu_steps(&mut s.trainer, CPU_BUDGET_MS, next_stop(done, total).saturating_sub(done), &mut now_ms);
                    Some((new_losses, error, now_ms() - started, s.trainer.steps))
                });
                if let Some(Some((new_losses, error, millis, done))) = step {
                    throughput.update(|t| t.add(new_losses.len(), millis));
                    match error {
                        Some(e) => {
                            losses.update(|l| l.extend(&new_losses));
                            stop_diverged(e);
                        }
                        None => record(new_losses, done),
                    }
                }
            }
            Some(true) => {
                let queued = session.try_update_value(|s| {
                    let s = s.as_mut()?;
                    let done = s.steps();
                    let count = chunk.get_value().min(next_stop(done, total).saturating_sub(done) as usize).max(1);
                    let batches: Vec<_> = (0..count).map(|_| s.trainer.draw_batch()).collect();
                    let m = s.on_gpu.as_mut()?;
                    Some(m.train(&batches).map(|()| {
                        let reached = done + count as u64 == next_stop(done, total);
                        (s.id, count, done + count as u64, m.read_losses(), reached.then(|| m.read_model()))
                    }))
                });
                let (id, count, done, read_losses, read_model) = match queued.flatten() {
                    Some(Ok(q)) => q,
                    Some(Err(e)) => return stop_diverged(e),
                    None => return,
                };
                busy.set(true);
                let started = now_ms();
                spawn_local(async move {
                    let new_losses = read_losses.await;
                    let millis = now_ms() - started;
                    let model = match read_model {
                        Some(read) => Some(read.await),
                        None => None,
                    };
                    let current = session.with_value(|s| matches!(s, Some(s) if s.id == id && s.on_gpu.is_some()));
                    if !current {
                        return;
                    }
                    busy.set(false);
                    let result = new_losses.and_then(|l| model.transpose().map(|m| (l, m)));
                    match result {
                        Ok((new_losses, model)) => {
                            throughput.update(|t| t.add(count, millis));
                            chunk.set_value(next_chunk(count, millis));
                            if let Some(model) = model {
                                session.update_value(|s| {
                                    if let Some(s) = s {
                                        s.trainer.model = model;
                                        s.trainer.steps = done;
                                    }
                                });
                            }
                            record(new_losses, done);
                        }
                        Err(e) => gpu_state.set(GpuState::Lost(e.to_string())),
                    }
                });
            }
        }
    };

    // A lost GPU: carry on on the CPU from the weights last read back.
    Effect::new(move |_| {
        if let GpuState::Lost(reason) = gpu_state.get() {
            if backend.get_untracked() == Backend::Gpu {
                backend.set(Backend::Cpu);
                busy.set(false);
                let step = session.try_update_value(|s| s.as_mut().map(|s| {
                    s.on_gpu = None;
                    s.trainer.steps
                }));
                match step.flatten() {
                    Some(step) => {
                        losses.update(|l| l.truncate(step as usize));
                        evals.update(|e| e.retain(|e| e.step <= step));
                        notice.set(format!("The GPU was lost ({reason}). Training continues on the CPU from the weights read back at step {step}."));
                    }
                    None => notice.set(format!("The GPU was lost ({reason}); the panel trains on the CPU.")),
                }
            }
        }
    });

    let toggle = move || {
        if running.get_untracked() {
            running.set(false);
            status.set("Paused. The chapter's generation lab now uses this model.".into());
            publish();
            return;
        }
        if diverged.get_untracked() || losses.with_untracked(|l| l.len() as u64) >= settings.get_untracked().total_steps {
            reset();
        }
        if session.with_value(Option::is_none) {
            if let Err(e) = start_session() {
                status.set(e);
                return;
            }
        }
        status.set(String::new());
        running.set(true);
    };

    tick_while(running, std::time::Duration::from_millis(16), advance);

    let save = move || {
        store_message.set(match slot.get_untracked() {
            ModelState::Ready(gpt) => model_store::save(&gpt.checkpoint).unwrap_or_else(|e| e),
            _ => "The chapter's model has not loaded yet.".into(),
        });
    };
    let load = move || match model_store::load() {
        Ok(checkpoint) => {
            slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Saved });
            store_message.set("Loaded. The chapter's generation lab now uses the saved model.".into());
        }
        Err(e) => store_message.set(e),
    };
    let use_shipped = move || {
        spawn_local(async move {
            let result = crate::browser::bytes(SHIPPED_PATH).await.and_then(|b| Checkpoint::from_bytes(&b).map_err(|e| format!("The shipped model could not be read: {e}.")));
            match result {
                Ok(checkpoint) => {
                    slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Shipped });
                    store_message.set("The chapter is back on the shipped model.".into());
                }
                Err(e) => store_message.set(e),
            }
        });
    };

    let change = move |f: fn(&mut Settings, f64)| {
        Callback::new(move |v: f64| {
            settings.update(|s| f(s, v));
            reset();
        })
    };

    let steps_done = Signal::derive(move || losses.with(Vec::len));
    let train_curve = Signal::derive(move || losses.with(|l| downsample(l, 400)));
    let val_curve = Signal::derive(move || evals.with(|e| e.iter().map(|e| e.val_loss as f64).collect::<Vec<_>>()));
    let badge = move || match backend.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", match gpu_state.get() { GpuState::Ready(d) => d, _ => String::new() }),
        Backend::Cpu => "Running on: CPU (WebAssembly) · engine::train".to_string(),
    };
    let gpu_note = move || match gpu_state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => format!("WebGPU is available ({d}), so the panel trains there: crates/gpu runs the same model and recipe in WGSL kernels. Switch to the CPU to compare speeds."),
        GpuState::Unavailable(why) => why,
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    };
    let corpus_note = move || match corpus.get() {
        None => "Downloading the training text…".to_string(),
        Some(Err(e)) => e,
        Some(Ok(c)) => format!(
            "Training text: {} characters of six tragedies, {} distinct. The first {} train the model; the last {} are held out, and the validation loss scores the first {VALIDATION_CHARS} of those.",
            c.chars, c.vocab.len(), c.train.len(), c.held_out.len()
        ),
    };
    let progress = move || {
        let total = settings.get().total_steps;
        let rate = throughput.get().per_second().map_or("—".to_string(), |r| format!("{r:.0}"));
        let on = match backend.get() {
            Backend::Gpu => "GPU",
            Backend::Cpu => "CPU",
        };
        (total, rate, on)
    };
    let model_line = move || match slot.get() {
        ModelState::Loading => "The chapter's model: loading…".to_string(),
        ModelState::Failed(e) => format!("The chapter's model: {e}"),
        ModelState::Ready(gpt) => format!("The chapter's model: {}.", gpt.origin.describe()),
    };
    let latest = move || evals.with(|e| e.last().cloned());

    view! {
        <section class="widget gpt-trainer" aria-label="Train a tiny GPT">
            <header class="widget-head">
                <h3 class="widget-title">"Live: train a tiny GPT on Shakespeare"</h3>
                <span class="backend-badge" data-backend=move || backend.get().value() data-value="gpt-backend">{badge}</span>
            </header>
            <p class="widget-note" data-value="gpt-corpus">{corpus_note}</p>
            <div class="xor-controls">
                <label class="select">"model "
                    <select data-name="gpt-size" on:change=move |ev| {
                        let size = Size::from_value(&event_target_value(&ev));
                        settings.update(|s| s.size = size);
                        reset();
                    }>
                        {Size::ALL.into_iter().map(|s| view! { <option value=s.value() selected={s == Size::Small}>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <NumberField label="peak learning rate" name="gpt-lr" value=Signal::derive(move || settings.get().max_lr as f64) on_change=change(|s, v| s.max_lr = v as f32) check=lr_rule />
                <NumberField label="seed" name="gpt-seed" value=Signal::derive(move || settings.get().seed as f64) on_change=change(|s, v| s.seed = v as u64) check=seed_rule />
                <NumberField label="steps" name="gpt-steps" value=Signal::derive(move || settings.get().total_steps as f64) on_change=change(|s, v| s.total_steps = v as u64) check=steps_rule />
                <label class="select">"backend "
                    <select data-name="gpt-backend" aria-describedby="gpt-backend-note"
                        prop:value=move || backend.get().value()
                        on:change=move |ev| {
                            reader_chose.set_value(true);
                            backend.set(if event_target_value(&ev) == "gpu" { Backend::Gpu } else { Backend::Cpu });
                            reset();
                        }>
                        <option value="cpu">"CPU (WebAssembly)"</option>
                        <option value="gpu" disabled=move || !matches!(gpu_state.get(), GpuState::Ready(_))>"GPU (WebGPU)"</option>
                    </select>
                </label>
            </div>
            <p id="gpt-backend-note" class="widget-note" data-gpu-note="gpt">{gpu_note}</p>
            <p class="widget-note">{move || {
                let s = settings.get();
                let params = corpus.get().and_then(Result::ok).map(|c| s.size.config(c.vocab.len()).param_count());
                let params = params.map_or(String::new(), |p| format!("{p} parameters; "));
                let warmup = s.train_config().warmup_steps;
                format!("{params}{BATCH} windows of {CONTEXT} characters a step; Adam with gradient clipping at 1, warmup over {warmup} steps, then a cosine down to a tenth of the peak at step {}. Changing a setting starts over.", s.total_steps)
            }}</p>
            <div class="bp-controls">
                <button class="primary" data-name="gpt-train" disabled=move || !matches!(corpus.get(), Some(Ok(_))) on:click=move |_| toggle()>
                    {move || if running.get() { "Pause" } else if steps_done.get() == 0 || diverged.get() { "Train" } else if steps_done.get() as u64 >= settings.get().total_steps { "Train again" } else { "Resume" }}
                </button>
                <button data-name="gpt-reset" on:click=move |_| reset()>"Reset"</button>
            </div>
            <div class="gpt-progress">
                <progress max=move || progress().0 as f64 value=move || steps_done.get() as f64 aria-label="training progress"></progress>
                <span class="gpt-progress-text">
                    "step "<span data-value="gpt-steps">{steps_done}</span>" / "{move || progress().0}
                    " · "<span data-value="gpt-tokens-per-s">{move || progress().1}</span>" tokens/s · "
                    <span data-value="gpt-on">{move || progress().2}</span>
                </span>
            </div>
            <p class="bp-status" class:diverged=move || diverged.get() role="status" data-status="gpt">{move || status.get()}</p>
            <Show when=move || !notice.get().is_empty()>
                <p class="notice" role="alert" data-notice="gpt">{move || notice.get()}</p>
            </Show>
            <div class="gpt-curves">
                <figure class="bp-curve">
                    <LineChart values=train_curve x_label="step (sampled)" aria_label="Training loss at every step" />
                    <figcaption>"Training loss, nats per character: "<span data-value="gpt-loss">{move || losses.with(|l| l.last().map(|v| format!("{v:.4}")).unwrap_or_default())}</span>
                        {move || losses.with(|l| l.first().map(|v| format!(" (first step {v:.4})")).unwrap_or_default())}</figcaption>
                </figure>
                <figure class="bp-curve">
                    <LineChart values=val_curve x_label="check" aria_label="Validation loss at every check" />
                    <figcaption>{format!("Held-out loss every {EVAL_EVERY} steps: ")}<span data-value="gpt-val-loss">{move || latest().map(|e| format!("{:.4}", e.val_loss)).unwrap_or_default()}</span></figcaption>
                </figure>
            </div>
            <figure class="gpt-sample">
                <figcaption>{move || match latest() {
                    Some(e) => format!("What the model writes at step {} ({SAMPLE_CHARS} characters after a new line, temperature {SAMPLE_TEMPERATURE}):", e.step),
                    None => format!("Every {EVAL_EVERY} steps the model writes {SAMPLE_CHARS} characters here."),
                }}</figcaption>
                <pre class="gpt-sample-text" data-value="gpt-sample">{move || latest().map(|e| e.sample).unwrap_or_default()}</pre>
            </figure>
            <p class="widget-note" data-value="gpt-origin">{model_line}</p>
            <div class="bp-controls">
                <button data-name="gpt-save" disabled=move || running.get() || syncing.get() on:click=move |_| save()>"Save the chapter's model"</button>
                <button data-name="gpt-load" disabled=move || running.get() on:click=move |_| load()>"Load the saved model"</button>
                <button data-name="gpt-shipped" disabled=move || running.get() on:click=move |_| use_shipped()>"Back to the shipped model"</button>
            </div>
            <p class="widget-note" role="status" data-value="gpt-store">{move || store_message.get()}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 60,000 characters of the real training text: enough for a split and a
    /// validation slice, small enough for a debug-build test.
    fn corpus() -> Corpus {
        let text = include_str!("../../assets/shakespeare/tragedies.txt");
        Corpus::from_text(&text[..60_000]).unwrap()
    }

    #[test]
    fn the_split_holds_out_the_last_tenth() {
        let c = corpus();
        assert_eq!(c.train.len(), 54_000);
        assert_eq!(c.held_out.len(), 6_000);
        assert_eq!(c.chars, 60_000);
        assert_eq!(c.validation().len(), VALIDATION_CHARS + 1);
        let text = include_str!("../../assets/shakespeare/tragedies.txt");
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
        assert_eq!((small.n_layers, small.d_model, small.n_heads, small.d_ff, small.context), (2, 64, 4, 256, 64));
        assert_eq!(small.param_count(), 108_352, "the shipped report's count");
    }

    #[test]
    fn both_backends_get_the_same_recipe() {
        let s = Settings { total_steps: 200, ..Settings::default() };
        let cpu = s.train_config();
        let gpu = s.gpu_settings();
        assert_eq!((gpu.batch, gpu.len), (cpu.batch, cpu.len));
        assert_eq!(gpu.method, Method::adamw(0.0));
        assert_eq!(gpu.max_grad_norm, Some(cpu.clip_norm));
        assert_eq!(cpu.warmup_steps, 20);
        for step in [0, 10, 20, 100, 199, 250] {
            assert_eq!(gpu.schedule.lr_at(step), cpu.schedule().lr_at(step));
        }
        assert_eq!(cpu.schedule().lr_at(20), 3e-3);
        assert!((cpu.schedule().lr_at(200) - 3e-4).abs() < 1e-9);
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

    #[test]
    fn gpu_chunks_grow_when_fast_and_shrink_when_slow() {
        assert_eq!(next_chunk(1, 10.0), 2);
        assert_eq!(next_chunk(32, 10.0), MAX_CHUNK);
        assert_eq!(next_chunk(8, 100.0), 8);
        assert_eq!(next_chunk(8, 400.0), 4);
        assert_eq!(next_chunk(1, 400.0), 1);
    }

    #[test]
    fn throughput_counts_tokens_over_training_time() {
        let mut t = Throughput::default();
        assert_eq!(t.per_second(), None);
        t.add(2, 500.0);
        t.add(1, 250.0);
        // 3 steps of 8 × 64 tokens in 0.75 s.
        assert_eq!(t.tokens, 1_536);
        assert!((t.per_second().unwrap() - 2_048.0).abs() < 1e-9);
    }

    #[test]
    fn rules_refuse_bad_settings() {
        assert!(lr_rule(0.0).is_err() && lr_rule(101.0).is_err() && lr_rule(3e-3).is_ok());
        assert!(seed_rule(-1.0).is_err() && seed_rule(1.5).is_err() && seed_rule(0.0).is_ok());
        assert!(steps_rule(9.0).is_err() && steps_rule(100.5).is_err() && steps_rule(300.0).is_ok());
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
            let (l, error) = cpu_steps(&mut trainer, CPU_BUDGET_MS, left, &mut clock);
            assert!(error.is_none());
            assert!(!l.is_empty() && l.len() <= 3, "a tick runs at least one step and stops near 12 ms: {}", l.len());
            losses.extend(l);
            ticks += 1;
        }
        assert_eq!(losses.len(), 25, "ticks stop at the check");
        assert!(ticks >= 9);
        let uniform = (c.vocab.len() as f32).ln();
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
        let (losses, error) = cpu_steps(&mut trainer, CPU_BUDGET_MS, 20, &mut clock);
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
