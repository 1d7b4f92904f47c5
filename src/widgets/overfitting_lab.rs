//! Chapter 7's overfitting lab: a network fits a noisy sine live, with its training and
//! validation losses, the best step, and the fitted function over the data, all from
//! `engine::labs::overfitting_lab`.

use leptos::prelude::*;

use crate::hooks::interval::use_interval;

use engine::labs::overfitting_lab::{target, CurveFit, FitConfig, FitOptimizer, Stopped};
use engine::models::mlp::Activation;

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{self, is_whole_in, learning_rate, rule, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::chart::{describe_series, series_table, Chart, Series};
use crate::plot::describe::DataTable;
use crate::plot::scatter::{dots, path_through, to_pixel, y_range, LEFT, PLOT_H, PLOT_W, TOP};

/// How long a run lasts unless early stopping ends it first.
pub const MAX_STEPS: usize = 3000;
/// Updates per animation tick: a full run takes 150 ticks.
const STEPS_PER_TICK: usize = 20;
/// Points along the drawn fitted function.
const CURVE_SAMPLES: usize = 121;

/// The lab offers the two activations whose fits look different on a sine.
const ACTIVATIONS: &[Activation] = &[Activation::Tanh, Activation::Relu];

impl Choosable for FitOptimizer {
    fn all() -> &'static [Self] {
        &[FitOptimizer::AdamW, FitOptimizer::AdamL2, FitOptimizer::Sgd]
    }
    fn value(self) -> &'static str {
        match self {
            FitOptimizer::AdamW => "adamw",
            FitOptimizer::AdamL2 => "adam-l2",
            FitOptimizer::Sgd => "sgd",
        }
    }
    fn label(self) -> &'static str {
        match self {
            FitOptimizer::AdamW => "AdamW",
            FitOptimizer::AdamL2 => "Adam + L2",
            FitOptimizer::Sgd => "SGD (L2)",
        }
    }
}

fn width_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 128.0), "Use a whole number from 1 to 128.")
}
fn depth_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 4.0), "Use 1, 2, 3 or 4 hidden layers.")
}
fn points_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 3.0, 300.0), "Use a whole number from 3 to 300 (a third is held out).")
}
fn noise_rule(v: f64) -> Result<(), String> {
    rule((0.0..=2.0).contains(&v), "Noise from 0 to 2.")
}
fn decay_rule(v: f64) -> Result<(), String> {
    rule((0.0..=10.0).contains(&v), "λ from 0 to 10.")
}
fn dropout_rule(v: f64) -> Result<(), String> {
    rule((0.0..=0.9).contains(&v), "p from 0 to 0.9.")
}
fn patience_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, MAX_STEPS as f64), "A whole number of steps from 0 (off) to 3000.")
}
/// Everything the page shows about the run, copied out of the engine after each tick.
#[derive(Clone, Debug, Default, PartialEq)]
struct Snapshot {
    train: Vec<f32>,
    validation: Vec<f32>,
    best_step: usize,
    best_validation: f32,
    weight_norm: f32,
    curve: Vec<(f32, f32)>,
    stopped: Option<Stopped>,
}

fn snapshot(fit: &mut CurveFit) -> Result<Snapshot, String> {
    Ok(Snapshot {
        train: fit.train_losses.clone(),
        validation: fit.validation_losses.clone(),
        best_step: fit.best.step,
        best_validation: fit.best.validation_loss,
        weight_norm: fit.weight_norm(),
        curve: fit.fitted_curve(CURVE_SAMPLES).map_err(|e| e.to_string())?,
        stopped: fit.stopped,
    })
}

/// The widget.
#[component]
pub fn OverfittingLab() -> impl IntoView {
    let config = RwSignal::new(FitConfig::default());
    let model = StoredValue::new(None::<CurveFit>);
    let shown = RwSignal::new(Snapshot::default());
    let data = RwSignal::new((Vec::<(f32, f32)>::new(), Vec::<(f32, f32)>::new()));
    let running = RwSignal::new(false);
    let status = RwSignal::new(String::new());

    let show = move || {
        let result = model.try_update_value(|m| m.as_mut().map(snapshot)).flatten();
        match result {
            Some(Ok(s)) => {
                let steps = s.train.len().saturating_sub(1);
                match s.stopped {
                    Some(Stopped::Diverged) => {
                        running.set(false);
                        status.set(format!("Diverged at step {steps}: a loss or weight is no longer a finite number. Lower the learning rate, or reset."));
                    }
                    Some(Stopped::EarlyStopping) => {
                        running.set(false);
                        status.set(format!("Early stopping at step {steps}: no new best validation loss for {} steps. The weights of step {} are restored.", steps - s.best_step, s.best_step));
                    }
                    None if steps >= MAX_STEPS => {
                        running.set(false);
                        status.set(format!(
                            "Finished {MAX_STEPS} steps. The lowest validation loss was at step {}.",
                            s.best_step
                        ));
                    }
                    None => status.set(String::new()),
                }
                shown.set(s);
            }
            Some(Err(message)) => {
                running.set(false);
                status.set(message);
            }
            None => {}
        }
    };
    let reset = move || {
        running.set(false);
        match CurveFit::new(config.get_untracked()) {
            Ok(fit) => {
                data.set((fit.data.train.clone(), fit.data.validation.clone()));
                model.set_value(Some(fit));
                show();
            }
            Err(message) => {
                model.set_value(None);
                status.set(format!("Cannot train this setup: {message}."));
            }
        }
    };
    reset();
    Effect::new(move |first: Option<()>| {
        config.track();
        if first.is_some() {
            reset();
        }
    });

    let advance = move |steps: usize| {
        let result = model.try_update_value(|m| {
            m.as_mut().map(|fit| {
                let left = MAX_STEPS.saturating_sub(fit.steps());
                fit.train(steps.min(left))
            })
        });
        if let Some(Some(Err(e))) = result {
            running.set(false);
            status.set(e.to_string());
        }
        show();
    };
    let finished = move || shown.with(|s| s.stopped.is_some() || s.train.len() > MAX_STEPS);

    use_interval(running, std::time::Duration::from_millis(16), move || {
        if running.get_untracked() {
            advance(STEPS_PER_TICK);
        }
    });

    let loss_series = Signal::derive(move || {
        shown.with(|s| {
            vec![
                Series::steps(&s.train, "train").named("training loss"),
                Series::steps(&s.validation, "validation").named("validation loss"),
            ]
        })
    });
    let best_marker =
        Signal::derive(move || shown.with(|s| (s.train.len() > 1).then_some(s.best_step as f64)));
    let range = Memo::new(move |_| data.with(|(t, v)| y_range(&[t.as_slice(), v.as_slice()].concat())));
    let truth: Vec<(f32, f32)> = (0..CURVE_SAMPLES)
        .map(|i| {
            let x = i as f32 / (CURVE_SAMPLES - 1) as f32;
            (x, target(x))
        })
        .collect();
    // The fit as text: the network's curve beside the truth, sampled at the same x.
    let fit_series = {
        let truth = truth.clone();
        move || {
            let points = |p: &[(f32, f32)]| p.iter().map(|&(x, y)| (f64::from(x), f64::from(y))).collect();
            let network = shown.with(|s| points(&s.curve));
            vec![
                Series { points: network, name: "The network".into(), ..Series::default() },
                Series { points: points(&truth), name: "The true sin(2πx)".into(), ..Series::default() },
            ]
        }
    };
    let fit_name = {
        let fit_series = fit_series.clone();
        move || {
            let (train, validation) = data.with(|(t, v)| (t.len(), v.len()));
            let title =
                format!("The fitted function over {train} training and {validation} validation points");
            describe_series(&title, &fit_series(), "x")
        }
    };
    let fit_table = Signal::derive(move || series_table(&fit_series(), "x"));

    view! {
        <WidgetFrame class="overfit" label="Overfitting lab" title="Live: a network fits a noisy sine" badge="CPU · engine::labs::overfitting_lab">
            <div class="xor-controls">
                <ConfigField label="hidden units" name="fit-width" config=config get=|c| c.width as f64 set=|c, v| c.width = v as usize check=width_rule />
                <ConfigField label="hidden layers" name="fit-depth" config=config get=|c| c.depth as f64 set=|c, v| c.depth = v as usize check=depth_rule />
                <ConfigField label="data points" name="fit-points" config=config get=|c| c.points as f64 set=|c, v| c.points = v as usize check=points_rule />
                <ConfigField label="noise σ" name="fit-noise" config=config get=|c| c.noise as f64 set=|c, v| c.noise = v as f32 check=noise_rule />
                <ConfigField label="weight decay λ" name="fit-decay" config=config get=|c| c.weight_decay as f64 set=|c, v| c.weight_decay = v as f32 check=decay_rule />
                <ConfigField label="dropout p" name="fit-dropout" config=config get=|c| c.dropout as f64 set=|c, v| c.dropout = v as f32 check=dropout_rule />
                <ConfigField label="patience (0 = off)" name="fit-patience" config=config get=|c| c.patience.unwrap_or(0) as f64 set=|c, v| c.patience = (v >= 1.0).then_some(v as usize) check=patience_rule />
                <ConfigField label="learning rate" name="fit-lr" config=config get=|c| c.lr as f64 set=|c, v| c.lr = v as f32 check=learning_rate />
                <ConfigField label="seed" name="fit-seed" config=config get=|c| c.seed as f64 set=|c, v| c.seed = v as u64 check=number_field::seed />
                <Choice label="activation" name="fit-activation" value=Signal::derive(move || config.with(|c| c.activation))
                    on_change=Callback::new(move |a| config.update(|c| c.activation = a)) options=ACTIVATIONS />
                <Choice label="optimizer" name="fit-optimizer" value=Signal::derive(move || config.with(|c| c.optimizer))
                    on_change=Callback::new(move |o| config.update(|c| c.optimizer = o)) />
            </div>
            <div class="bp-controls">
                <button class="primary" disabled=finished on:click=move |_| running.update(|r| *r = !*r)>
                    {move || if running.get() { "Pause" } else if finished() { "Stopped" } else if shown.with(|s| s.train.len() <= 1) { "Train 3,000 steps" } else { "Resume" }}
                </button>
                <button on:click=move |_| advance(1) disabled=move || running.get() || finished()>"Single step"</button>
                <button on:click=move |_| reset()>"Reset"</button>
            </div>
            <p class="bp-status" role="status" data-status="fit">{move || status.get()}</p>
            <dl class="bp-values">
                <div><dt>"steps run"</dt><dd data-value="fit-steps">{move || shown.with(|s| s.train.len().saturating_sub(1))}</dd></div>
                <div><dt>"training MSE"</dt><dd data-value="fit-train">{move || shown.with(|s| s.train.last().map(|v| format!("{v:.5}")).unwrap_or_default())}</dd></div>
                <div><dt>"validation MSE"</dt><dd data-value="fit-val">{move || shown.with(|s| s.validation.last().map(|v| format!("{v:.5}")).unwrap_or_default())}</dd></div>
                <div><dt>"best step"</dt><dd data-value="fit-best-step">{move || shown.with(|s| s.best_step)}</dd></div>
                <div><dt>"best validation MSE"</dt><dd data-value="fit-best-val">{move || shown.with(|s| format!("{:.5}", s.best_validation))}</dd></div>
                <div><dt>"‖w‖ now"</dt><dd data-value="fit-norm">{move || shown.with(|s| format!("{:.4}", s.weight_norm))}</dd></div>
            </dl>
            <div class="overfit-plots">
                <figure class="bp-curve">
                    <Chart class="curves" height=190.0 legend=true series=loss_series marker=best_marker marker_label="best" log_y=true x_label="step" aria_label="Training and validation loss (log scale) with the best step marked" />
                    <figcaption>"Mean squared error after each step, log scale; the line marks the lowest validation loss."</figcaption>
                </figure>
                <figure class="fit-plot">
                    <svg viewBox=format!("0 0 {} {}", LEFT + PLOT_W + 10.0, TOP + PLOT_H + 22.0) role="img" aria-label=fit_name>
                        {move || {
                            let r = range.get();
                            let (_, zero) = to_pixel(0.0, 0.0, r);
                            view! {
                                <line class="axis" x1=LEFT x2=LEFT + PLOT_W y1=zero y2=zero />
                                <text class="tick" x=LEFT - 4.0 y=zero + 4.0 text-anchor="end">"0"</text>
                                <text class="tick" x=LEFT y=TOP + PLOT_H + 16.0 text-anchor="middle">"0"</text>
                                <text class="tick" x=LEFT + PLOT_W y=TOP + PLOT_H + 16.0 text-anchor="middle">"1"</text>
                                <path class="truth" d=path_through(&truth, r) />
                            }
                        }}
                        <path class="fitted" data-value="fit-curve" d=move || shown.with(|s| path_through(&s.curve, range.get())) />
                        {move || {
                            let r = range.get();
                            data.with(|(train, validation)| {
                                let draw = |points: &[(f32, f32)], class: &'static str| dots(points, r).into_iter().map(|(cx, cy)| {
                                    view! { <circle class=class cx=cx cy=cy r="4" /> }
                                }).collect_view();
                                view! { {draw(train, "train-point")} {draw(validation, "val-point")} }
                            })
                        }}
                    </svg>
                    <figcaption>"Filled dots: training points. Rings: held-out validation points. Dashed: the true sin(2πx). Solid: the network now."</figcaption>
                    <DataTable table=fit_table caption="The network's function and the true sin(2πx) at evenly spaced x" />
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
        assert!(width_rule(0.0).is_err() && width_rule(1.5).is_err() && width_rule(32.0).is_ok());
        assert!(depth_rule(5.0).is_err() && points_rule(2.0).is_err() && dropout_rule(0.95).is_err());
        assert!(patience_rule(0.0).is_ok() && patience_rule(-1.0).is_err() && decay_rule(11.0).is_err());
    }
}
