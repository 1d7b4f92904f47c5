//! Chapter 10's sparse autoencoder on the toy model of superposition: the toy model (20
//! features in 10 dimensions) is trained first, then an SAE learns its hidden activations, and
//! the page shows reconstruction against sparsity, dead and dense latents, and how closely each
//! true feature direction is recovered, from `engine::labs::sparse_autoencoder`.

use leptos::prelude::*;

use engine::labs::sparse_autoencoder::{
    toy_config, toy_sae_config, SaeConfig, Toy, ToyReport, ToySae, DENSE_FRACTION, TOY_EVAL, TOY_STEPS,
};
use engine::labs::superposition::ToyModel;

use crate::controls::number_field::{self, is_whole_in, rule, ConfigField};
use crate::controls::slider::Slider;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::plot::sae::{RunPoint, SaeCurves, SaeTradeoff};

/// SAE steps in a full run.
pub const RUN_STEPS: usize = 2000;
/// Toy-model steps per tick while it trains.
const TOY_STEPS_PER_TICK: usize = 300;
/// Multiply-adds one tick may spend on the SAE.
const WORK_PER_TICK: usize = 6_000_000;
/// A true feature counts as recovered when a decoder direction is this close (cosine).
pub const RECOVERED: f32 = 0.99;
/// The most latents this widget offers.
const MAX_TOY_LATENTS: f64 = 200.0;
/// The λ values one click of "Sweep λ" trains, in this order.
pub const SWEEP: [f32; 4] = [0.001, 0.01, 0.1, 1.0];

fn latents_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, MAX_TOY_LATENTS), "A whole number of latents from 1 to 200.")
}

fn steps_per_tick(c: &SaeConfig) -> usize {
    (WORK_PER_TICK / (c.batch * (c.inputs * c.latents * 5 + 200)).max(1)).max(1)
}

/// One finished run, for the table that compares λ values.
#[derive(Clone, Debug, PartialEq)]
struct Finished {
    l1: f32,
    latents: usize,
    seed: u64,
    report: ToyReport,
}

/// The toy model in training, or trained.
enum Stage {
    Toy(ToyModel),
    Ready(Toy),
}

fn fmt(v: f32, digits: usize) -> String {
    format!("{v:.digits$}").replace('-', "−")
}

/// The widget.
#[component]
pub fn SparseAutoencoder() -> impl IntoView {
    let config = RwSignal::new(toy_sae_config(1));
    let stage = StoredValue::new_local(None::<Stage>);
    let run = StoredValue::new(None::<ToySae>);
    let shown = RwSignal::new(None::<ToyReport>);
    let toy_progress = RwSignal::new(0usize);
    let running = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let finished = RwSignal::new(Vec::<Finished>::new());
    // λ values a sweep has still to train, and whether the next reset should start one.
    let sweep = RwSignal::new(Vec::<f32>::new());
    let auto_start = StoredValue::new(false);

    let reset = move || {
        running.set(false);
        run.set_value(None);
        shown.set(None);
        status.set(String::new());
        if let Err(message) = config.get_untracked().validate() {
            status.set(format!("Cannot train this setup: {message}"));
        }
    };
    Effect::new(move |first: Option<()>| {
        config.track();
        if first.is_some() {
            reset();
            if std::mem::take(&mut *auto_start.write_value()) && status.with_untracked(String::is_empty) {
                running.set(true);
            }
        }
    });
    // The next λ of a sweep: setting it resets the run, and the reset starts it.
    let sweep_next = move || {
        let next = sweep.try_update(|q| (!q.is_empty()).then(|| q.remove(0))).flatten();
        if let Some(l1) = next {
            auto_start.set_value(true);
            config.update(|c| c.l1 = l1);
        }
    };
    let start_sweep = move || {
        let c = config.get_untracked();
        let todo: Vec<f32> = SWEEP
            .into_iter()
            .filter(|&l1| {
                !finished.with_untracked(|f| {
                    f.iter().any(|r| r.l1 == l1 && r.latents == c.latents && r.seed == c.seed)
                })
            })
            .collect();
        if todo.is_empty() {
            status.set("Every λ of the sweep has a finished run with these latents and this seed.".into());
            return;
        }
        sweep.set(todo);
        sweep_next();
    };

    // One tick: a chunk of the toy model's training, or of the SAE's.
    let advance = move || {
        let toy_done = stage.with_value(|s| matches!(s, Some(Stage::Ready(_))));
        if !toy_done {
            let mut failure = None;
            stage.update_value(|s| {
                let model = match s.take() {
                    Some(Stage::Toy(m)) => Ok(m),
                    Some(ready) => {
                        *s = Some(ready);
                        return;
                    }
                    None => ToyModel::new(toy_config()),
                };
                match model.and_then(|mut m| {
                    let left = TOY_STEPS.saturating_sub(m.steps());
                    m.train(left.min(TOY_STEPS_PER_TICK)).map(|_| m)
                }) {
                    Ok(m) => {
                        toy_progress.set(m.steps());
                        *s = Some(if m.steps() >= TOY_STEPS {
                            Stage::Ready(Toy::from_model(m))
                        } else {
                            Stage::Toy(m)
                        });
                    }
                    Err(e) => failure = Some(e),
                }
            });
            if let Some(e) = failure {
                running.set(false);
                status.set(format!("The toy model could not be trained: {e}"));
            }
            return;
        }
        let c = config.get_untracked();
        let outcome = stage.with_value(|s| {
            let Some(Stage::Ready(toy)) = s else { return None };
            run.try_update_value(|slot| {
                if slot.is_none() {
                    match ToySae::new(toy, c) {
                        Ok(r) => *slot = Some(r),
                        Err(e) => return Err(e),
                    }
                }
                let Some(r) = slot.as_mut() else { return Err("No run.".to_string()) };
                let left = RUN_STEPS.saturating_sub(r.sae.steps());
                let result = r.train(toy, steps_per_tick(&c).min(left));
                Ok((result, r.report(toy)))
            })
        });
        match outcome {
            Some(Ok((result, report))) => {
                if let Err(message) = result {
                    running.set(false);
                    sweep.set(Vec::new());
                    status.set(format!("{message} Lower λ or reset."));
                } else if report.steps >= RUN_STEPS {
                    running.set(false);
                    status.set(format!("Finished {RUN_STEPS} steps."));
                    finished.update(|f| {
                        f.push(Finished {
                            l1: c.l1,
                            latents: c.latents,
                            seed: c.seed,
                            report: report.clone(),
                        })
                    });
                    sweep_next();
                }
                shown.set(Some(report));
            }
            Some(Err(message)) => {
                running.set(false);
                sweep.set(Vec::new());
                status.set(format!("Cannot train this setup: {message}"));
            }
            None => {}
        }
    };
    use_interval(running, std::time::Duration::from_millis(16), move || {
        if running.get_untracked() {
            advance();
        }
    });
    let done = move || shown.with(|s| s.as_ref().is_some_and(|r| r.steps >= RUN_STEPS));
    let toy_training = move || running.get() && toy_progress.get() < TOY_STEPS;

    let history =
        Signal::derive(move || shown.with(|s| s.as_ref().map(|r| r.history.clone()).unwrap_or_default()));
    let points = Signal::derive(move || {
        finished.with(|f| {
            f.iter()
                .map(|r| RunPoint {
                    l1: f64::from(r.l1),
                    l0: f64::from(r.report.eval.l0),
                    mse: f64::from(r.report.eval.mse),
                })
                .collect::<Vec<_>>()
        })
    });
    let l1 = Signal::derive(move || config.with(|c| c.l1 as f64));
    let value = move |f: fn(&ToyReport) -> String| {
        move || shown.with(|s| s.as_ref().map(f).unwrap_or_else(|| "–".into()))
    };

    view! {
        <WidgetFrame class="sae sae-toy" label="Sparse autoencoder" title="Live: a sparse autoencoder finds the toy model's features" badge="CPU · engine::labs::sparse_autoencoder">
            <p class="widget-note">{format!(
                "The toy model: {} features, each zero with probability {}, squeezed into {} dimensions and trained {} steps (seed 1). The SAE reads its hidden vectors h = Wx and never sees x or W.",
                toy_config().features, toy_config().sparsity, toy_config().hidden, number_field::with_commas(TOY_STEPS as u64)
            )}</p>
            <div class="xor-controls">
                <Slider label="λ" symbol=true name="sae-l1" min=-4.0 max=Signal::derive(|| 0.0) step=0.05 log=true value=l1
                    on_change=Callback::new(move |v: f64| config.update(|c| c.l1 = v as f32)) format=|v| format!("{v:.3}") />
                <ConfigField label="latents" name="sae-latents" config=config get=|c| c.latents as f64 set=|c, v| c.latents = v as usize check=latents_rule />
                <ConfigField label="seed" name="sae-seed" config=config get=|c| c.seed as f64 set=|c, v| c.seed = v as u64 check=number_field::seed />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="sae-train" disabled=done on:click=move |_| running.update(|r| *r = !*r)>
                    {move || if running.get() { "Pause" } else if done() { "Finished" } else if shown.with(|s| s.is_none()) { "Train 2,000 steps" } else { "Resume" }}
                </button>
                <button data-name="sae-sweep" disabled=move || running.get() || !sweep.with(Vec::is_empty) on:click=move |_| start_sweep()>"Sweep λ: 0.001, 0.01, 0.1, 1"</button>
                <button data-name="sae-reset" on:click=move |_| { sweep.set(Vec::new()); reset() }>"Reset"</button>
            </div>
            <p class="bp-status" role="status" data-status="sae">{move || {
                if toy_training() {
                    format!("Training the toy model: step {} of {}…", toy_progress.get(), number_field::with_commas(TOY_STEPS as u64))
                } else {
                    status.get()
                }
            }}</p>
            <dl class="bp-values">
                <div><dt>"steps"</dt><dd data-value="sae-steps">{value(|r| r.steps.to_string())}</dd></div>
                <div><dt>"MSE"</dt><dd data-value="sae-mse">{value(|r| format!("{:.6}", r.eval.mse))}</dd></div>
                <div><dt>"L0 (active latents)"</dt><dd data-value="sae-l0">{value(|r| format!("{:.3}", r.eval.l0))}</dd></div>
                <div><dt>"variance explained"</dt><dd data-value="sae-fve">{value(|r| format!("{:.4}", r.eval.explained))}</dd></div>
                <div><dt>"dead latents"</dt><dd data-value="sae-dead">{value(|r| r.dead.to_string())}</dd></div>
                <div><dt>"dense latents"</dt><dd data-value="sae-dense">{value(|r| r.dense.to_string())}</dd></div>
                <div><dt>"features recovered (cos > 0.99)"</dt><dd data-value="sae-recovered">{value(|r| format!("{} of {}", r.recovered(RECOVERED), r.best.len()))}</dd></div>
                <div><dt>"worst best cosine"</dt><dd data-value="sae-worst">{value(|r| format!("{:.4}", r.best.iter().fold(1.0f32, |m, b| m.min(b.0))))}</dd></div>
            </dl>
            <SaeCurves history=history l0_caption="L0: latents active per input. With S = 0.95 and 20 features, an input has 1 feature on, on average." />
            <div class="table-wrap">
                <table class="sae-features">
                    <caption>"Each true feature Wᵢ and the decoder direction closest to it"</caption>
                    <thead><tr><th scope="col">"feature"</th><th scope="col">"‖Wᵢ‖"</th><th scope="col">"latent"</th><th scope="col">"best cosine"</th></tr></thead>
                    <tbody>
                        {move || shown.with(|s| s.as_ref().map(|r| r.best.iter().zip(&r.norms).enumerate().map(|(i, (&(cos, latent), &norm))| {
                            let width = format!("{:.1}%", 100.0 * cos.clamp(0.0, 1.0));
                            view! {
                                <tr class:weak=cos <= RECOVERED>
                                    <th scope="row">{i + 1}</th>
                                    <td>{format!("{norm:.3}")}</td>
                                    <td>{latent + 1}</td>
                                    <td class="sae-cos"><span class="sae-bar" style:width=width></span><span data-value=format!("sae-cos-{i}")>{fmt(cos, 4)}</span></td>
                                </tr>
                            }
                        }).collect_view()))}
                    </tbody>
                </table>
            </div>
            <h4 class="lab-subtitle">"Sparsity against reconstruction, across λ"</h4>
            <p class="widget-note" data-status="sae-sweep">{move || sweep.with(|q| if q.is_empty() { String::new() } else { format!("Sweeping λ: {} more after this run.", q.len()) })}</p>
            <SaeTradeoff runs=points current=l1 prefix="sae" unit="input" />
            <div class="table-wrap">
                <table class="sae-runs">
                    <caption>"Finished runs: compare λ"</caption>
                    <thead><tr><th scope="col">"λ"</th><th scope="col">"latents"</th><th scope="col">"seed"</th><th scope="col">"L0"</th><th scope="col">"MSE"</th><th scope="col">"explained"</th><th scope="col">"recovered"</th><th scope="col">"dead / dense"</th></tr></thead>
                    <tbody>
                        {move || finished.with(|f| f.iter().enumerate().map(|(k, run)| {
                            let r = &run.report;
                            view! {
                                <tr data-value=format!("sae-run-{k}")>
                                    <td>{format!("{:.3}", run.l1)}</td>
                                    <td>{run.latents}</td>
                                    <td>{run.seed}</td>
                                    <td>{format!("{:.3}", r.eval.l0)}</td>
                                    <td>{format!("{:.6}", r.eval.mse)}</td>
                                    <td>{format!("{:.4}", r.eval.explained)}</td>
                                    <td>{r.recovered(RECOVERED)}</td>
                                    <td>{format!("{} / {}", r.dead, r.dense)}</td>
                                </tr>
                            }
                        }).collect_view())}
                    </tbody>
                </table>
            </div>
            <p class="widget-note">{format!(
                "Statistics on a fixed batch of {} inputs. A latent is dead if it is never active on it, dense if active on more than {:.0}% of it. Decoder directions are rescaled to length 1 after every Adam step (learning rate {}, {} inputs a step).",
                number_field::with_commas(TOY_EVAL as u64), 100.0 * DENSE_FRACTION, toy_sae_config(1).lr, toy_sae_config(1).batch
            )}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_have_clear_limits_and_ticks_stay_small() {
        assert!(latents_rule(0.0).is_err() && latents_rule(201.0).is_err() && latents_rule(2.5).is_err());
        assert!(latents_rule(40.0).is_ok());
        // 40 latents on 10 dimensions, 256 inputs a step: 10 steps a tick.
        assert_eq!(steps_per_tick(&toy_sae_config(1)), 10);
        assert_eq!(steps_per_tick(&SaeConfig { latents: 200, ..toy_sae_config(1) }), 2);
    }
}
