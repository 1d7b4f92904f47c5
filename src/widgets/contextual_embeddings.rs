//! Chapter 9's contextual embeddings: all-MiniLM-L6-v2 run in the page on the reader's
//! sentences. One word's vectors in each sentence, compared at a chosen layer, and the
//! sentences' own embeddings compared, from `engine::models::minilm` (or its WebGPU copy,
//! `gpu::GpuMiniLm`, when that is faster: `hooks::minilm_backend`) and
//! `engine::labs::contextual_embeddings`.

use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;

use engine::labs::contextual_embeddings::{cosine_matrix, normalized_word, uses, BANKS};
use engine::models::minilm::HiddenStates;
use engine::models::wordpiece::Encoding;

use crate::controls::backend_select::BackendSelect;
use crate::controls::download_progress::DownloadProgress;
use crate::controls::number_field::{is_whole_in, rule, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::GpuState;
use crate::hooks::minilm::{use_minilm, Encoder, MiniLmState};
use crate::hooks::minilm_backend::{gpu_copies_built, longest_build_step_ms, use_minilm_backend};
use crate::hooks::training_run::machine::Backend;
use crate::plot::scale::diverging;

/// At most this many sentences are compared.
const MAX_SENTENCES: usize = 8;

fn layer_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 6.0), "A layer from 0 (the embeddings) to 6 (the last).")
}

type Encoded = Rc<(Encoding, HiddenStates)>;

/// The typed sentences: non-empty lines, at most [`MAX_SENTENCES`].
fn sentences(text: &str) -> (Vec<String>, bool) {
    let all: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    let cut = all.len() > MAX_SENTENCES;
    (all.into_iter().take(MAX_SENTENCES).collect(), cut)
}

/// A cosine as the page prints it, with a real minus sign.
fn shown(c: f32) -> String {
    format!("{c:.3}").replace('-', "−")
}

/// A matrix of cosines, each cell coloured on the diverging scale (blue below 0, orange
/// above, neutral at 0) with the ink that reads on it.
fn matrix(name: &'static str, caption: String, labels: Vec<String>, m: Vec<Vec<f32>>) -> impl IntoView {
    view! {
        <figure class="matrix ce-matrix" data-value=name>
            <figcaption>{caption}</figcaption>
            <div class="table-wrap">
                <table>
                    <tr><th scope="col"><span class="visually-hidden">"sentence"</span></th>{labels.iter().map(|l| view! { <th scope="col">{l.clone()}</th> }).collect_view()}</tr>
                    {m.into_iter().enumerate().map(|(i, row)| view! {
                        <tr>
                            <th scope="row">{labels[i].clone()}</th>
                            {row.into_iter().enumerate().map(|(j, c)| {
                                let heat = diverging(f64::from(c));
                                view! {
                                    <td class="heat" data-value=format!("{name}-{i}-{j}") data-number=format!("{c:.4}")
                                        style=("--heat", heat.light_css()) style=("--heat-dark", heat.dark_css())
                                        style=("--ink", heat.light_ink()) style=("--ink-dark", heat.dark_ink())>{shown(c)}</td>
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </table>
            </div>
        </figure>
    }
}

/// The widget.
#[component]
pub fn ContextualEmbeddings() -> impl IntoView {
    let (state, progress, start) = use_minilm();
    let text = RwSignal::new(BANKS.join("\n"));
    let typed_word = RwSignal::new("bank".to_string());
    let word = RwSignal::new("bank".to_string());
    let layer = RwSignal::new(6.0);
    let runner = use_minilm_backend();
    let backend = runner.backend;
    // Each backend's encodings, kept: switching back shows them again at once.
    let cache = StoredValue::new_local(HashMap::<(Backend, String), Encoded>::new());
    // Bumped when GPU encodings land in the cache.
    let landed = RwSignal::new(0u32);
    let gpu_busy = StoredValue::new(false);
    // (sentences, tokens, milliseconds, backend) of the last new sentences encoded.
    let last_timing = StoredValue::new_local(None::<(usize, usize, f64, Backend)>);
    let word_error = move || normalized_word(&typed_word.get()).err();
    let on_word = move |ev| {
        let typed = event_target_value(&ev);
        if let Ok(w) = normalized_word(&typed) {
            word.set(w);
        }
        typed_word.set(typed);
    };
    // With the model loaded and a GPU there: the page's GPU copy is built and timed, once.
    Effect::new(move |_| {
        let gpu_ready = matches!(runner.gpu_state.get(), GpuState::Ready(_));
        if let (MiniLmState::Ready(encoder), true) = (state.get(), gpu_ready) {
            runner.prepare(encoder);
        }
    });

    let encode_on_cpu = move |encoder: &Encoder, sentence: &str| -> Result<Encoded, String> {
        let key = (Backend::Cpu, sentence.to_string());
        if let Some(e) = cache.with_value(|c| c.get(&key).cloned()) {
            return Ok(e);
        }
        let began = crate::browser::now_ms();
        let encoded = Rc::new(encoder.model.encode(&encoder.tokenizer, sentence)?);
        let ms = crate::browser::now_ms() - began;
        last_timing.set_value(Some((1, encoded.0.ids.len(), ms, Backend::Cpu)));
        cache.update_value(|c| {
            c.insert(key, encoded.clone());
        });
        Ok(encoded)
    };

    // The sentences not yet encoded on the GPU, in one batch; the tables follow when they land.
    let encode_on_gpu = move |encoder: Rc<Encoder>, missing: Vec<String>| {
        if gpu_busy.get_value() {
            return;
        }
        gpu_busy.set_value(true);
        leptos::task::spawn_local(async move {
            let began = crate::browser::now_ms();
            let result = runner.encode_on_gpu(&encoder, &missing).await;
            let ms = crate::browser::now_ms() - began;
            gpu_busy.set_value(false);
            if let Ok(encoded) = result {
                let tokens = encoded.iter().map(|(e, _)| e.ids.len()).sum();
                last_timing.set_value(Some((encoded.len(), tokens, ms, Backend::Gpu)));
                cache.update_value(|c| {
                    for (text, e) in missing.into_iter().zip(encoded) {
                        c.insert((Backend::Gpu, text), Rc::new(e));
                    }
                });
            }
            let _ = landed.try_update(|n| *n += 1);
        });
    };

    let results = move |encoder: Rc<Encoder>| {
        let (lines, cut) = sentences(&text.get());
        if lines.is_empty() {
            return view! { <p class="field-error" data-error-for="ce-text" role="status">"Type at least one sentence."</p> }.into_any();
        }
        let on = backend.get();
        landed.track();
        let mut encoded = Vec::with_capacity(lines.len());
        if on == Backend::Gpu {
            if !runner.gpu_ready() {
                return view! { <p class="widget-note" role="status">"Waiting for MiniLM’s copy on the GPU (see the note above)…"</p> }.into_any();
            }
            let missing: Vec<String> = lines
                .iter()
                .filter(|l| cache.with_value(|c| !c.contains_key(&(Backend::Gpu, l.to_string()))))
                .cloned()
                .collect();
            if !missing.is_empty() {
                encode_on_gpu(encoder, missing);
                return view! { <p class="widget-note" role="status">"Encoding on the GPU…"</p> }.into_any();
            }
            encoded.extend(
                lines.iter().filter_map(|l| cache.with_value(|c| c.get(&(Backend::Gpu, l.clone())).cloned())),
            );
        } else {
            for line in &lines {
                match encode_on_cpu(&encoder, line) {
                    Ok(e) => encoded.push(e),
                    Err(e) => {
                        return view! { <p class="field-error" data-error-for="ce-text" role="alert">{e}</p> }
                            .into_any()
                    }
                }
            }
        }
        let pairs: Vec<(Encoding, HiddenStates)> =
            encoded.iter().map(|e| (e.0.clone(), e.1.clone())).collect();
        let l = layer.get() as usize;
        let w = word.get();
        let found = uses(&pairs, &w, l);
        let truncated = pairs.iter().any(|(e, _)| e.truncated);
        let labels: Vec<String> = found.iter().map(|u| format!("{}", u.sentence + 1)).collect();
        let word_view = if found.len() < 2 {
            view! { <p class="widget-note" data-value="ce-word-missing">{format!("“{w}” occurs {} time{} as a word in these sentences; type it into at least two to compare its vectors.", found.len(), if found.len() == 1 { "" } else { "s" })}</p> }.into_any()
        } else {
            let m = cosine_matrix(&found.iter().map(|u| u.vector.clone()).collect::<Vec<_>>());
            let caption = format!(
                "Cosines between the {} uses of “{w}” at layer {l} (row and column: the sentence it is in)",
                found.len()
            );
            matrix("ce-word-cos", caption, labels, m).into_any()
        };
        let sentence_labels: Vec<String> = (1..=pairs.len()).map(|i| i.to_string()).collect();
        let sentence_m = cosine_matrix(&pairs.iter().map(|(_, s)| s.sentence_vector()).collect::<Vec<_>>());
        let tokens: Vec<String> = pairs
            .iter()
            .enumerate()
            .map(|(i, (e, _))| format!("{}. {}", i + 1, e.pieces.join(" ")))
            .collect();
        let timing = last_timing.get_value();
        view! {
            {word_view}
            {matrix("ce-sent-cos", "Cosines between the sentence embeddings (mean of the last layer, unit length)".to_string(), sentence_labels, sentence_m)}
            <details class="ce-pieces">
                <summary>"WordPiece tokens"</summary>
                <ol class="ce-token-list">{tokens.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ol>
            </details>
            {cut.then(|| view! { <p class="widget-note">{format!("Only the first {MAX_SENTENCES} sentences are compared.")}</p> })}
            {truncated.then(|| view! { <p class="widget-note">"A sentence longer than 256 tokens was cut at 256, as the model was trained."</p> })}
            {timing.map(|(sentences, n, ms, on)| view! {
                <p class="widget-note">{if sentences == 1 { "Last new sentence: ".to_string() } else { format!("Last {sentences} new sentences: ") }}
                    <span data-value="ce-tokens" data-number=n>{n}</span>" tokens encoded in "
                    <span data-value="ce-ms" data-number=format!("{ms:.1}")>{format!("{ms:.0}")}</span>
                    {match on {
                        Backend::Cpu => " ms on this page's CPU thread.",
                        Backend::Gpu => " ms on WebGPU (one batch).",
                    }}
                </p>
            })}
        }
        .into_any()
    };

    let body = move || {
        match state.get() {
        MiniLmState::Idle => view! {
            <div class="bp-controls">
                <button class="primary" data-name="ce-load" on:click=move |_| start()>"Download MiniLM (23.3 MB) and run it"</button>
            </div>
        }
        .into_any(),
        MiniLmState::Downloading => view! {
            <DownloadProgress caption="Downloading MiniLM's weights" name="ce-download" progress=progress bytes=true />
        }
        .into_any(),
        MiniLmState::Expanding => view! { <p class="widget-note" data-value="ce-status" role="status">"Expanding the weights to 32-bit floats…"</p> }.into_any(),
        MiniLmState::Failed(e) => view! {
            <p class="field-error" data-error-for="ce-model" role="alert">{e}</p>
            <div class="bp-controls"><button data-name="ce-load" on:click=move |_| start()>"Try again"</button></div>
        }
        .into_any(),
        MiniLmState::Ready(encoder) => results(encoder),
    }
    };

    view! {
        <WidgetFrame class="contextual" label="Contextual embeddings" title="Live: one word, many vectors (all-MiniLM-L6-v2)"
            badge=Signal::derive(move || match backend.get() {
                Backend::Gpu => "GPU (WebGPU) · gpu::GpuMiniLm".to_string(),
                Backend::Cpu => "CPU · engine::models::minilm".to_string(),
            }) backend=backend>
            <label class="gpt2-input">"sentences, one per line "
                <textarea data-name="ce-text" rows="4" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <div class="xor-controls">
                <label>"word "
                    <input type="text" data-name="ce-word" size="12" spellcheck="false" prop:value=move || typed_word.get() on:input=on_word
                        aria-invalid=move || word_error().is_some().to_string() />
                </label>
                <SignalField label="layer" name="ce-layer" signal=layer check=layer_rule />
                <BackendSelect name="ce-backend" value=backend gpu_state=runner.gpu_state
                    on_change=Callback::new(move |b| runner.pick(b)) note_id="ce-backend-note" />
            </div>
            <p id="ce-backend-note" class="widget-note" data-gpu-note="ce" role="status"
                data-gpu-copies=move || { runner.copy.track(); gpu_copies_built() }
                data-gpu-longest-step=move || { runner.copy.track(); format!("{:.1}", longest_build_step_ms()) }>{move || runner.note()}</p>
            <p class="field-error" data-error-for="ce-word" role="status">{word_error}</p>
            {body}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_lines_and_limits() {
        let (s, cut) = sentences("  a b \n\n c\n");
        assert_eq!(s, ["a b", "c"]);
        assert!(!cut);
        let (s, cut) = sentences(&"x\n".repeat(9));
        assert_eq!(s.len(), MAX_SENTENCES);
        assert!(cut);
        assert!(layer_rule(7.0).is_err() && layer_rule(0.5).is_err() && layer_rule(0.0).is_ok());
        assert_eq!(shown(-0.1234), "−0.123");
    }
}
