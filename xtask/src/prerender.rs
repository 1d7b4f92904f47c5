//! The book's text in the served HTML, so that the first paint is the page itself rather than
//! an empty page waiting for the app's WebAssembly to cross the network.
//!
//! `cargo xtask build` renders every chapter again with `bookgen` (the same renderer
//! `build.rs` compiles into the app) and writes:
//! - into `index.html`, the page's shell (skip link, header, table of contents) with the cover
//!   in `<main>`, all inside `<div id="prerender">`;
//! - `SLUG.html`, each chapter's own page: the same shell with the chapter's article in
//!   `<main>`, as the app lays it out (prose, equations as MathML, code, exercises with their
//!   folded answers), each live widget as a placeholder carrying its title. For
//!   `index.html?ch=SLUG`, the page's head script fetches `SLUG.html` and puts its `<main>`'s
//!   contents in the shell's `<main>`.
//!
//! The app keeps this text (`src/layout/prerender.rs`): its cover and its chapter's prose
//! blocks are these elements, moved into the app's page when it mounts; the rest (the shell,
//! widget placeholders, exercises) it draws itself, and removes `#prerender`. The articles
//! are `pre-cover` and `pre-chapter` rather than the app's `cover` and `chapter` (styled
//! alike), so nothing that waits for the app finds them. The cover's sentences are
//! `bookgen::COVER_LEDE` and `bookgen::COVER_HINT`, which the app's cover shows too.
//!
//! The head script learns the chapters' slugs here (its `/* CHAPTERS */` list), so an unknown
//! `?ch=` fetches nothing.

use std::path::Path;

use bookgen::render::{render_chapter, RenderedChapter, Segment};
use bookgen::summary::parse_summary;

use crate::Result;

/// Writes the shell and cover into dist/index.html, each chapter's page (`SLUG.html`: the
/// same page with the chapter in `<main>`).
pub fn prerender(dist: &Path, root: &Path) -> Result {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let summary = parse_summary(&read(&root.join("content/SUMMARY.md"))?)?;
    let titles = widget_titles(&root.join("src/widgets"))?;
    let mut articles = Vec::new();
    for (index, entry) in summary.chapters.iter().enumerate() {
        if !entry.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(format!("{}: a slug the head script cannot fetch", entry.slug));
        }
        if matches!(entry.slug.as_str(), "index" | "404") {
            return Err(format!("{}: a slug whose page would replace one of the site's", entry.slug));
        }
        let markdown = read(&root.join("content").join(&entry.file))?;
        let chapter = render_chapter(&markdown, root).map_err(|e| format!("content/{}: {e}", entry.file))?;
        let html = chapter_article(index, &entry.slug, &chapter, &titles);
        articles.push((chapter.title.clone(), html));
    }

    // The table of contents, with the current chapter marked, as the app's sidebar has it.
    let toc = |current: Option<&str>| -> String {
        summary
            .chapters
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let here = if current == Some(c.slug.as_str()) { " aria-current=\"page\"" } else { "" };
                format!(
                    "<li><a href=\"{}.html\"{here}><span class=\"toc-number\">{}.</span><span class=\"toc-title\">{}</span></a></li>",
                    c.slug,
                    i + 1,
                    escape(&c.title)
                )
            })
            .collect()
    };
    // As the app's cover lists them: by each chapter's own title.
    let chapter_list: String = summary
        .chapters
        .iter()
        .zip(&articles)
        .map(|(c, (title, _))| format!("<li><a href=\"{}.html\">{}</a></li>", c.slug, escape(title)))
        .collect();
    let title = escape(&summary.title);
    let shell = |current: Option<&str>, main: &str| {
        format!(
            "<div id=\"prerender\" class=\"prerender\">\
<a class=\"skip-link\" href=\"#main\">Skip to the text</a>\
<header class=\"topbar\"><button class=\"menu-button\" aria-controls=\"sidebar\" aria-expanded=\"false\">Contents</button>\
<a class=\"book-title\" href=\"./\">{title}</a></header>\
<div class=\"shell\"><nav id=\"sidebar\" class=\"sidebar\" aria-label=\"Table of contents\"><ol class=\"toc\">{}</ol></nav>\
<main id=\"main\" tabindex=\"-1\">{main}</main></div></div>\n",
            toc(current)
        )
    };
    let cover = format!(
        "<article class=\"pre-cover prose\"><h1>{title}</h1><p class=\"lede\">{}</p>\
<ol class=\"chapter-list\">{chapter_list}</ol><p class=\"hint\">{}</p></article>",
        escape(bookgen::COVER_LEDE),
        escape(bookgen::COVER_HINT),
    );

    let path = dist.join("index.html");
    let page = read(&path)?;
    let slugs: Vec<String> = summary.chapters.iter().map(|c| format!("\"{}\"", c.slug)).collect();
    let placeholder = "/* CHAPTERS */ []";
    if !page.contains(placeholder) {
        return Err(format!("index.html: its head script has no {placeholder}"));
    }
    let page = page.replacen(placeholder, &format!("[{}]", slugs.join(", ")), 1);
    let page = app_after_first_paint(&page)?;
    let body = page.find("<body>").ok_or("index.html: no <body>")? + "<body>".len();
    let title_tag = format!("<title>{title}</title>");
    if !page.contains(&title_tag) {
        return Err(format!("index.html: no {title_tag}"));
    }
    // The page with `main` in the shell and `heading` as its title.
    let with = |current: Option<&str>, main: &str, heading: &str| {
        let page = format!("{}\n{}{}", &page[..body], shell(current, main), &page[body..]);
        page.replacen(&title_tag, &format!("<title>{heading}</title>"), 1)
    };
    let index = with(None, &cover, &title);
    std::fs::write(&path, &index).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = 0;
    for (entry, (chapter_title, article)) in summary.chapters.iter().zip(&articles) {
        // As the app titles it (`App` in src/app.rs).
        let heading = format!("{} · {title}", escape(chapter_title));
        let html = with(Some(&entry.slug), article, &heading);
        bytes += html.len();
        let path = dist.join(format!("{}.html", entry.slug));
        std::fs::write(&path, html).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!(
        "prerendered: the cover in index.html ({} KiB), {} chapter pages ({} KiB)",
        index.len() / 1024,
        summary.chapters.len(),
        bytes / 1024
    );
    Ok(())
}

/// Trunk's page with the app's WebAssembly fetched only once the served text has had its
/// first frame (or after 100 ms, where the browser draws no frames): Trunk preloads it from
/// the head, and on a slow connection its 1.2 MB then share the line with the page's own
/// HTML and styles, and the text waits. The small JavaScript glue is still preloaded.
fn app_after_first_paint(page: &str) -> Result<String> {
    let from = page
        .find("<link rel=\"preload\"")
        .ok_or("index.html: Trunk's preload of the app's wasm not found")?;
    let to = from + page[from..].find('>').ok_or("index.html: an unclosed <link>")? + 1;
    if !page[from..to].contains("_bg.wasm") {
        return Err(format!("index.html: the first preload is not the app's wasm: {}", &page[from..to]));
    }
    let start = "const wasm = await init(";
    if !page.contains(start) {
        return Err(format!("index.html: Trunk's loader has no `{start}`"));
    }
    let wait = "await new Promise((go) => { requestAnimationFrame(() => setTimeout(go, 0)); setTimeout(go, 100); });\n";
    let page = format!("{}{}", &page[..from], &page[to..]);
    Ok(page.replacen(start, &format!("{wait}{start}"), 1))
}

/// The chapters' pages `cargo xtask build` writes beside `index.html`, by slug.
pub fn chapter_pages(root: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(root.join("content/SUMMARY.md")).map_err(|e| format!("SUMMARY.md: {e}"))?;
    Ok(parse_summary(&text)?.chapters.into_iter().map(|c| format!("{}.html", c.slug)).collect())
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
