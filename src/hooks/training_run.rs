//! A training run on the page: the plain run machine ([`machine::Run`]) in reactive state,
//! with the signals a Train button and a progress line need. The trainers' CPU and GPU
//! sides live beside it, one module per model: [`xor`], [`race`], [`gpt`], [`mlm_vs_clm`],
//! [`skip_gram`], [`induction`].

pub mod gpt;
pub mod induction;
pub mod machine;
pub mod mlm_vs_clm;
pub mod race;
pub mod skip_gram;
pub mod xor;

use leptos::prelude::*;
use leptos::task::spawn_local;

use machine::{ready_now, CpuModel, GpuModel, Landed, Run};

/// A run held by a widget, or none yet. Copy, so closures can share it.
pub struct TrainingRun<C: CpuModel + 'static, G: GpuModel<C> + 'static> {
    run: StoredValue<Option<Run<C, G>>, LocalStorage>,
    generation: StoredValue<u64>,
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
}

/// Holds `run` (or none yet) for a widget, until the widget leaves the page.
pub fn use_training_run<C: CpuModel + 'static, G: GpuModel<C> + 'static>(
    run: Option<Run<C, G>>,
) -> TrainingRun<C, G> {
    let (running, busy) = run.as_ref().map_or((false, false), |r| (r.running(), r.busy()));
    TrainingRun {
        run: StoredValue::new_local(run),
        generation: StoredValue::new(0),
        running: RwSignal::new(running),
        busy: RwSignal::new(busy),
    }
}
