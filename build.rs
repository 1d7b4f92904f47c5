//! Renders the book at build time: `content/` Markdown becomes static HTML with MathML,
//! compiled into the app as `book_data.rs`. A bad formula, an unknown widget or a broken
//! summary stops the build with the file and line.

use std::fmt::Write as _;
use std::path::Path;

use bookgen::render::{render_chapter, Segment};
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
    for entry in &summary.chapters {
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
        out.push_str("] },\n");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    std::fs::write(Path::new(&out_dir).join("book_data.rs"), out).map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}
