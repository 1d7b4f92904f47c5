//! Search: a dialog over the book's full-text index, compiled into the app with the book
//! (`bookgen::search`), so it works offline. `/` or `s` opens it, Escape closes it, the
//! arrow keys pick a result and Enter (or a click) goes to its section.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::book::{CHAPTERS, SEARCH_INDEX, SEARCH_SECTIONS};
use crate::route::{chapter_href, navigate, Route};

/// At most this many results are listed.
const MAX_RESULTS: usize = 20;
/// A snippet is about this many characters.
const SNIPPET_CHARS: usize = 160;

/// One result as the list shows it.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    href: String,
    chapter: String,
    heading: &'static str,
    snippet: Vec<(String, bool)>,
}

fn results(query: &str) -> Vec<Row> {
    bookgen::search::search(&SEARCH_INDEX, query, MAX_RESULTS)
        .into_iter()
        .filter_map(|hit| {
            let section = SEARCH_SECTIONS.get(hit.section)?;
            let chapter = CHAPTERS.get(section.chapter)?;
            Some(Row {
                href: chapter_href(chapter.slug, Some(section.id)),
                chapter: format!("Chapter {} · {}", section.chapter + 1, chapter.title),
                heading: section.heading,
                snippet: bookgen::search::snippet(section.text, query, SNIPPET_CHARS),
            })
        })
        .collect()
}

/// Whether a key press is typing into something (a field, a menu, editable text).
fn is_typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()).is_some_and(|el| {
        matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
    })
}

/// Moves focus to the dialog's next (or previous) control, wrapping around at either end, so
/// Tab never leaves the open dialog.
fn cycle_focus(ev: &web_sys::KeyboardEvent, backwards: bool) {
    let Ok(Some(dialog)) = document().query_selector(".search-dialog") else {
        return;
    };
    let Ok(list) = dialog.query_selector_all("button, input, a[href]:not([tabindex=\"-1\"])") else {
        return;
    };
    let controls: Vec<web_sys::HtmlElement> =
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect();
    if controls.is_empty() {
        return;
    }
    let current = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        .and_then(|t| controls.iter().position(|c| *c == t));
    let n = controls.len();
    let next = match (current, backwards) {
        (Some(i), false) => (i + 1) % n,
        (Some(i), true) => (i + n - 1) % n,
        (None, false) => 0,
        (None, true) => n - 1,
    };
    let _ = controls[next].focus();
}

/// The header's search button.
#[component]
pub fn SearchButton(
    /// Counts the clicks; the dialog opens on each.
    requests: RwSignal<u32>,
) -> impl IntoView {
    view! {
        <button class="search-button" aria-haspopup="dialog" aria-keyshortcuts="/ s" aria-label="Search"
            title="Search the book (/ or s)" on:click=move |_| requests.update(|n| *n = n.wrapping_add(1))>
            <span class="search-icon" aria-hidden="true">"⌕"</span>
            <span class="search-label" aria-hidden="true">" Search"</span>
        </button>
    }
}

/// The search dialog, rendered outside the header so it can cover the page.
#[component]
pub fn SearchDialog(
    /// The header button's clicks.
    requests: RwSignal<u32>,
    /// The router, for going to a result without reloading.
    route: RwSignal<Route>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let rows = Memo::new(move |_| results(&query.get()));

    let layer = NodeRef::<leptos::html::Div>::new();
    // Opening shows the layer and moves focus to the box at once (not on the next frame), so
    // a key typed right after `/` lands in the box; closing gives focus back.
    let show = move || {
        if open.get_untracked() {
            return;
        }
        opener.set_value(document().active_element().and_then(|e| e.dyn_into().ok()));
        selected.set(0);
        open.set(true);
        if let Some(layer) = layer.get_untracked() {
            let _ = layer.remove_attribute("hidden");
        }
        if let Some(box_) = input.get_untracked() {
            let _ = box_.focus();
            box_.select();
        }
    };
    let hide = move || {
        if !open.get_untracked() {
            return;
        }
        open.set(false);
        if let Some(layer) = layer.get_untracked() {
            let _ = layer.set_attribute("hidden", "");
        }
        if let Some(el) = opener.get_value().filter(|el| el.is_connected()) {
            let _ = el.focus();
        }
    };
    // The header button only counts its clicks; each one opens the dialog.
    Effect::new(move |previous: Option<u32>| {
        let n = requests.get();
        if previous.is_some() {
            show();
        }
        n
    });

    window_event_listener(leptos::ev::keydown, move |ev| {
        if open.get_untracked() {
            if ev.key() == "Escape" {
                ev.prevent_default();
                hide();
            } else if ev.key() == "Tab" {
                // The dialog is modal: Tab and Shift+Tab cycle through its own controls.
                ev.prevent_default();
                cycle_focus(&ev, ev.shift_key());
            }
            return;
        }
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.default_prevented() || is_typing(&ev) {
            return;
        }
        if matches!(ev.key().as_str(), "/" | "s") {
            ev.prevent_default();
            show();
        }
    });

    let go = move |i: usize| {
        if let Some(row) = rows.get_untracked().get(i) {
            let href = row.href.clone();
            opener.set_value(None);
            hide();
            navigate(&href, route);
        }
    };
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        let count = rows.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => selected.set((selected.get_untracked() + 1).min(count - 1)),
            "ArrowUp" => selected.set(selected.get_untracked().saturating_sub(1)),
            "Enter" => go(selected.get_untracked()),
            _ => return,
        }
        ev.prevent_default();
    };
    // Keep the chosen result in view as the arrows move through a long list.
    Effect::new(move |_| {
        let i = selected.get();
        if !open.get() {
            return;
        }
        if let Some(el) = document().get_element_by_id(&format!("search-result-{i}")) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            el.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });

    let status = move || {
        let q = query.get();
        match rows.with(Vec::len) {
            _ if q.trim().is_empty() => "Type a word or two; the last may be unfinished.".to_string(),
            0 => format!("Nothing in the book matches “{}”.", q.trim()),
            1 => "1 section".to_string(),
            n if n >= MAX_RESULTS => format!("The best {n} sections"),
            n => format!("{n} sections"),
        }
    };

    view! {
        <div class="search-layer" node_ref=layer hidden=move || !open.get()>
            <div class="search-backdrop" on:click=move |_| hide()></div>
            <div class="search-dialog" role="dialog" aria-modal="true" aria-labelledby="search-title">
                <div class="search-head">
                    <label id="search-title" for="search-input">"Search the book"</label>
                    <button class="search-close" on:click=move |_| hide() aria-label="Close search">
                        "Esc"
                    </button>
                </div>
                <input
                    id="search-input"
                    node_ref=input
                    type="search"
                    role="combobox"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="softmax, KV cache, dropout…"
                    aria-controls="search-results"
                    aria-expanded=move || (rows.with(Vec::len) > 0).to_string()
                    aria-activedescendant=move || {
                        (rows.with(Vec::len) > 0).then(|| format!("search-result-{}", selected.get()))
                    }
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        selected.set(0);
                    }
                    on:keydown=on_keydown
                />
                <p class="search-status" role="status">{status}</p>
                <ul id="search-results" class="search-results" role="listbox" aria-label="Results">
                    <For
                        each=move || rows.get().into_iter().enumerate()
                        key=|(i, row)| (*i, row.href.clone(), row.snippet.clone())
                        children=move |(i, row)| {
                            let href = row.href.clone();
                            view! {
                                <li id=format!("search-result-{i}") role="option"
                                    aria-selected=move || (selected.get() == i).to_string()
                                    class:selected=move || selected.get() == i
                                    on:mousemove=move |_| if selected.get_untracked() != i { selected.set(i) }>
                                    <a href=href tabindex="-1" on:click=move |_| {
                                        opener.set_value(None);
                                        hide();
                                    }>
                                        <span class="search-chapter">{row.chapter}</span>
                                        <span class="search-heading">{row.heading}</span>
                                        <span class="search-snippet">
                                            {row.snippet.into_iter().map(|(text, marked)| {
                                                if marked { view! { <mark>{text}</mark> }.into_any() } else { text.into_any() }
                                            }).collect_view()}
                                        </span>
                                    </a>
                                </li>
                            }
                        }
                    />
                </ul>
                <p class="search-keys" aria-hidden="true">"↑ ↓ to choose · Enter to go · Esc to close"</p>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_books_own_index_finds_its_sections() {
        assert_eq!(SEARCH_INDEX.lengths.len(), SEARCH_SECTIONS.len());
        for section in SEARCH_SECTIONS {
            let headings = CHAPTERS[section.chapter].headings;
            assert!(headings.iter().any(|h| h.id == section.id), "{}", section.id);
        }
        let rows = results("sizing kv cac");
        assert_eq!(rows[0].href, "inference.html#exercise-5-2-sizing-a-kv-cache");
        assert_eq!(rows[0].chapter, "Chapter 5 · Inference: How a Language Model Writes");
        assert!(rows[0]
            .snippet
            .iter()
            .any(|(text, marked)| *marked && text.to_lowercase().starts_with("cach")));
        assert!(results("zzzqqq").is_empty());
        assert!(results("").is_empty());
    }
}
