//! The book's text in the served HTML, so that the first paint is the page itself rather than
//! an empty page waiting for the app's WebAssembly to cross the network.
//!
//! `cargo xtask build` renders every chapter again with `bookgen` (the same renderer
//! `build.rs` compiles into the app) and writes:
//! - into `index.html`, the page's shell (skip link, header, table of contents) with the cover
//!   in `<main>`, all inside `<div id="prerender">`;
//! - `pre/SLUG.html`, each chapter's article as the app lays it out (prose, equations as
//!   MathML, code, exercises with their folded answers), each live widget as a placeholder
//!   carrying its title. For `index.html?ch=SLUG`, the page's head script fetches this file
//!   and puts it in the shell's `<main>`.
//!
//! The app removes `#prerender` just before it mounts (`src/main.rs`), so it renders exactly
//! as it did without it. The articles are `pre-cover` and `pre-chapter` rather than the app's
//! `cover` and `chapter` (styled alike), so nothing that waits for the app finds them. The cover's sentences here repeat `Cover` in `src/app.rs`.

use std::path::Path;

use bookgen::render::{render_chapter, RenderedChapter, Segment};
use bookgen::summary::parse_summary;

use crate::Result;

/// Where the chapter fragments go, under dist/ (the head script in `index.html` fetches them
/// from there).
pub const FOLDER: &str = "pre";

/// Writes the shell and cover into dist/index.html and one fragment per chapter.
pub fn prerender(dist: &Path, root: &Path) -> Result {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let summary = parse_summary(&read(&root.join("content/SUMMARY.md"))?)?;
    let titles = widget_titles(&root.join("src/widgets"))?;
    let folder = dist.join(FOLDER);
    std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut bytes = 0;
    for (index, entry) in summary.chapters.iter().enumerate() {
        if !entry.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(format!("{}: a slug the head script cannot fetch", entry.slug));
        }
        let markdown = read(&root.join("content").join(&entry.file))?;
        let chapter = render_chapter(&markdown, root).map_err(|e| format!("content/{}: {e}", entry.file))?;
        let html = chapter_article(index, &entry.slug, &chapter, &titles);
        bytes += html.len();
        let path = folder.join(format!("{}.html", entry.slug));
        std::fs::write(&path, html).map_err(|e| format!("{}: {e}", path.display()))?;
    }

    let toc: String = summary
        .chapters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "<li><a href=\"?ch={}\"><span class=\"toc-number\">{}.</span><span class=\"toc-title\">{}</span></a></li>",
                c.slug,
                i + 1,
                escape(&c.title)
            )
        })
        .collect();
    let chapter_list: String = summary
        .chapters
        .iter()
        .map(|c| format!("<li><a href=\"?ch={}\">{}</a></li>", c.slug, escape(&c.title)))
        .collect();
    let title = escape(&summary.title);
    let shell = format!(
        "<div id=\"prerender\" class=\"prerender\">\
<a class=\"skip-link\" href=\"#main\">Skip to the text</a>\
<header class=\"topbar\"><button class=\"menu-button\" aria-controls=\"sidebar\" aria-expanded=\"false\">Contents</button>\
<a class=\"book-title\" href=\"./\">{title}</a></header>\
<div class=\"shell\"><nav id=\"sidebar\" class=\"sidebar\" aria-label=\"Table of contents\"><ol class=\"toc\">{toc}</ol></nav>\
<main id=\"main\" tabindex=\"-1\"><article class=\"pre-cover prose\"><h1>{title}</h1>\
<p class=\"lede\">Machine learning from first principles, computed live. Every number on these pages comes from Rust code \
running in your browser, and you can change the inputs and watch it recompute.</p>\
<ol class=\"chapter-list\">{chapter_list}</ol>\
<p class=\"hint\">Tip: the left and right arrow keys turn pages.</p></article></main></div></div>\n"
    );
    let path = dist.join("index.html");
    let index = read(&path)?;
    let at = index.find("<body>").ok_or("index.html: no <body>")? + "<body>".len();
    let index = format!("{}\n{shell}{}", &index[..at], &index[at..]);
    std::fs::write(&path, index).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "prerendered: the cover in index.html ({} KiB), {} chapters in {FOLDER}/ ({} KiB)",
        shell.len() / 1024,
        summary.chapters.len(),
        bytes / 1024
    );
    Ok(())
}

/// A chapter's article as `ChapterPage` in `src/app.rs` lays it out, widgets as placeholders.
fn chapter_article(
    index: usize,
    slug: &str,
    chapter: &RenderedChapter,
    titles: &[(String, String)],
) -> String {
    let mut html = format!(
        "<article class=\"pre-chapter\" data-chapter=\"{slug}\"><p class=\"chapter-number\">Chapter {}</p>",
        index + 1
    );
    for segment in &chapter.segments {
        match segment {
            Segment::Html(prose) => html.push_str(&format!("<div class=\"prose\">{prose}</div>")),
            Segment::Widget(widget) => {
                let file = widget.name().replace('-', "_");
                let title = titles
                    .iter()
                    .find(|(stem, _)| *stem == file || stem.starts_with(&format!("{file}_")))
                    .map_or("A live example", |(_, title)| title.as_str());
                html.push_str(&format!(
                    "<section class=\"widget-placeholder\" aria-label=\"{title}\"><p class=\"widget-placeholder-title\">{title}</p>\
<p class=\"widget-placeholder-note\">Starts when the page has loaded.</p></section>",
                    title = escape(title)
                ));
            }
            Segment::Exercise { question, answer, .. } => html.push_str(&format!(
                "<div class=\"prose\"><section class=\"exercise graded\"><div>{question}</div><div>{answer}</div></section></div>"
            )),
        }
    }
    html.push_str("</article>");
    html
}

/// Each widget file's stem with the fixed title its `WidgetFrame` shows (files whose title
/// is computed are left out).
fn widget_titles(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut titles = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_string) else { continue };
        let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(frame) = source.find("<WidgetFrame") else { continue };
        // The opening tag: up to the `>` that ends its line.
        let tag = &source[frame..];
        let tag = &tag[..tag.find(">\n").unwrap_or(tag.len())];
        let title = tag.find(" title=\"").and_then(|at| {
            let rest = &tag[at + " title=\"".len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        });
        if let Some(title) = title {
            titles.push((stem, title));
        }
    }
    Ok(titles)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
