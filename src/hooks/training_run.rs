//! A training run on the page: the plain run machine ([`machine::Run`]) in reactive state,
//! with the signals a Train button and a progress line need. The trainers' CPU and GPU
//! sides live beside it, one module per model: [`xor`], [`race`], [`gpt`], [`mlm_vs_clm`],
//! [`skip_gram`], [`induction`]. What every trainer widget does the same way is here too:
//! restarting on the chosen device ([`TrainingRun::restart_on`], [`TrainingRun::reset_on_change`]), and
//! leaving a lost GPU for the CPU ([`TrainingRun::advance_on`],
//! [`TrainingRun::hand_over_when_lost`]).

pub mod gpt;
pub mod induction;
pub mod machine;
pub mod mlm_vs_clm;
pub mod race;
pub mod skip_gram;
pub mod xor;

use leptos::prelude::*;
use leptos::task::spawn_local;

use gpu::Gpu;
use machine::{ready_now, Backend, CpuModel, GpuModel, Landed, Run};

use crate::hooks::gpu::{GpuHandle, GpuState};

/// What a run does when its GPU is lost while a chunk is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnLoss {
    /// Keeps running: the next chunk trains on the CPU from the weights last read back.
    GoOn,
    /// Pauses: the reader resumes it, on the CPU, from the weights last read back.
    Pause,
}

/// A run held by a widget, or none yet. Copy, so closures can share it.
pub struct TrainingRun<C: CpuModel + 'static, G: GpuModel<C> + 'static> {
    run: StoredValue<Option<Run<C, G>>, LocalStorage>,
    generation: StoredValue<u64>,
    /// Set by the lost-GPU handover as it turns the backend to the CPU, so that this one
    /// change of backend does not start the run over (see [`reset_on_change`](Self::reset_on_change)).
    handing_over: StoredValue<bool>,
    /// Whether the reader has the run going; the widget's timer follows it.
    pub running: RwSignal<bool>,
    /// Whether a chunk is out and not yet answered.
    pub busy: RwSignal<bool>,
}

impl<C: CpuModel, G: GpuModel<C>> Clone for TrainingRun<C, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: CpuModel, G: GpuModel<C>> Copy for TrainingRun<C, G> {}

impl<C: CpuModel, G: GpuModel<C>> TrainingRun<C, G> {
    /// Reads the run, if there is one.
    pub fn with<T>(&self, f: impl FnOnce(&Run<C, G>) -> T) -> Option<T> {
        self.run.with_value(|run| run.as_ref().map(f))
    }

    /// Changes the run, if there is one; the signals follow it afterwards.
    pub fn update<T>(&self, f: impl FnOnce(&mut Run<C, G>) -> T) -> Option<T> {
        let out = self.run.try_update_value(|run| run.as_mut().map(f)).flatten();
        self.sync();
        out
    }

    /// Which run is on the page: it changes with every restart, so an answer to something
    /// asked of an earlier run (a model read back, say) can be told apart and dropped.
    pub fn generation(&self) -> u64 {
        self.generation.get_value()
    }

    /// Starts over with `next` (paused), or with no run; a chunk still out is dropped when
    /// it lands.
    pub fn restart(&self, next: Option<Run<C, G>>) {
        self.generation.update_value(|g| *g += 1);
        self.run.set_value(next);
        self.sync();
    }

    /// Resumes or starts the run.
    pub fn play(&self) {
        self.update(Run::play);
    }

    /// Pauses the run.
    pub fn pause(&self) {
        self.update(Run::pause);
    }

    /// Leaves a lost GPU for the CPU; see [`Run::hand_over`].
    pub fn hand_over(&self) -> Option<u64> {
        self.update(Run::hand_over).flatten()
    }

    fn sync(&self) {
        let (running, busy) =
            self.run.with_value(|r| r.as_ref().map_or((false, false), |r| (r.running(), r.busy())));
        if self.running.get_untracked() != running {
            self.running.set(running);
        }
        if self.busy.get_untracked() != busy {
            self.busy.set(busy);
        }
    }

    /// Sends out a chunk of up to `steps` steps (nothing, if one is out or there is no run)
    /// and calls `landed` with what became of it: in this tick when the answer is there at
    /// once (the CPU), later otherwise.
    pub fn advance(&self, steps: usize, landed: impl FnOnce(Landed<C::Reading>) + 'static) {
        let Some((ticket, pending)) = self.update(|run| run.start(steps)).flatten() else { return };
        let this = *self;
        let land = move |answer| {
            if let Some(outcome) = this.update(|run| run.land(ticket, answer)) {
                landed(outcome);
            }
        };
        match ready_now(pending) {
            Ok(answer) => land(answer),
            Err(pending) => spawn_local(async move { land(pending.await) }),
        }
    }

    /// Sends out a chunk as [`advance`](Self::advance) does, for a widget whose GPU is `gpu`,
    /// and hands what the chunk read back to `read`. If the GPU was lost while the chunk was
    /// out, its results are gone: the run pauses when `on_loss` says so, and `gpu` is marked
    /// lost, which starts the widget's handover ([`hand_over_when_lost`](Self::hand_over_when_lost)).
    pub fn advance_on(
        &self,
        gpu: GpuHandle,
        steps: usize,
        on_loss: OnLoss,
        read: impl FnOnce(C::Reading) + 'static,
    ) {
        let this = *self;
        self.advance(steps, move |landed| match landed {
            Landed::Read(reading) => read(reading),
            Landed::HandedOver { reason, .. } => {
                if on_loss == OnLoss::Pause {
                    this.pause();
                }
                gpu.state.set(GpuState::Lost(reason));
            }
            Landed::Stale => {}
        });
    }

    /// Starts over with `cpu`, on the GPU when `backend` chooses it and `gpu` has a device
    /// (`to_gpu` builds the GPU side), else on the CPU. A run that lands on the CPU although
    /// the GPU was chosen turns `backend` to the CPU. Returns why the GPU refused the model,
    /// if it did.
    pub fn restart_on(
        &self,
        gpu: &GpuHandle,
        backend: RwSignal<Backend>,
        cpu: C,
        to_gpu: impl FnOnce(&C, &Gpu) -> Result<G, String>,
    ) -> Option<String> {
        let (next, refused) = Run::on(&gpu.device(backend.get_untracked()), cpu, to_gpu);
        let on_cpu = next.backend() == Backend::Cpu;
        self.restart(Some(next));
        if on_cpu && backend.get_untracked() == Backend::Gpu {
            backend.set(Backend::Cpu);
        }
        refused
    }

    /// When `gpu` is lost while `backend` is the GPU, the run goes on on the CPU from the
    /// weights last read back and `backend` turns to the CPU; `say` gets the reason and the
    /// step the run goes on from (see [`hand_over`](Self::hand_over)).
    pub fn hand_over_when_lost(
        &self,
        gpu: GpuHandle,
        backend: RwSignal<Backend>,
        say: impl Fn(String, Option<u64>) + 'static,
    ) {
        let this = *self;
        Effect::new(move |_| {
            if let GpuState::Lost(reason) = gpu.state.get() {
                if backend.get_untracked() == Backend::Gpu {
                    let at = this.hand_over();
                    this.handing_over.set_value(true);
                    backend.set(Backend::Cpu);
                    say(reason, at);
                }
            }
        });
    }

    /// Calls `reset` whenever `backend` or something `settings` reads changes, but not when
    /// first set up, nor for the lost-GPU handover's own switch to the CPU, which keeps the run.
    pub fn reset_on_change(
        &self,
        backend: RwSignal<Backend>,
        settings: impl Fn() + 'static,
        reset: impl Fn() + 'static,
    ) {
        let handing_over = self.handing_over;
        Effect::new(move |first: Option<()>| {
            backend.track();
            settings();
            let handover = handing_over.try_update_value(std::mem::take).unwrap_or(false);
            if first.is_some() && !handover {
                reset();
            }
        });
    }
}

/// Holds `run` (or none yet) for a widget, until the widget leaves the page.
pub fn use_training_run<C: CpuModel + 'static, G: GpuModel<C> + 'static>(
    run: Option<Run<C, G>>,
) -> TrainingRun<C, G> {
    let (running, busy) = run.as_ref().map_or((false, false), |r| (r.running(), r.busy()));
    TrainingRun {
        run: StoredValue::new_local(run),
        generation: StoredValue::new(0),
        handing_over: StoredValue::new(false),
        running: RwSignal::new(running),
        busy: RwSignal::new(busy),
    }
}
