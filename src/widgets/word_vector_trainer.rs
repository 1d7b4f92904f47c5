//! Chapter 9's "train your own": skip-gram with negative sampling trained in the page on the
//! Shakespeare text, its loss and the neighbours of chosen words as it learns, beside the
//! shifted-PPMI matrix of the same co-occurrences factorized by a truncated SVD. Skip-gram
//! trains on the CPU (`engine::models::skip_gram`), or on WebGPU (`gpu::GpuSkipGram`, through
//! `hooks::training_run::skip_gram`) when the reader picks it.

use std::rc::Rc;
use std::time::Duration;

use engine::models::skip_gram::{ppmi_vectors, Corpus, SkipGram, SkipGramConfig};
use engine::models::word_vectors::WordVectors;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::controls::backend_select::BackendSelect;
use crate::controls::number_field::{is_whole_in, learning_rate, rule, with_commas, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::{use_gpu, GpuState};
use crate::hooks::interval::use_interval;
use crate::hooks::training_run::machine::{Backend, Run};
use crate::hooks::training_run::skip_gram::{Progress, SkipGramCpu, SkipGramGpu, SkipGramReading, GPU_BATCH};
use crate::hooks::training_run::{use_training_run, OnLoss};
use crate::plot::chart::LineChart;

/// Corpus positions read per timer tick (each gives up to 2·window true pairs).
const POSITIONS_PER_TICK: usize = 1500;
/// Neighbours shown per word and method.
const SHOWN: usize = 6;

/// The neighbours of one probe word under both methods.
#[derive(Clone, Debug, PartialEq)]
pub struct NeighbourRow {
    pub word: String,
    pub skip_gram: Vec<String>,
    pub ppmi: Option<Vec<String>>,
}

/// The typed probe words, each checked against the kept vocabulary.
pub fn probe_ids(corpus: &Corpus, text: &str) -> Result<Vec<usize>, String> {
    let ids = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| corpus.id(w))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err("type one or more words to follow".into());
    }
    Ok(ids)
}

fn nearest(vectors: &WordVectors, id: usize) -> Vec<String> {
    vectors.nearest(vectors.unit(id), SHOWN, &[id]).iter().map(|n| vectors.word(n.id).to_string()).collect()
}

/// The neighbour table for the probes.
pub fn neighbour_rows(
    corpus: &Corpus,
    skip_gram: &WordVectors,
    ppmi: Option<&WordVectors>,
    probes: &[usize],
) -> Vec<NeighbourRow> {
    probes
        .iter()
        .map(|&id| NeighbourRow {
            word: corpus.words[id].clone(),
            skip_gram: nearest(skip_gram, id),
            ppmi: ppmi.map(|p| nearest(p, id)),
        })
        .collect()
}

fn vocab_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 100.0, 5000.0), "Keep between 100 and 5,000 words.")
}
fn dim_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 2.0, 200.0), "Use a whole number of dimensions from 2 to 200.")
}
fn window_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 10.0), "Use a window of 1 to 10 words on each side.")
}
fn negatives_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 30.0), "Use 1 to 30 noise words per pair.")
}
fn epochs_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 50.0), "Train for 1 to 50 passes over the text.")
}

/// The widget.
#[component]
pub fn WordVectorTrainer() -> impl IntoView {
    let text = RwSignal::new_local(None::<Result<Rc<String>, String>>);
    spawn_local(async move {
        text.set(Some(crate::hooks::play_text::play_text().await));
    });
    let vocab = RwSignal::new(2000.0);
    let dim = RwSignal::new(50.0);
    let window = RwSignal::new(5.0);
    let negatives = RwSignal::new(5.0);
    let lr = RwSignal::new(0.025);
    let epochs = RwSignal::new(5.0);
    let shift = RwSignal::new(false);
    let probes = RwSignal::new("thou father night eyes king love".to_string());
    // The CPU is the default: see the note below the backend menu.
    let backend = RwSignal::new(Backend::Cpu);
    // Where the run trains now: the chosen backend, unless the GPU could not take the model
    // or was lost.
    let on = RwSignal::new(Backend::Cpu);
    // Set while a lost device moves the menu to the CPU: the run goes on instead of restarting.
    let handing_over = StoredValue::new(false);
    let gpu = use_gpu(|| {});

    let run = use_training_run::<SkipGramCpu, SkipGramGpu>(None);
    let ppmi = StoredValue::new_local(None::<WordVectors>);
    let running = run.running;
    let losses = RwSignal::new(Vec::<f64>::new());
    let progress = RwSignal::new(Progress::default());
    let rows = RwSignal::new(Vec::<NeighbourRow>::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(String::new());
    let ppmi_note = RwSignal::new(None::<String>);

    let refresh = move || {
        run.with(|r| {
            let s = r.cpu();
            match (probe_ids(&s.corpus, &probes.get_untracked()), s.model.vectors(&s.corpus)) {
                (Ok(ids), Ok(vectors)) => {
                    ppmi.with_value(|p| rows.set(neighbour_rows(&s.corpus, &vectors, p.as_ref(), &ids)));
                    error.set(None);
                }
                (Err(e), _) | (_, Err(e)) => error.set(Some(format!("{e}. Showing the last good table."))),
            }
        });
    };

    // A new text, new settings or a new backend start a new run.
    Effect::new(move |_| {
        let config = SkipGramConfig {
            dim: dim.get() as usize,
            window: window.get() as usize,
            negatives: negatives.get() as usize,
            learning_rate: lr.get() as f32,
            passes: epochs.get() as usize,
            ..SkipGramConfig::default()
        };
        let vocab = vocab.get() as usize;
        let backend = backend.get();
        if handing_over.get_value() {
            handing_over.set_value(false);
            return;
        }
        losses.set(Vec::new());
        ppmi.set_value(None);
        ppmi_note.set(None);
        status.set(String::new());
        let Some(Ok(text)) = text.get() else { return };
        let built = Corpus::new(&text, vocab).and_then(|corpus| {
            let model = SkipGram::new(&corpus, config)?;
            Ok(SkipGramCpu { corpus: Rc::new(corpus), model })
        });
        match built {
            Ok(cpu) => {
                progress.set(cpu.progress());
                let device = gpu.device(backend);
                let (next, why) = Run::on(&device, cpu, |cpu, g| cpu.to_gpu(g, POSITIONS_PER_TICK));
                if let Some(why) = why {
                    status.set(format!("The GPU could not take this model ({why}); training on the CPU."));
                }
                on.set(next.backend());
                run.restart(Some(next));
                refresh();
            }
            Err(e) => {
                run.restart(None);
                error.set(Some(e));
            }
        }
    });
    Effect::new(move |_| {
        probes.track();
        refresh();
    });
    // A lost device: continue on the CPU from the weights of the last chunk read back.
    Effect::new(move |_| {
        if let GpuState::Lost(reason) = gpu.state.get() {
            if on.get_untracked() == Backend::Gpu {
                let at = run.hand_over().unwrap_or(0);
                on.set(Backend::Cpu);
                if backend.get_untracked() == Backend::Gpu {
                    handing_over.set_value(true);
                    backend.set(Backend::Cpu);
                }
                status.set(format!(
                    "The GPU was lost ({reason}). Training continues on the CPU from the weights read back after {} pairs.",
                    with_commas(at as i128)
                ));
            }
        }
    });

    let landed = move |reading: SkipGramReading| {
        let loss = reading.loss;
        if loss.is_finite() {
            losses.update(|l| l.push(loss as f64));
        }
        progress.set(reading.progress);
        let done = reading.progress.epochs >= epochs.get_untracked() as usize || !loss.is_finite();
        if !loss.is_finite() {
            error.set(Some("The loss stopped being a number: lower the learning rate and reset.".into()));
        }
        if done {
            run.pause();
        }
        if done || losses.with_untracked(|l| l.len() % 20 == 0) {
            refresh();
        }
    };
    let tick = move || {
        // A chunk lost with the device leaves the run going, on the CPU from the previous
        // chunk's weights, which the CPU side holds.
        run.advance_on(gpu, POSITIONS_PER_TICK, OnLoss::GoOn, landed);
    };
    use_interval(running, Duration::from_millis(30), tick);

    let factorize = move |_| {
        ppmi_note.set(Some("Counting and factorizing…".into()));
        // Let the page paint the note before the few hundred milliseconds of work.
        set_timeout(
            move || {
                let start = crate::browser::now_ms();
                let result = run.with(|r| {
                    let s = r.cpu();
                    let k = if shift.get_untracked() { s.model.config.negatives } else { 1 };
                    ppmi_vectors(&s.corpus, s.model.config.window, k, s.model.config.dim)
                });
                match result {
                    Some(Ok(vectors)) => {
                        ppmi.set_value(Some(vectors));
                        ppmi_note.set(Some(format!(
                            "Shifted PPMI factorized in {:.0} ms.",
                            crate::browser::now_ms() - start
                        )));
                        refresh();
                    }
                    Some(Err(e)) => {
                        ppmi.set_value(None);
                        ppmi_note.set(Some(format!("No factorization: {e}.")));
                        refresh();
                    }
                    None => ppmi_note.set(None),
                }
            },
            Duration::from_millis(20),
        );
    };
    let restart = move |_| {
        let d = dim.get_untracked();
        dim.set(d); // re-runs the settings effect: a fresh model from the same seed
    };

    let table = move || {
        rows.get()
            .into_iter()
            .map(|r| {
                let word = r.word.clone();
                let shared = r.ppmi.as_ref().map(|p| r.skip_gram.iter().filter(|w| p.contains(w)).count());
                view! {
                    <tr>
                        <th scope="row">{r.word.clone()}</th>
                        <td data-value=format!("wt-sg-{word}")>{r.skip_gram.join(", ")}</td>
                        <td data-value=format!("wt-pp-{word}")>{r.ppmi.map(|p| p.join(", ")).unwrap_or_else(|| "(not factorized yet)".into())}</td>
                        <td class="num" data-value=format!("wt-shared-{word}")>{shared.map(|n| n.to_string()).unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let badge = move || match on.get() {
        Backend::Gpu => format!("Running on: GPU (WebGPU) · {}", gpu.description()),
        Backend::Cpu => "Running on: CPU (WebAssembly) · engine::models::skip_gram".to_string(),
    };
    let gpu_note = move || {
        let why = format!(
            "On the GPU the pairs are trained in minibatches of {}, each vector moved once by the sum of its gradients, not pair by pair. The CPU is the default: on the software GPUs this was measured on, it trained several times more pairs per second at this size.",
            with_commas(GPU_BATCH as i128)
        );
        match gpu.state.get() {
            GpuState::Probing => "Looking for a WebGPU adapter…".to_string(),
            GpuState::Ready(d) => format!("WebGPU is available ({d}). {why}"),
            GpuState::Unavailable(no) => no,
            GpuState::Lost(reason) => format!("The GPU device was lost: {reason}"),
        }
    };

    view! {
        <WidgetFrame class="word-vector-trainer" label="Train word vectors" title="Live: word vectors from Shakespeare, predicted and counted"
            badge=Signal::derive(badge) backend=on>
            {move || match text.get() {
                None => Some(view! { <p class="widget-note" role="status">"Downloading the text (0.8 MB)…"</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="field-error" role="status">{format!("The text could not be loaded: {e}")}</p> }.into_any()),
                Some(Ok(_)) => None,
            }}
            <div class="xor-controls">
                <SignalField label="words kept" name="wt-vocab" signal=vocab check=vocab_rule />
                <SignalField label="dimensions" name="wt-dim" signal=dim check=dim_rule />
                <SignalField label="window" name="wt-window" signal=window check=window_rule />
                <SignalField label="noise words k" name="wt-negatives" signal=negatives check=negatives_rule />
                <SignalField label="learning rate" name="wt-lr" signal=lr check=learning_rate />
                <SignalField label="passes" name="wt-epochs" signal=epochs check=epochs_rule />
                <BackendSelect name="wt-backend" value=backend gpu_state=gpu.state
                    on_change=Callback::new(move |b| backend.set(b)) note_id="wt-backend-note" />
            </div>
            <p id="wt-backend-note" class="widget-note" data-gpu-note="wt">{gpu_note}</p>
            <div class="bp-controls">
                <button class="primary" data-name="wt-train" disabled=move || !matches!(text.get(), Some(Ok(_)))
                    on:click=move |_| if running.get_untracked() { run.pause(); refresh() } else { run.play() }>{move || if running.get() { "Pause" } else { "Train" }}</button>
                <button data-name="wt-reset" on:click=restart>"Reset"</button>
                <button data-name="wt-factorize" disabled=move || !matches!(text.get(), Some(Ok(_))) on:click=factorize>"Factorize the counts"</button>
                <label class="toggles"><input type="checkbox" data-name="wt-shift" prop:checked=move || shift.get()
                    on:change=move |ev| shift.set(event_target_checked(&ev)) />" shift PPMI by log k"</label>
            </div>
            <p class="widget-note" data-status="wt" role="status">{move || status.get()}</p>
            <dl class="bp-values">
                <div><dt>"passes"</dt><dd data-value="wt-epochs-done">{move || progress.get().epochs}</dd></div>
                <div><dt>"position in this pass"</dt><dd data-value="wt-position">{move || { let p = progress.get(); format!("{} of {} words kept", p.position, p.pass_len) }}</dd></div>
                <div><dt>"pairs trained"</dt><dd data-value="wt-pairs">{move || progress.get().pairs}</dd></div>
                <div><dt>"loss per pair (last tick)"</dt><dd data-value="wt-loss">{move || losses.with(|l| l.last().map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into()))}</dd></div>
            </dl>
            <LineChart values=Signal::derive(move || losses.get()) x_label="tick (1,500 words each)" aria_label="Skip-gram loss per pair, one point per 1,500 words read" />
            <label class="wm-field">"words to follow "
                <input type="text" data-name="wt-probes" spellcheck="false" autocomplete="off" prop:value=move || probes.get()
                    on:input=move |ev| probes.set(event_target_value(&ev)) /></label>
            <p class="field-error" data-error-for="wt" role="status">{move || error.get()}</p>
            <p class="widget-note">"The six nearest words to each, by cosine. Before training the skip-gram vectors are random, and so are their neighbours."</p>
            <p class="widget-note" data-value="wt-ppmi-note" role="status">{move || ppmi_note.get()}</p>
            <div class="table-wrap"><table class="wa-table wt-table">
                <thead><tr><th scope="col">"word"</th><th scope="col">"skip-gram neighbours"</th><th scope="col">"PPMI + SVD neighbours"</th><th scope="col">"shared"</th></tr></thead>
                <tbody>{table}</tbody>
            </table></div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_words_are_read_or_refused() {
        let corpus = Corpus::new("the king and the queen and the fool", 4).unwrap();
        assert_eq!(probe_ids(&corpus, "king, the"), Ok(vec![2, 0]));
        assert!(probe_ids(&corpus, "fool").unwrap_err().contains("fool"));
        assert!(probe_ids(&corpus, " , ").unwrap_err().contains("type one or more"));
    }
}
