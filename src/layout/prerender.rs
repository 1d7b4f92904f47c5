//! The page's text before the app: `cargo xtask build` writes the shell, the cover and each
//! chapter's text into the served HTML (xtask/src/prerender.rs), so the reader sees it before
//! the app's module has arrived.
//!
//! The app keeps that text rather than drawing a copy of it. Where the served page holds the
//! cover or the chapter being opened, the app's `Cover` and `ChapterPage` leave their text
//! blocks empty (marked `data-adopt`), and [`adopt_and_take_down`] moves the served blocks'
//! contents into them as soon as the app has mounted, in the same task. The paragraphs the
//! reader sees are then the very elements the browser painted first: nothing new, and nothing
//! larger, is painted where the text already was, so the page's largest paint stays the
//! served one, long before the WebAssembly arrives. The rest of the served copy (its header,
//! table of contents and widget placeholders) goes in the same task.

use leptos::prelude::document;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::book::Segment;

/// Waits while the head script is still fetching the chapter's text for `?ch=SLUG`
/// (`data-prerender="pending"` on the root), at most 3 s, so that the app finds the text
/// there to keep; then until the browser has timed the served text's paint
/// (`data-prerender-painted`, set by the head script's largest-contentful-paint observer), at
/// most 1 s. Where the WebAssembly arrives before the first frame, the app would otherwise
/// take the text over before it was ever painted, and the page's largest paint would wait for
/// the app.
pub async fn chapter_text_arrived() {
    let root = document().document_element();
    let pending =
        || root.as_ref().and_then(|r| r.get_attribute("data-prerender")).as_deref() == Some("pending");
    for _ in 0..150 {
        if !pending() {
            break;
        }
        crate::browser::pause(20).await;
    }
    let timed = || root.as_ref().is_none_or(|r| r.has_attribute("data-prerender-painted"));
    for _ in 0..50 {
        if timed() {
            break;
        }
        crate::browser::pause(20).await;
    }
}

/// The served cover, if the page holds one that is showing (a chapter's page hides it).
fn served_cover() -> Option<Element> {
    let hidden =
        document().document_element().is_some_and(|r| r.matches(".prerender-chapter").unwrap_or(true));
    if hidden {
        return None;
    }
    document().query_selector("#prerender article.pre-cover").ok().flatten()
}

/// The served article of chapter `slug`, if it has the app's layout: the chapter number, then
/// one block per segment (prose and exercises as `div.prose`, widgets as placeholders).
fn served_chapter(slug: &str, segments: &[Segment]) -> Option<Element> {
    let article = document().query_selector("#prerender article.pre-chapter").ok().flatten()?;
    if article.get_attribute("data-chapter").as_deref() != Some(slug) {
        return None;
    }
    let blocks = blocks_of(&article);
    if blocks.len() != segments.len() + 1 {
        return None;
    }
    let fits = segments.iter().zip(&blocks[1..]).all(|(segment, block)| {
        let class = match segment {
            Segment::Widget(_) => ".widget-placeholder",
            Segment::Html(_) | Segment::Exercise { .. } => "div.prose",
        };
        block.matches(class).unwrap_or(false)
    });
    fits.then_some(article)
}

/// The element children of `article`, in order.
fn blocks_of(article: &Element) -> Vec<Element> {
    let Ok(list) = article.query_selector_all(":scope > *") else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i).and_then(|n| n.dyn_into::<Element>().ok())).collect()
}

/// Whether the app's cover should leave its text for [`adopt_and_take_down`] to fill.
pub fn can_adopt_cover() -> bool {
    served_cover().is_some()
}

/// Whether `ChapterPage` for `slug` should leave its prose blocks for
/// [`adopt_and_take_down`] to fill.
pub fn can_adopt_chapter(slug: &str, segments: &[Segment]) -> bool {
    served_chapter(slug, segments).is_some()
}

/// Moves every child of `from` into `to`, in order: the same nodes, not copies.
fn move_children(from: &Element, to: &Element) {
    while let Some(child) = from.first_child() {
        if to.append_child(&child).is_err() {
            break;
        }
    }
}

/// Fills the app's empty text blocks (`data-adopt`) with the served page's, then removes
/// what is left of the served page. Called right after the app mounts, in the same task, so
/// no frame shows the page twice or without its text.
pub fn adopt_and_take_down() {
    let doc = document();
    if let (Some(slot), Some(cover)) =
        (doc.query_selector("article.cover[data-adopt]").ok().flatten(), served_cover())
    {
        move_children(&cover, &slot);
    }
    let served = doc.query_selector("#prerender article.pre-chapter").ok().flatten();
    let slots = doc.query_selector_all("article.chapter > div.prose[data-adopt]").ok();
    if let (Some(served), Some(slots)) = (served, slots) {
        let blocks = blocks_of(&served);
        for i in 0..slots.length() {
            let Some(slot) = slots.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
            let index = slot.get_attribute("data-adopt").and_then(|a| a.parse::<usize>().ok());
            // Block 0 is the chapter number; segment i is block i + 1.
            if let Some(block) = index.and_then(|i| blocks.get(i + 1)) {
                move_children(block, &slot);
            }
        }
    }
    if let Some(prerendered) = doc.get_element_by_id("prerender") {
        prerendered.remove();
    }
}
