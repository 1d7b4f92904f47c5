//! Chapter 5's training panel: the reader trains a tiny GPT on six Shakespeare tragedies,
//! on WebGPU (`gpu::GpuTransformer`) or on the CPU (`engine::models::train::Trainer`, in a Web
//! Worker), and watches the training loss, the held-out loss and a sample of the model's
//! writing change as it learns. The session behind it (the run on either backend, the
//! worker, the handover when the GPU is lost, publishing and storing the model) is
//! [`use_gpt_session`]; this file is the view.

use leptos::prelude::*;

use engine::models::gpt_recipe::{
    Size, BATCH, CONTEXT, EVAL_EVERY, SAMPLE_CHARS, SAMPLE_TEMPERATURE, VALIDATION_CHARS, WEIGHT_DECAY,
};

use crate::controls::backend_select::BackendSelect;
use crate::controls::number_field::{is_whole_in, learning_rate, rule, seed, NumberField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpt_session::use_gpt_session;
use crate::hooks::gpu::GpuState;
use crate::hooks::tiny_gpt::ModelState;
use crate::hooks::training_run::machine::Backend;
use crate::plot::chart::{Chart, LineChart, Series};

fn lr_rule(v: f64) -> Result<(), String> {
    learning_rate(v)
}

fn steps_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 10.0, 100_000.0), "Use a whole number of steps from 10 to 100,000.")
}

/// The widget.
#[component]
pub fn GptTrainer() -> impl IntoView {
    let session = use_gpt_session();
    let (settings, backend, gpu, corpus) = (session.settings, session.backend, session.gpu, session.corpus);
    let (losses, evals, throughput) = (session.losses, session.evals, session.throughput);
    let (running, busy, syncing) = (session.running(), session.busy(), session.syncing);
    let (diverged, status, notice, store_message) =
        (session.diverged, session.status, session.notice, session.store_message);
    let cpu_where = session.cpu_where;
    let change = move |f: fn(&mut engine::models::gpt_recipe::Settings, f64)| {
        Callback::new(move |v: f64| session.change(|s| f(s, v)))
    };

    let steps_done = Signal::derive(move || losses.with(Vec::len));
    let train_curve = Signal::derive(move || losses.with(|l| l.iter().map(|&v| v as f64).collect()));
    let val_curve = Signal::derive(move || {
        evals.with(|e| {
            vec![Series {
                points: e.iter().map(|e| (e.step as f64, e.val_loss as f64)).collect(),
                ..Series::default()
            }]
        })
    });
    let badge = move || match backend.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", gpu.description()),
        Backend::Cpu => match session.on_page_thread() {
            Some(true) => "Running on: CPU (WebAssembly, page thread) · engine::models::train".to_string(),
            _ => "Running on: CPU (WebAssembly, Web Worker) · engine::models::train".to_string(),
        },
    };
    let cpu_note = move || match cpu_where.get() {
        None => "The CPU trainer is starting…".to_string(),
        Some(place) => format!("On the CPU, the model trains {place}."),
    };
    let gpu_note = move || {
        match gpu.state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => format!("WebGPU is available ({d}), so the panel trains there: crates/gpu runs the same model and recipe in WGSL kernels. Switch to the CPU to compare speeds."),
        GpuState::Unavailable(why) => why,
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    }
    };
    let corpus_note = move || {
        match corpus.get() {
        None => "Downloading the training text…".to_string(),
        Some(Err(e)) => e,
        Some(Ok(c)) => format!(
            "Training text: {} characters of six tragedies, {} distinct. The first {} train the model; the last {} are held out, and the validation loss scores the first {VALIDATION_CHARS} of those.",
            c.chars, c.vocab.len(), c.train.len(), c.held_out.len()
        ),
    }
    };
    let progress = move || {
        let total = settings.get().total_steps;
        let rate = throughput.get().per_second().map_or("—".to_string(), |r| format!("{r:.0}"));
        let on = match backend.get() {
            Backend::Gpu => "GPU",
            Backend::Cpu => "CPU",
        };
        (total, rate, on)
    };
    let model_line = move || match session.model() {
        ModelState::Loading => "The chapter's model: loading…".to_string(),
        ModelState::Failed(e) => format!("The chapter's model: {e}"),
        ModelState::Ready(gpt) => format!("The chapter's model: {}.", gpt.origin.describe()),
    };
    let latest = move || evals.with(|e| e.last().cloned());

    view! {
        <WidgetFrame class="gpt-trainer" label="Train a tiny GPT" title="Live: train a tiny GPT on Shakespeare"
            badge=Signal::derive(badge) backend=backend badge_value="gpt-backend">
            <p class="widget-note" data-value="gpt-corpus">{corpus_note}</p>
            <div class="xor-controls">
                <label class="select">"model "
                    <select data-name="gpt-size" on:change=move |ev| {
                        let size = Size::from_value(&event_target_value(&ev));
                        session.change(|s| s.size = size);
                    }>
                        {Size::ALL.into_iter().map(|s| view! { <option value=s.value() selected={s == Size::Small}>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <NumberField label="peak learning rate" name="gpt-lr" value=Signal::derive(move || settings.get().max_lr as f64) on_change=change(|s, v| s.max_lr = v as f32) check=lr_rule />
                <NumberField label="seed" name="gpt-seed" value=Signal::derive(move || settings.get().seed as f64) on_change=change(|s, v| s.seed = v as u64) check=seed />
                <NumberField label="steps" name="gpt-steps" value=Signal::derive(move || settings.get().total_steps as f64) on_change=change(|s, v| s.total_steps = v as u64) check=steps_rule />
                <BackendSelect name="gpt-backend" value=backend gpu_state=gpu.state
                    on_change=Callback::new(move |b| session.choose_backend(b)) note_id="gpt-backend-note" />
            </div>
            <p id="gpt-backend-note" class="widget-note" data-gpu-note="gpt">{gpu_note}" "<span data-value="gpt-cpu-where">{cpu_note}</span></p>
            <p class="widget-note">{move || {
                let s = settings.get();
                let params = corpus.get().and_then(Result::ok).map(|c| s.size.config(c.vocab.len()).param_count());
                let params = params.map_or(String::new(), |p| format!("{p} parameters; "));
                let warmup = s.train_config().warmup_steps;
                format!("{params}{BATCH} windows of {CONTEXT} characters a step; AdamW (weight decay {WEIGHT_DECAY} on the weight matrices) with gradient clipping at 1, warmup over {warmup} steps, then a cosine down to a tenth of the peak at step {}. Changing a setting starts over.", s.total_steps)
            }}</p>
            <div class="bp-controls">
                <button class="primary" data-name="gpt-train" disabled=move || !matches!(corpus.get(), Some(Ok(_))) || (backend.get() == Backend::Cpu && cpu_where.get().is_none()) on:click=move |_| session.toggle()>
                    {move || if running.get() { "Pause" } else if steps_done.get() == 0 || diverged.get() { "Train" } else if steps_done.get() as u64 >= settings.get().total_steps { "Train again" } else { "Resume" }}
                </button>
                <button data-name="gpt-reset" on:click=move |_| session.reset()>"Reset"</button>
            </div>
            <div class="gpt-progress">
                <progress max=move || progress().0 as f64 value=move || steps_done.get() as f64 aria-label="training progress"></progress>
                <span class="gpt-progress-text">
                    "step "<span data-value="gpt-steps">{steps_done}</span>" / "{move || progress().0}
                    " · "<span data-value="gpt-tokens-per-s">{move || progress().1}</span>" tokens/s · "
                    <span data-value="gpt-on">{move || progress().2}</span>
                </span>
            </div>
            <p class="bp-status" class:diverged=move || diverged.get() role="status" data-status="gpt">{move || status.get()}</p>
            <Show when=move || !notice.get().is_empty()>
                <p class="notice" role="alert" data-notice="gpt">{move || notice.get()}</p>
            </Show>
            <div class="gpt-curves">
                <figure class="bp-curve">
                    <LineChart values=train_curve x_label="step" aria_label="Training loss at every step" empty="Press Train: each step's loss appears here." />
                    <figcaption>"Training loss, nats per character: "<span data-value="gpt-loss">{move || losses.with(|l| l.last().map(|v| format!("{v:.4}")).unwrap_or_default())}</span>
                        {move || losses.with(|l| l.first().map(|v| format!(" (first step {v:.4})")).unwrap_or_default())}</figcaption>
                </figure>
                <figure class="bp-curve">
                    <Chart series=val_curve height=180.0 x_label="step" aria_label="Held-out loss at every check" empty="The held-out loss appears here every 25 steps." />
                    <figcaption>{format!("Held-out loss every {EVAL_EVERY} steps: ")}<span data-value="gpt-val-loss">{move || latest().map(|e| format!("{:.4}", e.val_loss)).unwrap_or_default()}</span></figcaption>
                </figure>
            </div>
            <figure class="gpt-sample">
                <figcaption>{move || match latest() {
                    Some(e) => format!("What the model writes at step {} ({SAMPLE_CHARS} characters after a new line, temperature {SAMPLE_TEMPERATURE}):", e.step),
                    None => format!("Every {EVAL_EVERY} steps the model writes {SAMPLE_CHARS} characters here."),
                }}</figcaption>
                <pre class="gpt-sample-text" data-value="gpt-sample">{move || latest().map(|e| e.sample).unwrap_or_default()}</pre>
            </figure>
            <p class="widget-note" data-value="gpt-origin">{model_line}</p>
            <div class="bp-controls">
                <button data-name="gpt-save" disabled=move || running.get() || syncing.get() || busy.get() on:click=move |_| session.save()>"Save the chapter's model"</button>
                <button data-name="gpt-load" disabled=move || running.get() on:click=move |_| session.load()>"Load the saved model"</button>
                <button data-name="gpt-shipped" disabled=move || running.get() on:click=move |_| session.use_shipped()>"Back to the shipped model"</button>
            </div>
            <p class="widget-note" role="status" data-value="gpt-store">{move || store_message.get()}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_refuse_bad_settings() {
        assert!(lr_rule(0.0).is_err() && lr_rule(101.0).is_err() && lr_rule(3e-3).is_ok());
        assert!(seed(-1.0).is_err() && seed(1.5).is_err() && seed(0.0).is_ok());
        assert!(steps_rule(9.0).is_err() && steps_rule(100.5).is_err() && steps_rule(300.0).is_ok());
    }
}
