//! The reading shell around the chapters: sidebar, pager, theme, search, keyboard, print.

pub mod lazy_mount;
pub mod pager;
pub mod prerender;
pub mod search;
pub mod sidebar;
pub mod theme;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::book::CHAPTERS;
use crate::route::{chapter_href, navigate, Route};

/// Tracks which section heading the reader is in: the last one above the top fifth of
/// the window. The sidebar marks it.
pub fn use_active_section(route: RwSignal<Route>) -> RwSignal<Option<String>> {
    let active = RwSignal::new(None::<String>);
    let update = move || {
        let Ok(headings) = document().query_selector_all(".chapter h2[id], .chapter h3[id]") else {
            return;
        };
        let line = window().inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(800.0) * 0.2;
        let mut current = None;
        for i in 0..headings.length() {
            let Some(el) = headings.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else {
                continue;
            };
            if el.get_bounding_client_rect().top() <= line {
                current = Some(el.id());
            } else {
                break;
            }
        }
        if active.get_untracked() != current {
            active.set(current);
        }
    };
    window_event_listener(leptos::ev::scroll, move |_| update());
    Effect::new(move |_| {
        route.track();
        request_animation_frame(update);
    });
    active
}

/// Left and right arrow keys turn pages, unless the reader is typing in a field.
pub fn use_page_keys(chapter_index: Memo<Option<usize>>, route: RwSignal<Route>) {
    window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.default_prevented() {
            return;
        }
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "BUTTON"));
        if typing {
            return;
        }
        let target = match (ev.key().as_str(), chapter_index.get_untracked()) {
            ("ArrowRight", None) => Some(0),
            ("ArrowRight", Some(i)) if i + 1 < CHAPTERS.len() => Some(i + 1),
            ("ArrowLeft", Some(i)) if i > 0 => Some(i - 1),
            _ => None,
        };
        if let Some(i) = target {
            ev.prevent_default();
            navigate(&chapter_href(CHAPTERS[i].slug, None), route);
        }
    });
}

/// Printing shows every widget and every fold open: answers and derivations belong on paper.
pub fn use_print_opens_details(mounts: lazy_mount::WidgetMounts) {
    window_event_listener(leptos::ev::beforeprint, move |_| {
        mounts.all_now();
        if let Ok(all) = document().query_selector_all("details") {
            for i in 0..all.length() {
                if let Some(details) =
                    all.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlDetailsElement>().ok())
                {
                    details.set_open(true);
                }
            }
        }
    });
}

/// What can scroll sideways in a chapter: display equations, prose paragraphs and list items
/// with wide inline maths, and the wrappers around wide tables and grids.
const SCROLLERS: &str = ".chapter math[display=\"block\"], .chapter .prose p, .chapter .prose li, \
    .chapter .table-wrap, .chapter .table-scroll, .chapter .lens-scroll, .chapter .nf-table-wrap, \
    .chapter .bpe-scroll, .chapter .bpe-vocab, .chapter .mlm-tokens, .chapter .gen-output, \
    .chapter .beam-tree-box, .chapter .equations, .chapter .shrink-eq";

/// Anything in a chapter that scrolls sideways is made a tab stop while it does (and loses it
/// again when a wider window fits it), so a keyboard reader can scroll it too; the prose's own
/// tables keep the tab stop they were built with. Checked after each chapter renders, when
/// the window is resized, and when the page's content changes (a widget mounts, or grows a
/// table as the reader works it); an idle page costs nothing.
pub fn use_focusable_scroll_areas(route: RwSignal<Route>) {
    let update = || {
        let Ok(areas) = document().query_selector_all(SCROLLERS) else {
            return;
        };
        for i in 0..areas.length() {
            let Some(el) = areas.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else {
                continue;
            };
            // Prose and equations scroll only sideways (their overflow-y is hidden).
            let prose = matches!(el.tag_name().to_lowercase().as_str(), "p" | "li" | "math");
            let overflows = el.scroll_width() > el.client_width() + 1
                || (!prose && el.scroll_height() > el.client_height() + 1);
            let marked = el.get_attribute("data-scroll-stop").is_some();
            if overflows && !el.has_attribute("tabindex") {
                let _ = el.set_attribute("tabindex", "0");
                let _ = el.set_attribute("data-scroll-stop", "");
            } else if !overflows && marked {
                let _ = el.remove_attribute("tabindex");
                let _ = el.remove_attribute("data-scroll-stop");
            }
        }
    };
    window_event_listener(leptos::ev::resize, move |_| update());
    Effect::new(move |_| {
        route.track();
        request_animation_frame(update);
        // Again once the math font has surely arrived, which changes the widths.
        set_timeout(update, std::time::Duration::from_millis(1500));
    });
    on_content_change(update);
}

/// How long a burst of changes (a widget redrawing as it trains) is gathered before `update`
/// runs once for all of it.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(250);

/// Calls `update` once after the page's content changes: nodes added or removed, text
/// changed, or an element shown, hidden, opened or restyled. A `MutationObserver` on the body
/// reports the changes; the attributes `update` itself sets are not watched, so it does not
/// wake itself. Without one (a very old browser) the other triggers remain.
fn on_content_change(update: fn()) {
    let waiting = std::rc::Rc::new(std::cell::Cell::new(false));
    let changed = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        if !waiting.replace(true) {
            let waiting = waiting.clone();
            set_timeout(
                move || {
                    waiting.set(false);
                    update();
                },
                SETTLE,
            );
        }
    });
    let Ok(observer) = web_sys::MutationObserver::new(changed.as_ref().unchecked_ref()) else { return };
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    options.set_character_data(true);
    let watched: js_sys::Array =
        ["open", "class", "style", "hidden"].iter().map(|a| js_sys::JsString::from(*a)).collect();
    options.set_attribute_filter(&watched);
    if let Some(body) = document().body() {
        if observer.observe_with_options(&body, &options).is_ok() {
            // The observer watches for as long as the page is open.
            changed.forget();
        }
    }
}
