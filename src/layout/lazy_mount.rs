//! Widgets mount as the reader scrolls near them, not all as the chapter opens.
//!
//! A chapter's text is on the page at once; each live widget starts as an empty box
//! (`.widget-pending`, with its place in reading order as `data-turn`). An
//! `IntersectionObserver` watches those boxes, and a box that comes within a window's height of
//! the visible part of the page is replaced by its widget, in a task of its own. Opening a
//! chapter therefore builds only the widgets on screen, and the page answers input sooner.
//!
//! Everything mounts regardless when it must be on the page: before printing (at once), and
//! before following a link to a section or a widget (one per task, then the page scrolls),
//! so the target is where it will stay. A browser without `IntersectionObserver` mounts every
//! widget, one per task.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// An observer with the callback it calls (kept alive while it observes).
type Watcher = (IntersectionObserver, Closure<dyn FnMut(js_sys::Array, IntersectionObserver)>);

/// The page's widget switches: one per widget of the chapter being read, in reading order,
/// each turning true once its widget may mount. `App` provides it, `ChapterPage` fills it.
#[derive(Clone, Copy)]
pub struct WidgetMounts(StoredValue<Vec<RwSignal<bool>>>);

impl WidgetMounts {
    /// Provides an empty set for the whole app.
    pub fn provide() -> WidgetMounts {
        let mounts = WidgetMounts(StoredValue::new(Vec::new()));
        provide_context(mounts);
        mounts
    }

    /// Mounts every widget still waiting, all in this task (printing cannot wait).
    pub fn all_now(self) {
        for flag in self.0.get_value() {
            flag.set(true);
        }
    }

    /// Mounts every widget still waiting, in reading order, one per task; returns when all are
    /// on the page (or the reader has left the chapter).
    pub async fn all_soon(self) {
        for flag in self.0.get_value() {
            if flag.try_get_untracked() == Some(false) {
                crate::browser::pause(0).await;
                if flag.try_set(true).is_some() {
                    return; // the chapter is gone
                }
            }
        }
        // The last one is drawn once this task's effects have run.
        crate::browser::pause(0).await;
    }
}

/// The switches of a chapter with `count` widgets, mounting each as the reader scrolls near
/// its box (`.widget-pending[data-turn]` inside `article.chapter`).
pub fn use_widget_mounts(count: usize) -> Vec<RwSignal<bool>> {
    let flags: Vec<RwSignal<bool>> = (0..count).map(|_| RwSignal::new(false)).collect();
    if let Some(mounts) = use_context::<WidgetMounts>() {
        mounts.0.set_value(flags.clone());
    }
    let watching = StoredValue::new_local(None::<Watcher>);
    let switches = flags.clone();
    // Once the chapter is on the page (an effect runs after it has been drawn into the DOM).
    Effect::new(move |_| {
        if count > 0 {
            match watch(switches.clone()) {
                Some(observer) => watching.set_value(Some(observer)),
                None => {
                    let all = switches.clone();
                    leptos::task::spawn_local(async move {
                        for flag in all {
                            crate::browser::pause(0).await;
                            if flag.try_set(true).is_some() {
                                return;
                            }
                        }
                    });
                }
            }
        }
    });
    on_cleanup(move || {
        watching.try_with_value(|watching| {
            if let Some((observer, _)) = watching {
                observer.disconnect();
            }
        });
    });
    flags
}

/// Observes the chapter's waiting boxes; a box near the screen gets its switch turned on in a
/// task of its own. `None` where the browser has no `IntersectionObserver`.
fn watch(flags: Vec<RwSignal<bool>>) -> Option<Watcher> {
    let on_change = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
        move |entries: js_sys::Array, observer: IntersectionObserver| {
            for entry in entries.iter() {
                let Ok(entry) = entry.dyn_into::<IntersectionObserverEntry>() else { continue };
                if !entry.is_intersecting() {
                    continue;
                }
                let target = entry.target();
                observer.unobserve(&target);
                let turn = target.get_attribute("data-turn").and_then(|t| t.parse::<usize>().ok());
                if let Some(&flag) = turn.and_then(|t| flags.get(t)) {
                    set_timeout(
                        move || {
                            let _ = flag.try_set(true);
                        },
                        std::time::Duration::ZERO,
                    );
                }
            }
        },
    );
    let options = IntersectionObserverInit::new();
    // "Near": within one window's height above or below what is visible.
    options.set_root_margin("100% 0px");
    let observer =
        IntersectionObserver::new_with_options(on_change.as_ref().unchecked_ref(), &options).ok()?;
    let boxes = document().query_selector_all("article.chapter .widget-pending[data-turn]").ok()?;
    for i in 0..boxes.length() {
        if let Some(element) = boxes.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            observer.observe(&element);
        }
    }
    Some((observer, on_change))
}
