//! Renders the book at build time: `content/` Markdown becomes static HTML with MathML,
//! compiled into the app as `book_data.rs`. A bad formula, an unknown widget or a broken
//! summary stops the build with the file and line.

use std::fmt::Write as _;
use std::path::Path;

use bookgen::render::{render_chapter, Segment};
use bookgen::search::{sections_from_html, IndexBuilder};
use bookgen::summary::parse_summary;

fn main() {
    if let Err(message) = generate() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn generate() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let content = root.join("content");
    println!("cargo:rerun-if-changed=content");
    let summary_text = read(&content.join("SUMMARY.md"))?;
    let summary = parse_summary(&summary_text).map_err(|e| format!("content/SUMMARY.md: {e}"))?;

    let mut out = String::new();
    let mut answer_ids = std::collections::HashSet::new();
    writeln!(out, "pub static BOOK_TITLE: &str = {:?};", summary.title).unwrap();
    out.push_str("pub static CHAPTERS: &[Chapter] = &[\n");
    let mut search_sections = String::new();
    let mut index = IndexBuilder::default();
    for (chapter_index, entry) in summary.chapters.iter().enumerate() {
        let path = content.join(&entry.file);
        println!("cargo:rerun-if-changed={}", path.display());
        let markdown = read(&path)?;
        let chapter = render_chapter(&markdown, root).map_err(|e| format!("content/{}: {e}", entry.file))?;
        for file in &chapter.included_files {
            println!("cargo:rerun-if-changed={file}");
        }
        writeln!(
            out,
            "Chapter {{ slug: {:?}, nav_title: {:?}, title: {:?}, headings: &[",
            entry.slug, entry.title, chapter.title
        )
        .unwrap();
        for h in &chapter.headings {
            writeln!(out, "Heading {{ level: {}, id: {:?}, text: {:?} }},", h.level, h.id, h.text).unwrap();
        }
        out.push_str("], segments: &[\n");
        for segment in &chapter.segments {
            match segment {
                Segment::Html(html) => writeln!(out, "Segment::Html({html:?}),").unwrap(),
                Segment::Widget(widget) => writeln!(out, "Segment::Widget(Widget::{widget:?}),").unwrap(),
                Segment::Exercise { question, checks, answer } => {
                    for id in checks {
                        if !answer_ids.insert(id.clone()) {
                            return Err(format!(
                                "content/{}: `{{{{#answer {id}}}}}` is used twice",
                                entry.file
                            ));
                        }
                    }
                    writeln!(
                        out,
                        "Segment::Exercise {{ question: {question:?}, checks: &{checks:?}, answer: {answer:?} }},"
                    )
                    .unwrap()
                }
            }
        }
        out.push_str("], paragraphs: &[\n");
        for p in &chapter.paragraphs {
            writeln!(
                out,
                "Paragraph {{ section: {:?}, section_title: {:?}, text: {:?} }},",
                p.section, p.section_title, p.text
            )
            .unwrap();
        }
        out.push_str("] },\n");
        // The search index: the chapter's static text cut at its headings (widgets are live,
        // so they have no text to index; a graded exercise's question and worked answer do).
        let html: Vec<String> = chapter
            .segments
            .iter()
            .map(|s| match s {
                Segment::Html(html) => html.clone(),
                Segment::Widget(_) => " ".to_string(),
                Segment::Exercise { question, answer, .. } => format!("{question} {answer}"),
            })
            .collect();
        for section in sections_from_html(&html.join(" ")) {
            index.add(&section.heading, &section.text);
            writeln!(
                search_sections,
                "SearchSection {{ chapter: {chapter_index}, id: {:?}, heading: {:?}, text: {:?} }},",
                section.id, section.heading, section.text
            )
            .unwrap();
        }
    }
    out.push_str("];\n");
    writeln!(out, "pub static SEARCH_SECTIONS: &[SearchSection] = &[\n{search_sections}];").unwrap();
    let index = index.finish();
    writeln!(out, "pub static SEARCH_INDEX: SearchIndex = SearchIndex {{ terms: &{:?},", index.terms)
        .unwrap();
    writeln!(
        out,
        "starts: &{:?},\npostings: &{:?},\nlengths: &{:?} }};",
        index.starts, index.postings, index.lengths
    )
    .unwrap();
    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    std::fs::write(Path::new(&out_dir).join("book_data.rs"), out).map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}
