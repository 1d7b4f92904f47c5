//! Links that reopen a widget as the reader left it: `SLUG.html?w=WIDGET&NAME=VALUE…#widget-WIDGET`
//! (or `?ch=SLUG&w=…` on a page whose path does not name the chapter).
//!
//! Every widget sits in a [`WidgetFrame`](super::widget_frame::WidgetFrame), and every
//! setting a reader can change is an input, menu or text area with a `data-name`. So one
//! mechanism serves them all: "Link to this" reads the frame's named fields into the query,
//! and on opening such a link the frame writes each value back into its field and fires the
//! same `input` and `change` events a reader's typing would, so the widget's own checks judge
//! it. A name the widget no longer has, or a value it refuses, is put back to the default and
//! named in a notice. Parsing is plain string work (tested here): a malformed address yields
//! notices, never a panic.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::route::{parse_location, Route};

/// Links longer than this are not read at all.
pub const MAX_QUERY_CHARS: usize = 8000;
/// A value longer than this is neither written into a link nor read from one.
pub const MAX_VALUE_CHARS: usize = 600;
/// At most this many settings are read from one link.
pub const MAX_SETTINGS: usize = 40;

/// What a link asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkState {
    /// The widget named by `w=`, if any.
    pub widget: Option<String>,
    /// Its settings, in the link's order, each name once.
    pub settings: Vec<(String, String)>,
    /// Sentences about what could not be read.
    pub problems: Vec<String>,
}

/// Percent-encodes everything but letters, digits and `-_.~`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (a space); `None` for a broken escape or bytes that are not
/// UTF-8.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Short and printable, for quoting a name or value from a link in a notice.
fn quote(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(40).collect();
    if text.chars().count() > 40 {
        format!("“{clean}…”")
    } else {
        format!("“{clean}”")
    }
}

/// Reads a query string (`?ch=…&w=…&name=value…`). The chapter (`ch`) is the router's and is
/// skipped; anything unreadable becomes a problem, and the rest is still used.
pub fn parse_link(search: &str) -> LinkState {
    let query = search.strip_prefix('?').unwrap_or(search);
    let mut state = LinkState::default();
    if query.len() > MAX_QUERY_CHARS {
        state.problems.push(format!(
            "this link is too long ({} characters; at most {MAX_QUERY_CHARS} are read), so its settings were ignored",
            query.len()
        ));
        return state;
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        if raw_key == "ch" || raw_key.is_empty() {
            continue;
        }
        let Some(key) = decode(raw_key) else {
            state.problems.push(format!("the setting {} could not be read", quote(raw_key)));
            continue;
        };
        let Some(value) = decode(raw_value) else {
            state.problems.push(format!("the value of {} could not be read", quote(&key)));
            continue;
        };
        if key == "w" {
            match &state.widget {
                None => state.widget = Some(value),
                Some(first) if *first != value => state
                    .problems
                    .push(format!("the link names more than one widget; {} is used", quote(first))),
                Some(_) => {}
            }
            continue;
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            state.problems.push(format!("the value of {} is too long", quote(&key)));
        } else if state.settings.iter().any(|(k, _)| *k == key) {
            state.problems.push(format!("{} is given more than once; the first is used", quote(&key)));
        } else if state.settings.len() >= MAX_SETTINGS {
            state.problems.push(format!("{} and any later settings were ignored (too many)", quote(&key)));
            break;
        } else {
            state.settings.push((key, value));
        }
    }
    state
}

/// The chapter a link made on this page must name in its query (`ch=`): none where the
/// page's path names it already (`SLUG.html`), or where no chapter is open.
pub fn chapter_to_name(route: &Route, path: &str) -> Option<String> {
    match route {
        Route::Chapter(slug) if parse_location(path, "") != *route => Some(slug.clone()),
        _ => None,
    }
}

/// The query of a link to `widget` with these settings, in `chapter` when the link must
/// name it (see [`chapter_to_name`]).
pub fn link_query(chapter: Option<&str>, widget: &str, settings: &[(String, String)]) -> String {
    let mut query = match chapter {
        Some(slug) => format!("?ch={}&w={}", encode(slug), encode(widget)),
        None => format!("?w={}", encode(widget)),
    };
    for (name, value) in settings {
        query.push_str(&format!("&{}={}", encode(name), encode(value)));
    }
    query
}

/// The element id a frame carries, so the link's fragment scrolls to it.
pub fn frame_id(widget: &str) -> String {
    format!("widget-{widget}")
}

/// The settings as a link states them, `name = value`, for a notice.
fn setting_text(name: &str, value: &str) -> String {
    format!("{} = {}", quote(name), quote(value))
}

// ------------------------------------------------------------------------------ in the page

/// The frame's fields that carry a `data-name`: inputs, menus, text areas, the first of each
/// name (a radio group by its checked button).
fn fields(frame: &web_sys::Element) -> Vec<(String, web_sys::Element)> {
    let mut out: Vec<(String, web_sys::Element)> = Vec::new();
    let Ok(list) = frame.query_selector_all("input[data-name], select[data-name], textarea[data-name]")
    else {
        return out;
    };
    for i in 0..list.length() {
        let Some(el) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
        let Some(name) = el.get_attribute("data-name") else { continue };
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        out.push((name, el));
    }
    out
}

fn input_type(el: &web_sys::Element) -> Option<String> {
    el.dyn_ref::<web_sys::HtmlInputElement>().map(|i| i.type_().to_ascii_lowercase())
}

fn read_value(el: &web_sys::Element) -> Option<String> {
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        return Some(match input.type_().to_ascii_lowercase().as_str() {
            "checkbox" => input.checked().to_string(),
            _ => input.value(),
        });
    }
    js_sys::Reflect::get(el, &"value".into()).ok()?.as_string()
}

fn write_value(el: &web_sys::Element, value: &str) {
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        if input_type(el).as_deref() == Some("checkbox") {
            input.set_checked(value == "true");
        } else {
            input.set_value(value);
        }
    } else {
        let _ = js_sys::Reflect::set(el, &"value".into(), &value.into());
    }
    for kind in ["input", "change"] {
        if let Ok(event) = document().create_event("Event") {
            event.init_event_with_bubbles(kind, true);
            let _ = el.dispatch_event(&event);
        }
    }
}

/// Whether the field now holds `wanted` (numbers compared as numbers: a slider writes `0.70`
/// back as `0.7`), and the widget shows no error for it.
fn accepted(frame: &web_sys::Element, name: &str, el: &web_sys::Element, wanted: &str) -> Result<(), String> {
    if input_type(el).as_deref() == Some("checkbox") && !matches!(wanted, "true" | "false") {
        return Err("it is neither true nor false".to_string());
    }
    let now = read_value(el).unwrap_or_default();
    let same = now == wanted
        || matches!((now.trim().parse::<f64>(), wanted.trim().parse::<f64>()), (Ok(a), Ok(b)) if a == b);
    if !same {
        return Err(match input_type(el).as_deref() {
            Some("range") => "it is outside the slider's range".to_string(),
            _ if el.tag_name() == "SELECT" => "it is not one of the menu's choices".to_string(),
            _ => "the field did not take it".to_string(),
        });
    }
    let Ok(errors) = frame.query_selector_all("[data-error-for]") else { return Ok(()) };
    for i in 0..errors.length() {
        let Some(error) = errors.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else {
            continue;
        };
        if error.get_attribute("data-error-for").as_deref() == Some(name) {
            let text = error.text_content().unwrap_or_default();
            if !text.trim().is_empty() {
                return Err(text.trim().to_string());
            }
        }
    }
    Ok(())
}

/// Writes a link's settings into the frame's fields, one at a time (waiting for the page to
/// update between them, so a field whose range follows another's value sees it), and returns
/// the notices.
pub async fn apply(frame: &web_sys::Element, state: &LinkState) -> Vec<String> {
    let mut notices: Vec<String> = state.problems.iter().map(|p| format!("This link: {p}.")).collect();
    for (name, value) in &state.settings {
        let fields = fields(frame);
        let Some((_, el)) = fields.iter().find(|(n, _)| n == name) else {
            notices.push(format!(
                "This link's setting {} was not understood (this widget has no such setting).",
                quote(name)
            ));
            continue;
        };
        let before = read_value(el).unwrap_or_default();
        write_value(el, value);
        crate::browser::pause(0).await;
        if let Err(why) = accepted(frame, name, el, value) {
            write_value(el, &before);
            crate::browser::pause(0).await;
            notices.push(format!(
                "This link's setting {} was not understood ({}); using the default.",
                setting_text(name, value),
                why.trim_end_matches('.')
            ));
        }
    }
    notices
}

/// The link to this frame as it stands, and whether a setting was too long to include.
pub fn current_link(frame: &web_sys::Element, widget: &str) -> (String, bool) {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    let chapter = chapter_to_name(&crate::route::current_route(), &path);
    let mut settings = Vec::new();
    let mut left_out = false;
    for (name, el) in fields(frame) {
        if input_type(&el).as_deref() == Some("radio") {
            continue;
        }
        match read_value(&el) {
            Some(v) if v.chars().count() <= MAX_VALUE_CHARS => settings.push((name, v)),
            _ => left_out = true,
        }
    }
    let base = format!("{}{path}", location.origin().unwrap_or_default());
    (format!("{base}{}#{}", link_query(chapter.as_deref(), widget, &settings), frame_id(widget)), left_out)
}

/// Copies `text` to the clipboard, and says whether it could.
pub async fn copy_to_clipboard(text: &str) -> bool {
    let navigator = js_sys::Reflect::get(&window(), &"navigator".into()).ok();
    let clipboard = navigator.and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok());
    let write = clipboard
        .as_ref()
        .and_then(|c| js_sys::Reflect::get(c, &"writeText".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let (Some(clipboard), Some(write)) = (clipboard, write) else { return false };
    let Ok(promise) = write.call1(&clipboard, &text.into()) else { return false };
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else { return false };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// What the page (not a frame) says about the link it was opened from: a widget this chapter
/// does not have, or a link too broken to name one.
pub fn page_notice() -> Option<String> {
    let state = link_in_address_bar();
    match &state.widget {
        Some(w) if document().get_element_by_id(&frame_id(w)).is_none() => Some(format!(
            "This link is to a widget, {}, that this chapter does not have (it may have moved); the chapter is shown with its defaults.",
            quote(w)
        )),
        None if !state.problems.is_empty() => {
            Some(format!("This link could not be read ({}); the chapter is shown with its defaults.", state.problems.join("; ")))
        }
        _ => None,
    }
}

/// The link in the address bar now.
pub fn link_in_address_bar() -> LinkState {
    parse_link(&window().location().search().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        for text in ["0.7", "a b&c=d", "ŷ − y", "100%", "#?/+"] {
            assert_eq!(decode(&encode(text)).as_deref(), Some(text), "{text}");
        }
        assert_eq!(encode("a b&c"), "a%20b%26c");
        assert_eq!(decode("a+b%2Bc").as_deref(), Some("a b+c"));
        assert_eq!(decode("%ZZ"), None);
        assert_eq!(decode("%4"), None);
        assert_eq!(decode("%FF%FE"), None, "not UTF-8");
        assert_eq!(decode("%E2%82"), None, "a cut multi-byte character");
    }

    #[test]
    fn a_link_names_its_chapter_only_where_the_page_does_not() {
        let inference = Route::Chapter("inference".into());
        assert_eq!(chapter_to_name(&inference, "/book/inference.html"), None);
        assert_eq!(chapter_to_name(&inference, "/book/").as_deref(), Some("inference"));
        assert_eq!(chapter_to_name(&inference, "/book/index.html").as_deref(), Some("inference"));
        // `embeddings.html?ch=inference` shows chapter 5: the link must say so.
        assert_eq!(chapter_to_name(&inference, "/embeddings.html").as_deref(), Some("inference"));
        assert_eq!(chapter_to_name(&Route::Cover, "/book/"), None);
        let on_its_page = link_query(None, "sampling", &[("top-k".into(), "3".into())]);
        assert_eq!(on_its_page, "?w=sampling&top-k=3");
        assert_eq!(parse_link(&on_its_page).widget.as_deref(), Some("sampling"));
        assert_eq!(parse_location("/book/inference.html", &on_its_page), inference);
    }

    #[test]
    fn a_link_names_a_widget_and_its_settings() {
        let query = link_query(
            Some("inference"),
            "sampling",
            &[("temperature".into(), "0.7".into()), ("logits".into(), "2, 1 & 0".into())],
        );
        assert_eq!(query, "?ch=inference&w=sampling&temperature=0.7&logits=2%2C%201%20%26%200");
        let state = parse_link(&query);
        assert_eq!(state.widget.as_deref(), Some("sampling"));
        assert_eq!(
            state.settings,
            [("temperature".to_string(), "0.7".to_string()), ("logits".to_string(), "2, 1 & 0".to_string())]
        );
        assert!(state.problems.is_empty());
        assert_eq!(parse_link("?ch=x"), LinkState::default());
        assert_eq!(parse_link(""), LinkState::default());
    }

    #[test]
    fn malformed_links_give_problems_not_panics() {
        let state =
            parse_link("?ch=inference&w=sampling&temperature=%ZZ&top-k=3&top-k=4&%E2=1&&=&flag&w=other");
        assert_eq!(state.widget.as_deref(), Some("sampling"));
        assert_eq!(
            state.settings,
            [("top-k".to_string(), "3".to_string()), ("flag".to_string(), String::new())]
        );
        assert_eq!(state.problems.len(), 4, "{:?}", state.problems);
        assert!(state.problems[0].contains("“temperature” could not be read"), "{:?}", state.problems);
        assert!(state.problems[1].contains("given more than once"), "{:?}", state.problems);
        assert!(state.problems[3].contains("more than one widget"), "{:?}", state.problems);

        let huge = format!("?w=sampling&temperature={}", "9".repeat(MAX_VALUE_CHARS + 1));
        let state = parse_link(&huge);
        assert!(state.settings.is_empty() && state.problems[0].contains("too long"), "{:?}", state.problems);
        let enormous = format!("?w=sampling&t={}", "9".repeat(MAX_QUERY_CHARS));
        let state = parse_link(&enormous);
        assert_eq!(state.widget, None);
        assert!(state.problems[0].contains("too long"));
        let many: String = (0..MAX_SETTINGS + 5).map(|i| format!("&s{i}=1")).collect();
        let state = parse_link(&format!("?w=x{many}"));
        assert_eq!(state.settings.len(), MAX_SETTINGS);
        assert_eq!(state.problems.len(), 1);
        assert_eq!(quote(&"é".repeat(50)), format!("“{}…”", "é".repeat(40)));
    }
}
