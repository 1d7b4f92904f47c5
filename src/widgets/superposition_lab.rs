//! Chapter 10's superposition lab: the toy model of Elhage et al. (2022) trained live, n
//! features squeezed into m dimensions, with each feature's direction (arrows for m = 2, WᵀW
//! as a heatmap otherwise), norms, interference and the loss, from
//! `engine::labs::superposition`.

use leptos::prelude::*;

use engine::core::tensor::Tensor;
use engine::labs::superposition::{Config, Report, ToyModel, MAX_FEATURES};

use crate::controls::number_field::{self, is_whole_in, learning_rate, rule, ConfigField};
use crate::controls::slider::Slider;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::plot::chart::{Chart, Series};
use crate::plot::describe::{describe_extremes, number, DataTable, TableText};
use crate::plot::feature_arrows::{arrows, baseline, feature_bars};
use crate::plot::heatmap::MatrixView;

/// Steps in a full run.
pub const RUN_STEPS: usize = 3000;
/// Multiply-adds one animation tick may spend, so a tick stays short at any n and m.
const WORK_PER_TICK: usize = 3_000_000;
/// A feature counts as represented when its direction is at least this long.
pub const REPRESENTED: f32 = 0.5;
const ARROW_BOX: f64 = 240.0;
const BAR_W: f64 = 440.0;
const BAR_H: f64 = 150.0;

fn features_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 2.0, MAX_FEATURES as f64), "A whole number of features from 2 to 40.")
}
fn hidden_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, MAX_FEATURES as f64 - 1.0), "A whole number of dimensions from 1 to 39.")
}
fn decay_rule(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 1.0, "The decay must be above 0 and at most 1 (1: all features equally important).")
}

/// Steps per tick for a setting: about [`WORK_PER_TICK`] multiply-adds, at least 1.
fn steps_per_tick(c: &Config) -> usize {
    (WORK_PER_TICK / (c.batch * c.features * c.hidden * 4).max(1)).max(1)
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Snapshot {
    steps: usize,
    losses: Vec<f32>,
    report: Report,
    hidden: usize,
    importance: Vec<f32>,
}

fn snapshot(model: &ToyModel) -> Snapshot {
    Snapshot {
        steps: model.steps(),
        losses: model.losses.clone(),
        report: model.report(),
        hidden: model.config.hidden,
        importance: model.config.importance(),
    }
}

/// The widget.
#[component]
pub fn SuperpositionLab() -> impl IntoView {
    let config = RwSignal::new(Config::default());
    let model = StoredValue::new(None::<ToyModel>);
    let shown = RwSignal::new(Snapshot::default());
    let running = RwSignal::new(false);
    let status = RwSignal::new(String::new());

    let reset = move || {
        running.set(false);
        match ToyModel::new(config.get_untracked()) {
            Ok(m) => {
                shown.set(snapshot(&m));
                model.set_value(Some(m));
                status.set(String::new());
            }
            Err(message) => {
                model.set_value(None);
                shown.set(Snapshot::default());
                status.set(format!("Cannot train this setup: {message}"));
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
            m.as_mut().map(|m| {
                let left = RUN_STEPS.saturating_sub(m.steps());
                let r = m.train(steps.min(left));
                (r, snapshot(m))
            })
        });
        if let Some(Some((r, s))) = result {
            if let Err(message) = r {
                running.set(false);
                status.set(format!("{message} Lower the learning rate, or reset."));
            } else if s.steps >= RUN_STEPS {
                running.set(false);
                status.set(format!("Finished {RUN_STEPS} steps."));
            }
            shown.set(s);
        }
    };
    use_interval(running, std::time::Duration::from_millis(16), move || {
        if running.get_untracked() {
            advance(steps_per_tick(&config.get_untracked()));
        }
    });
    let finished = move || shown.with(|s| s.steps >= RUN_STEPS);

    let loss = Signal::derive(move || {
        shown.with(|s| vec![Series::steps(&s.losses, "train").named("training loss")])
    });
    let sparsity = Signal::derive(move || config.with(|c| c.sparsity as f64));

    // The arrows' numbers as a table, while the hidden layer is a plane.
    let planar = Memo::new(move |_| shown.with(|s| s.hidden == 2));
    let arrows_table = Signal::derive(move || {
        shown.with(|s| {
            let rows = s
                .report
                .columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let (a, b) = (f64::from(*c.first()?), f64::from(*c.get(1)?));
                    Some(vec![(i + 1).to_string(), number(a), number(b), number(libm::hypot(a, b))])
                })
                .collect();
            TableText {
                headers: ["feature", "hidden 1", "hidden 2", "length"].map(String::from).to_vec(),
                rows,
            }
        })
    });

    view! {
        <WidgetFrame class="superposition" label="Superposition lab" title="Live: a toy model of superposition" badge="CPU · engine::labs::superposition">
            <div class="xor-controls">
                <ConfigField label="features n" name="sup-n" config=config get=|c| c.features as f64 set=|c, v| c.features = v as usize check=features_rule />
                <ConfigField label="hidden dimensions m" name="sup-m" config=config get=|c| c.hidden as f64 set=|c, v| c.hidden = v as usize check=hidden_rule />
                <ConfigField label="importance decay" name="sup-decay" config=config get=|c| c.decay as f64 set=|c, v| c.decay = v as f32 check=decay_rule />
                <ConfigField label="learning rate" name="sup-lr" config=config get=|c| c.lr as f64 set=|c, v| c.lr = v as f32 check=learning_rate />
                <ConfigField label="seed" name="sup-seed" config=config get=|c| c.seed as f64 set=|c, v| c.seed = v as u64 check=number_field::seed />
                <Slider label="sparsity S" name="sup-sparsity" value=sparsity min=0.0 max=Signal::derive(|| 0.99) step=0.01
                    on_change=Callback::new(move |v: f64| config.update(|c| c.sparsity = v as f32)) format=|v| format!("{v:.2}") />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="sup-train" disabled=finished on:click=move |_| running.update(|r| *r = !*r)>
                    {move || if running.get() { "Pause" } else if finished() { "Finished" } else if shown.with(|s| s.steps == 0) { "Train 3,000 steps" } else { "Resume" }}
                </button>
                <button on:click=move |_| reset()>"Reset"</button>
            </div>
            <p class="bp-status" role="status" data-status="sup">{move || status.get()}</p>
            <dl class="bp-values">
                <div><dt>"steps"</dt><dd data-value="sup-steps">{move || shown.with(|s| s.steps)}</dd></div>
                <div><dt>"loss (last 25 steps)"</dt><dd data-value="sup-loss">{move || shown.with(|s| s.losses.last().map(|v| format!("{v:.5}")).unwrap_or_else(|| "–".into()))}</dd></div>
                <div><dt>"features with ‖Wᵢ‖ > 0.5"</dt><dd data-value="sup-represented">{move || shown.with(|s| s.report.represented(REPRESENTED))}</dd></div>
            </dl>
            <div class="overfit-plots">
                {move || shown.with(|s| if s.hidden == 2 {
                    let columns: Vec<(f32, f32)> = s.report.columns.iter().map(|c| (c[0], c[1])).collect();
                    let (drawn, radius) = arrows(&columns, ARROW_BOX);
                    let c = ARROW_BOX / 2.0;
                    let labels: Vec<String> = (1..=columns.len()).map(|i| format!("feature {i}")).collect();
                    let lengths: Vec<f64> = columns.iter().map(|&(a, b)| libm::hypot(f64::from(a), f64::from(b))).collect();
                    let arrows_name = describe_extremes(&format!("The {} features' directions Wᵢ in the two hidden dimensions, by length", columns.len()), &labels, &lengths);
                    let items = drawn.into_iter().zip(&s.importance).enumerate().map(|(i, (a, &imp))| {
                        let opacity = format!("{:.2}", 0.35 + 0.65 * imp);
                        view! {
                            <g class="feature-arrow" opacity=opacity>
                                <line x1=c y1=c x2=a.x y2=a.y marker-end="url(#sup-head)" />
                                <text x=a.label_x y=a.label_y text-anchor="middle">{i + 1}</text>
                            </g>
                        }
                    }).collect_view();
                    view! {
                        <figure class="sup-arrows">
                            <svg viewBox=format!("0 0 {ARROW_BOX} {ARROW_BOX}") role="img" aria-label=arrows_name>
                                <defs><marker id="sup-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" /></marker></defs>
                                <circle class="unit" cx=c cy=c r=radius />
                                <line class="axis" x1=c - radius x2=c + radius y1=c y2=c />
                                <line class="axis" x1=c x2=c y1=c - radius y2=c + radius />
                                {items}
                            </svg>
                            <figcaption>"The columns Wᵢ as arrows in the hidden plane; the circle is length 1. Fainter arrows are less important features."</figcaption>
                        </figure>
                    }.into_any()
                } else {
                    let n = s.report.norms.len();
                    match Tensor::from_vec(&[n, n], s.report.gram.clone()) {
                        Ok(gram) => view! {
                            <MatrixView title="WᵀW".to_string() matrix=gram heat=true decimals=2
                                note=" (diagonal: ‖Wᵢ‖²; off the diagonal: overlap between features)".to_string() />
                        }.into_any(),
                        Err(_) => ().into_any(),
                    }
                })}
                <figure class="bp-curve">
                    <Chart class="curves" height=190.0 series=loss log_y=true x_label="blocks of 25 steps" aria_label="Training loss, log scale" />
                    <figcaption>"Importance-weighted squared error, averaged over each 25 steps, log scale."</figcaption>
                </figure>
            </div>
            // Outside the drawing redrawn at every step, so that an open fold stays open.
            {move || planar.get().then(|| view! { <DataTable table=arrows_table caption="Each feature's column Wᵢ" /> })}
            <figure class="sup-bars">
                <svg viewBox=format!("0 0 {BAR_W} {BAR_H}") role="img" aria-label=move || shown.with(|s| {
                    let labels: Vec<String> = (1..=s.report.norms.len()).map(|i| format!("feature {i}")).collect();
                    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
                    format!(
                        "{} {}",
                        describe_extremes("Each feature's norm ‖Wᵢ‖, most important first", &labels, &wide(&s.report.norms)),
                        describe_extremes("Its interference with the others", &labels, &wide(&s.report.interference))
                    )
                })>
                    {move || shown.with(|s| {
                        let (bars, top) = feature_bars(&s.report.norms, &s.report.interference, BAR_W, BAR_H);
                        let base = baseline(BAR_H);
                        let few = bars.len() <= 20;
                        view! {
                            <line class="axis" x1=0.0 x2=BAR_W y1=base y2=base />
                            <text class="tick" x=2.0 y=12.0>{format!("{top:.2}")}</text>
                            {bars.into_iter().enumerate().map(|(i, b)| view! {
                                <rect class="norm-bar" x=b.norm.0 y=b.norm.1 width=b.norm.2 height=b.norm.3 />
                                <rect class="interference-bar" x=b.interference.0 y=b.interference.1 width=b.interference.2 height=b.interference.3 />
                                {(few || i % 5 == 4).then(|| view! { <text class="tick" x=b.x y=BAR_H - 4.0 text-anchor="middle">{i + 1}</text> })}
                            }).collect_view()}
                        }
                    })}
                </svg>
                <figcaption>"Per feature (most important first): solid, the norm ‖Wᵢ‖; light, the interference Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)²."</figcaption>
            </figure>
            <div class="table-wrap">
                <table class="sup-table">
                    <thead><tr><th scope="col">"feature"</th><th scope="col">"importance"</th><th scope="col">"‖Wᵢ‖"</th><th scope="col">"interference"</th><th scope="col">"bias bᵢ"</th></tr></thead>
                    <tbody>
                        {move || shown.with(|s| s.report.norms.iter().enumerate().map(|(i, &norm)| {
                            let r = &s.report;
                            view! {
                                <tr class:dropped=norm <= REPRESENTED>
                                    <th scope="row">{i + 1}</th>
                                    <td>{format!("{:.3}", s.importance[i])}</td>
                                    <td data-value=format!("sup-norm-{i}")>{format!("{norm:.3}")}</td>
                                    <td data-value=format!("sup-interference-{i}")>{format!("{:.3}", r.interference[i])}</td>
                                    <td>{format!("{:.3}", r.bias[i]).replace('-', "−")}</td>
                                </tr>
                            }
                        }).collect_view())}
                    </tbody>
                </table>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_have_clear_limits_and_ticks_stay_small() {
        assert!(features_rule(1.0).is_err() && features_rule(41.0).is_err() && features_rule(20.0).is_ok());
        assert!(hidden_rule(0.0).is_err() && hidden_rule(2.5).is_err() && hidden_rule(5.0).is_ok());
        assert!(decay_rule(0.0).is_err() && decay_rule(1.5).is_err() && decay_rule(0.9).is_ok());
        // 5 features into 2 dimensions, batch 256: 292 steps a tick, so a run takes 11 ticks.
        assert_eq!(steps_per_tick(&Config::default()), 292);
        let big = Config { features: 40, hidden: 39, ..Config::default() };
        assert_eq!(steps_per_tick(&big), 1);
    }
}
