//! Small wrappers over browser APIs: downloading the book's data files (the shipped model, the
//! training text) from the site itself, a pause that lets the page draw, and a millisecond clock
//! for timing steps. Paths are
//! relative to the page, so the book works from any folder it is served under.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// The bytes of `path`, or a sentence saying why not.
pub async fn bytes(path: &str) -> Result<Vec<u8>, String> {
    let response = response(path).await?;
    let buffer =
        response.array_buffer().map_err(|_| format!("{path}: the browser cannot read the response"))?;
    let buffer = JsFuture::from(buffer).await.map_err(|_| format!("{path}: the download was interrupted"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The bytes of `path` read as a stream, calling `progress(received, total)` after each piece
/// (`total` from Content-Length; `None` when the server does not say, or when the body arrives
/// larger than it said, as it does when the server compresses it).
pub async fn bytes_with_progress(path: &str, progress: impl Fn(u64, Option<u64>)) -> Result<Vec<u8>, String> {
    let response = response(path).await?;
    let said =
        response.headers().get("content-length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok());
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let capacity = said.map_or(0, |n| n.min(1 << 28) as usize);
    let mut out = Vec::with_capacity(capacity);
    progress(0, said);
    loop {
        let piece = JsFuture::from(reader.read())
            .await
            .map_err(|_| format!("{path}: the download was interrupted"))?;
        let piece: web_sys::ReadableStreamReadResult = piece.unchecked_into();
        if piece.get_done().unwrap_or(true) {
            break;
        }
        let chunk: js_sys::Uint8Array = piece
            .get_value()
            .dyn_into()
            .map_err(|_| format!("{path}: the browser returned something other than bytes"))?;
        let start = out.len();
        out.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut out[start..]);
        let received = out.len() as u64;
        progress(received, said.filter(|&t| t >= received));
    }
    if let Some(total) = said.filter(|&t| t > out.len() as u64) {
        return Err(format!("{path}: the download stopped at {} of {total} bytes", out.len()));
    }
    Ok(out)
}

/// The text of `path`, or a sentence saying why not.
pub async fn text(path: &str) -> Result<String, String> {
    let response = response(path).await?;
    let text = response.text().map_err(|_| format!("{path}: the browser cannot read the response"))?;
    let text = JsFuture::from(text).await.map_err(|_| format!("{path}: the download was interrupted"))?;
    text.as_string().ok_or_else(|| format!("{path}: the response is not text"))
}

async fn response(path: &str) -> Result<Response, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let value = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|_| format!("{path}: could not be downloaded (offline, or the site is missing it)"))?;
    let response: Response = value.dyn_into().map_err(|_| format!("{path}: not an HTTP response"))?;
    if !response.ok() {
        return Err(format!("{path}: the server answered {} {}", response.status(), response.status_text()));
    }
    Ok(response)
}

/// Waits `ms` milliseconds (0: until the browser has handled what is waiting, such as input
/// and drawing), so a long loop on the page's thread keeps the page responsive.
pub async fn pause(ms: u64) {
    let (done, wait) = futures_channel::oneshot::channel();
    leptos::prelude::set_timeout(
        move || {
            let _ = done.send(());
        },
        std::time::Duration::from_millis(ms),
    );
    let _ = wait.await;
}

/// Milliseconds since the page started, for timing steps.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Whether the reader asked for reduced motion (`prefers-reduced-motion: reduce`): widgets
/// then show the end of an animation at once instead of playing it on their own.
pub fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}
