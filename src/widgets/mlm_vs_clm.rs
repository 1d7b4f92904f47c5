//! Chapter 6's race of the two objectives: a masked-LM (BERT) and a causal-LM (GPT)
//! character model trained side by side from the same weights on the same batches, their
//! loss curves against steps or against graded positions, held-out losses, an optional
//! leaky mask, then fill-in-the-blank and continuation, all from `engine::labs::mlm_vs_clm`.
//! The models train on WebGPU (`gpu::GpuTransformer`, through `hooks::training_run`) when
//! the browser has it, else on the CPU; the race on the CPU side draws every batch and runs
//! the held-out checks either way. Fill-in-the-blank and continuation also work before the
//! reader trains: on the MLM and CLM pair the book ships (`assets/bert-vs-gpt/`, written by
//! `cargo xtask train-mlm-clm`), downloaded when the reader asks for it.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::labs::mlm_vs_clm::{
    blanks, Blank, Corpus, Guesses, Race, Settings, CONTEXT, EVAL_EVERY, HELD_OUT_WINDOWS, MAX_STEPS,
};
use engine::models::checkpoint::Checkpoint;
use engine::models::vocab::visible;

use crate::controls::backend_select::BackendSelect;
use crate::controls::number_field::{is_whole_in, rule, seed, with_commas, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::{use_gpu, GpuState};
use crate::hooks::interval::use_interval;
use crate::hooks::training_run::machine::Backend;
use crate::hooks::training_run::mlm_vs_clm::{MlmCpu, MlmGpu};
use crate::hooks::training_run::{use_training_run, OnLoss};
use crate::plot::chart::{Chart, Series};

/// Milliseconds of training per timer tick (at least one step runs).
const BUDGET_MS: f64 = 30.0;
const TICK: Duration = Duration::from_millis(16);
/// Steps per GPU chunk at most (a chunk also stops at each held-out check).
const GPU_CHUNK: usize = EVAL_EVERY as usize;
/// Blanks behind the accuracy, and the seed that places them.
pub const ACCURACY_BLANKS: usize = 256;
pub const BLANK_SEED: u64 = 3;
/// Guesses listed per model.
const TOP: usize = 5;
/// Characters each model adds to the prompt.
pub const CONTINUE_CHARS: usize = 16;
/// Seeds the causal models' sampling.
const SAMPLE_SEED: u64 = 1;
/// The prompt the continuation opens with.
pub const DEFAULT_PROMPT: &str = "OTHELLO.\nI am ";
/// The shipped pair, relative to the page, and what the command that trained it wrote.
const SHIPPED_MLM: &str = "bert-vs-gpt/mlm.bin";
const SHIPPED_CLM: &str = "bert-vs-gpt/clm.bin";
const SHIPPED_REPORT: &str = include_str!("../../assets/bert-vs-gpt/REPORT.md");

/// The number of steps the shipped pair trained for, from its report's "- Training: N steps".
pub fn shipped_steps() -> Option<u64> {
    let line = SHIPPED_REPORT.lines().find(|l| l.starts_with("- Training:"))?;
    line.trim_start_matches("- Training:").split_whitespace().next()?.parse().ok()
}

/// The shipped pair as a race at step 0 over `corpus`, or a sentence saying what is wrong.
fn shipped_race(corpus: Arc<Corpus>, mlm: &[u8], clm: &[u8]) -> Result<Race, String> {
    let read = |bytes: &[u8], name: &str| {
        Checkpoint::from_bytes(bytes)
            .map_err(|e| format!("The shipped {name} checkpoint cannot be read: {e}"))
    };
    let (mlm, clm) = (read(mlm, "MLM")?, read(clm, "CLM")?);
    Race::from_checkpoints(corpus, Settings::default(), &mlm, &clm)
        .map_err(|e| format!("The shipped checkpoints do not fit this lab: {e}"))
}

/// The play text as a corpus: the one already downloaded, or downloaded now.
async fn load_corpus(corpus: StoredValue<Option<Arc<Corpus>>>) -> Result<Arc<Corpus>, String> {
    if let Some(c) = corpus.get_value() {
        return Ok(c);
    }
    let text = crate::hooks::play_text::play_text().await?;
    let c = Arc::new(Corpus::from_text(&text)?);
    corpus.set_value(Some(Arc::clone(&c)));
    Ok(c)
}

fn steps_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, MAX_STEPS as f64), "A whole number of steps from 1 to 5,000.")
}

/// The characters of `prompt` as ids, or what is wrong with it.
pub fn parse_prompt(corpus: &Corpus, prompt: &str) -> Result<Vec<usize>, String> {
    let n = prompt.chars().count();
    if n == 0 {
        return Err("Type at least one character for the models to continue.".into());
    }
    if n + CONTINUE_CHARS > CONTEXT {
        return Err(format!(
            "The prompt has {n} characters; with the {CONTINUE_CHARS} to write it must fit in {CONTEXT}, so use at most {}.",
            CONTEXT - CONTINUE_CHARS
        ));
    }
    if let Some(c) = prompt.chars().find(|&c| corpus.vocab.id(c).is_none()) {
        return Err(format!("The plays never use {c:?}, so the models have no id for it."));
    }
    corpus.vocab.encode(prompt).map_err(|e| e.to_string())
}

/// A held-out check: step, MLM, CLM, leaky, leaky with the next character hidden, and the
/// MLM and CLM positions graded by then.
type HeldRow = (u64, f32, f32, Option<f32>, Option<f32>, u64, u64);

/// What the page shows of the run, copied out after each tick.
#[derive(Clone, Debug, Default, PartialEq)]
struct Snapshot {
    steps: u64,
    total: u64,
    /// (step, graded positions, loss) of each model.
    mlm: Vec<(f64, f64, f64)>,
    clm: Vec<(f64, f64, f64)>,
    leaky: Vec<(f64, f64, f64)>,
    held: Vec<HeldRow>,
    initial: (f32, f32),
    mlm_signals: u64,
    clm_signals: u64,
}

fn snapshot(race: &Race) -> Snapshot {
    let signals_at = |step: u64| {
        step.checked_sub(1)
            .and_then(|i| race.records.get(i as usize))
            .map_or((0, 0), |r| (r.mlm_signals, r.clm_signals))
    };
    let mut s = Snapshot {
        steps: race.steps(),
        total: race.settings.total_steps,
        initial: (race.initial_mlm_loss, race.initial_clm_loss),
        ..Snapshot::default()
    };
    for r in &race.records {
        let step = r.step as f64 + 1.0;
        s.mlm.push((step, r.mlm_signals as f64, r.mlm_loss as f64));
        s.clm.push((step, r.clm_signals as f64, r.clm_loss as f64));
        if let Some(l) = r.leaky_loss {
            s.leaky.push((step, r.clm_signals as f64, l as f64));
        }
    }
    for h in &race.checks {
        let (m, c) = signals_at(h.step);
        s.held.push((h.step, h.mlm, h.clm, h.leaky, h.leaky_hidden, m, c));
    }
    (s.mlm_signals, s.clm_signals) = signals_at(race.steps());
    s
}

/// Fill-in-the-blank and continuation, computed when training pauses.
#[derive(Clone, Debug, Default, PartialEq)]
struct Probe {
    steps: u64,
    /// Whether these are the shipped checkpoints (else the reader's run).
    shipped: bool,
    /// The probed models' latest held-out losses, MLM and CLM.
    held: Option<(f32, f32)>,
    blank: Option<(String, String, char, Guesses, Guesses)>,
    accuracy: Option<(f64, f64)>,
    clm: String,
    mlm: Vec<(char, usize)>,
    leaky: Option<String>,
    error: Option<String>,
}

fn probe(race: &Race, blank: Blank, prompt: &str) -> Probe {
    let c = &race.corpus;
    let held = race.checks.last().map(|h| (h.mlm, h.clm));
    let mut p = Probe { steps: race.steps(), held, ..Probe::default() };
    let window = c.held_out_window(blank.window);
    let (before, after) = (c.show(&window[..blank.position]), c.show(&window[blank.position + 1..CONTEXT]));
    let truth = c.vocab.chars().get(window[blank.position]).copied().unwrap_or('?');
    match race.guesses(blank, TOP) {
        Ok((m, g)) => p.blank = Some((before, after, truth, m, g)),
        Err(e) => p.error = Some(e.to_string()),
    }
    match race.fill_accuracy(&blanks(ACCURACY_BLANKS, BLANK_SEED)) {
        Ok(a) => p.accuracy = Some(a),
        Err(e) => p.error = Some(e.to_string()),
    }
    match parse_prompt(c, prompt) {
        Ok(ids) => {
            let run = |p: &mut Probe| -> Result<(), engine::models::transformer::ModelError> {
                p.clm = c.show(&race.continue_clm(&ids, CONTINUE_CHARS, SAMPLE_SEED)?);
                let (filled, rounds) = race.continue_mlm(&ids, CONTINUE_CHARS)?;
                p.mlm = c.show(&filled).chars().zip(rounds).collect();
                p.leaky = race.continue_leaky(&ids, CONTINUE_CHARS, SAMPLE_SEED)?.map(|t| c.show(&t));
                Ok(())
            };
            if let Err(e) = run(&mut p) {
                p.error = Some(e.to_string());
            }
        }
        Err(e) => p.error = Some(e),
    }
    p
}

fn fmt_loss(v: Option<f32>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into())
}

fn guesses_view(c: &Corpus, guesses: &Guesses, truth: char, name: &'static str) -> impl IntoView {
    let items = guesses
        .iter()
        .enumerate()
        .map(|(i, &(id, p))| {
            let ch = c.vocab.chars().get(id).copied().unwrap_or('?');
            let hit = ch == truth;
            view! {
                <li class:hit=hit data-value=format!("{name}-guess-{i}")>
                    <span class="mvc-char">{visible(ch)}</span>
                    <span class="mvc-bar" style:width=format!("{:.1}%", 100.0 * p)></span>
                    <span class="mvc-prob">{format!("{:.1}%", 100.0 * p)}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="mvc-guesses">{items}</ol> }
}

/// The widget.
/// A loss at the start of a run, or a dash before the run has measured it (a real
/// cross-entropy is never exactly 0).
fn start_loss(loss: f32) -> String {
    if loss == 0.0 {
        "—".to_string()
    } else {
        format!("{loss:.3}")
    }
}

#[component]
pub fn MlmVsClm() -> impl IntoView {
    let settings = RwSignal::new(Settings::default());
    let corpus = StoredValue::new(None::<Arc<Corpus>>);
    let run = use_training_run::<MlmCpu, MlmGpu>(None);
    let shown = RwSignal::new(Snapshot::default());
    let probed = RwSignal::new(None::<Probe>);
    let running = run.running;
    let backend = RwSignal::new(Backend::Cpu);
    let gpu = use_gpu(move || {
        if shown.with_untracked(|s| s.steps == 0) {
            backend.set(Backend::Gpu);
        }
    });
    let status = RwSignal::new(String::new());
    let by_signals = RwSignal::new(false);
    let blank_index = RwSignal::new(0usize);
    let prompt = RwSignal::new(DEFAULT_PROMPT.to_string());
    let prompt_error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    // The shipped pair: downloaded on first use, then probed instead of the run while chosen.
    let shipped = StoredValue::new(None::<Race>);
    let use_shipped = RwSignal::new(false);
    let shipped_loading = RwSignal::new(false);
    let shipped_status = RwSignal::new(String::new());

    let refresh_probe = move || {
        let b = blanks(blank_index.get_untracked() + 1, BLANK_SEED)[blank_index.get_untracked()];
        let text = prompt.get_untracked();
        let p = if use_shipped.get_untracked() {
            shipped.with_value(|s| {
                s.as_ref().map(|r| Probe {
                    steps: shipped_steps().unwrap_or(0),
                    shipped: true,
                    ..probe(r, b, &text)
                })
            })
        } else {
            run.with(|r| probe(&r.cpu().race, b, &text))
        };
        probed.set(p);
    };
    // The reader's run, once it has trained: probe it rather than the shipped pair.
    let probe_run = move || {
        use_shipped.set(false);
        shipped_status.set(String::new());
        refresh_probe();
    };
    let use_shipped_pair = move |_| {
        if shipped.with_value(Option::is_some) {
            use_shipped.set(true);
            refresh_probe();
            return;
        }
        if shipped_loading.get_untracked() {
            return;
        }
        shipped_loading.set(true);
        shipped_status.set("Downloading the play text and the shipped MLM and CLM checkpoints …".into());
        spawn_local(async move {
            let loaded = async {
                let c = load_corpus(corpus).await?;
                let mlm = crate::browser::bytes(SHIPPED_MLM).await?;
                let clm = crate::browser::bytes(SHIPPED_CLM).await?;
                shipped_race(c, &mlm, &clm)
            };
            match loaded.await {
                Ok(race) => {
                    shipped.set_value(Some(race));
                    shipped_status.set(String::new());
                    use_shipped.set(true);
                    refresh_probe();
                }
                Err(e) => shipped_status.set(format!("{e}. Train your own pair above instead.")),
            }
            shipped_loading.set(false);
        });
    };
    let on_name = move || run.with(|r| r.backend().name()).unwrap_or("CPU");
    let show = move || {
        let Some((s, error)) = run.with(|r| (snapshot(&r.cpu().race), r.cpu().error.clone())) else { return };
        if let Some(e) = error {
            if running.get_untracked() {
                run.pause();
                status.set(format!(
                    "Training stopped: {e}. The curves show the steps before it; press Reset to start again."
                ));
                probe_run();
            }
        } else if s.steps >= s.total && running.get_untracked() {
            run.pause();
            status.set(format!("Finished {} steps on the {}.", s.total, on_name()));
            probe_run();
        }
        shown.set(s);
    };
    let reset = move || {
        let Some(c) = corpus.get_value() else { return };
        match Race::new(c, settings.get_untracked()) {
            Ok(r) => {
                let cpu = MlmCpu::new(r, BUDGET_MS, crate::browser::now_ms);
                let refused = run.restart_on(&gpu, backend, cpu, |cpu, g| cpu.to_gpu(g));
                status.set(refused.map_or_else(String::new, |why| {
                    format!("The GPU models could not be built ({why}); training on the CPU.")
                }));
                show();
                refresh_probe();
            }
            Err(e) => {
                run.restart(None);
                status.set(format!("Cannot start this run: {e}."));
            }
        }
    };
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
            settings.track();
        },
        reset,
    );
    let tick = move || {
        if !running.get_untracked() {
            return;
        }
        let steps = if backend.get_untracked() == Backend::Gpu { GPU_CHUNK } else { MAX_STEPS as usize };
        run.advance_on(gpu, steps, OnLoss::Pause, move |_| show());
    };
    use_interval(running, TICK, tick);
    let train = move |_| {
        if running.get_untracked() {
            run.pause();
            probe_run();
            return;
        }
        if run.with(|_| ()).is_some() {
            status.set(String::new());
            run.play();
            return;
        }
        if loading.get_untracked() {
            return;
        }
        loading.set(true);
        status.set("Downloading the play text …".into());
        spawn_local(async move {
            match load_corpus(corpus).await {
                Ok(_) => {
                    reset();
                    run.play();
                }
                Err(e) => status.set(e),
            }
            loading.set(false);
        });
    };
    let finished = move || shown.with(|s| s.total > 0 && s.steps >= s.total);
    let badge = move || match backend.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", gpu.description()),
        Backend::Cpu => "Running on: CPU (WebAssembly) · engine::labs::mlm_vs_clm".to_string(),
    };
    let gpu_note = move || match gpu.state.get() {
        GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
        GpuState::Ready(d) => {
            format!("WebGPU is available: {}. Each model trains in WGSL kernels (crates/gpu).", d.trim())
        }
        GpuState::Unavailable(why) => format!("{why} The models train on the CPU."),
        GpuState::Lost(why) => format!("The GPU device was lost: {why}"),
    };

    let series = Signal::derive(move || {
        let x = usize::from(by_signals.get());
        shown.with(|s| {
            let line = |points: &[(f64, f64, f64)], class: &str, name: &str| Series {
                points: points.iter().map(|p| (if x == 1 { p.1 } else { p.0 }, p.2)).collect(),
                class: class.into(),
                name: name.into(),
                stopped: false,
            };
            let held = |pick: fn(&HeldRow) -> Option<(f64, f64)>, class: &str, name: &str| Series {
                points: s.held.iter().filter_map(pick).collect(),
                class: class.into(),
                name: name.into(),
                stopped: false,
            };
            let mut all =
                vec![line(&s.mlm, "mvc-mlm", "MLM training"), line(&s.clm, "mvc-clm", "CLM training")];
            if x == 1 {
                all.push(held(|h| Some((h.5 as f64, h.1 as f64)), "mvc-mlm-held", "MLM held-out"));
                all.push(held(|h| Some((h.6 as f64, h.2 as f64)), "mvc-clm-held", "CLM held-out"));
            } else {
                all.push(held(|h| Some((h.0 as f64, h.1 as f64)), "mvc-mlm-held", "MLM held-out"));
                all.push(held(|h| Some((h.0 as f64, h.2 as f64)), "mvc-clm-held", "CLM held-out"));
            }
            if !s.leaky.is_empty() {
                all.push(line(&s.leaky, "mvc-leaky", "leaky CLM training"));
            }
            all
        })
    });
    let x_span = Signal::derive(move || {
        shown.with(|s| if by_signals.get() { s.clm_signals as f64 } else { s.total as f64 })
    });
    let last_held = move || shown.with(|s| s.held.last().copied());

    let blank_view = move || {
        probed.with(|p| {
            let p = p.as_ref()?;
            let (before, after, truth, m, g) = p.blank.clone()?;
            let c = corpus.get_value()?;
            Some(view! {
                <p class="mvc-line" data-value="mvc-blank-line"><span>{before}</span><span class="mvc-blank">"▮"</span><span class="mvc-after">{after}</span></p>
                <p class="widget-note">"The hidden character is "<strong data-value="mvc-truth">{visible(truth)}</strong>". The MLM model reads the whole line around "<code>"[MASK]"</code>"; the CLM model reads only the characters before it."</p>
                <div class="mvc-columns">
                    <div><h5>"MLM (both sides)"</h5>{guesses_view(&c, &m, truth, "mvc-mlm")}</div>
                    <div><h5>"CLM (left only)"</h5>{guesses_view(&c, &g, truth, "mvc-clm")}</div>
                </div>
            })
        })
    };
    let on_prompt = move |ev| {
        let text = event_target_value(&ev);
        let check = corpus.with_value(|c| c.as_ref().map(|c| parse_prompt(c, &text).map(|_| ())));
        match check {
            Some(Err(e)) => prompt_error.set(Some(e)),
            _ => {
                prompt_error.set(None);
                prompt.set(text);
                if !running.get_untracked() || use_shipped.get_untracked() {
                    refresh_probe();
                }
            }
        }
    };

    view! {
        <WidgetFrame class="mlm-vs-clm" label="BERT's and GPT's objectives trained side by side" title="Live: the two objectives, side by side" badge=Signal::derive(badge) backend=backend>
            <div class="xor-controls">
                <BackendSelect name="mvc-backend" value=backend gpu_state=gpu.state on_change=Callback::new(move |b| backend.set(b)) />
                <ConfigField label="seed" name="mvc-seed" config=settings get=|s| s.seed as f64 set=|s, v| s.seed = v as u64 check=seed />
                <ConfigField label="steps" name="mvc-steps" config=settings get=|s| s.total_steps as f64 set=|s, v| s.total_steps = v as u64 check=steps_rule />
                <label class="check"><input type="checkbox" data-name="mvc-leaky" prop:checked=move || settings.with(|s| s.leaky)
                    on:change=move |ev| { let on = event_target_checked(&ev); settings.update(|s| s.leaky = on); } />" add a leaky CLM (position i also sees i + 1)"</label>
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="mvc-train" disabled=move || finished() || loading.get() on:click=train>
                    {move || if running.get() { "Pause".to_string() } else if finished() { "Finished".to_string() } else if shown.with(|s| s.steps == 0) { format!("Train {} steps", shown.with(|s| if s.total == 0 { settings.with(|s| s.total_steps) } else { s.total })) } else { "Resume".to_string() }}
                </button>
                <button data-name="mvc-reset" on:click=move |_| reset() disabled=move || corpus.with_value(|c| c.is_none())>"Reset"</button>
                <label class="check"><input type="checkbox" data-name="mvc-by-signals" prop:checked=move || by_signals.get()
                    on:change=move |ev| by_signals.set(event_target_checked(&ev)) />" x axis: graded positions instead of steps"</label>
            </div>
            <p class="widget-note" data-gpu-note="mvc">{gpu_note}</p>
            <p class="bp-status" role="status" data-status="mvc">{move || status.get()}</p>
            <dl class="bp-values">
                <div><dt>"steps"</dt><dd data-value="mvc-steps">{move || shown.with(|s| s.steps)}</dd></div>
                <div><dt>"loss at the start, MLM / CLM"</dt><dd><span data-value="mvc-initial-mlm">{move || shown.with(|s| start_loss(s.initial.0))}</span>" / "<span data-value="mvc-initial-clm">{move || shown.with(|s| start_loss(s.initial.1))}</span></dd></div>
                <div><dt>"MLM training loss"</dt><dd data-value="mvc-mlm-loss">{move || shown.with(|s| s.mlm.last().map(|p| format!("{:.3}", p.2)).unwrap_or_else(|| "–".into()))}</dd></div>
                <div><dt>"CLM training loss"</dt><dd data-value="mvc-clm-loss">{move || shown.with(|s| s.clm.last().map(|p| format!("{:.3}", p.2)).unwrap_or_else(|| "–".into()))}</dd></div>
                <div><dt>"graded positions, MLM / CLM"</dt><dd><span data-value="mvc-mlm-signals">{move || shown.with(|s| s.mlm_signals)}</span>" / "<span data-value="mvc-clm-signals">{move || shown.with(|s| s.clm_signals)}</span></dd></div>
            </dl>
            <dl class="bp-values">
                <div><dt>"held-out at step"</dt><dd data-value="mvc-held-step">{move || last_held().map(|h| h.0).unwrap_or(0)}</dd></div>
                <div><dt>"MLM (masked positions)"</dt><dd data-value="mvc-held-mlm">{move || fmt_loss(last_held().map(|h| h.1))}</dd></div>
                <div><dt>"CLM (next character)"</dt><dd data-value="mvc-held-clm">{move || fmt_loss(last_held().map(|h| h.2))}</dd></div>
                {move || last_held().and_then(|h| h.3.zip(h.4)).map(|(own, hidden)| view! {
                    <div><dt>"leaky, its own mask"</dt><dd data-value="mvc-held-leaky">{format!("{own:.3}")}</dd></div>
                    <div><dt>"leaky, next character hidden"</dt><dd data-value="mvc-held-leaky-hidden">{format!("{hidden:.3}")}</dd></div>
                })}
            </dl>
            <figure class="bp-curve">
                <Chart class="curves" height=210.0 legend=true series=series x_span=x_span
                    x_label="" aria_label="Training and held-out losses of the two objectives" />
                <figcaption>{move || if by_signals.get() { "Loss in nats per graded character against the positions graded so far: the CLM model is graded at every position, the MLM model at its 15%." } else { "Loss in nats per graded character after each step; the held-out checks every 25 steps are the smoother lines." }}</figcaption>
            </figure>
            <p class="widget-note">{format!("Held-out losses score the first {HELD_OUT_WINDOWS} windows of {CONTEXT} characters of the last tenth of the text, every {EVAL_EVERY} steps; the MLM model's at one fixed seeded 15% corruption of them. Both models take the same steps on the same backend: on the GPU a chunk of steps per submit, read back at each check; on the CPU a few steps per frame.")}</p>

            <h4 class="lab-subtitle">"Fill in the blank"</h4>
            <div class="bp-controls">
                <button data-name="mvc-use-shipped" disabled=move || shipped_loading.get() || use_shipped.get()
                    on:click=use_shipped_pair>"Use the shipped checkpoints"</button>
                <button data-name="mvc-use-run" disabled=move || !use_shipped.get() || running.get() || shown.with(|s| s.steps == 0)
                    on:click=move |_| probe_run()>"Use your run"</button>
                <button data-name="mvc-next-blank" disabled=move || (running.get() && !use_shipped.get()) || probed.with(|p| p.is_none())
                    on:click=move |_| { blank_index.update(|i| *i = (*i + 1) % ACCURACY_BLANKS); refresh_probe(); }>"Another blank"</button>
            </div>
            <p class="widget-note mvc-models" role="status" data-status="mvc-models">{move || {
                let loading_or_error = shipped_status.get();
                if !loading_or_error.is_empty() {
                    return loading_or_error;
                }
                let steps = shipped_steps().map(|n| format!(", trained for {} steps each", with_commas(n as i128))).unwrap_or_default();
                probed.with(|p| match p {
                    Some(p) if p.shipped => format!("Models in use: the shipped checkpoints (the same MLM and CLM pair{steps})."),
                    Some(p) => format!("Models in use: your run, after {} steps.", p.steps),
                    None => format!("Use the shipped checkpoints (an MLM and a CLM model of this shape{steps}) to try the blanks and the prompt without training, or train your own pair above."),
                })
            }}</p>
            {move || probed.with(|p| p.as_ref().and_then(|p| p.held).map(|(m, c)| view! {
                <p class="widget-note">"Held-out loss of these models: MLM "<span data-value="mvc-probe-held-mlm">{format!("{m:.3}")}</span>", CLM "<span data-value="mvc-probe-held-clm">{format!("{c:.3}")}</span>" (the same windows as the curves above)."</p>
            }))}
            {blank_view}
            <p class="mvc-accuracy">{move || probed.with(|p| p.as_ref().and_then(|p| p.accuracy).map(|(m, c)| view! {
                "Top-1 accuracy over "{ACCURACY_BLANKS}" seeded held-out blanks: MLM "<strong data-value="mvc-acc-mlm">{format!("{:.1}%", 100.0 * m)}</strong>", CLM "<strong data-value="mvc-acc-clm">{format!("{:.1}%", 100.0 * c)}</strong>"."
            }))}</p>

            <h4 class="lab-subtitle">"Continue a prompt"</h4>
            <label class="bpe-corpus">"prompt "
                <textarea data-name="mvc-prompt" rows="2" spellcheck="false" prop:value=move || prompt.get() on:input=on_prompt aria-invalid=move || prompt_error.get().is_some().to_string()></textarea>
            </label>
            <p class="field-error" data-error-for="mvc-prompt" role="status">{move || prompt_error.get().map(|e| format!("{e} Showing the last good prompt."))}</p>
            {move || probed.with(|p| p.as_ref().map(|p| {
                let mlm = p.mlm.iter().map(|&(ch, round)| view! {
                    <span class="mvc-filled" title=format!("filled in round {}", round + 1)>{visible(ch)}</span>
                }).collect_view();
                view! {
                    <div class="mvc-continuations">
                        <h5>"CLM, one character at a time (temperature 0.8)"</h5>
                        <pre class="mvc-text" data-value="mvc-cont-clm"><span class="mvc-prompt">{prompt.get_untracked()}</span>{p.clm.clone()}</pre>
                        <h5>{format!("MLM, {CONTINUE_CHARS} × [MASK] filled most-confident first (⏎ newline, ␣ space)")}</h5>
                        <pre class="mvc-text" data-value="mvc-cont-mlm"><span class="mvc-prompt">{prompt.get_untracked()}</span>{mlm}</pre>
                        {p.leaky.clone().map(|t| view! {
                            <h5>"Leaky CLM (temperature 0.8)"</h5>
                            <pre class="mvc-text" data-value="mvc-cont-leaky"><span class="mvc-prompt">{prompt.get_untracked()}</span>{t}</pre>
                        })}
                        {p.error.clone().map(|e| view! { <p class="field-error">{e}</p> })}
                        <p class="widget-note">{if p.shipped { format!("The shipped checkpoints, {} steps.", with_commas(p.steps as i128)) } else { format!("After {} steps. These refresh when training pauses.", p.steps) }}</p>
                    </div>
                }
            }))}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_prompts_have_clear_limits() {
        assert!(steps_rule(0.0).is_err() && steps_rule(1.5).is_err() && steps_rule(1000.0).is_ok());
        assert!(steps_rule(5001.0).is_err());
    }

    #[test]
    fn the_shipped_pair_reads_and_a_bad_file_is_a_sentence() {
        assert_eq!(shipped_steps(), Some(30_000));
        let text = include_str!("../../assets/shakespeare/tragedies.txt");
        let c = Arc::new(Corpus::from_text(text).unwrap());
        let mlm = include_bytes!("../../assets/bert-vs-gpt/mlm.bin");
        let clm = include_bytes!("../../assets/bert-vs-gpt/clm.bin");
        let race = shipped_race(Arc::clone(&c), mlm, clm).unwrap();
        assert_eq!((race.steps(), race.checks.len()), (0, 1));
        let cut = shipped_race(Arc::clone(&c), &mlm[..100], clm).unwrap_err();
        assert!(
            cut.starts_with("The shipped MLM checkpoint cannot be read: the checkpoint is cut short"),
            "{cut}"
        );
        let gpt = include_bytes!("../../assets/tiny-gpt/tiny-gpt.bin");
        let other = shipped_race(c, mlm, gpt).unwrap_err();
        assert!(
            other.starts_with("The shipped checkpoints do not fit this lab: the CLM checkpoint's"),
            "{other}"
        );
    }
}
