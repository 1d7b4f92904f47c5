//! Chapter 10's induction heads: a two-layer and a one-layer attention-only transformer
//! trained side by side on sequences with a repeated segment, with the loss on first and on
//! repeated tokens, every head's previous-token and induction scores, the attention patterns
//! on one sample and head ablation, from `engine::labs::induction_heads`. The models train
//! on WebGPU (`gpu::GpuInduction`, through `hooks::training_run`) when the browser has it,
//! else on the CPU; the CPU side's trainers evaluate the weights either way.

use std::time::Duration;

use leptos::prelude::*;

use engine::labs::induction_heads::{chance_loss, head_name, Config, Eval, Sequence, Trainer};

use crate::controls::backend_select::BackendSelect;
use crate::controls::number_field::{self, learning_rate, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::{use_gpu, GpuState};
use crate::hooks::interval::use_interval;
use crate::hooks::training_run::induction::{InductionCpu, InductionGpu};
use crate::hooks::training_run::machine::Backend;
use crate::hooks::training_run::{use_training_run, OnLoss};
use crate::plot::chart::{Chart, Series};
use crate::plot::describe::{describe_grid, grid_table, DataTable};
use crate::plot::heatmap::weight_grid;

/// Steps in a full run.
pub const RUN_STEPS: usize = 600;
/// Milliseconds of CPU training per timer tick, so the page stays responsive.
const TICK_BUDGET_MS: f64 = 60.0;
const TICK: Duration = Duration::from_millis(16);
/// Steps per GPU chunk: one submit, read back once.
const GPU_CHUNK: usize = 50;
/// Side of one attention heatmap, in SVG units.
const MAP: f64 = 200.0;
/// The repeated-token loss the page reports crossing, on the way down.
pub const DROP_FROM: f32 = 2.0;
pub const DROP_TO: f32 = 1.2;

#[derive(Clone, Debug, Default, PartialEq)]
struct Snapshot {
    step: usize,
    two: Vec<Eval>,
    one: Vec<Eval>,
    /// The two-layer model's heads' patterns on the sample.
    patterns: Vec<Vec<f32>>,
    sample: Option<Sequence>,
    drop_from: Option<usize>,
    drop_to: Option<usize>,
    best_previous: usize,
    best_induction: usize,
}

fn snapshot(pair: &InductionCpu) -> Snapshot {
    let sample = pair.two.eval_set.first().cloned();
    let patterns =
        sample.as_ref().and_then(|s| pair.two.model.attention_patterns(s).ok()).unwrap_or_default();
    Snapshot {
        step: pair.two.step,
        two: pair.two.history.clone(),
        one: pair.one.history.clone(),
        patterns,
        sample,
        drop_from: pair.two.first_step_below(DROP_FROM),
        drop_to: pair.two.first_step_below(DROP_TO),
        best_previous: pair.two.best_previous_token_head(),
        best_induction: pair.two.best_induction_head(),
    }
}

fn curve(evals: &[Eval], class: &str, name: &str, value: fn(&Eval) -> f32) -> Series {
    let points = evals.iter().map(|e| (e.step as f64, value(e) as f64)).collect();
    Series { points, class: class.into(), name: name.into(), stopped: false }
}

/// A loss with three decimals, or in scientific notation once a wild run has blown it up.
fn loss_text(v: f32) -> String {
    if v.abs() < 1e4 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// The widget.
#[component]
pub fn InductionHeads() -> impl IntoView {
    let config = RwSignal::new(Config::two_layer(1));
    let run = use_training_run::<InductionCpu, InductionGpu>(None);
    let running = run.running;
    let shown = RwSignal::new(Snapshot::default());
    let backend = RwSignal::new(Backend::Cpu);
    let gpu = use_gpu(move || {
        if shown.with_untracked(|s| s.step == 0) {
            backend.set(Backend::Gpu);
        }
    });
    let status = RwSignal::new(String::new());
    // The head ablated last and what the two-layer model scored without it.
    let ablation = RwSignal::new(None::<(usize, Eval)>);

    let on_name = move || run.with(|r| r.backend().name()).unwrap_or("CPU");
    let show = move || {
        let Some((s, error)) = run.with(|r| (snapshot(r.cpu()), r.cpu().error.clone())) else { return };
        ablation.set(None);
        if let Some(message) = error {
            if running.get_untracked() {
                run.pause();
                status.set(format!("{message} Lower the learning rate, or reset."));
            }
        } else if s.step >= RUN_STEPS && running.get_untracked() {
            run.pause();
            status.set(format!("Finished {RUN_STEPS} steps on the {}.", on_name()));
        }
        shown.set(s);
    };
    let reset = move || {
        ablation.set(None);
        let c = config.get_untracked();
        let made = Trainer::new(c).and_then(|two| Ok((two, Trainer::new(Config { n_layers: 1, ..c })?)));
        match made {
            Ok((two, one)) => {
                let cpu = InductionCpu::new(two, one, RUN_STEPS, TICK_BUDGET_MS, crate::browser::now_ms);
                let refused = run.restart_on(&gpu, backend, cpu, |cpu, g| cpu.to_gpu(g));
                status.set(refused.map_or_else(String::new, |why| {
                    format!("The GPU models could not be built ({why}); training on the CPU.")
                }));
                show();
            }
            Err(message) => {
                run.restart(None);
                shown.set(Snapshot::default());
                status.set(format!("Cannot train this setup: {message}"));
            }
        }
    };
    reset();
    // A lost device: go on on the CPU from the weights last read back.
    run.hand_over_when_lost(gpu, backend, move |reason, at| {
        let resume = if running.get_untracked() { "" } else { " Press Resume to go on." };
        status.set(format!(
            "The GPU was lost ({reason}); the models go on on the CPU from the weights read back at step {}.{resume}",
            at.unwrap_or(0)
        ));
    });
    // A new setting or backend starts the run again.
    run.reset_on_change(
        backend,
        move || {
            config.track();
        },
        reset,
    );
    let tick = move || {
        if !running.get_untracked() {
            return;
        }
        let steps = if backend.get_untracked() == Backend::Gpu { GPU_CHUNK } else { RUN_STEPS };
        run.advance_on(gpu, steps, OnLoss::Pause, move |_| show());
    };
    use_interval(running, TICK, tick);
    let train = move |_| {
        if running.get_untracked() {
            run.pause();
        } else {
            status.set(String::new());
            run.play();
        }
    };
    let ablate = move |head: usize| {
        let result = run.with(|r| r.cpu().two.ablated(Some(head)));
        match result {
            Some(Ok(eval)) => ablation.set(Some((head, eval))),
            Some(Err(message)) => status.set(format!("Cannot ablate this head: {message}")),
            None => {}
        }
    };
    let badge = move || match backend.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", gpu.description()),
        Backend::Cpu => "Running on: CPU (WebAssembly) · engine::labs::induction_heads".to_string(),
    };
    let gpu_note = move || {
        match gpu.state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => format!(
            "WebGPU is available: {}. Each model trains in WGSL kernels (crates/gpu), {GPU_CHUNK} steps a submit; the engine on the CPU scores the weights read back.",
            d.trim()
        ),
        GpuState::Unavailable(why) => format!("{why} The models train on the CPU."),
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    }
    };
    let finished = move || shown.with(|s| s.step >= RUN_STEPS);
    let heads = move || config.with(|c| c.n_layers * c.n_heads);
    let name = move |h: usize| config.with(|c| head_name(c, h));
    let chance = move || config.with(|c| chance_loss(c.vocab));

    let losses = Signal::derive(move || {
        let chance_line = config.with(|c| chance_loss(c.vocab));
        shown.with(|s| {
            let mut series = vec![
                curve(&s.two, "first", "2 layers, first occurrences", |e| e.first_loss),
                curve(&s.two, "repeated", "2 layers, repeated tokens", |e| e.repeated_loss),
                curve(&s.one, "one-layer", "1 layer, repeated tokens", |e| e.repeated_loss),
            ];
            if let (Some(a), Some(b)) = (s.two.first(), s.two.last()) {
                let points = vec![(a.step as f64, chance_line as f64), (b.step as f64, chance_line as f64)];
                let name = config.with(|c| format!("chance, ln {}", c.vocab));
                series.push(Series { points, class: "chance".into(), name, stopped: false });
            }
            series
        })
    });
    let score_series = move |pick: fn(&Eval) -> &Vec<f32>| {
        Signal::derive(move || {
            let names: Vec<String> = (0..heads()).map(name).collect();
            shown.with(|s| {
                names
                    .iter()
                    .enumerate()
                    .map(|(h, n)| {
                        let points = s
                            .two
                            .iter()
                            .map(|e| (e.step as f64, pick(e).get(h).copied().unwrap_or(0.0) as f64))
                            .collect();
                        Series { points, class: format!("head-{h}"), name: n.clone(), stopped: false }
                    })
                    .collect::<Vec<Series>>()
            })
        })
    };
    let previous_series = score_series(|e| &e.previous_token);
    let induction_series = score_series(|e| &e.induction);
    let x_span = Signal::derive(|| RUN_STEPS as f64);

    view! {
        <WidgetFrame class="induction" label="Induction heads" title="Live: induction heads forming" badge=Signal::derive(badge) backend=backend>
            <div class="xor-controls">
                <BackendSelect name="ind-backend" value=backend gpu_state=gpu.state on_change=Callback::new(move |b| backend.set(b)) note_id="ind-backend-note" />
                <ConfigField label="seed" name="ind-seed" config=config get=|c| c.seed as f64 set=|c, v| c.seed = v as u64 check=number_field::seed />
                <ConfigField label="learning rate" name="ind-lr" config=config get=|c| c.lr as f64 set=|c, v| c.lr = v as f32 check=learning_rate />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="ind-train" disabled=finished on:click=train>
                    {move || if running.get() { "Pause".to_string() } else if finished() { "Finished".to_string() } else if shown.with(|s| s.step == 0) { format!("Train {RUN_STEPS} steps") } else { "Resume".to_string() }}
                </button>
                <button data-name="ind-reset" on:click=move |_| reset()>"Reset"</button>
            </div>
            <p id="ind-backend-note" class="widget-note" data-gpu-note="ind">{gpu_note}</p>
            <p class="bp-status" role="status" data-status="ind">{move || status.get()}</p>
            <dl class="bp-values">
                <div><dt>"step"</dt><dd data-value="ind-step">{move || shown.with(|s| s.step)}</dd></div>
                <div><dt>"2 layers: loss on first occurrences"</dt><dd data-value="ind-first">{move || latest(shown, |e| loss_text(e.first_loss))}</dd></div>
                <div><dt>"2 layers: loss on repeated tokens"</dt><dd data-value="ind-repeated">{move || latest(shown, |e| loss_text(e.repeated_loss))}</dd></div>
                <div><dt>"1 layer: loss on repeated tokens"</dt><dd data-value="ind-one-repeated">{move || shown.with(|s| s.one.last().map(|e| loss_text(e.repeated_loss)).unwrap_or_else(|| "–".into()))}</dd></div>
                <div><dt>{move || config.with(|c| format!("chance, ln {}", c.vocab))}</dt><dd>{move || loss_text(chance())}</dd></div>
                <div><dt>{format!("repeated loss first below {DROP_FROM:.1} / {DROP_TO:.1}")}</dt><dd data-value="ind-drop">{move || shown.with(|s| {
                    let at = |v: Option<usize>| v.map(|v| format!("step {v}")).unwrap_or_else(|| "not yet".into());
                    format!("{} / {}", at(s.drop_from), at(s.drop_to))
                })}</dd></div>
            </dl>
            <figure class="bp-curve ind-losses">
                <Chart class="ind-chart" height=210.0 series=losses x_span=x_span y_cap=4.0 legend=true x_label="training step" aria_label="Loss on first occurrences and on repeated tokens, two layers and one layer" />
                <figcaption>"Mean cross-entropy on 48 held-out sequences, every 10 steps (values above 4 drawn at 4)."</figcaption>
            </figure>
            <div class="ind-scores">
                <figure class="bp-curve">
                    <Chart class="ind-chart" height=170.0 series=previous_series x_span=x_span legend=true x_label="training step" aria_label="Each head's previous-token score" />
                    <figcaption>"Previous-token score: mean attention from each position to the one before it."</figcaption>
                </figure>
                <figure class="bp-curve">
                    <Chart class="ind-chart" height=170.0 series=induction_series x_span=x_span legend=true x_label="training step" aria_label="Each head's induction score" />
                    <figcaption>"Induction score: mean attention from a repeated token to the token after its earlier occurrence."</figcaption>
                </figure>
            </div>
            <div class="table-wrap">
                <table class="ind-table">
                    <thead><tr><th scope="col">"head"</th><th scope="col">"previous-token"</th><th scope="col">"induction"</th><th scope="col">"ablation"</th></tr></thead>
                    <tbody>
                        {move || (0..heads()).map(|h| view! {
                            <tr class:best=move || shown.with(|s| s.best_induction == h || s.best_previous == h)>
                                <th scope="row">{name(h)}</th>
                                <td data-value=format!("ind-prev-{h}")>{move || latest(shown, move_prev(h))}</td>
                                <td data-value=format!("ind-ind-{h}")>{move || latest(shown, move_ind(h))}</td>
                                <td><button data-name=format!("ind-ablate-{h}") aria-label=format!("ablate {}", name(h)) on:click=move |_| ablate(h)>"ablate"</button></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="ind-ablation" data-value="ind-ablation">{move || ablation.with(|a| match a {
                Some((h, e)) => {
                    let before = shown.with(|s| s.two.last().map(|b| loss_text(b.repeated_loss)).unwrap_or_default());
                    format!("Without {}: repeated-token loss {} (with it {before}), first occurrences {}.", name(*h), loss_text(e.repeated_loss), loss_text(e.first_loss))
                }
                None => "Ablate a head to zero its output in the two-layer model and score it again.".to_string(),
            })}</p>
            <div class="ind-maps">
                {move || shown.with(|s| {
                    let side = config.with(|c| c.context);
                    s.patterns.iter().enumerate().map(|(h, p)| {
                        let cells = weight_grid(p, side, MAP);
                        let title = format!("Attention pattern of head {} (row: attending position, column: attended position)", name(h));
                        let label = describe_grid(&title, p, side, &[], &[]);
                        let weights = p.clone();
                        let table = Signal::derive(move || grid_table(&weights, side, &[], &[]));
                        view! {
                            <figure class="ind-map">
                                <svg viewBox=format!("0 0 {MAP} {MAP}") role="img" aria-label=label>
                                    <rect class="frame" x=0.0 y=0.0 width=MAP height=MAP />
                                    {cells.into_iter().map(|c| view! {
                                    <rect class="heat" x=c.x y=c.y width=c.size height=c.size
                                        style=("--heat", c.heat.light_css()) style=("--heat-dark", c.heat.dark_css()) />
                                }).collect_view()}
                                </svg>
                                <figcaption>{name(h)}</figcaption>
                                <DataTable table=table caption=format!("Attention weights of head {}", name(h)) />
                            </figure>
                        }
                    }).collect_view()
                })}
            </div>
            <p class="ind-note">{move || shown.with(|s| s.sample.as_ref().map(|q| format!(
                "Attention of every head on one held-out sequence (row: the attending position, column: the attended one; the further a cell's colour from the page's, the more weight). In it, tokens {} to {} repeat as {} to {}: a previous-token head lights the diagonal just left of the main one, an induction head a stripe {} places left of the main diagonal in the rows of the copy.",
                q.start + 1, q.start + q.len, q.start + q.len + 1, q.start + 2 * q.len, q.len - 1
            )).unwrap_or_default())}</p>
        </WidgetFrame>
    }
}

/// A number from the two-layer model's latest evaluation, or a dash before there is one.
fn latest(shown: RwSignal<Snapshot>, f: impl Fn(&Eval) -> String) -> String {
    shown.with(|s| s.two.last().map(f).unwrap_or_else(|| "–".into()))
}

fn move_prev(h: usize) -> impl Fn(&Eval) -> String {
    move |e| e.previous_token.get(h).map(|v| format!("{v:.3}")).unwrap_or_default()
}

fn move_ind(h: usize) -> impl Fn(&Eval) -> String {
    move |e| e.induction.get(h).map(|v| format!("{v:.3}")).unwrap_or_default()
}
