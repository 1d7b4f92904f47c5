//! Chapter 8's schedule lab: warmup + cosine, warmup + linear decay and constant learning
//! rates from `engine::core::optim::Schedule`, and the step counts of a whole training run from
//! its token budget.

use leptos::prelude::*;

use engine::core::optim::{steps_for_tokens, warmup_steps, Schedule};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{is_whole_in, rule, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::chart::LineChart;

/// Points drawn along the schedule.
const SAMPLES: u64 = 200;

/// The schedule's learning rate at `SAMPLES + 1` evenly spaced steps from 0 to `total`.
pub fn curve(schedule: &Schedule, total: u64) -> Vec<f64> {
    (0..=SAMPLES).map(|i| schedule.lr_at(total * i / SAMPLES) as f64).collect()
}

fn positive(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 10.0, "Use a rate above 0 and at most 10.")
}

fn non_negative(v: f64) -> Result<(), String> {
    rule((0.0..=10.0).contains(&v), "Use a rate from 0 to 10.")
}

fn fraction(v: f64) -> Result<(), String> {
    rule((0.0..1.0).contains(&v), "A fraction from 0 up to (not including) 1.")
}

fn big_count(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 1e16), "A whole number from 1 to 10¹⁶.")
}

/// The schedule's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Cosine,
    Linear,
    Constant,
}

impl Choosable for Shape {
    fn all() -> &'static [Self] {
        &[Shape::Cosine, Shape::Linear, Shape::Constant]
    }
    fn value(self) -> &'static str {
        match self {
            Shape::Cosine => "cosine",
            Shape::Linear => "linear",
            Shape::Constant => "constant",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Shape::Cosine => "warmup + cosine",
            Shape::Linear => "warmup + linear decay",
            Shape::Constant => "constant",
        }
    }
}

/// The widget.
#[component]
pub fn ScheduleLab() -> impl IntoView {
    // The chapter's 7B exercise: 2T tokens in 4M-token batches, 2% warmup.
    let tokens = RwSignal::new(2e12);
    let batch_tokens = RwSignal::new(4e6);
    let warmup_fraction = RwSignal::new(0.02);
    let max_lr = RwSignal::new(3e-4);
    let min_lr = RwSignal::new(3e-5);
    let shape = RwSignal::new(Shape::Cosine);

    let total = Memo::new(move |_| steps_for_tokens(tokens.get() as u64, batch_tokens.get() as u64));
    let warmup = Memo::new(move |_| warmup_steps(total.get(), warmup_fraction.get()));
    let schedule = Memo::new(move |_| {
        let (max_lr, min_lr) = (max_lr.get() as f32, min_lr.get() as f32);
        let (warmup_steps, total_steps) = (warmup.get(), total.get());
        match shape.get() {
            Shape::Linear => Schedule::WarmupLinearDecay { max_lr, min_lr, warmup_steps, total_steps },
            Shape::Constant => Schedule::Constant { lr: max_lr },
            Shape::Cosine => Schedule::WarmupCosine { max_lr, min_lr, warmup_steps, total_steps },
        }
    });
    let values = Signal::derive(move || curve(&schedule.get(), total.get()));
    view! {
        <WidgetFrame class="schedule" label="Learning-rate schedule lab" title="Live: a learning-rate schedule for a whole run" badge="CPU · engine::core::optim::Schedule">
            <div class="xor-controls">
                <SignalField label="training tokens" name="sched-tokens" signal=tokens check=big_count />
                <SignalField label="tokens per step" name="sched-batch" signal=batch_tokens check=big_count />
                <SignalField label="warmup fraction" name="sched-warmup" signal=warmup_fraction check=fraction />
                <SignalField label="max lr" name="sched-max" signal=max_lr check=positive />
                <SignalField label="min lr" name="sched-min" signal=min_lr check=non_negative />
                <Choice label="shape" name="sched-kind" value=shape on_change=Callback::new(move |s| shape.set(s)) />
            </div>
            <dl class="bp-values">
                <div><dt>"optimizer steps"</dt><dd data-value="sched-steps">{move || total.get()}</dd></div>
                <div><dt>"warmup steps"</dt><dd data-value="sched-warmup-steps">{move || warmup.get()}</dd></div>
                <div><dt>"lr at the middle step"</dt><dd data-value="sched-mid">{move || format!("{:.3e}", schedule.get().lr_at(total.get() / 2))}</dd></div>
            </dl>
            <figure class="bp-curve">
                <LineChart values=values x_label="training progress (200 samples)" aria_label="Learning rate over the run" />
            </figure>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_spans_the_run() {
        let s =
            Schedule::WarmupCosine { max_lr: 3e-4, min_lr: 3e-5, warmup_steps: 10_000, total_steps: 500_000 };
        let c = curve(&s, 500_000);
        assert_eq!(c.len(), 201);
        assert_eq!(c[0], 0.0);
        assert!((c[200] - 3e-5).abs() < 1e-9);
        assert!(fraction(1.0).is_err() && big_count(0.0).is_err() && positive(0.0).is_err());
    }
}
