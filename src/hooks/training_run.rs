//! A training run on the page: the plain run machine ([`machine::Run`]) in reactive state,
//! with the signals a Train button and a progress line need. The trainers' CPU and GPU
//! sides live beside it, one module per model: [`xor`], [`race`].

pub mod machine;
pub mod race;
pub mod xor;

use leptos::prelude::*;
use leptos::task::spawn_local;

use machine::{ready_now, CpuModel, GpuModel, Landed, Run};

/// A run held by a widget. Copy, so closures can share it.
pub struct TrainingRun<C: CpuModel + 'static, G: GpuModel<C> + 'static> {
    run: StoredValue<Run<C, G>, LocalStorage>,
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
    /// Reads the run.
    pub fn with<T>(&self, f: impl FnOnce(&Run<C, G>) -> T) -> T {
        self.run.with_value(f)
    }

    /// Changes the run (the signals are set from it afterwards).
    pub fn update<T>(&self, f: impl FnOnce(&mut Run<C, G>) -> T) -> Option<T> {
        let out = self.run.try_update_value(f);
        self.sync();
        out
    }

    /// Starts over with `next`, paused; a chunk still out is dropped when it lands.
    pub fn restart(&self, next: Run<C, G>) {
        self.update(|run| run.restart(next));
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
        let (running, busy) = self.run.with_value(|r| (r.running(), r.busy()));
        if self.running.get_untracked() != running {
            self.running.set(running);
        }
        if self.busy.get_untracked() != busy {
            self.busy.set(busy);
        }
    }

    /// Sends out a chunk of up to `steps` steps (nothing, if one is out) and calls `landed`
    /// with what became of it: in this tick when the answer is there at once (the CPU),
    /// later otherwise.
    pub fn advance(&self, steps: usize, landed: impl FnOnce(Landed<C::Reading>) + 'static) {
        let Some((ticket, pending)) = self.update(|run| run.start(steps)).flatten() else { return };
        let this = *self;
        match ready_now(pending) {
            Ok(answer) => {
                if let Some(outcome) = this.update(|run| run.land(ticket, answer)) {
                    landed(outcome);
                }
            }
            Err(pending) => spawn_local(async move {
                let answer = pending.await;
                if let Some(outcome) = this.update(|run| run.land(ticket, answer)) {
                    landed(outcome);
                }
            }),
        }
    }
}

/// Holds `run` for a widget, until the widget leaves the page.
pub fn use_training_run<C: CpuModel + 'static, G: GpuModel<C> + 'static>(
    run: Run<C, G>,
) -> TrainingRun<C, G> {
    let running = RwSignal::new(run.running());
    let busy = RwSignal::new(run.busy());
    TrainingRun { run: StoredValue::new_local(run), running, busy }
}
