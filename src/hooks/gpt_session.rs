//! Chapter 5's training session, behind the panel's view: the training text, the CPU worker,
//! the GPU, one training run on the seam ([`crate::hooks::training_run`]) and what the page
//! shows of it. When the reader pauses or the run ends, the model replaces the chapter's
//! tiny GPT, so the generation lab and the KV-cache race use it; it can also be saved to the
//! browser's storage and loaded back.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::models::checkpoint::Checkpoint;
use engine::models::gpt_recipe::{next_stop, Corpus, Eval, Settings};
use engine::models::train::Trainer;
use engine::models::transformer::{ModelError, Transformer};
use train_worker::{Reply, Request};

use crate::hooks::cpu_runner::CpuRunner;
use crate::hooks::gpu::{use_gpu, GpuHandle, GpuState};
use crate::hooks::interval::use_interval;
use crate::hooks::model_store;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelSlot, ModelState, Origin, TinyGpt, SHIPPED_PATH};
use crate::hooks::training_run::gpt::{GptCpu, GptGpu, GptReading, RunnerSlot, Throughput, Trouble};
use crate::hooks::training_run::machine::{Backend, Run};
use crate::hooks::training_run::{use_training_run, OnLoss, TrainingRun};

/// The training text, relative to the page (copied from `assets/shakespeare`).
/// The panel's session: every signal its view reads, and what its buttons do. Copy.
#[derive(Clone, Copy)]
pub struct GptSession {
    slot: ModelSlot,
    /// The recipe's settings.
    pub settings: RwSignal<Settings>,
    /// The backend the panel trains on.
    pub backend: RwSignal<Backend>,
    // Set once the reader picks a backend; a GPU that answers later must not override them.
    reader_chose: StoredValue<bool>,
    /// The GPU, once the browser has given one.
    pub gpu: GpuHandle,
    runner: StoredValue<RunnerSlot, LocalStorage>,
    /// Where CPU runs happen, once the runner has started.
    pub cpu_where: RwSignal<Option<String>>,
    /// The training text, split, or why it is missing.
    pub corpus: RwSignal<Option<Result<Rc<Corpus>, String>>, LocalStorage>,
    run: TrainingRun<GptCpu, GptGpu>,
    /// Each step's training loss.
    pub losses: RwSignal<Vec<f32>>,
    /// Each check's held-out loss and sample.
    pub evals: RwSignal<Vec<Eval>>,
    /// Tokens over training time.
    pub throughput: RwSignal<Throughput>,
    /// A model is being read back to hand to the chapter.
    pub syncing: RwSignal<bool>,
    /// The run diverged.
    pub diverged: RwSignal<bool>,
    /// The status line.
    pub status: RwSignal<String>,
    /// A notice about the backend (a lost GPU, one that cannot train this model).
    pub notice: RwSignal<String>,
    /// What saving or loading said.
    pub store_message: RwSignal<String>,
}

/// Starts the session: downloads the training text, starts the CPU worker, asks for a GPU
/// (and trains there when there is one), and drives the run while the reader has it going.
pub fn use_gpt_session() -> GptSession {
    let backend = RwSignal::new(Backend::Cpu);
    let reader_chose = StoredValue::new(false);
    let losses = RwSignal::new(Vec::<f32>::new());
    let gpu = use_gpu(move || {
        if losses.with_untracked(Vec::is_empty) && !reader_chose.get_value() {
            backend.set(Backend::Gpu);
        }
    });
    let session = GptSession {
        slot: use_tiny_gpt(),
        settings: RwSignal::new(Settings::default()),
        backend,
        reader_chose,
        gpu,
        runner: StoredValue::new_local(Rc::new(RefCell::new(None))),
        cpu_where: RwSignal::new(None),
        corpus: RwSignal::new_local(None),
        run: use_training_run(None),
        losses,
        evals: RwSignal::new(Vec::new()),
        throughput: RwSignal::new(Throughput::default()),
        syncing: RwSignal::new(false),
        diverged: RwSignal::new(false),
        status: RwSignal::new(String::new()),
        notice: RwSignal::new(String::new()),
        store_message: RwSignal::new(String::new()),
    };

    // The training text, once; then the CPU runner, which keeps its own copy.
    spawn_local(async move {
        let text = crate::hooks::play_text::play_text().await;
        session.corpus.set(Some(text.clone().and_then(|t| Corpus::from_text(&t)).map(Rc::new)));
        if let Ok(text) = text {
            let runner = CpuRunner::start(text.to_string()).await;
            session.cpu_where.set(Some(runner.describe()));
            session.runner.with_value(|slot| *slot.borrow_mut() = Some(Rc::new(runner)));
        }
    });
    // A lost GPU: carry on on the CPU from the weights last read back.
    Effect::new(move |_| {
        if let GpuState::Lost(reason) = session.gpu.state.get() {
            session.hand_over(reason);
        }
    });
    use_interval(session.run.running, std::time::Duration::from_millis(16), move || session.advance());
    session
}

impl GptSession {
    /// Whether the reader has the run going.
    pub fn running(self) -> RwSignal<bool> {
        self.run.running
    }

    /// Whether a request is out (a GPU chunk or a CPU slice).
    pub fn busy(self) -> RwSignal<bool> {
        self.run.busy
    }

    /// Whether the CPU runner trains on the page's thread (`None` until it has started).
    pub fn on_page_thread(self) -> Option<bool> {
        self.runner().map(|r| matches!(*r, CpuRunner::Page(..)))
    }

    fn runner(self) -> Option<Rc<CpuRunner>> {
        self.runner.with_value(|slot| slot.borrow().clone())
    }

    /// Ends the run and clears what the page shows of it.
    pub fn reset(self) {
        self.run.restart(None);
        self.losses.set(Vec::new());
        self.evals.set(Vec::new());
        self.throughput.set(Throughput::default());
        self.diverged.set(false);
        self.status.set(String::new());
        self.notice.set(String::new());
    }

    /// Changes a setting, which starts over.
    pub fn change(self, f: impl FnOnce(&mut Settings)) {
        self.settings.update(f);
        self.reset();
    }

    /// The reader picks a backend, which starts over.
    pub fn choose_backend(self, backend: Backend) {
        self.reader_chose.set_value(true);
        self.backend.set(backend);
        self.reset();
    }

    /// The Train / Pause / Resume button.
    pub fn toggle(self) {
        if self.run.running.get_untracked() {
            self.run.pause();
            self.status.set("Paused. The chapter's generation lab now uses this model.".into());
            // Steps still on their way publish when they land.
            if !self.run.busy.get_untracked() {
                self.publish();
            }
            return;
        }
        if self.diverged.get_untracked()
            || self.losses.with_untracked(|l| l.len() as u64) >= self.settings.get_untracked().total_steps
        {
            self.reset();
        }
        self.status.set(String::new());
        if self.run.with(|_| ()).is_some() {
            self.run.play();
        } else if !self.run.busy.get_untracked() {
            self.begin();
        }
    }

    /// A new run from the settings: the same initial weights on either backend.
    fn begin(self) {
        let Some(Ok(text)) = self.corpus.get_untracked() else {
            return self.status.set("The training text has not arrived yet.".into());
        };
        let s = self.settings.get_untracked();
        let runner = self.runner.get_value();
        let cpu = GptCpu::new(runner, text.clone(), s);
        if self.backend.get_untracked() == Backend::Gpu {
            let built = Transformer::new(s.size.config(text.vocab.len()), s.seed)
                .and_then(|m| Trainer::new(m, text.train.clone(), s.train_config()));
            let trainer = match built {
                Ok(trainer) => trainer,
                Err(e) => return self.status.set(format!("{e}.")),
            };
            let device = self.gpu.device(Backend::Gpu);
            let (run, refused) = Run::on(&device, cpu, |cpu, gpu| cpu.to_gpu(gpu, trainer));
            if run.backend() == Backend::Gpu {
                self.run.restart(Some(run));
                return self.run.play();
            }
            if let Some(e) = refused {
                self.notice
                    .set(format!("The GPU cannot train this model ({e}); it trains on the CPU instead."));
            }
            self.backend.set(Backend::Cpu);
            return self.begin_on_cpu(run);
        }
        self.begin_on_cpu(Run::new(cpu, None));
    }

    /// Starts `run` on the CPU, once the worker is there.
    fn begin_on_cpu(self, run: Run<GptCpu, GptGpu>) {
        if self.runner().is_none() {
            return self
                .status
                .set("The CPU trainer is still starting; press Train again in a moment.".into());
        }
        self.run.restart(Some(run));
        self.run.play();
    }

    /// One timer tick: the next chunk, never past the next check.
    fn advance(self) {
        if !self.run.running.get_untracked() {
            return;
        }
        let done = self.losses.with_untracked(|l| l.len() as u64);
        let steps = next_stop(done, self.settings.get_untracked().total_steps).saturating_sub(done).max(1);
        // A chunk lost with the device: the handover follows, and the run goes on.
        self.run.advance_on(self.gpu, steps as usize, OnLoss::GoOn, move |reading| self.read(reading));
    }

    /// A chunk came back: record it, or say why it did not train.
    fn read(self, reading: GptReading) {
        match reading.trouble {
            None => {
                self.throughput.update(|t| t.add(reading.losses.len(), reading.millis));
                self.landed(reading.losses, reading.steps, reading.check);
            }
            Some(Trouble::Model(e)) => self.stop_diverged(e),
            Some(Trouble::NoRunner) => {
                self.run.restart(None);
                self.status.set("The CPU trainer is still starting; press Train again in a moment.".into());
            }
            Some(Trouble::NotStarted(says)) => {
                self.run.restart(None);
                self.status.set(says);
            }
            Some(Trouble::Stopped(why)) => {
                self.run.pause();
                self.status
                    .set(format!("The CPU trainer stopped: {why}. Press Reset, then Train, to start again."));
            }
            Some(Trouble::OutOfTurn(what)) => {
                self.status.set(format!("The CPU trainer answered out of turn ({what})."))
            }
        }
    }

    /// Steps have come back, from either backend: record them, stop on divergence, keep the
    /// check, and finish. A pause that came while they were on their way publishes now, so
    /// the chapter gets the model at the step the progress line ends on.
    fn landed(self, new_losses: Vec<f32>, done: u64, check: Option<Result<Eval, ModelError>>) {
        self.losses.update(|l| l.extend(&new_losses));
        if let Some(i) = new_losses.iter().position(|l| !l.is_finite()) {
            return self
                .stop_diverged(ModelError::Diverged { step: done - new_losses.len() as u64 + i as u64 });
        }
        match check {
            Some(Ok(eval)) => self.evals.update(|e| e.push(eval)),
            Some(Err(e)) => return self.stop_diverged(e),
            None => {}
        }
        let total = self.settings.get_untracked().total_steps;
        if done >= total {
            self.run.pause();
            self.status
                .set(format!("Finished {total} steps. The chapter's generation lab now uses this model."));
            self.publish();
        } else if !self.run.running.get_untracked() {
            self.publish();
        }
    }

    /// Training cannot go on: the numbers blew up, or (never expected) a setting was refused.
    fn stop_diverged(self, error: ModelError) {
        self.run.pause();
        match error {
            ModelError::Diverged { step } => {
                self.diverged.set(true);
                self.status.set(format!("Diverged at step {step}: the loss is no longer a finite number. Lower the peak learning rate, then press Train to start over."));
            }
            ModelError::Invalid(why) => self.status.set(format!("Training stopped: {why}.")),
        }
    }

    /// Is the run that was on the page as `generation` still there, on the GPU (`gpu`) or
    /// the CPU?
    fn current(self, generation: u64, gpu: bool) -> bool {
        self.run.generation() == generation && self.run.with(|r| r.backend() == Backend::Gpu) == Some(gpu)
    }

    /// Hands the trained model to the chapter (read back from the GPU or the worker first).
    fn publish(self) {
        let share = move |checkpoint: Checkpoint, steps: u64| {
            self.slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Trained { steps } })
        };
        let Some(Ok(text)) = self.corpus.get_untracked() else { return };
        let generation = self.run.generation();
        let Some(on_gpu) = self.run.with(|r| r.backend() == Backend::Gpu) else { return };
        if on_gpu {
            // The weights last read back, unless the GPU has trained past them.
            let read = self.run.with(|r| match (r.gpu(), r.cpu().weights()) {
                (Some(gpu), Some((model, step))) if gpu.steps() == *step => Some(Ok((model.clone(), *step))),
                (Some(gpu), _) => Some(Err((gpu.read_model(), gpu.steps()))),
                (None, _) => None,
            });
            let Some(read) = read.flatten() else { return };
            self.syncing.set(true);
            spawn_local(async move {
                let (model, steps) = match read {
                    Ok(ready) => ready,
                    Err((reading, steps)) => match reading.await {
                        Ok(model) => (model, steps),
                        Err(e) => {
                            self.syncing.set(false);
                            return self.gpu.state.set(GpuState::Lost(e.to_string()));
                        }
                    },
                };
                self.syncing.set(false);
                if !self.current(generation, true) {
                    return;
                }
                self.run.update(|r| r.cpu_mut().keep_weights(model.clone(), steps));
                match Checkpoint::new(model, text.vocab.clone()) {
                    Ok(checkpoint) => share(checkpoint, steps),
                    Err(e) => self.status.set(format!("{e}.")),
                }
            });
        } else if let Some(runner) = self.run.with(|r| r.cpu().started()).filter(|&s| s).and(self.runner()) {
            self.syncing.set(true);
            let reply = runner.call(Request::Model);
            spawn_local(async move {
                let reply = reply.await;
                self.syncing.set(false);
                if !self.current(generation, false) {
                    return;
                }
                match reply {
                    Ok(Reply::Model { bytes, steps }) => match Checkpoint::from_bytes(&bytes) {
                        Ok(checkpoint) => share(checkpoint, steps),
                        Err(e) => self.status.set(format!("The trained model came back unreadable: {e}.")),
                    },
                    Ok(Reply::Refused(why)) | Err(why) => self
                        .status
                        .set(format!("The trained model could not be fetched from the CPU trainer: {why}")),
                    Ok(other) => {
                        self.status.set(format!("The CPU trainer answered out of turn ({other:?})."))
                    }
                }
            });
        }
    }

    /// The GPU was lost: the run goes on on the CPU (in the worker) from the weights last
    /// read back, and the steps after them are dropped from the page.
    fn hand_over(self, reason: String) {
        if self.backend.get_untracked() != Backend::Gpu {
            return;
        }
        self.backend.set(Backend::Cpu);
        match self.run.hand_over() {
            Some(step) => {
                self.losses.update(|l| l.truncate(step as usize));
                self.evals.update(|e| e.retain(|e| e.step <= step));
                self.notice.set(format!("The GPU was lost ({reason}). Training continues on the CPU from the weights read back at step {step}."));
            }
            None => self.notice.set(format!("The GPU was lost ({reason}); the panel trains on the CPU.")),
        }
    }

    /// Saves the chapter's model in the browser's storage.
    pub fn save(self) {
        self.store_message.set(match self.slot.get_untracked() {
            ModelState::Ready(gpt) => model_store::save(&gpt.checkpoint).unwrap_or_else(|e| e),
            _ => "The chapter's model has not loaded yet.".into(),
        });
    }

    /// Loads the saved model into the chapter.
    pub fn load(self) {
        match model_store::load() {
            Ok(checkpoint) => {
                self.slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Saved });
                self.store_message
                    .set("Loaded. The chapter's generation lab now uses the saved model.".into());
            }
            Err(e) => self.store_message.set(e),
        }
    }

    /// Puts the shipped model back in the chapter.
    pub fn use_shipped(self) {
        spawn_local(async move {
            let result = crate::browser::bytes(SHIPPED_PATH).await.and_then(|b| {
                Checkpoint::from_bytes(&b).map_err(|e| format!("The shipped model could not be read: {e}."))
            });
            match result {
                Ok(checkpoint) => {
                    self.slot.set(TinyGpt { checkpoint: Rc::new(checkpoint), origin: Origin::Shipped });
                    self.store_message.set("The chapter is back on the shipped model.".into());
                }
                Err(e) => self.store_message.set(e),
            }
        });
    }

    /// The chapter's model, as the view reads it.
    pub fn model(self) -> ModelState {
        self.slot.get()
    }
}
