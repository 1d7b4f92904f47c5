//! Chapter 4's mixed-precision lab: one small network trained five ways side by side (FP32,
//! BF16, and FP16 without, with static and with dynamic loss scaling), with or without FP32
//! master weights: the loss curves, the gradients' magnitudes against FP16's range, the share
//! flushed to zero, and the dynamic loss scale's history, all from
//! `engine::labs::mixed_precision`.

use leptos::prelude::*;

use engine::labs::mixed_precision::{Config, GradStats, Lab, Stopped, HIST_MIN_LOG2, STEPS};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{self, is_whole_in, rule, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::plot::chart::{Chart, Series};
use crate::plot::describe::DataTable;
use crate::plot::histogram::{describe, powers_of_two, table, LOG2_FRAME};

/// Steps per animation tick, for all five runs.
const STEPS_PER_TICK: usize = 10;

/// The five runs, in the engine's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    Fp32,
    Bf16,
    Fp16,
    Fp16Static,
    Fp16Dynamic,
}

impl Pick {
    fn index(self) -> usize {
        Pick::all().iter().position(|&p| p == self).unwrap_or(0)
    }
    /// The colour class of its curve.
    fn class(self) -> &'static str {
        match self {
            Pick::Fp32 => "opt-sgd",
            Pick::Bf16 => "opt-momentum",
            Pick::Fp16 => "opt-rmsprop",
            Pick::Fp16Static => "opt-adam",
            Pick::Fp16Dynamic => "opt-adamw",
        }
    }
}

impl Choosable for Pick {
    fn all() -> &'static [Self] {
        &[Pick::Fp32, Pick::Bf16, Pick::Fp16, Pick::Fp16Static, Pick::Fp16Dynamic]
    }
    fn value(self) -> &'static str {
        match self {
            Pick::Fp32 => "fp32",
            Pick::Bf16 => "bf16",
            Pick::Fp16 => "fp16",
            Pick::Fp16Static => "fp16-static",
            Pick::Fp16Dynamic => "fp16-dynamic",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Pick::Fp32 => "FP32",
            Pick::Bf16 => "BF16",
            Pick::Fp16 => "FP16, no loss scaling",
            Pick::Fp16Static => "FP16, static loss scale",
            Pick::Fp16Dynamic => "FP16, dynamic loss scale",
        }
    }
}

/// The loss shrink k and both loss scales are powers of two, 2^0 to 2^40.
fn power_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 40.0), "A whole power of two from 0 to 40.")
}
fn lr_rule(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 10.0, "The learning rate must be above 0 and at most 10.")
}
fn interval_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 100_000.0), "A whole number of steps from 1 to 100,000.")
}

/// What the page shows of one run, copied out of the engine after each tick.
#[derive(Clone, Debug, Default, PartialEq)]
struct RunView {
    losses: Vec<f32>,
    scales: Vec<i32>,
    stats: GradStats,
    flushed: f64,
    subnormal: f64,
    unchanged: f64,
    skipped: usize,
    scale_log2: i32,
    diverged: bool,
}

fn views(lab: &Lab) -> Vec<RunView> {
    lab.runs
        .iter()
        .map(|r| RunView {
            losses: r.losses.clone(),
            scales: r.scale_history.clone(),
            stats: r.last.clone(),
            flushed: r.last.flushed_fraction(),
            subnormal: r.last.subnormal_fraction(),
            unchanged: r.unchanged_fraction(),
            skipped: r.skipped,
            scale_log2: r.scale_log2(),
            diverged: r.stopped == Some(Stopped::Diverged),
        })
        .collect()
}

fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The widget.
#[component]
pub fn MixedPrecisionLab() -> impl IntoView {
    let config = RwSignal::new(Config::default());
    let master = RwSignal::new(true);
    let lab = StoredValue::new(None::<Lab>);
    let shown = RwSignal::new(Vec::<RunView>::new());
    let steps = RwSignal::new(0usize);
    let running = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let pick = RwSignal::new(Pick::Fp16);

    let show = move || {
        if let Some((v, n)) = lab.with_value(|l| l.as_ref().map(|l| (views(l), l.steps()))) {
            shown.set(v);
            steps.set(n);
            if n >= STEPS {
                running.set(false);
                status.set(format!("Finished {STEPS} steps."));
            }
        }
    };
    let reset = move || {
        running.set(false);
        match Lab::new(config.get_untracked(), master.get_untracked()) {
            Ok(l) => {
                lab.set_value(Some(l));
                status.set(String::new());
                show();
            }
            Err(message) => {
                lab.set_value(None);
                shown.set(Vec::new());
                steps.set(0);
                status.set(format!("Cannot train this setup: {message}."));
            }
        }
    };
    reset();
    Effect::new(move |first: Option<()>| {
        config.track();
        master.track();
        if first.is_some() {
            reset();
        }
    });
    let advance = move |n: usize| {
        lab.update_value(|l| {
            if let Some(l) = l.as_mut() {
                let left = STEPS.saturating_sub(l.steps());
                l.train(n.min(left));
            }
        });
        show();
    };
    use_interval(running, std::time::Duration::from_millis(16), move || {
        if running.get_untracked() {
            advance(STEPS_PER_TICK);
        }
    });
    let finished = move || steps.get() >= STEPS;

    let loss_series = Signal::derive(move || {
        shown.with(|runs| {
            runs.iter()
                .zip(Pick::all())
                .map(|(r, p)| Series::steps(&r.losses, p.class()).named(p.label()).stopped(r.diverged))
                .collect::<Vec<_>>()
        })
    });
    let scale_series = Signal::derive(move || {
        shown.with(|runs| {
            [Pick::Fp16Static, Pick::Fp16Dynamic]
                .iter()
                .filter_map(|p| {
                    runs.get(p.index()).map(|r| Series::steps(&r.scales, p.class()).named(p.label()))
                })
                .collect::<Vec<_>>()
        })
    });
    let picked = move || shown.with(|runs| runs.get(pick.get().index()).cloned().unwrap_or_default());
    // FP16: 2^-24 is the smallest subnormal, so half of it, 2^-25, and less rounds to 0;
    // subnormal below 2^-14; infinite from 2^16 (65,504 is the largest finite value).
    let histogram = Memo::new(move |_| {
        powers_of_two(&picked().stats.counts, HIST_MIN_LOG2, &[(-60, -25), (-25, -14), (16, 60)])
    });
    // The same counts as text: each binade named by its ends.
    let binades = move || {
        let counts: Vec<u64> = picked().stats.counts.iter().map(|&c| u64::from(c)).collect();
        let power = |k: i32| format!("2^{k}").replace('-', "−");
        let labels = (0..counts.len() as i32)
            .map(|i| format!("{} to {}", power(HIST_MIN_LOG2 + i), power(HIST_MIN_LOG2 + i + 1)))
            .collect::<Vec<_>>();
        (labels, counts)
    };
    let histogram_name = move || {
        let (labels, counts) = binades();
        let s = picked().stats;
        let title = format!(
            "Histogram of the last step's nonzero gradient magnitudes in {}, on a log2 axis",
            pick.get().label()
        );
        format!(
            "{} In FP16, {} flush to zero, {} are subnormal and {} overflow.",
            describe(&title, &labels, &counts, "gradients"),
            s.flushed,
            s.subnormal,
            s.overflowed
        )
    };
    let histogram_table = Signal::derive(move || {
        let (labels, counts) = binades();
        table("|gradient|", &labels, &[("gradients".to_string(), counts)])
    });

    view! {
        <WidgetFrame class="mixed-precision" label="Mixed-precision lab" title="Live: one network trained in FP32, BF16 and FP16" badge="CPU · engine::labs::mixed_precision">
            <div class="xor-controls">
                <ConfigField label="loss × 2^−k, k =" name="mp-shrink" config=config get=|c| c.shrink_log2 as f64 set=|c, v| c.shrink_log2 = v as i32 check=power_rule />
                <ConfigField label="learning rate" name="mp-lr" config=config get=|c| c.lr as f64 set=|c, v| c.lr = v as f32 check=lr_rule />
                <ConfigField label="static scale 2^" name="mp-static" config=config get=|c| c.static_scale_log2 as f64 set=|c, v| c.static_scale_log2 = v as i32 check=power_rule />
                <ConfigField label="dynamic scale starts at 2^" name="mp-initial" config=config get=|c| c.initial_scale_log2 as f64 set=|c, v| c.initial_scale_log2 = v as i32 check=power_rule />
                <ConfigField label="double after N clean steps, N =" name="mp-interval" config=config get=|c| c.growth_interval as f64 set=|c, v| c.growth_interval = v as usize check=interval_rule />
                <ConfigField label="seed" name="mp-seed" config=config get=|c| c.seed as f64 set=|c, v| c.seed = v as u64 check=number_field::seed />
                <label><input type="checkbox" data-name="mp-master" prop:checked=move || master.get() on:change=move |ev| master.set(event_target_checked(&ev)) />" FP32 master weights"</label>
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="mp-train" disabled=finished on:click=move |_| running.update(|r| *r = !*r)>
                    {move || if running.get() { "Pause" } else if finished() { "Finished" } else if steps.get() == 0 { "Train 1,500 steps" } else { "Resume" }}
                </button>
                <button on:click=move |_| advance(1) disabled=move || running.get() || finished()>"Single step"</button>
                <button on:click=move |_| reset()>"Reset"</button>
                <span class="epoch-count">"step "<span data-value="mp-steps">{move || steps.get()}</span>" of "{STEPS}</span>
            </div>
            <p class="bp-status" role="status" data-status="mp">{move || status.get()}</p>
            <figure class="bp-curve">
                <Chart class="multi-chart mp-curves" height=210.0 legend=true series=loss_series log_y=true x_span=STEPS as f64 x_label="step" aria_label="Training loss of each setup, log scale" empty="Press Train: the five loss curves appear here." />
                <figcaption>"Mean squared error before each step, log scale, all five runs from the same initial weights. A cross marks a run that diverged."</figcaption>
            </figure>
            <div class="table-wrap">
                <table class="mp-table">
                    <thead><tr>
                        <th scope="col">"setup"</th><th scope="col">"loss now"</th><th scope="col">"gradients flushed to 0"</th>
                        <th scope="col">"subnormal"</th><th scope="col">"loss scale"</th><th scope="col">"skipped steps"</th><th scope="col">"16-bit weights unchanged"</th>
                    </tr></thead>
                    <tbody>
                        {move || shown.with(|runs| runs.iter().zip(Pick::all()).map(|(r, p)| {
                            let key = p.value();
                            let loss = r.losses.last().copied();
                            let sixteen = *p != Pick::Fp32;
                            view! {
                                <tr>
                                    <th scope="row"><span class=format!("swatch {}", p.class())></span>" "{p.label()}</th>
                                    <td data-value=format!("mp-loss-{key}") data-number=loss.map(|l| l.to_string()).unwrap_or_default()>
                                        {loss.map(|l| format!("{l:.5}")).unwrap_or_else(|| "–".into())}{r.diverged.then_some(" (diverged)")}
                                    </td>
                                    <td data-value=format!("mp-flushed-{key}") data-number=r.flushed.to_string()>{if sixteen { percent(r.flushed) } else { "–".into() }}</td>
                                    <td data-value=format!("mp-subnormal-{key}")>{if sixteen { percent(r.subnormal) } else { "–".into() }}</td>
                                    <td data-value=format!("mp-scale-{key}")>{format!("2^{}", r.scale_log2)}</td>
                                    <td data-value=format!("mp-skipped-{key}")>{r.skipped}</td>
                                    <td data-value=format!("mp-unchanged-{key}")>{if sixteen { percent(r.unchanged) } else { "–".into() }}</td>
                                </tr>
                            }
                        }).collect_view())}
                    </tbody>
                </table>
            </div>
            <p class="widget-note">"The last step's gradients: every activation and weight gradient the backward pass stored, after the loss scale. \"Unchanged\": of the weights the last update moved, how many kept the same 16-bit value."</p>
            <div class="mp-plots">
                <figure class="mp-hist">
                    <Choice label="gradients of" name="mp-hist-run" value=pick on_change=Callback::new(move |p| pick.set(p)) />
                    <svg viewBox=format!("0 0 {} {}", LOG2_FRAME.width, LOG2_FRAME.height) role="img" aria-label=histogram_name>
                        {move || {
                            let h = histogram.get();
                            let labels = ["FP16: 0", "subnormal", "FP16: ∞"];
                            view! {
                                {h.bands.iter().zip(labels).enumerate().map(|(i, (b, label))| view! {
                                    <rect class=format!("band band-{i}") x=b.x y=b.y width=b.width.max(0.0) height=b.height />
                                    <text class="band-label" x=b.x + b.width / 2.0 y=b.y - 6.0 text-anchor="middle">{label}</text>
                                }).collect_view()}
                                {h.bars.iter().map(|(r, k)| view! {
                                    <rect class="bar" data-log2=*k x=r.x y=r.y width=r.width height=r.height />
                                }).collect_view()}
                                <line class="axis" x1=h.bands.first().map_or(0.0, |b| b.x) x2=h.bands.last().map_or(LOG2_FRAME.width, |b| b.x + b.width) y1=h.base y2=h.base />
                                {h.ticks.iter().map(|(x, k)| view! {
                                    <text class="tick" x=*x y=h.base + 14.0 text-anchor="middle">{format!("2^{k}")}</text>
                                }).collect_view()}
                                <text class="axis-label" x=LOG2_FRAME.width / 2.0 y=LOG2_FRAME.height - 4.0 text-anchor="middle">"|gradient| (log2 axis)"</text>
                            }
                        }}
                    </svg>
                    <figcaption>{move || {
                        let r = picked();
                        format!(
                            "{} of {} nonzero gradients flushed to zero, {} stored as subnormals, {} overflowed. Another {} were exactly 0 before rounding: a gradient computed from flushed ones is 0 too.",
                            r.stats.flushed, r.stats.total - r.stats.zeros, r.stats.subnormal, r.stats.overflowed, r.stats.zeros
                        )
                    }}</figcaption>
                    <DataTable table=histogram_table caption="Nonzero gradient magnitudes per power of two" />
                </figure>
                <figure class="mp-scale">
                    <Chart class="multi-chart" height=190.0 legend=true series=scale_series x_span=STEPS as f64 x_label="step" aria_label="The loss scale at each step, as a power of two" empty="The loss scales appear here as the run goes." />
                    <figcaption>"The loss scale's power of two at each step. The dynamic scale doubles after N clean steps and halves, skipping the step, when a gradient overflows."</figcaption>
                </figure>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_have_clear_limits() {
        assert!(power_rule(41.0).is_err() && power_rule(0.5).is_err() && power_rule(20.0).is_ok());
        assert!(lr_rule(0.0).is_err() && lr_rule(11.0).is_err() && lr_rule(0.1).is_ok());
        assert!(interval_rule(0.0).is_err() && power_rule(-1.0).is_err());
        assert_eq!(Pick::Fp16Dynamic.index(), 4);
        assert_eq!(percent(0.5), "50.0%");
    }
}
