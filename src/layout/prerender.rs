//! The page's text before the app: `cargo xtask build` writes the shell, the cover and each
//! chapter's text into the served HTML (xtask/src/prerender.rs), so the reader sees it before
//! the app's module has arrived. The app draws the whole page itself, so that copy goes just
//! before it mounts, in the same task (no frame without text).

/// Waits for the prerendered text to be painted, then removes it.
pub async fn take_down_once_painted() {
    painted().await;
    if let Some(prerendered) = leptos::prelude::document().get_element_by_id("prerender") {
        prerendered.remove();
    }
}

/// Waits until the prerendered text has been drawn once: for a chapter, until the head script
/// has put it on the page or given up (`data-prerender` on the root is no longer "pending";
/// at most 3 s), then until a frame has been painted (two animation frames, or 200 ms where
/// the browser draws no frames, as in a background tab). The page then opens on its text
/// whether the network or the app is faster, and the app's identical copy is not a new,
/// later "largest paint".
async fn painted() {
    let root = leptos::prelude::document().document_element();
    let pending =
        || root.as_ref().and_then(|r| r.get_attribute("data-prerender")).as_deref() == Some("pending");
    for _ in 0..150 {
        if !pending() {
            break;
        }
        crate::browser::pause(20).await;
    }
    // Then the browser's timing of that paint (`data-prerender-painted`, set by the head
    // script's largest-contentful-paint observer), at most 1 s: a copy removed before its
    // paint is timed does not count, and the app's would become the largest paint.
    let timed = || root.as_ref().is_some_and(|r| r.has_attribute("data-prerender-painted"));
    for _ in 0..50 {
        if timed() {
            break;
        }
        crate::browser::pause(20).await;
    }
    let (done, painted) = futures_channel::oneshot::channel::<()>();
    let done = std::rc::Rc::new(std::cell::Cell::new(Some(done)));
    let first = done.clone();
    leptos::prelude::request_animation_frame(move || {
        leptos::prelude::request_animation_frame(move || {
            if let Some(done) = first.take() {
                let _ = done.send(());
            }
        })
    });
    leptos::prelude::set_timeout(
        move || {
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        },
        std::time::Duration::from_millis(200),
    );
    let _ = painted.await;
}
