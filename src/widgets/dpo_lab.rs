//! Chapter 11's alignment, small: `engine::labs::alignment`'s toy prompt with four responses,
//! the KL-regularized optimum π* ∝ π_ref·exp(r/β) computed exactly, and two DPO runs from
//! π_ref (on the expected preferences, and on a fixed set of sampled pairs) converging
//! toward it, drawn as KL(π_θ ‖ π*) against steps.

use std::time::Duration;

use leptos::prelude::*;

use engine::labs::alignment::{kl, DpoRun, Toy};

use crate::controls::number_field::{is_whole_in, rule, seed, SignalField};
use crate::controls::number_list::{parse_row, BadNumber};
use crate::controls::slider::Slider;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::plot::chart::{Chart, Series};

/// The responses to the toy prompt, in the lab's order.
const RESPONSES: [&str; 4] =
    ["clear and correct", "correct but terse", "padded with jargon", "confidently wrong"];
/// Adam's learning rate, steps per timer tick, and the run's length.
const LR: f32 = 0.05;
const STEPS_PER_TICK: usize = 25;
pub const TOTAL_STEPS: usize = 2_000;
const TICK: Duration = Duration::from_millis(30);

/// The two runs, always trained together.
#[derive(Clone)]
struct Runs {
    expected: DpoRun,
    sampled: DpoRun,
    /// KL(π_θ ‖ π*) after each step, for each run.
    gaps: [Vec<f64>; 2],
}

impl Runs {
    fn new(toy: &Toy, pairs: usize, seed: u64, beta: f64) -> Runs {
        let optimum = toy.optimum(beta);
        let start = kl(&toy.reference, &optimum);
        Runs {
            expected: DpoRun::new(toy, toy.expected_pairs()),
            sampled: DpoRun::new(toy, toy.sampled_pairs(pairs, seed)),
            gaps: [vec![start], vec![start]],
        }
    }

    fn steps(&self) -> usize {
        self.gaps[0].len() - 1
    }

    fn train(&mut self, toy: &Toy, beta: f64, steps: usize) {
        let optimum = toy.optimum(beta);
        for _ in 0..steps {
            self.expected.train(toy, beta, LR, 1);
            self.sampled.train(toy, beta, LR, 1);
            self.gaps[0].push(kl(&self.expected.policy(), &optimum));
            self.gaps[1].push(kl(&self.sampled.policy(), &optimum));
        }
    }
}

/// Reads a typed row of four numbers.
fn parse_four(name: &str, text: &str) -> Result<Vec<f64>, String> {
    let row = parse_row::<f64>(text, 100.0).map_err(|bad| match bad {
        BadNumber::NotANumber(t) => format!("{name}: “{t}” is not a number."),
        BadNumber::OutOfRange(_) => format!("{name}: keep entries between −100 and 100."),
    })?;
    if row.len() != RESPONSES.len() {
        return Err(format!("{name}: type one number for each of the {} responses.", RESPONSES.len()));
    }
    Ok(row)
}

/// The smallest KL the chart draws: below it the curve runs along the bottom (the readout
/// under the chart gives the exact value).
const KL_FLOOR: f64 = 1e-8;

fn floored(gaps: &[f64]) -> Vec<f64> {
    gaps.iter().map(|&g| g.max(KL_FLOOR)).collect()
}

/// A probability as a bar: a fixed-width SVG with a filled share.
fn bar(p: f64, class: &'static str) -> impl IntoView {
    let width = (p.clamp(0.0, 1.0) * 100.0).max(0.5);
    view! {
        <svg class="dpo-bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
            <rect class="dpo-track" x="0" y="0" width="100" height="8"></rect>
            <rect class=class x="0" y="0" width=format!("{width:.2}") height="8"></rect>
        </svg>
    }
}

#[component]
pub fn DpoLab() -> impl IntoView {
    let example = Toy::example();
    let rewards_text = RwSignal::new("2, 1, 0, -2".to_string());
    let reference_text = RwSignal::new("0.25, 0.4, 0.2, 0.15".to_string());
    let beta = RwSignal::new(1.0);
    let pairs = RwSignal::new(200.0);
    let seed_value = RwSignal::new(7.0);

    // The toy the inputs describe, or the last good one with the reason.
    let last_toy = StoredValue::new(example.clone());
    let toy = Memo::new(move |_| {
        let typed = parse_four("rewards", &rewards_text.get()).and_then(|rewards| {
            let reference = parse_four("π_ref", &reference_text.get())?;
            let toy = Toy { rewards, reference };
            toy.check()?;
            Ok(toy)
        });
        match typed {
            Ok(t) => {
                last_toy.set_value(t.clone());
                (t, None)
            }
            Err(e) => (last_toy.get_value(), Some(e)),
        }
    });
    let current = move || toy.with(|t| t.0.clone());

    let fresh = move || Runs::new(&current(), pairs.get() as usize, seed_value.get() as u64, beta.get());
    let runs = RwSignal::new(Runs::new(&example, 200, 7, 1.0));
    let training = RwSignal::new(false);
    // Any change of the toy, β or the pairs starts the runs again from π_ref.
    Effect::new(move |_| {
        let r = fresh();
        training.set(false);
        runs.set(r);
    });
    let tick = move || {
        let (t, b) = (current(), beta.get_untracked());
        runs.update(|r| {
            let left = TOTAL_STEPS.saturating_sub(r.steps());
            r.train(&t, b, left.min(STEPS_PER_TICK));
        });
        if runs.with_untracked(|r| r.steps() >= TOTAL_STEPS) {
            training.set(false);
        }
    };
    use_interval(training, TICK, tick);
    let toggle = move |_| {
        if runs.with_untracked(|r| r.steps() >= TOTAL_STEPS) {
            runs.set(fresh());
        }
        training.update(|t| *t = !*t);
    };

    let optimum = Memo::new(move |_| current().optimum(beta.get()));
    let rows = move || {
        let t = current();
        let (b, star) = (beta.get(), optimum.get());
        let (expected, sampled) = runs.with(|r| (r.expected.policy(), r.sampled.policy()));
        let cell = |p: f64, class: &'static str, name: String| {
            view! { <td class="dpo-cell"><span class="dpo-number" data-value=name>{format!("{p:.4}")}</span>{bar(p, class)}</td> }
        };
        let mut rows: Vec<_> = RESPONSES
            .iter()
            .enumerate()
            .map(|(i, label)| {
                view! {
                    <tr>
                        <th scope="row">{*label}</th>
                        <td class="num">{format!("{:+.2}", t.rewards[i])}</td>
                        {cell(t.reference[i], "dpo-ref", format!("dpo-ref-{i}"))}
                        {cell(star[i], "dpo-star", format!("dpo-star-{i}"))}
                        {cell(expected[i], "dpo-expected", format!("dpo-expected-{i}"))}
                        {cell(sampled[i], "dpo-sampled", format!("dpo-sampled-{i}"))}
                    </tr>
                }
                .into_any()
            })
            .collect();
        let score = |p: &[f64], name: &'static str| {
            view! { <td class="num" data-value=name>{format!("{:.4}", t.objective(p, b))}</td> }
        };
        rows.push(
            view! {
                <tr class="dpo-objective">
                    <th scope="row">"E[r] − β·KL(π ‖ π_ref)"</th><td></td>
                    {score(&t.reference, "dpo-obj-ref")}{score(&star, "dpo-obj-star")}
                    {score(&expected, "dpo-obj-expected")}{score(&sampled, "dpo-obj-sampled")}
                </tr>
            }
            .into_any(),
        );
        rows
    };
    let series = Signal::derive(move || {
        runs.with(|r| {
            vec![
                Series::steps(&floored(&r.gaps[0]), "dpo-expected-line").named("DPO, expected preferences"),
                Series::steps(&floored(&r.gaps[1]), "dpo-sampled-line").named("DPO, sampled pairs"),
            ]
        })
    });
    let gap = move |i: usize| runs.with(|r| r.gaps[i].last().map_or(String::new(), |g| format!("{g:.2e}")));

    view! {
        <WidgetFrame class="dpo-lab" label="DPO on a toy policy" title="Live: the KL-regularized optimum, and DPO finding it" badge="CPU · engine::labs::alignment">
            <p class="widget-note">"Prompt: “Explain gradient descent to a beginner.” Four possible responses; type their rewards and the reference model's probabilities (in the order of the table)."</p>
            <div class="xor-controls">
                <label class="matrix-input"><span>"rewards"</span><input type="text" data-name="dpo-rewards" spellcheck="false" prop:value=move || rewards_text.get() on:input=move |ev| rewards_text.set(event_target_value(&ev)) /></label>
                <label class="matrix-input"><span>"π_ref"</span><input type="text" data-name="dpo-reference" spellcheck="false" prop:value=move || reference_text.get() on:input=move |ev| reference_text.set(event_target_value(&ev)) /></label>
            </div>
            <p class="field-error" data-error-for="dpo-toy" role="status">{move || toy.with(|t| t.1.clone()).map(|e| format!("{e} Using the last good values."))}</p>
            <div class="xor-controls">
                <Slider label="β" symbol=true name="dpo-beta" min=0.05 max=Signal::derive(|| 10.0) step=0.01 log=true value=beta on_change=Callback::new(move |v| beta.set(v)) format=|v| format!("{v:.2}") />
                <SignalField label="sampled pairs" name="dpo-pairs" signal=pairs check=|v| rule(is_whole_in(v, 2.0, 5_000.0), "Use a whole number of pairs from 2 to 5,000.") />
                <SignalField label="seed" name="dpo-seed" signal=seed_value check=seed />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="dpo-train" on:click=toggle>{move || if training.get() { "Pause" } else { "Train DPO" }}</button>
                <button data-name="dpo-reset" on:click=move |_| { training.set(false); runs.set(fresh()); }>"Reset"</button>
                <span class="widget-note" data-value="dpo-steps">{move || format!("{} of {} steps", runs.with(|r| r.steps()), TOTAL_STEPS)}</span>
            </div>
            <div class="table-wrap">
                <table class="grad-check dpo-table">
                    <thead><tr>
                        <th scope="col">"response"</th><th scope="col">"reward r"</th><th scope="col">"π_ref"</th>
                        <th scope="col">"optimum π*"</th><th scope="col">"DPO, expected"</th><th scope="col">"DPO, sampled"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <Chart class="multi-chart dpo-chart" height=190.0 legend=true log_y=true series=series x_span=TOTAL_STEPS as f64 x_label="DPO step"
                aria_label="KL divergence from each DPO policy to the exact optimum, log scale, against steps" />
            <p class="widget-note">"KL(π_θ ‖ π*) on a log scale, drawn down to 10⁻⁸."</p>
            <p class="widget-note">"KL(π_θ ‖ π*) now: expected preferences "<span data-value="dpo-gap-expected">{move || gap(0)}</span>", sampled pairs "<span data-value="dpo-gap-sampled">{move || gap(1)}</span>" nats."</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_rows_are_read_or_refused_in_words() {
        assert_eq!(parse_four("rewards", "2, 1 0 −2"), Ok(vec![2.0, 1.0, 0.0, -2.0]));
        assert!(parse_four("rewards", "2, 1, 0").unwrap_err().contains("each of the 4"));
        assert!(parse_four("π_ref", "0.2, x, 0.3, 0.5").unwrap_err().contains("“x”"));
    }

    /// What the widget shows after a full run at its defaults (β = 1, 200 pairs, seed 7).
    #[test]
    fn a_full_run_at_the_defaults() {
        let toy = Toy::example();
        let mut runs = Runs::new(&toy, 200, 7, 1.0);
        runs.train(&toy, 1.0, TOTAL_STEPS);
        use engine::assert_close;
        // π* for β = 1, and the expected-preference run on top of it.
        assert_close!(toy.optimum(1.0), [0.5855, 0.3446, 0.0634, 0.0064], 5e-5);
        assert_close!(runs.expected.policy(), toy.optimum(1.0), 1e-6);
        // 200 noisy labels: near, not on, the optimum.
        assert_close!(runs.sampled.policy(), [0.5431, 0.3938, 0.0506, 0.0125], 5e-5);
        assert_close!(runs.gaps[1][0], 0.5489, 5e-5);
        assert!(runs.gaps[0][TOTAL_STEPS] < 1e-10);
        assert_close!(runs.gaps[1][TOTAL_STEPS], 0.00854, 5e-6);
        // The objective RLHF maximizes: 0.6000 at π_ref, 1.1489 at π*, 1.1404 for the sampled run.
        let score = |p: &[f64]| toy.objective(p, 1.0);
        assert_close!(score(&toy.reference), 0.6, 1e-9);
        assert_close!(score(&toy.optimum(1.0)), 1.1489, 5e-5);
        assert_close!(score(&runs.sampled.policy()), 1.1404, 5e-5);
    }
}
