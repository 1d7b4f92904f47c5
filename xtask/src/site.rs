//! What `cargo xtask build` does to dist/ after Trunk has written it: the Content-Security-Policy
//! of each page (with the hashes of the inline scripts and styles Trunk and 404.html carry, the
//! only inline code the site has) and the service worker's lists of files to cache.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::Result;

/// Files the service worker caches on first use rather than when it installs: chapter 9's
/// MiniLM (23 MB of weights, downloaded only when the reader asks for them).
const LAZY_FOLDERS: [&str; 1] = ["minilm/"];

/// Adds the policy to the site's pages (`index.html`, the chapters' `pages` and `404.html`)
/// and fills in the service worker's lists.
pub fn finish(dist: &Path, pages: &[String]) -> Result {
    let app_pages = std::iter::once("index.html").chain(pages.iter().map(String::as_str));
    for (page, wasm) in app_pages.map(|p| (p, true)).chain([("404.html", false)]) {
        let path = dist.join(page);
        let html = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let html = with_policy(&html, wasm).map_err(|e| format!("{page}: {e}"))?;
        std::fs::write(&path, html).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    service_worker(dist)
}

/// The page with a `<meta http-equiv="Content-Security-Policy">` first in its head. Scripts
/// and styles come only from the site's own files, or are one of the page's inline blocks
/// (by hash); WebAssembly may be compiled (`wasm_unsafe_eval`); no `unsafe-inline`, no
/// `unsafe-eval`. A static host cannot send headers, so `frame-ancestors` is left out (a
/// meta tag cannot carry it).
fn with_policy(html: &str, wasm_unsafe_eval: bool) -> Result<String> {
    if html.contains("http-equiv=\"Content-Security-Policy\"") {
        return Err("already has a Content-Security-Policy".into());
    }
    let hashes = |tag: &str| -> Result<String> {
        Ok(inline_blocks(html, tag)?
            .iter()
            .map(|body| format!(" 'sha256-{}'", base64(&sha256(body))))
            .collect())
    };
    let wasm = if wasm_unsafe_eval { " 'wasm-unsafe-eval'" } else { "" };
    let policy = format!(
        "default-src 'self'; script-src 'self'{wasm}{}; style-src 'self'{}; img-src 'self'; \
         font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'none'",
        hashes("script")?,
        hashes("style")?,
    );
    // Right after the charset (which must come first), else first in the head.
    let head = match html.find("<meta charset=\"utf-8\">") {
        Some(at) => at + "<meta charset=\"utf-8\">".len(),
        None => html.find("<head>").ok_or("no <head>")? + "<head>".len(),
    };
    Ok(format!(
        "{}\n  <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">{}",
        &html[..head],
        &html[head..]
    ))
}

/// The text of every `<tag>` element without a `src` attribute, exactly as the browser hashes it.
fn inline_blocks<'a>(html: &'a str, tag: &str) -> Result<Vec<&'a str>> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<script>` or `<script type=...>`, not `<scripts>` or the like.
        if !after.starts_with(['>', ' ', '\n', '\t']) {
            rest = after;
            continue;
        }
        let end_of_tag = after.find('>').ok_or_else(|| format!("unclosed {open}"))?;
        let attributes = &after[..end_of_tag];
        let body_and_rest = &after[end_of_tag + 1..];
        let end = body_and_rest.find(&close).ok_or_else(|| format!("{open} without {close}"))?;
        if !attributes.contains("src=") {
            blocks.push(&body_and_rest[..end]);
        }
        rest = &body_and_rest[end + close.len()..];
    }
    Ok(blocks)
}

/// Fills in sw.js's lists: every file in dist/ with the first 16 hex digits of its SHA-256,
/// precached or (under [`LAZY_FOLDERS`]) cached on first use, and a version for each list,
/// so that any changed byte makes a new worker with new caches.
fn service_worker(dist: &Path) -> Result {
    let mut files = Vec::new();
    list_files(dist, "", &mut files)?;
    files.sort();
    let (mut precache, mut lazy) = (Vec::new(), Vec::new());
    for path in files {
        if path == "sw.js" {
            continue;
        }
        if path.contains(['"', '\\']) {
            return Err(format!("{path}: a file name the service worker cannot list"));
        }
        let bytes = std::fs::read(dist.join(&path)).map_err(|e| format!("{path}: {e}"))?;
        let hash = hex(&sha256(&bytes))[..16].to_string();
        let list = if LAZY_FOLDERS.iter().any(|folder| path.starts_with(folder)) {
            &mut lazy
        } else {
            &mut precache
        };
        list.push((path, hash));
    }
    let listed = |list: &[(String, String)]| -> String {
        let rows: Vec<String> =
            list.iter().map(|(path, hash)| format!("\n  [\"{path}\", \"{hash}\"]")).collect();
        format!("[{}\n]", rows.join(","))
    };
    let version = |list: &[(String, String)]| -> String {
        let lines: String = list.iter().map(|(path, hash)| format!("{path} {hash}\n")).collect();
        hex(&sha256(lines.as_bytes()))[..16].to_string()
    };
    let path = dist.join("sw.js");
    let script = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut filled = script;
    for (placeholder, value) in [
        ("/* PRECACHE */ []", listed(&precache)),
        ("/* LAZY */ []", listed(&lazy)),
        ("/* VERSION */", version(&precache)),
        ("/* LAZY_VERSION */", version(&lazy)),
    ] {
        if !filled.contains(placeholder) {
            return Err(format!("sw.js has no {placeholder}"));
        }
        filled = filled.replacen(placeholder, &value, 1);
    }
    std::fs::write(&path, filled).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = |list: &[(String, String)]| -> u64 {
        list.iter().filter_map(|(p, _)| std::fs::metadata(dist.join(p)).ok()).map(|m| m.len()).sum()
    };
    eprintln!(
        "service worker: {} files precached ({} KiB), {} cached on first use ({} KiB)",
        precache.len(),
        bytes(&precache) / 1024,
        lazy.len(),
        bytes(&lazy) / 1024
    );
    Ok(())
}

/// Every file under `dir`, as paths relative to dist/ with `/` between folders.
fn list_files(dir: &Path, prefix: &str, files: &mut Vec<String>) -> Result {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            list_files(&entry.path(), &format!("{prefix}{name}/"), files)?;
        } else if kind.is_file() {
            files.push(format!("{prefix}{name}"));
        }
    }
    Ok(())
}

fn sha256(bytes: impl AsRef<[u8]>) -> [u8; 32] {
    Sha256::digest(bytes.as_ref()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding, as CSP hash sources are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_examples() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn hashes_only_inline_blocks_and_puts_the_policy_first() {
        // The hash of `alert(1)` that browsers print when they refuse it.
        assert_eq!(base64(&sha256("alert(1)")), "bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=");
        let html = "<html><head><title>t</title><script src=\"a.js\"></script><script type=\"module\">alert(1)</script>\
                    <style>p{}</style></head><body></body></html>";
        let out = with_policy(html, true).unwrap();
        assert!(out.starts_with("<html><head>\n  <meta http-equiv=\"Content-Security-Policy\""));
        assert!(out.contains(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=';"
        ));
        assert!(out.contains(&format!("style-src 'self' 'sha256-{}';", base64(&sha256("p{}")))));
        assert!(!out.contains("unsafe-inline") && !out.contains("'unsafe-eval'"));
        assert!(with_policy(&out, true).is_err(), "a second policy is refused");
    }
}
