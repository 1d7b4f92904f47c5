//! Chapter 5's training panel: the reader trains a tiny GPT on six Shakespeare tragedies,
//! on WebGPU (`gpu::GpuTransformer`) or on the CPU (`engine::models::train::Trainer`, in a Web
//! Worker), and watches the training loss, the held-out loss and a sample of the model's
//! writing change as it learns. When the reader pauses or the run ends, the model replaces
//! the chapter's tiny GPT, so the generation lab and the KV-cache race use it; it can also be
//! saved to the browser's storage and loaded back. The recipe, the same on both backends,
//! is `engine::models::gpt_recipe`.
//!
//! # Keeping the page responsive
//! Both backends work away from the page's thread, and the panel only sends requests and
//! records answers. On the CPU, each timer tick asks the worker (`cpu_runner`) for about
//! [`WORKER_BUDGET_MS`](crate::hooks::cpu_runner::WORKER_BUDGET_MS) of steps and awaits the losses. On the GPU, a tick queues a chunk of
//! steps (one submit) and awaits its losses; the chunk grows while chunks come back quickly
//! and shrinks when they do not ([`next_chunk`]). Every [`EVAL_EVERY`] steps the model is
//! scored on a fixed held-out slice and writes a short sample, in the worker on both paths
//! (the GPU path sends it the weights it read back). Those read-back weights are also what a
//! lost GPU hands over to the CPU.

use std::rc::Rc;

use leptos::prelude::*;

use crate::hooks::gpu::{use_gpu, Backend, GpuState};
use leptos::task::spawn_local;

use engine::models::checkpoint::Checkpoint;
use engine::models::gpt_recipe::{
    evaluate, next_stop, Corpus, Eval, Settings, Size, BATCH, CONTEXT, EVAL_EVERY, SAMPLE_CHARS,
    SAMPLE_TEMPERATURE, VALIDATION_CHARS, WEIGHT_DECAY,
};
use engine::models::train::Trainer;
use engine::models::transformer::{ModelError, Transformer};
use gpu::{GpuTransformer, TrainSettings};
use train_worker::{Reply, Request};

use crate::browser::now_ms;
use crate::hooks::cpu_runner::CpuRunner;
use crate::hooks::interval::use_interval as tick_while;
use crate::hooks::model_store;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState, Origin, TinyGpt, SHIPPED_PATH};
use crate::plot::chart::{Chart, LineChart, Series};
use crate::widgets::number_field::{is_whole_in, learning_rate, rule, NumberField};

/// The training text, relative to the page (copied from `assets/shakespeare`).
pub const TEXT_PATH: &str = "shakespeare/tragedies.txt";
/// The most steps one GPU submit may carry.
pub const MAX_CHUNK: usize = 32;
/// The recipe for the GPU.
pub fn gpu_settings(s: &Settings) -> TrainSettings {
    TrainSettings::from_config(&s.train_config())
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

/// The check for weights read back from the GPU: in the worker when there is one, so the
/// page's thread stays free; here otherwise.
async fn check_off_page(
    runner: Option<Rc<CpuRunner>>,
    corpus: &Corpus,
    model: Transformer,
    step: u64,
    seed: u64,
) -> Result<Eval, ModelError> {
    if let (Some(runner), Ok(checkpoint)) = (runner, Checkpoint::new(model.clone(), corpus.vocab.clone())) {
        if let Ok(Reply::Trained(t)) =
            runner.call(Request::Check { model: checkpoint.to_bytes(), step, seed }).await
        {
            match (t.eval, t.error) {
                (Some(eval), _) => return Ok(eval),
                (None, Some(error)) => return Err(error),
                (None, None) => {}
            }
        }
    }
    evaluate(&model, corpus, step, seed)
}

/// A run in progress.
struct Session {
    /// Which run this is; answers for an older run are dropped.
    id: u64,
    on: Run,
}

/// Where a run's weights live. (There is one per panel, so the GPU variant's size does not
/// matter.)
#[allow(clippy::large_enum_variant)]
enum Run {
    /// On WebGPU: the GPU's copy, and a CPU trainer that draws the batches (the ones the CPU
    /// would draw) and holds the weights last read back.
    Gpu { model: GpuTransformer, trainer: Trainer },
    /// On the CPU runner (a Web Worker), which holds the trainer.
    Cpu,
}

/// The widget.
#[component]
pub fn GptTrainer() -> impl IntoView {
    let slot = use_tiny_gpt();
    let settings = RwSignal::new(Settings::default());
    let backend = RwSignal::new(Backend::Cpu);
    // Set once the reader picks a backend; a GPU that answers later must not override them.
    let reader_chose = StoredValue::new(false);
    let cpu = StoredValue::new_local(None::<Rc<CpuRunner>>);
    // Where CPU runs happen, once the runner has started.
    let cpu_where = RwSignal::new(None::<String>);
    let corpus = RwSignal::new_local(None::<Result<Rc<Corpus>, String>>);
    let session = StoredValue::new_local(None::<Session>);
    let next_id = StoredValue::new(0u64);

    let losses = RwSignal::new(Vec::<f32>::new());
    let evals = RwSignal::new(Vec::<Eval>::new());
    let throughput = RwSignal::new(Throughput::default());
    let chunk = StoredValue::new(1usize);
    let running = RwSignal::new(false);
    // A request is out (a GPU chunk, a CPU slice, or a run starting on the CPU).
    let busy = RwSignal::new(false);
    let syncing = RwSignal::new(false);
    let diverged = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let notice = RwSignal::new(String::new());
    let store_message = RwSignal::new(String::new());

    // The training text, once; then the CPU runner, which keeps its own copy.
    spawn_local(async move {
        let text = crate::browser::text(TEXT_PATH).await;
        corpus.set(Some(text.clone().and_then(|t| Corpus::from_text(&t)).map(Rc::new)));
        if let Ok(text) = text {
            let runner = CpuRunner::start(text).await;
            cpu_where.set(Some(runner.describe()));
            cpu.set_value(Some(Rc::new(runner)));
        }
    });
    // A GPU, once; the panel runs on it when there is one.
    let handle = use_gpu(move || {
        if losses.with_untracked(Vec::is_empty) && !reader_chose.get_value() {
            backend.set(Backend::Gpu);
        }
    });
    let (gpu, gpu_state) = (handle.device, handle.state);

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
    // Is run `id` still the one on the page, on the GPU (`gpu`) or the CPU?
    let current = move |id: u64, gpu: bool| {
        session.with_value(|s| matches!(s, Some(s) if s.id == id && matches!(s.on, Run::Gpu { .. }) == gpu))
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

    // Hands the trained model to the chapter (read back from the GPU or the worker first).
    let publish = move || {
        let share = move |checkpoint: Checkpoint, steps: u64| {
            slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Trained { steps } })
        };
        let Some(Ok(text)) = corpus.get_untracked() else { return };
        let Some((id, on_gpu)) =
            session.with_value(|s| s.as_ref().map(|s| (s.id, matches!(s.on, Run::Gpu { .. }))))
        else {
            return;
        };
        syncing.set(true);
        if on_gpu {
            let read = session.with_value(|s| match s.as_ref().map(|s| &s.on) {
                Some(Run::Gpu { model, trainer }) if model.steps() != trainer.steps => {
                    Some(Err((model.read_model(), model.steps())))
                }
                Some(Run::Gpu { trainer, .. }) => Some(Ok((trainer.model.clone(), trainer.steps))),
                _ => None,
            });
            spawn_local(async move {
                let (model, steps) = match read {
                    Some(Ok(ready)) => ready,
                    Some(Err((reading, steps))) => match reading.await {
                        Ok(model) => (model, steps),
                        Err(e) => {
                            syncing.set(false);
                            return gpu_state.set(GpuState::Lost(e.to_string()));
                        }
                    },
                    None => return syncing.set(false),
                };
                syncing.set(false);
                if !current(id, true) {
                    return;
                }
                session.update_value(|s| {
                    if let Some(Session { on: Run::Gpu { trainer, .. }, .. }) = s {
                        trainer.model = model.clone();
                        trainer.steps = steps;
                    }
                });
                match Checkpoint::new(model, text.vocab.clone()) {
                    Ok(checkpoint) => share(checkpoint, steps),
                    Err(e) => status.set(format!("{e}.")),
                }
            });
        } else if let Some(runner) = cpu.get_value() {
            let reply = runner.call(Request::Model);
            spawn_local(async move {
                let reply = reply.await;
                syncing.set(false);
                if !current(id, false) {
                    return;
                }
                match reply {
                    Ok(Reply::Model { bytes, steps }) => match Checkpoint::from_bytes(&bytes) {
                        Ok(checkpoint) => share(checkpoint, steps),
                        Err(e) => status.set(format!("The trained model came back unreadable: {e}.")),
                    },
                    Ok(Reply::Refused(why)) | Err(why) => status
                        .set(format!("The trained model could not be fetched from the CPU trainer: {why}")),
                    Ok(other) => status.set(format!("The CPU trainer answered out of turn ({other:?}).")),
                }
            });
        }
    };

    // Steps have come back, from either backend: record them, stop on divergence, keep the
    // check, and finish. A pause that came while they were on their way publishes now, so the
    // chapter gets the model at the step the progress line ends on.
    let landed = move |new_losses: Vec<f32>, done: u64, check: Option<Result<Eval, ModelError>>| {
        losses.update(|l| l.extend(&new_losses));
        if let Some(i) = new_losses.iter().position(|l| !l.is_finite()) {
            return stop_diverged(ModelError::Diverged { step: done - new_losses.len() as u64 + i as u64 });
        }
        match check {
            Some(Ok(eval)) => evals.update(|e| e.push(eval)),
            Some(Err(e)) => return stop_diverged(e),
            None => {}
        }
        let total = settings.get_untracked().total_steps;
        if done >= total {
            running.set(false);
            status.set(format!("Finished {total} steps. The chapter's generation lab now uses this model."));
            publish();
        } else if !running.get_untracked() {
            publish();
        }
    };

    // A run on the CPU runner: from the seed's weights, or from `from` (a lost GPU's).
    let start_on_cpu = move |id: u64, from: Option<(Vec<u8>, u64)>, then_run: bool| {
        let Some(runner) = cpu.get_value() else {
            return status.set("The CPU trainer is still starting; press Train again in a moment.".into());
        };
        busy.set(true);
        let reply = runner.call(Request::Start { settings: settings.get_untracked(), from });
        spawn_local(async move {
            let reply = reply.await;
            if next_id.get_value() != id {
                return;
            }
            busy.set(false);
            match reply {
                Ok(Reply::Accepted) => {
                    session.set_value(Some(Session { id, on: Run::Cpu }));
                    running.set(then_run);
                }
                Ok(Reply::Refused(why)) | Err(why) => {
                    status.set(format!("The CPU trainer could not start this run: {why}"))
                }
                Ok(other) => status.set(format!("The CPU trainer answered out of turn ({other:?}).")),
            }
        });
    };

    // A new run from the settings: the same initial weights on either backend.
    let begin = move || {
        let Some(Ok(text)) = corpus.get_untracked() else {
            return status.set("The training text has not arrived yet.".into());
        };
        let id = next_id.get_value();
        if backend.get_untracked() == Backend::Gpu {
            let s = settings.get_untracked();
            let built = Transformer::new(s.size.config(text.vocab.len()), s.seed)
                .and_then(|m| Trainer::new(m, text.train.clone(), s.train_config()));
            let trainer = match built {
                Ok(trainer) => trainer,
                Err(e) => return status.set(format!("{e}.")),
            };
            match gpu
                .with_value(|g| g.as_ref().map(|g| GpuTransformer::new(g, &trainer.model, gpu_settings(&s))))
            {
                Some(Ok(model)) => {
                    session.set_value(Some(Session { id, on: Run::Gpu { model, trainer } }));
                    return running.set(true);
                }
                Some(Err(e)) => notice
                    .set(format!("The GPU cannot train this model ({e}); it trains on the CPU instead.")),
                None => {}
            }
            backend.set(Backend::Cpu);
        }
        start_on_cpu(id, None, true);
    };

    // One CPU slice: the worker trains for its budget and answers with the losses (and the
    // check, at a check).
    let advance_cpu = move |id: u64| {
        let Some(runner) = cpu.get_value() else { return };
        busy.set(true);
        let reply = runner.call(Request::Train { budget_ms: runner.budget_ms() });
        spawn_local(async move {
            let reply = reply.await;
            if !current(id, false) {
                return;
            }
            busy.set(false);
            match reply {
                Ok(Reply::Trained(t)) => {
                    throughput.update(|x| x.add(t.losses.len(), t.millis));
                    let check = t.error.map(Err).or(t.eval.map(Ok));
                    landed(t.losses, t.steps, check);
                }
                Ok(Reply::Refused(why)) | Err(why) => {
                    running.set(false);
                    status.set(format!(
                        "The CPU trainer stopped: {why}. Press Reset, then Train, to start again."
                    ));
                }
                Ok(other) => status.set(format!("The CPU trainer answered out of turn ({other:?}).")),
            }
        });
    };

    // One GPU chunk: queue the steps in one submit, then await their losses (and, at a check,
    // the weights, which are scored here on the CPU).
    let advance_gpu = move |id: u64| {
        let Some(Ok(text)) = corpus.get_untracked() else { return };
        let s = settings.get_untracked();
        let queued = session.try_update_value(|session| {
            let Some(Session { on: Run::Gpu { model, trainer }, .. }) = session else { return None };
            let done = model.steps();
            let count =
                chunk.get_value().min(next_stop(done, s.total_steps).saturating_sub(done) as usize).max(1);
            let batches: Vec<_> = (0..count).map(|_| trainer.draw_batch()).collect();
            Some(model.train(&batches).map(|()| {
                let at_check = done + count as u64 == next_stop(done, s.total_steps);
                (count, done + count as u64, model.read_losses(), at_check.then(|| model.read_model()))
            }))
        });
        let (count, done, read_losses, read_model) = match queued.flatten() {
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
            if !current(id, true) {
                return;
            }
            let (new_losses, model) = match new_losses.and_then(|l| model.transpose().map(|m| (l, m))) {
                Ok(answer) => answer,
                Err(e) => {
                    busy.set(false);
                    return gpu_state.set(GpuState::Lost(e.to_string()));
                }
            };
            throughput.update(|t| t.add(count, millis));
            chunk.set_value(next_chunk(count, millis));
            let check = match model {
                Some(model) => {
                    session.update_value(|s| {
                        if let Some(Session { on: Run::Gpu { trainer, .. }, .. }) = s {
                            trainer.model = model.clone();
                            trainer.steps = done;
                        }
                    });
                    Some(check_off_page(cpu.get_value(), &text, model, done, s.seed).await)
                }
                None => None,
            };
            if !current(id, true) {
                return;
            }
            busy.set(false);
            landed(new_losses, done, check);
        });
    };

    let advance = move || {
        if busy.get_untracked() || !running.get_untracked() {
            return;
        }
        match session.with_value(|s| s.as_ref().map(|s| (s.id, matches!(s.on, Run::Gpu { .. })))) {
            Some((id, true)) => advance_gpu(id),
            Some((id, false)) => advance_cpu(id),
            None => {}
        }
    };

    // A lost GPU: carry on on the CPU from the weights last read back.
    Effect::new(move |_| {
        let GpuState::Lost(reason) = gpu_state.get() else { return };
        if backend.get_untracked() != Backend::Gpu {
            return;
        }
        backend.set(Backend::Cpu);
        busy.set(false);
        let handed = session.with_value(|s| match s {
            Some(Session { id, on: Run::Gpu { trainer, .. } }) => {
                Some((*id, trainer.model.clone(), trainer.steps))
            }
            _ => None,
        });
        session.set_value(None);
        let vocab =
            corpus.with_untracked(|c| c.as_ref().and_then(|c| c.as_ref().ok()).map(|c| c.vocab.clone()));
        match (handed, vocab) {
            (Some((id, model, step)), Some(vocab)) => {
                losses.update(|l| l.truncate(step as usize));
                evals.update(|e| e.retain(|e| e.step <= step));
                notice.set(format!("The GPU was lost ({reason}). Training continues on the CPU from the weights read back at step {step}."));
                let was_running = running.get_untracked();
                running.set(false);
                match Checkpoint::new(model, vocab) {
                    Ok(checkpoint) => start_on_cpu(id, Some((checkpoint.to_bytes(), step)), was_running),
                    Err(e) => status.set(format!("{e}.")),
                }
            }
            _ => notice.set(format!("The GPU was lost ({reason}); the panel trains on the CPU.")),
        }
    });

    let toggle = move || {
        if running.get_untracked() {
            running.set(false);
            status.set("Paused. The chapter's generation lab now uses this model.".into());
            // Steps still on their way publish when they land.
            if !busy.get_untracked() {
                publish();
            }
            return;
        }
        if diverged.get_untracked()
            || losses.with_untracked(|l| l.len() as u64) >= settings.get_untracked().total_steps
        {
            reset();
        }
        status.set(String::new());
        if session.with_value(Option::is_some) {
            running.set(true);
        } else if !busy.get_untracked() {
            begin();
        }
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
            let result = crate::browser::bytes(SHIPPED_PATH).await.and_then(|b| {
                Checkpoint::from_bytes(&b).map_err(|e| format!("The shipped model could not be read: {e}."))
            });
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
    let train_curve = Signal::derive(move || losses.with(|l| l.iter().map(|&v| v as f64).collect()));
    let val_curve = Signal::derive(move || {
        evals.with(|e| {
            vec![Series {
                points: e.iter().map(|e| (e.step as f64, e.val_loss as f64)).collect(),
                ..Series::default()
            }]
        })
    });
    let badge = move || match backend.get() {
        Backend::Gpu => format!(
            "Running on: GPU (WebGPU) · {}",
            match gpu_state.get() {
                GpuState::Ready(d) => d,
                _ => String::new(),
            }
        ),
        Backend::Cpu => match cpu.with_value(|c| c.as_ref().map(|c| matches!(**c, CpuRunner::Worker(_)))) {
            Some(false) => "Running on: CPU (WebAssembly, page thread) · engine::models::train".to_string(),
            _ => "Running on: CPU (WebAssembly, Web Worker) · engine::models::train".to_string(),
        },
    };
    let cpu_note = move || match cpu_where.get() {
        None => "The CPU trainer is starting…".to_string(),
        Some(place) => format!("On the CPU, the model trains {place}."),
    };
    let gpu_note = move || {
        match gpu_state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => format!("WebGPU is available ({d}), so the panel trains there: crates/gpu runs the same model and recipe in WGSL kernels. Switch to the CPU to compare speeds."),
        GpuState::Unavailable(why) => why,
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    }
    };
    let corpus_note = move || {
        match corpus.get() {
        None => "Downloading the training text…".to_string(),
        Some(Err(e)) => e,
        Some(Ok(c)) => format!(
            "Training text: {} characters of six tragedies, {} distinct. The first {} train the model; the last {} are held out, and the validation loss scores the first {VALIDATION_CHARS} of those.",
            c.chars, c.vocab.len(), c.train.len(), c.held_out.len()
        ),
    }
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
            <p id="gpt-backend-note" class="widget-note" data-gpu-note="gpt">{gpu_note}" "<span data-value="gpt-cpu-where">{cpu_note}</span></p>
            <p class="widget-note">{move || {
                let s = settings.get();
                let params = corpus.get().and_then(Result::ok).map(|c| s.size.config(c.vocab.len()).param_count());
                let params = params.map_or(String::new(), |p| format!("{p} parameters; "));
                let warmup = s.train_config().warmup_steps;
                format!("{params}{BATCH} windows of {CONTEXT} characters a step; AdamW (weight decay {WEIGHT_DECAY} on the weight matrices) with gradient clipping at 1, warmup over {warmup} steps, then a cosine down to a tenth of the peak at step {}. Changing a setting starts over.", s.total_steps)
            }}</p>
            <div class="bp-controls">
                <button class="primary" data-name="gpt-train" disabled=move || !matches!(corpus.get(), Some(Ok(_))) || (backend.get() == Backend::Cpu && cpu_where.get().is_none()) on:click=move |_| toggle()>
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
                    <LineChart values=train_curve x_label="step" aria_label="Training loss at every step" empty="Press Train: each step's loss appears here." />
                    <figcaption>"Training loss, nats per character: "<span data-value="gpt-loss">{move || losses.with(|l| l.last().map(|v| format!("{v:.4}")).unwrap_or_default())}</span>
                        {move || losses.with(|l| l.first().map(|v| format!(" (first step {v:.4})")).unwrap_or_default())}</figcaption>
                </figure>
                <figure class="bp-curve">
                    <Chart series=val_curve height=180.0 x_label="step" aria_label="Held-out loss at every check" empty="The held-out loss appears here every 25 steps." />
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
                <button data-name="gpt-save" disabled=move || running.get() || syncing.get() || busy.get() on:click=move |_| save()>"Save the chapter's model"</button>
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

    #[test]
    fn both_backends_get_the_same_recipe() {
        let s = Settings { total_steps: 200, ..Settings::default() };
        let cpu = s.train_config();
        let gpu = gpu_settings(&s);
        assert_eq!((gpu.batch, gpu.len), (cpu.batch, cpu.len));
        assert_eq!(gpu.method, engine::core::optim::Method::adamw(WEIGHT_DECAY));
        assert_eq!(gpu.max_grad_norm, Some(cpu.clip_norm));
        assert_eq!(cpu.warmup_steps, 20);
        for step in [0, 10, 20, 100, 199, 250] {
            assert_eq!(gpu.schedule.lr_at(step), cpu.schedule().lr_at(step));
        }
        assert_eq!(cpu.schedule().lr_at(20), 3e-3);
        assert!((cpu.schedule().lr_at(200) - 3e-4).abs() < 1e-9);
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
}
