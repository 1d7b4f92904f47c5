//! Where the reader is: `?ch=SLUG#SECTION`.
//!
//! The chapter lives in the query string and the section in the fragment, so every page is
//! the same `index.html`. A deep link survives a reload on any static host, from any
//! sub-path, without server rewrites.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// What the address bar names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// No chapter named: the cover and table of contents.
    Cover,
    /// A chapter, by slug (it may not exist: the page then says so).
    Chapter(String),
}

/// Parses a query string such as `?ch=backpropagation&x=1`.
pub fn parse_query(search: &str) -> Route {
    let query = search.strip_prefix('?').unwrap_or(search);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "ch")
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
        .map_or(Route::Cover, |slug| Route::Chapter(slug.to_string()))
}

/// The link to a chapter, optionally to a section in it. Relative, so sub-paths work.
pub fn chapter_href(slug: &str, section: Option<&str>) -> String {
    match section {
        Some(id) => format!("?ch={slug}#{id}"),
        None => format!("?ch={slug}"),
    }
}

/// The link to the cover: the page itself without a query.
pub fn cover_href() -> String {
    let path = window().location().pathname().unwrap_or_default();
    if path.is_empty() {
        "./".to_string()
    } else {
        path
    }
}

/// The route in the address bar now.
pub fn current_route() -> Route {
    parse_query(&window().location().search().unwrap_or_default())
}

/// Provides the route as a signal and keeps it in step with the address bar: clicks on
/// in-book links update the route without reloading, and Back/Forward work.
pub fn use_router() -> RwSignal<Route> {
    let route = RwSignal::new(current_route());
    window_event_listener(leptos::ev::popstate, move |_| route.set(current_route()));
    window_event_listener(leptos::ev::click, move |ev| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(anchor) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
        else {
            return;
        };
        let href = anchor.get_attribute("href").unwrap_or_default();
        let is_in_book = href.starts_with("?ch=") || href == cover_href();
        if is_in_book {
            ev.prevent_default();
            navigate(&href, route);
        }
    });
    route
}

/// Goes to `href` (an in-book link) without reloading the page.
pub fn navigate(href: &str, route: RwSignal<Route>) {
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
    route.set(current_route());
}

/// Scrolls to the element named by the fragment, or to the top.
pub fn scroll_to_fragment() {
    let hash = window().location().hash().unwrap_or_default();
    let id = hash.trim_start_matches('#');
    let target = if id.is_empty() { None } else { document().get_element_by_id(id) };
    match target {
        Some(element) => element.scroll_into_view(),
        None => window().scroll_to_with_x_and_y(0.0, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_name_chapters() {
        assert_eq!(parse_query(""), Route::Cover);
        assert_eq!(parse_query("?"), Route::Cover);
        assert_eq!(parse_query("?ch="), Route::Cover);
        assert_eq!(parse_query("?ch=optimizers"), Route::Chapter("optimizers".into()));
        assert_eq!(parse_query("?utm=x&ch=embeddings"), Route::Chapter("embeddings".into()));
        assert_eq!(parse_query("?ch=no-such"), Route::Chapter("no-such".into()));
    }

    #[test]
    fn hrefs_are_relative() {
        assert_eq!(chapter_href("backpropagation", None), "?ch=backpropagation");
        assert_eq!(chapter_href("backpropagation", Some("step-1")), "?ch=backpropagation#step-1");
    }
}
