//! Chapter 3's XOR experiment, trained live: loss curve, the four predictions, and the
//! decision surface over the unit square, all from `engine::models::mlp`.

use leptos::prelude::*;

use engine::core::optim::{Kind, Method};
use engine::models::mlp::{Init, XorConfig, XOR_INPUTS, XOR_TARGETS};

use crate::controls::backend_select::BackendSelect;
use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{is_whole_in, learning_rate, rule, seed, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::{use_gpu, GpuState};
use crate::hooks::interval::use_interval;
use crate::hooks::training_run::machine::{Backend, Run};
use crate::hooks::training_run::xor::{XorCpu, XorReading};
use crate::hooks::training_run::{use_training_run, OnLoss};
use crate::plot::chart::LineChart;
use crate::plot::describe::{describe_grid, grid_table, DataTable};
use crate::plot::heatmap::probability_grid;
use crate::plot::scatter::in_unit_square;

/// The seed's run length.
pub const EPOCHS: usize = 10_000;
/// Training steps per animation tick: 10,000 epochs take about 100 ticks.
const STEPS_PER_TICK: usize = 100;
/// Cells per side of the decision-surface grid.
pub const GRID: usize = 21;

/// What the decision surface shows, the start of its accessible name.
const SURFACE_TITLE: &str = "Decision surface: predicted probability of 1 over the unit square";

/// The surface's rows by their x₂ (top row first) and its columns by their x₁.
fn surface_rows() -> Vec<String> {
    surface_points().iter().step_by(GRID).map(|p| format!("x₂ = {:.2}", p[1])).collect()
}
fn surface_cols() -> Vec<String> {
    surface_points().iter().take(GRID).map(|p| format!("x₁ = {:.2}", p[0])).collect()
}

/// The centres of a GRID x GRID grid over the unit square, row by row from the top (y = 1).
pub fn surface_points() -> Vec<[f32; 2]> {
    let step = 1.0 / (GRID - 1) as f32;
    (0..GRID).flat_map(|row| (0..GRID).map(move |col| [col as f32 * step, 1.0 - row as f32 * step])).collect()
}

/// The initializers, as the menu offers them.
impl Choosable for Init {
    fn all() -> &'static [Self] {
        &[Init::He, Init::Xavier]
    }
    fn value(self) -> &'static str {
        match self {
            Init::He => "he",
            Init::Xavier => "xavier",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Init::He => "He",
            Init::Xavier => "Xavier",
        }
    }
}

/// The engine's optimizers, labelled with the settings this widget trains them with.
impl Choosable for Kind {
    fn all() -> &'static [Self] {
        &Kind::ALL
    }
    fn value(self) -> &'static str {
        self.key()
    }
    fn label(self) -> &'static str {
        match self {
            Kind::Momentum => "Momentum (β 0.9)",
            Kind::AdamW => "AdamW (λ 0.01)",
            other => other.name(),
        }
    }
}

/// The update rule the XOR network trains with for each optimizer: each method's usual
/// settings, and a weight decay of 0.01 for AdamW.
fn method_for(kind: Kind) -> Method {
    match kind {
        Kind::Sgd => Method::Sgd,
        Kind::Momentum => Method::momentum(),
        Kind::RmsProp => Method::rmsprop(),
        Kind::Adam => Method::adam(),
        Kind::AdamW => Method::adamw(0.01),
    }
}

fn hidden_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 64.0), "Use a whole number from 1 to 64.")
}

/// The widget.
#[component]
pub fn XorTrainer() -> impl IntoView {
    let config = RwSignal::new(XorConfig::default());
    let optimizer = RwSignal::new(Kind::Sgd);
    let backend = RwSignal::new(Backend::Cpu);
    let losses = RwSignal::new(Vec::<f32>::new());
    // Ask the browser for a GPU once; run on it when there is one.
    let gpu = use_gpu(move || {
        if losses.with_untracked(Vec::is_empty) {
            backend.set(Backend::Gpu);
        }
    });
    // The network on the CPU, or on the GPU with the CPU side holding the last weights read
    // back (so a lost device hands over to the CPU without losing the run).
    let fresh = XorCpu::new(XorConfig::default(), surface_points().into());
    let first = fresh.reading();
    let run = use_training_run(Some(Run::new(fresh, None)));
    let predictions = RwSignal::new(first.predictions);
    let surface = RwSignal::new(first.surface);
    let dead = RwSignal::new(first.dead);
    let status = RwSignal::new(String::new());

    // What the page shows, from a chunk's reading.
    let show = move |reading: &XorReading| {
        predictions.set(reading.predictions.clone());
        surface.set(reading.surface.clone());
        dead.set(reading.dead);
    };
    let reset = move || {
        let device = gpu.device(backend.get_untracked());
        let cpu = XorCpu::new(config.get_untracked(), surface_points().into());
        show(&cpu.reading());
        let (next, _) = Run::on(&device, cpu, |cpu, g| Ok(cpu.to_gpu(g)));
        run.restart(Some(next));
        losses.set(Vec::new());
        status.set(String::new());
    };

    // A lost device: continue on the CPU from the last weights read back.
    run.hand_over_when_lost(gpu, backend, move |reason, _| {
        let epoch = losses.with_untracked(Vec::len);
        status.set(format!("The GPU was lost ({reason}). Training continues on the CPU from the weights read back at epoch {epoch}."));
    });
    // Any change of setting or backend starts a fresh run from that seed.
    run.reset_on_change(
        backend,
        move || {
            config.track();
        },
        reset,
    );

    let finish_chunk = move |new_losses: &[f32]| {
        let diverged = new_losses.iter().any(|l| !l.is_finite());
        losses.update(|l| l.extend(new_losses));
        if diverged {
            run.pause();
            status.set(
                "Diverged: the loss is no longer a finite number. Lower the learning rate, or reset.".into(),
            );
        } else if losses.with_untracked(Vec::len) >= EPOCHS {
            run.pause();
            status.set(format!(
                "Finished {EPOCHS} epochs on the {}. Predictions {:.3?}.",
                backend.get_untracked().name(),
                predictions.get_untracked()
            ));
        }
    };
    // A chunk lost with the device leaves the run going, on the CPU from the weights of the
    // previous chunk, which the CPU side holds.
    let advance = move |steps: usize| {
        run.advance_on(gpu, steps, OnLoss::GoOn, move |reading| {
            show(&reading);
            finish_chunk(&reading.losses);
        });
    };

    use_interval(run.running, std::time::Duration::from_millis(16), move || {
        let done = losses.with_untracked(Vec::len);
        if done < EPOCHS {
            advance(STEPS_PER_TICK.min(EPOCHS - done));
        }
    });
    let running = run.running;
    let busy = run.busy;

    let curve = Signal::derive(move || losses.with(|l| l.iter().map(|&v| v as f64).collect()));
    let badge = move || match backend.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", gpu.description()),
        Backend::Cpu => "Running on: CPU (WebAssembly) · engine::models::mlp".to_string(),
    };
    let gpu_note = move || {
        match gpu.state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => format!("WebGPU is available ({d}). The GPU path runs the same network in WGSL kernels (crates/gpu), checked against the CPU engine."),
        GpuState::Unavailable(why) => why,
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    }
    };

    view! {
        <WidgetFrame class="xor" label="Train a network on XOR" title="Live: a 2-H-1 network learns XOR"
            badge=Signal::derive(badge) backend=backend>
            <div class="xor-controls">
                <ConfigField label="learning rate" name="xor-lr" config=config get=|c| c.lr as f64 set=|c, v| c.lr = v as f32 check=learning_rate />
                <ConfigField label="hidden units" name="xor-hidden" config=config get=|c| c.hidden as f64 set=|c, v| c.hidden = v as usize check=hidden_rule />
                <ConfigField label="seed" name="xor-seed" config=config get=|c| c.seed as f64 set=|c, v| c.seed = v as u64 check=seed />
                <Choice label="activation" name="xor-activation" value=Signal::derive(move || config.with(|c| c.activation))
                    on_change=Callback::new(move |a| config.update(|c| c.activation = a)) />
                <Choice label="initializer" name="xor-init" value=Signal::derive(move || config.with(|c| c.init))
                    on_change=Callback::new(move |i| config.update(|c| c.init = i)) />
                <Choice label="optimizer" name="xor-optimizer" value=optimizer
                    on_change=Callback::new(move |kind| {
                        config.update(|c| c.method = method_for(kind));
                        optimizer.set(kind);
                    }) />
                <BackendSelect name="xor-backend" value=backend gpu_state=gpu.state
                    on_change=Callback::new(move |b| backend.set(b)) note_id="xor-backend-note" />
            </div>
            <p id="xor-backend-note" class="widget-note" data-gpu-note="xor">{gpu_note}</p>
            <div class="bp-controls">
                <button class="primary" on:click=move |_| if running.get_untracked() { run.pause() } else { run.play() }>
                    {move || if running.get() { "Pause" } else if losses.with(|l| l.is_empty()) { "Train 10,000 epochs" } else { "Resume" }}
                </button>
                <button on:click=move |_| advance(1) disabled=move || running.get() || busy.get()>"Single step"</button>
                <button on:click=move |_| reset()>"Reset"</button>
                <span class="epoch-count" data-value="xor-epochs">{move || losses.with(Vec::len)}</span>" epochs"
            </div>
            <p class="bp-status" role="status" data-status="xor">{move || status.get()}</p>
            <div class="xor-grid">
                <figure class="xor-surface">
                    <svg viewBox="-14 -4 232 232" role="img"
                        aria-label=move || surface.with(|s| describe_grid(SURFACE_TITLE, s, GRID, &surface_rows(), &surface_cols()))>
                        {move || {
                            probability_grid(&surface.get(), GRID, 210.0).into_iter().map(|c| {
                                view! {
                                    <rect class="heat" x=c.x y=c.y width=c.size height=c.size
                                        style=("--heat", c.heat.light_css()) style=("--heat-dark", c.heat.dark_css()) />
                                }
                            }).collect_view()
                        }}
                        {XOR_INPUTS.iter().zip(XOR_TARGETS).map(|(x, t)| {
                            let (cx, cy) = in_unit_square(x[0] as f64, x[1] as f64, 200.0, 5.0);
                            let class = if t > 0.5 { "xor-point one" } else { "xor-point zero" };
                            view! { <circle class=class cx=cx cy=cy r="7" /> }
                        }).collect_view()}
                        <text class="tick" x="0" y="226">"0"</text><text class="tick" x="200" y="226">"1"</text>
                        <text class="tick" x="-12" y="10">"1"</text>
                    </svg>
                    <figcaption>"Predicted P(XOR = 1): orange above 0.5, blue below; rings are the four training points (filled = 1)."</figcaption>
                    <DataTable caption="Predicted probability of 1 at each grid point"
                        table=Signal::derive(move || surface.with(|s| grid_table(s, GRID, &surface_rows(), &surface_cols()))) />
                </figure>
                <div>
                    <table class="grad-check xor-predictions">
                        <thead><tr><th>"x₁"</th><th>"x₂"</th><th>"target"</th><th>"prediction"</th></tr></thead>
                        <tbody>
                            {move || predictions.get().into_iter().enumerate().map(|(i, p)| view! {
                                <tr>
                                    <td>{XOR_INPUTS[i][0]}</td><td>{XOR_INPUTS[i][1]}</td><td>{XOR_TARGETS[i]}</td>
                                    <td data-value=format!("xor-pred-{i}")>{format!("{p:.4}")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="widget-note">{move || {
                        let d = dead.get();
                        let h = config.get().hidden;
                        if d == 0 { format!("All {h} hidden units are alive.") } else { format!("{d} of {h} hidden units are dead (zero on all four inputs, so they get no gradient).") }
                    }}</p>
                    <Show when=move || !losses.with(|l| l.is_empty())>
                        <figure class="bp-curve">
                            <LineChart values=curve x_label="epoch" aria_label="Training loss" />
                            <figcaption data-value="xor-loss">{move || losses.with(|l| l.last().map(|v| format!("{v:.6}")).unwrap_or_default())}</figcaption>
                        </figure>
                    </Show>
                </div>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_the_unit_square_from_the_top_left() {
        let points = surface_points();
        assert_eq!(points.len(), GRID * GRID);
        assert_eq!(points[0], [0.0, 1.0]);
        assert_eq!(points[GRID * GRID - 1], [1.0, 0.0]);
    }

    #[test]
    fn settings_have_clear_limits() {
        assert!(hidden_rule(0.0).is_err());
        assert!(hidden_rule(2.5).is_err());
        assert!(hidden_rule(4.0).is_ok());
        assert!(seed(-1.0).is_err());
        assert!(learning_rate(0.0).is_err());
    }
}
