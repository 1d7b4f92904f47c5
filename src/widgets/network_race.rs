//! Chapter 8's network race: the same 2-16-1 network, from the same initial weights, trained
//! on two moons by each optimizer; the loss curves overlaid. On the GPU (`gpu::GpuMlp`) when
//! WebGPU is available, else on the CPU (`engine::labs::network_race::NetworkRace`).

use leptos::prelude::*;

use engine::labs::network_race::{default_racers, race_data, NetworkRace};
use engine::labs::optimizer_race::Racer;

use crate::controls::backend_select::BackendSelect;
use crate::controls::number_field::{learning_rate, NumberField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::{use_gpu, GpuState};
use crate::hooks::interval::use_interval;
use crate::hooks::training_run::machine::Backend;
use crate::hooks::training_run::machine::Run;
use crate::hooks::training_run::race::RaceCpu;
use crate::hooks::training_run::{use_training_run, OnLoss};
use crate::plot::chart::{Chart, Series};
use crate::plot::optimizer_class::{Kind, OptimizerClass};

/// Full-batch steps in one race.
pub const STEPS: usize = 500;
/// The learning-rate fields' names, in `Kind::ALL`'s order.
const LR_NAMES: [&str; 5] =
    ["net-lr-sgd", "net-lr-momentum", "net-lr-rmsprop", "net-lr-adam", "net-lr-adamw"];
/// Steps per animation tick, for each network.
const STEPS_PER_TICK: usize = 20;

/// What the legend says about one optimizer's run.
pub fn status(losses: &[f32], diverged_at: Option<usize>, accuracy: f32) -> String {
    match (diverged_at, losses.last()) {
        (Some(k), _) => format!("diverged at step {k}"),
        (None, Some(loss)) => format!("loss {loss:.4} · accuracy {:.1}%", 100.0 * accuracy),
        (None, None) => "ready".to_string(),
    }
}

/// The widget.
#[component]
pub fn NetworkRaceWidget() -> impl IntoView {
    let defaults = default_racers();
    let lrs = RwSignal::new(defaults.map(|r| r.lr as f64));
    let included = RwSignal::new([true; 5]);
    let backend = RwSignal::new(Backend::Cpu);

    // The race holds one network per included optimizer; `members[j]` is network j's kind.
    let members = Memo::new(move |_| (0..5).filter(|&i| included.get()[i]).collect::<Vec<usize>>());
    let racers = move || -> Vec<Racer> {
        let lrs = lrs.get_untracked();
        members.get_untracked().iter().map(|&i| Racer { lr: lrs[i] as f32, ..defaults[i] }).collect()
    };
    let run = use_training_run(Some(Run::new(RaceCpu::new(NetworkRace::new(race_data(), &[]), STEPS), None)));
    // What the page shows, copied out of the race after each chunk.
    let losses = RwSignal::new(Vec::<Vec<f32>>::new());
    let diverged = RwSignal::new(Vec::<Option<usize>>::new());
    let accuracy = RwSignal::new(Vec::<f32>::new());
    let message = RwSignal::new(String::new());
    let gpu = use_gpu(move || {
        if losses.with_untracked(|l| l.iter().all(Vec::is_empty)) {
            backend.set(Backend::Gpu);
        }
    });

    let publish = move || {
        run.with(|run| {
            let r = &run.cpu().race;
            losses.set(r.losses.clone());
            diverged.set(r.diverged_at.clone());
            accuracy.set((0..r.nets.len()).map(|j| r.accuracy(j)).collect());
        });
    };
    let reset = move || {
        let racers = racers();
        let cpu = RaceCpu::new(NetworkRace::new(race_data(), &racers), STEPS);
        let refused = run.restart_on(&gpu, backend, cpu, |cpu, g| cpu.to_gpu(g, &racers));
        message.set(refused.map_or_else(String::new, |why| {
            format!("The GPU network could not be built ({why}); running on the CPU.")
        }));
        publish();
    };
    reset();

    // A lost device: go on on the CPU from the weights last read back.
    run.hand_over_when_lost(gpu, backend, move |reason, _| {
        message.set(format!(
            "The GPU was lost ({reason}); the race goes on on the CPU from the weights last read back."
        ));
    });
    // A new setting or backend starts the race again.
    run.reset_on_change(
        backend,
        move || {
            lrs.track();
            members.track();
        },
        reset,
    );

    let done = move || run.with(|run| run.cpu().done()).unwrap_or(true);
    let finish_chunk = move || {
        publish();
        if done() {
            run.pause();
            let name = if backend.get_untracked() == Backend::Gpu { "GPU" } else { "CPU" };
            message.set(format!("Finished {STEPS} steps on the {name}."));
        }
    };
    use_interval(run.running, std::time::Duration::from_millis(30), move || {
        run.advance_on(gpu, STEPS_PER_TICK, OnLoss::Pause, move |_| finish_chunk());
    });
    let running = run.running;

    let series = Signal::derive(move || {
        let classes = members.get().into_iter().map(|i| Kind::ALL[i].class());
        losses.with(|l| {
            l.iter()
                .zip(classes)
                .enumerate()
                .map(|(i, (l, class))| Series::steps(l, format!("s{i} {class}")))
                .collect::<Vec<_>>()
        })
    });
    let badge = move || match backend.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", gpu.description()),
        Backend::Cpu => "Running on: CPU (WebAssembly) · engine::labs::network_race".to_string(),
    };
    let gpu_note = move || match gpu.state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => {
            format!("WebGPU is available: {}. Each network trains in WGSL kernels (crates/gpu).", d.trim())
        }
        GpuState::Unavailable(why) => format!("{why} The race runs on the CPU."),
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    };
    let started = move || losses.with(|l| l.iter().any(|l| !l.is_empty()));

    view! {
        <WidgetFrame class="network-race" label="Optimizers train the same network on two moons"
            title="Live: the same network, five optimizers, two moons" badge=Signal::derive(badge) backend=backend>
            <div class="xor-controls">
                <BackendSelect name="net-backend" value=backend gpu_state=gpu.state on_change=Callback::new(move |b| backend.set(b)) />
            </div>
            <p class="widget-note" data-gpu-note="net">{gpu_note}</p>
            <div class="bp-controls">
                <button class="primary" data-name="net-train" on:click=move |_| {
                    if running.get_untracked() {
                        run.pause();
                    } else {
                        if done() { reset() }
                        run.play();
                    }
                }>{move || if running.get() { "Pause".to_string() } else if started() { "Resume".to_string() } else { format!("Train {STEPS} steps") }}</button>
                <button data-name="net-reset" on:click=move |_| reset()>"Reset"</button>
                <span class="epoch-count"><span data-value="net-steps">{move || losses.with(|l| l.iter().map(Vec::len).max().unwrap_or(0))}</span>{format!(" / {STEPS} steps")}</span>
            </div>
            <p class="bp-status" role="status" data-status="net">{move || message.get()}</p>
            <div class="race-grid">
                <figure class="bp-curve">
                    <Chart class="multi-chart" series=series x_span=(STEPS - 1) as f64 x_label="step" aria_label="Training loss of each optimizer" />
                    <figcaption>"Mean binary cross-entropy on the 200 points, before each step."</figcaption>
                </figure>
                <ul class="race-legend">
                    {Kind::ALL.iter().enumerate().map(|(i, &kind)| {
                        let key = kind.key();
                        let text = move || {
                            let Some(j) = members.get().iter().position(|&m| m == i) else { return "not in the race".to_string() };
                            let l = losses.get();
                            status(l.get(j).map(Vec::as_slice).unwrap_or(&[]), diverged.get().get(j).copied().flatten(), accuracy.get().get(j).copied().unwrap_or(0.0))
                        };
                        view! {
                            <li class=format!("race-entry {}", kind.class())>
                                <label class="race-toggle">
                                    <input type="checkbox" data-name=format!("net-show-{key}") prop:checked=move || included.get()[i]
                                        on:change=move |ev| { let on = event_target_checked(&ev); included.update(|s| s[i] = on) } />
                                    <svg class="swatch" viewBox="0 0 28 10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" /></svg>
                                    <strong>{kind.name()}</strong>
                                </label>
                                <span class="race-status" data-value=format!("net-status-{key}")>{text}</span>
                                <NumberField label="learning rate" name=LR_NAMES[i]
                                    value=Signal::derive(move || lrs.get()[i]) on_change=Callback::new(move |v| lrs.update(|l| l[i] = v)) check=learning_rate />
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_reads_the_race() {
        assert_eq!(status(&[], None, 0.0), "ready");
        assert_eq!(status(&[0.7, 0.31234], None, 0.875), "loss 0.3123 · accuracy 87.5%");
        assert_eq!(status(&[0.7], Some(2), 0.5), "diverged at step 2");
    }
}
