//! Chapter 9's neighbours and maps: the nearest words to any word, and chosen words drawn on
//! their first two principal components or on axes the reader defines by word pairs, with the
//! arrows from each pair's first word to its second, so analogies show as parallel arrows.

use engine::models::word_vectors::{along, map_2d, pair_axis};
use leptos::prelude::*;

use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::word_vectors::{use_word_vectors, Glove, GloveState};
use crate::plot::word_map::{bar_percent, describe_spread, place, MAP_H, MAP_W};

const MAX_WORDS: usize = 24;

/// What the map shows: words, their 2-D coordinates, and the pair arrows to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct WordMap {
    pub words: Vec<String>,
    pub coordinates: Vec<[f32; 2]>,
}

/// The chosen words on their principal components, or on the two typed axes.
pub fn word_map(glove: &Glove, words: &str, axes: Option<(&str, &str)>) -> Result<WordMap, String> {
    let ids = glove.words(words, MAX_WORDS)?;
    let coordinates = match axes {
        None => map_2d(&glove.vectors, &ids)?,
        Some((x, y)) => {
            let x_axis = pair_axis(&glove.vectors, &glove.pairs(x, 8).map_err(|e| format!("x axis: {e}"))?);
            let y_axis = pair_axis(&glove.vectors, &glove.pairs(y, 8).map_err(|e| format!("y axis: {e}"))?);
            if ids.is_empty() {
                return Err("type some words to place".into());
            }
            ids.iter()
                .map(|&id| [along(&glove.vectors, id, &x_axis), along(&glove.vectors, id, &y_axis)])
                .collect()
        }
    };
    Ok(WordMap { words: ids.iter().map(|&id| glove.vectors.word(id).to_string()).collect(), coordinates })
}

/// The widget.
#[component]
pub fn WordMapLab() -> impl IntoView {
    let glove = use_word_vectors();
    let probe = RwSignal::new("frog".to_string());
    let words = RwSignal::new("king queen man woman uncle aunt brother sister prince princess".to_string());
    let use_axes = RwSignal::new(false);
    let x_axis = RwSignal::new("he she, man woman".to_string());
    let y_axis = RwSignal::new("good bad, best worst".to_string());

    let neighbours = Memo::new(move |_| match glove.get() {
        GloveState::Ready(g) => Some(g.vectors.id(&probe.get()).map(|id| {
            g.vectors
                .nearest(g.vectors.unit(id), 10, &[id])
                .into_iter()
                .map(|n| (g.vectors.word(n.id).to_string(), n.cosine))
                .collect::<Vec<_>>()
        })),
        _ => None,
    });
    let last_neighbours = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        if let Some(Ok(rows)) = neighbours.get() {
            last_neighbours.set(rows);
        }
    });
    let map = Memo::new(move |_| match glove.get() {
        GloveState::Ready(g) => {
            let (x, y) = (x_axis.get(), y_axis.get());
            let axes = use_axes.get().then_some((x.as_str(), y.as_str()));
            Some(word_map(&g, &words.get(), axes))
        }
        _ => None,
    });
    let last_map = RwSignal::new(None::<WordMap>);
    Effect::new(move |_| {
        if let Some(Ok(m)) = map.get() {
            last_map.set(Some(m));
        }
    });
    let error_of = |result: Option<Result<(), String>>| {
        result.and_then(|r| r.err()).map(|e| format!("{e}. Showing the last good result."))
    };

    let neighbour_rows = move || {
        last_neighbours.get().into_iter().enumerate().map(|(i, (word, cosine))| {
            let width = format!("{:.1}%", bar_percent(cosine, 0.0, 1.0));
            view! {
                <tr><td>{i + 1}</td><td data-value=format!("wm-neighbour-{i}")>{word}</td>
                    <td class="num" data-value=format!("wm-neighbour-cos-{i}")>{format!("{cosine:.4}")}</td>
                    <td class="bar-cell"><span class="cos-bar" style:width=width></span></td></tr>
            }
        }).collect_view()
    };
    let drawing = move || {
        let Some(m) = last_map.get() else { return ().into_any() };
        let placed = place(&m.coordinates);
        // Consecutive words are read as pairs (king queen, man woman, …); each gets an arrow.
        let arrows = placed.chunks_exact(2).map(|p| {
            view! { <line class="wm-arrow" x1=p[0].0 y1=p[0].1 x2=p[1].0 y2=p[1].1 marker-end="url(#wm-head)" /> }
        }).collect_view();
        let labels = placed
            .iter()
            .zip(&m.words)
            .zip(&m.coordinates)
            .map(|((&(x, y), word), c)| {
                view! {
                    <g data-word=word.clone() data-x=format!("{:.4}", c[0]) data-y=format!("{:.4}", c[1])>
                        <circle class="wm-dot" cx=x cy=y r="3.5" />
                        <text class="wm-label" x=x + 6.0 y=y - 6.0>{word.clone()}</text>
                    </g>
                }
            })
            .collect_view();
        view! {
            <svg class="wm-map" viewBox=format!("0 0 {MAP_W} {MAP_H}") role="img"
                aria-label=format!("Map of the {} words {}: {}.", m.words.len(), m.words.join(", "), describe_spread(&m.words, &m.coordinates))>
                <defs><marker id="wm-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" class="wm-head" /></marker></defs>
                {arrows}{labels}
            </svg>
        }.into_any()
    };
    let coordinates_table = move || {
        last_map.get().map(|m| m.words.iter().zip(&m.coordinates).map(|(w, c)| view! {
            <tr><th scope="row">{w.clone()}</th><td class="num">{format!("{:.3}", c[0])}</td><td class="num">{format!("{:.3}", c[1])}</td></tr>
        }).collect_view())
    };

    view! {
        <WidgetFrame class="word-map" label="Neighbours and maps" title="Live: neighbours and maps of word vectors" badge="CPU · engine::models::word_vectors">
            {move || match glove.get() {
                GloveState::Loading => Some(view! { <p class="widget-note" role="status">"Downloading the word vectors (1.5 MB)…"</p> }.into_any()),
                GloveState::Failed(e) => Some(view! { <p class="field-error" role="status">{e}</p> }.into_any()),
                GloveState::Ready(_) => None,
            }}
            <label class="wm-field">"nearest words to "
                <input type="text" data-name="wm-probe" spellcheck="false" autocomplete="off" prop:value=move || probe.get()
                    on:input=move |ev| probe.set(event_target_value(&ev)) /></label>
            <p class="field-error" data-error-for="wm-probe" role="status">{move || error_of(neighbours.get().map(|r| r.map(|_| ())))}</p>
            <div class="table-wrap">
                <table class="wa-table"><thead><tr><th scope="col">"#"</th><th scope="col">"word"</th><th scope="col">"cosine"</th><th scope="col"><span class="visually-hidden">"bar"</span></th></tr></thead>
                <tbody>{neighbour_rows}</tbody></table>
            </div>
            <h4 class="lab-subtitle">"A map of chosen words (consecutive words are drawn as pairs)"</h4>
            <label class="wm-field wm-words">"words "
                <textarea data-name="wm-words" rows="2" spellcheck="false" prop:value=move || words.get()
                    on:input=move |ev| words.set(event_target_value(&ev))></textarea></label>
            <div class="toggles">
                <label><input type="radio" name="wm-mode" data-name="wm-pca" prop:checked=move || !use_axes.get() on:change=move |_| use_axes.set(false) />" first two principal components"</label>
                <label><input type="radio" name="wm-mode" data-name="wm-axes" prop:checked=move || use_axes.get() on:change=move |_| use_axes.set(true) />" axes from word pairs"</label>
            </div>
            <Show when=move || use_axes.get()>
                <label class="wm-field">"x axis (pairs, comma-separated) "
                    <input type="text" data-name="wm-x" spellcheck="false" prop:value=move || x_axis.get() on:input=move |ev| x_axis.set(event_target_value(&ev)) /></label>
                <label class="wm-field">"y axis "
                    <input type="text" data-name="wm-y" spellcheck="false" prop:value=move || y_axis.get() on:input=move |ev| y_axis.set(event_target_value(&ev)) /></label>
            </Show>
            <p class="field-error" data-error-for="wm-map" role="status">{move || error_of(map.get().map(|r| r.map(|_| ())))}</p>
            {drawing}
            <details class="wm-coordinates"><summary>"The coordinates as a table"</summary>
                <div class="table-wrap"><table class="wa-table"><thead><tr><th scope="col">"word"</th><th scope="col">"x"</th><th scope="col">"y"</th></tr></thead>
                <tbody>{coordinates_table}</tbody></table></div>
            </details>
        </WidgetFrame>
    }
}
