//! Chapter 9's semantic search over this book: the reader's query and every paragraph of the
//! book as all-MiniLM-L6-v2 sentence vectors, the paragraphs ranked by cosine, from
//! `engine::labs::semantic_search`. The paragraph vectors come precomputed in a small file; a
//! paragraph edited since that file was written is encoded here, a paragraph at a time between
//! frames. The query is encoded on the CPU (`engine::models::minilm`) or on WebGPU
//! (`gpu::GpuMiniLm::sentence_vectors`), whichever the page's one timing found faster
//! (`hooks::minilm_backend`, shared with the contextual-embeddings widget), or the reader picks.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::labs::semantic_search::{embed, snippet, top_k, Hit, VectorFile, SUGGESTED};

use crate::book::{Paragraph, CHAPTERS};
use crate::controls::backend_select::BackendSelect;
use crate::controls::download_progress::DownloadProgress;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpu::GpuState;
use crate::hooks::minilm::{use_minilm, Encoder, MiniLmState};
use crate::hooks::minilm_backend::{
    gpu_copies_built, longest_build_step_ms, use_minilm_backend, MiniLmBackend,
};
use crate::hooks::training_run::machine::Backend;
use crate::route::chapter_href;

const VECTORS_PATH: &str = "minilm/paragraphs.bin";
/// Results shown.
const TOP: usize = 5;
/// Characters of each result's paragraph shown.
const SNIPPET: usize = 220;

/// Every paragraph of the book with its chapter's index, in reading order.
fn book_paragraphs() -> Vec<(usize, &'static Paragraph)> {
    CHAPTERS.iter().enumerate().flat_map(|(c, ch)| ch.paragraphs.iter().map(move |p| (c, p))).collect()
}

/// The paragraph vectors: downloading, encoding the paragraphs the file lacks, or ready.
#[derive(Clone)]
enum Index {
    Waiting,
    Loading,
    Encoding,
    Ready(Rc<Vec<Option<Vec<f32>>>>),
    Failed(String),
}

/// One search's outcome.
#[derive(Clone)]
struct Found {
    query: String,
    hits: Vec<Hit>,
    /// How long encoding the query took, and where.
    ms: f64,
    on: Backend,
}

/// Paragraphs encoded in one GPU batch when the index is filled in on the GPU.
const GPU_BATCH: usize = 16;

/// A cosine as the page prints it.
fn shown(c: f32) -> String {
    format!("{c:.3}").replace('-', "−")
}

/// Downloads the vector file and fills in what it lacks: on the GPU, in batches, when the
/// widget is using it at that moment; otherwise on the CPU, a paragraph per frame.
async fn build_index(
    runner: MiniLmBackend,
    encoder: Rc<Encoder>,
    index: RwSignal<Index, LocalStorage>,
    encoding: RwSignal<(u64, Option<u64>)>,
    fresh: RwSignal<usize>,
) {
    let file = match crate::browser::bytes(VECTORS_PATH).await.and_then(|b| VectorFile::from_bytes(&b)) {
        Ok(f) => f,
        Err(e) => {
            let _ = index
                .try_set(Index::Failed(format!("The book's paragraph vectors could not be loaded: {e}")));
            return;
        }
    };
    let paragraphs = book_paragraphs();
    let mut vectors: Vec<Option<Vec<f32>>> =
        paragraphs.iter().map(|(_, p)| file.get(p.text).map(<[f32]>::to_vec)).collect();
    let missing: Vec<usize> = (0..vectors.len()).filter(|&i| vectors[i].is_none()).collect();
    if !missing.is_empty() {
        if index.try_set(Index::Encoding).is_some() {
            return;
        }
        let mut done = 0;
        while done < missing.len() {
            if encoding.try_set((done as u64, Some(missing.len() as u64))).is_some() {
                return;
            }
            crate::browser::pause(0).await;
            let on_gpu = runner.backend.get_untracked() == Backend::Gpu && untrack(|| runner.gpu_ready());
            if on_gpu {
                let batch = &missing[done..(done + GPU_BATCH).min(missing.len())];
                let texts: Vec<&str> = batch.iter().map(|&i| paragraphs[i].1.text).collect();
                // A failure moves the widget to the CPU, which encodes this batch again.
                if let Ok(got) = runner.sentence_vectors_on_gpu(&encoder, &texts).await {
                    for (&i, v) in batch.iter().zip(got) {
                        vectors[i] = Some(v);
                    }
                    done += batch.len();
                }
                continue;
            }
            match embed(&encoder.model, &encoder.tokenizer, paragraphs[missing[done]].1.text) {
                Ok(v) => vectors[missing[done]] = Some(v),
                Err(e) => {
                    let _ = index.try_set(Index::Failed(format!("A paragraph could not be encoded: {e}")));
                    return;
                }
            }
            done += 1;
        }
    }
    let _ = fresh.try_set(missing.len());
    let _ = index.try_set(Index::Ready(Rc::new(vectors)));
}

/// The widget.
#[component]
pub fn SemanticSearch() -> impl IntoView {
    let (state, progress, start) = use_minilm();
    let runner = use_minilm_backend();
    let backend = runner.backend;
    let index = RwSignal::new_local(Index::Waiting);
    let encoding = RwSignal::new((0_u64, None::<u64>));
    let fresh = RwSignal::new(0_usize);
    let query = RwSignal::new(SUGGESTED[0].to_string());
    let found = RwSignal::new(None::<Result<Found, String>>);
    let paragraphs = StoredValue::new(book_paragraphs());
    // Numbers each search, so that a GPU result arriving after a newer search is dropped.
    let searches = StoredValue::new(0_u64);

    // With the model loaded and a GPU there: the page's GPU copy is built and timed, once.
    Effect::new(move |_| {
        let gpu_ready = matches!(runner.gpu_state.get(), GpuState::Ready(_));
        if let (MiniLmState::Ready(encoder), true) = (state.get(), gpu_ready) {
            runner.prepare(encoder);
        }
    });

    // The model arriving (here or in another widget) starts the paragraph vectors.
    Effect::new(move |_| {
        let MiniLmState::Ready(encoder) = state.get() else { return };
        if !matches!(index.get_untracked(), Index::Waiting) {
            return;
        }
        index.set(Index::Loading);
        spawn_local(build_index(runner, encoder, index, encoding, fresh));
    });

    let search = move |q: String| {
        let (MiniLmState::Ready(encoder), Index::Ready(vectors)) =
            (state.get_untracked(), index.get_untracked())
        else {
            return;
        };
        let trimmed = q.trim();
        if trimmed.is_empty() {
            found.set(Some(Err("Type a question or a phrase to search for.".into())));
            return;
        }
        searches.update_value(|n| *n += 1);
        let this_search = searches.get_value();
        let query = trimmed.to_string();
        let began = crate::browser::now_ms();
        if backend.get_untracked() == Backend::Gpu && untrack(|| runner.gpu_ready()) {
            spawn_local(async move {
                let result = runner.sentence_vectors_on_gpu(&encoder, &[&query]).await;
                let ms = crate::browser::now_ms() - began;
                if searches.try_get_value() != Some(this_search) {
                    return;
                }
                // A failure has moved the widget to the CPU, which searches again (below).
                if let Ok(v) = result {
                    let hits = top_k(&v[0], &vectors, TOP);
                    let _ = found.try_set(Some(Ok(Found { query, hits, ms, on: Backend::Gpu })));
                }
            });
            return;
        }
        let result = embed(&encoder.model, &encoder.tokenizer, &query).map(|v| Found {
            hits: top_k(&v, &vectors, TOP),
            ms: crate::browser::now_ms() - began,
            on: Backend::Cpu,
            query,
        });
        found.set(Some(result));
    };
    // A change of backend searches again, so the results shown are the named backend's.
    Effect::new(move |previous: Option<Backend>| {
        let on = backend.get();
        if previous.is_some_and(|p| p != on) {
            if let Some(Ok(f)) = found.get_untracked() {
                search(f.query);
            }
        }
        on
    });
    // The first search runs by itself once everything is in place.
    Effect::new(move |_| {
        if matches!(index.get(), Index::Ready(_)) && found.get_untracked().is_none() {
            search(query.get_untracked());
        }
    });

    let hit_view = move |rank: usize, hit: Hit| {
        let (c, p) = paragraphs.with_value(|ps| ps[hit.paragraph]);
        let chapter = &CHAPTERS[c];
        let place = if p.section == chapter.headings.first().map_or("", |h| h.id) {
            format!("Chapter {} · {}", c + 1, chapter.nav_title)
        } else {
            format!("Chapter {} · {} › {}", c + 1, chapter.nav_title, p.section_title)
        };
        view! {
            <li class="ss-hit" data-value=format!("ss-hit-{rank}") data-place=format!("{}#{}", chapter.slug, p.section)>
                <div class="ss-hit-head">
                    <a href=chapter_href(chapter.slug, Some(p.section))>{place}</a>
                    <span class="ss-cos" data-value=format!("ss-cos-{rank}") data-number=format!("{:.6}", hit.cosine)
                        title="cosine between the query's vector and the paragraph's">{shown(hit.cosine)}</span>
                </div>
                <p class="ss-snippet">{snippet(p.text, SNIPPET)}</p>
            </li>
        }
    };

    let results = move || match found.get() {
        None => None,
        Some(Err(e)) => {
            Some(view! { <p class="field-error" data-error-for="ss-query" role="alert">{e}</p> }.into_any())
        }
        Some(Ok(f)) => {
            let searched = match index.get_untracked() {
                Index::Ready(v) => v.iter().filter(|x| x.is_some()).count(),
                _ => 0,
            };
            let best = f.hits.first().map(|h| h.cosine);
            let last = f.hits.last().map(|h| h.cosine);
            Some(view! {
                <p class="widget-note" data-value="ss-summary">
                    {format!("“{}”: ", f.query)}
                    {match (best, last) {
                        (Some(b), Some(l)) => view! {
                            "the best match has cosine "<strong data-value="ss-best" data-number=format!("{b:.6}")>{shown(b)}</strong>
                            {format!(", the {} {}, out of ", if f.hits.len() == TOP { "fifth" } else { "last" }, shown(l))}
                            <span data-value="ss-searched" data-number=searched>{searched}</span>
                            " paragraphs. Query encoded in "
                            <span data-value="ss-ms" data-number=format!("{:.1}", f.ms)>{format!("{:.0}", f.ms)}</span>
                            {match f.on {
                                Backend::Cpu => " ms on this page’s CPU thread.",
                                Backend::Gpu => " ms on WebGPU.",
                            }}
                        }.into_any(),
                        _ => view! { "no paragraphs to search." }.into_any(),
                    }}
                </p>
                <ol class="ss-hits">{f.hits.into_iter().enumerate().map(|(i, h)| hit_view(i, h)).collect_view()}</ol>
            }.into_any())
        }
    };

    let index_view = move || {
        match index.get() {
        Index::Waiting => None,
        Index::Loading => Some(view! { <p class="widget-note" data-value="ss-status" role="status">"Loading the book’s paragraph vectors…"</p> }.into_any()),
        Index::Encoding => Some(view! {
            <DownloadProgress caption="Encoding paragraphs edited since the vectors were computed" name="ss-encoding" progress=encoding />
        }.into_any()),
        Index::Failed(e) => Some(view! { <p class="field-error" data-error-for="ss-index" role="alert">{e}</p> }.into_any()),
        Index::Ready(_) => {
            let n = fresh.get();
            (n > 0).then(|| view! {
                <p class="widget-note" data-value="ss-fresh" data-number=n>{format!("{n} paragraph{} edited since the vectors were computed {} encoded on this page.", if n == 1 { "" } else { "s" }, if n == 1 { "was" } else { "were" })}</p>
            }.into_any())
        }
    }
    };

    let model_view = move || {
        match state.get() {
        MiniLmState::Idle => view! {
            <div class="bp-controls">
                <button class="primary" data-name="ss-load" on:click=move |_| start()>"Download MiniLM (23.3 MB) and search the book"</button>
            </div>
        }
        .into_any(),
        MiniLmState::Downloading => view! {
            <DownloadProgress caption="Downloading MiniLM's weights" name="ss-download" progress=progress bytes=true />
        }
        .into_any(),
        MiniLmState::Expanding => view! { <p class="widget-note" data-value="ss-status" role="status">"Expanding the weights to 32-bit floats…"</p> }.into_any(),
        MiniLmState::Failed(e) => view! {
            <p class="field-error" data-error-for="ss-model" role="alert">{e}</p>
            <div class="bp-controls"><button data-name="ss-load" on:click=move |_| start()>"Try again"</button></div>
        }
        .into_any(),
        MiniLmState::Ready(_) => view! { {index_view} }.into_any(),
    }
    };

    let ready =
        move || matches!(state.get(), MiniLmState::Ready(_)) && matches!(index.get(), Index::Ready(_));

    view! {
        <WidgetFrame class="semantic-search" label="Semantic search over this book" title="Live: search this book by meaning (all-MiniLM-L6-v2)"
            badge=Signal::derive(move || match backend.get() {
                Backend::Gpu => "GPU (WebGPU) · gpu::GpuMiniLm".to_string(),
                Backend::Cpu => "CPU · engine::labs::semantic_search".to_string(),
            }) backend=backend>
            <form class="ss-form" on:submit=move |ev| { ev.prevent_default(); search(query.get_untracked()); }>
                <label class="ss-query">"query "
                    <input type="search" data-name="ss-query" spellcheck="false" prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev)) />
                </label>
                <button type="submit" data-name="ss-search" disabled=move || !ready()>"Search"</button>
            </form>
            <div class="ss-suggestions" role="group" aria-label="Suggested queries">
                <span>"Try: "</span>
                {SUGGESTED.iter().enumerate().map(|(i, s)| view! {
                    <button type="button" class="ss-suggestion" data-name=format!("ss-suggest-{i}") disabled=move || !ready()
                        on:click=move |_| { query.set(s.to_string()); search(s.to_string()); }>{*s}</button>
                }).collect_view()}
            </div>
            <div class="xor-controls">
                <BackendSelect name="ss-backend" value=backend gpu_state=runner.gpu_state
                    on_change=Callback::new(move |b| runner.pick(b)) note_id="ss-backend-note" />
            </div>
            <p id="ss-backend-note" class="widget-note" data-gpu-note="ss" role="status"
                data-gpu-copies=move || { runner.copy.track(); gpu_copies_built() }
                data-gpu-longest-step=move || { runner.copy.track(); format!("{:.1}", longest_build_step_ms()) }>{move || runner.note()}</p>
            {model_view}
            {results}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_has_paragraphs_and_cosines_print_with_a_minus_sign() {
        let ps = book_paragraphs();
        assert!(ps.len() > 500);
        assert!(ps.iter().all(|(c, p)| *c < CHAPTERS.len() && !p.text.is_empty() && !p.section.is_empty()));
        assert_eq!(shown(-0.25), "−0.250");
    }
}
