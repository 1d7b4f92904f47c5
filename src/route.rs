//! Where the reader is: `SLUG.html#SECTION`, or `?ch=SLUG#SECTION`.
//!
//! Each chapter has its own page beside `index.html`, `SLUG.html`, written by
//! `cargo xtask build` with the chapter's text in it, so the text arrives with the first
//! response. The app's links go there. The older form, the chapter in the query string of
//! `index.html` (`?ch=SLUG`), still works, and wins where both are given. Either way a deep
//! link survives a reload on any static host, from any sub-path, without server rewrites.

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

/// The chapter a query string names (`ch=`), if any.
fn chapter_in_query(search: &str) -> Option<&str> {
    let query = search.strip_prefix('?').unwrap_or(search);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "ch")
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The chapter a page's path names: `…/SLUG.html` (not `index.html`), if any.
fn chapter_in_path(path: &str) -> Option<&str> {
    let page = path.rsplit('/').next()?;
    page.strip_suffix(".html").filter(|slug| !slug.is_empty() && *slug != "index")
}

/// The route for a page's path and query: the query's chapter, else the path's.
pub fn parse_location(path: &str, search: &str) -> Route {
    match chapter_in_query(search).or_else(|| chapter_in_path(path)) {
        Some(slug) => Route::Chapter(slug.to_string()),
        None => Route::Cover,
    }
}

/// The link to a chapter, optionally to a section in it: the chapter's own page. Relative,
/// so sub-paths work.
pub fn chapter_href(slug: &str, section: Option<&str>) -> String {
    match section {
        Some(id) => format!("{slug}.html#{id}"),
        None => format!("{slug}.html"),
    }
}

/// Whether `href` is a link the app follows itself: the cover, a chapter's page (a known
/// chapter), or the older `?ch=` form.
fn is_in_book(href: &str) -> bool {
    let page = href.split('#').next().unwrap_or_default();
    href.starts_with("?ch=")
        || href == cover_href()
        || page.strip_suffix(".html").is_some_and(|slug| crate::book::find_chapter(slug).is_some())
}

/// The link to the cover: the folder the page is in.
pub fn cover_href() -> String {
    let path = window().location().pathname().unwrap_or_default();
    match path.rfind('/') {
        Some(at) => path[..=at].to_string(),
        None => "./".to_string(),
    }
}

/// The route in the address bar now.
pub fn current_route() -> Route {
    let location = window().location();
    parse_location(&location.pathname().unwrap_or_default(), &location.search().unwrap_or_default())
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
        if is_in_book(&href) {
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
        let parse_query = |search| parse_location("/book/", search);
        assert_eq!(parse_query(""), Route::Cover);
        assert_eq!(parse_query("?"), Route::Cover);
        assert_eq!(parse_query("?ch="), Route::Cover);
        assert_eq!(parse_query("?ch=optimizers"), Route::Chapter("optimizers".into()));
        assert_eq!(parse_query("?utm=x&ch=embeddings"), Route::Chapter("embeddings".into()));
        assert_eq!(parse_query("?ch=no-such"), Route::Chapter("no-such".into()));
    }

    #[test]
    fn chapter_pages_name_chapters_and_the_query_wins() {
        assert_eq!(parse_location("/book/", ""), Route::Cover);
        assert_eq!(parse_location("/book/index.html", ""), Route::Cover);
        assert_eq!(parse_location("/book/inference.html", ""), Route::Chapter("inference".into()));
        assert_eq!(parse_location("/inference.html", "?w=sampling"), Route::Chapter("inference".into()));
        assert_eq!(parse_location("/book/", "?ch=optimizers"), Route::Chapter("optimizers".into()));
        assert_eq!(
            parse_location("/book/inference.html", "?ch=embeddings&w=x"),
            Route::Chapter("embeddings".into())
        );
    }

    #[test]
    fn hrefs_are_relative() {
        assert_eq!(chapter_href("backpropagation", None), "backpropagation.html");
        assert_eq!(chapter_href("backpropagation", Some("step-1")), "backpropagation.html#step-1");
    }
}
