//! Renders one chapter: Markdown to HTML, LaTeX to MathML, code to highlighted HTML.
//!
//! The output is a list of [`Segment`]s: runs of static HTML with live widgets between
//! them. Everything that can be decided at build time is decided here, so the page does no
//! Markdown or math work at all.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, RenderConfig, Storage};

use crate::blocks::{split_pieces, Block, BlockKind, Piece};
use crate::directive::{parse_directive, Directive, Widget};
use crate::highlight::{escape_html, highlight};
use crate::slugify;

/// A heading of the chapter, for the sidebar and for deep links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    /// 1 for the chapter title, 2 for sections, 3 for subsections and exercises (an exercise
    /// sits under its `## Exercises` section, so no level is skipped).
    pub level: u8,
    /// The element id, unique in the chapter.
    pub id: String,
    /// Plain text of the heading.
    pub text: String,
}

/// A run of the chapter: static HTML, a live widget, or an exercise with answer boxes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Html(String),
    Widget(Widget),
    /// An exercise whose question ends with answer boxes: its heading and question as HTML,
    /// the ids of the boxes, and the worked answer's fold as HTML. The app puts the boxes
    /// between the two inside the exercise's frame.
    Exercise {
        question: String,
        checks: Vec<String>,
        answer: String,
    },
}

/// One paragraph of prose as plain text (for search): inline maths as a plain approximation of
/// its LaTeX, code spans kept, display maths and code blocks left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paragraph {
    /// The id of the heading it sits under (the chapter title's for the opening paragraphs).
    pub section: String,
    /// That heading's text.
    pub section_title: String,
    pub text: String,
}

/// Paragraphs shorter than this many words (captions, one-line links) are not kept.
pub const MIN_PARAGRAPH_WORDS: usize = 8;

/// A rendered chapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedChapter {
    /// The `# ` title.
    pub title: String,
    /// Every heading in order, the title first.
    pub headings: Vec<Heading>,
    pub segments: Vec<Segment>,
    /// Repository files the chapter included; the build reruns when they change.
    pub included_files: Vec<String>,
    /// The prose paragraphs in order, as plain text.
    pub paragraphs: Vec<Paragraph>,
}

/// Renders a chapter's Markdown. `repo_root` resolves `{{#include}}` paths.
pub fn render_chapter(markdown: &str, repo_root: &Path) -> Result<RenderedChapter, String> {
    let mut state = State { repo_root: repo_root.to_path_buf(), ..State::default() };
    let mut segments: Vec<Segment> = Vec::new();
    for piece in split_pieces(markdown)? {
        let html = match piece {
            Piece::Markdown(text) => state.markdown(&text)?,
            Piece::Block(block) if !block.checks.is_empty() => {
                let (question, answer) = state.exercise_parts(&block)?;
                segments.push(Segment::Exercise { question, checks: block.checks, answer });
                continue;
            }
            Piece::Block(block) => state.block(&block)?,
            Piece::Directive(Directive::Widget(widget)) => {
                segments.push(Segment::Widget(widget));
                continue;
            }
            Piece::Directive(Directive::Include { path, anchor }) => {
                state.include(&path, anchor.as_deref())?
            }
            // split_pieces keeps answer boxes inside their exercise, never loose.
            Piece::Directive(Directive::Answer(id)) => {
                return Err(format!("`{{{{#answer {id}}}}}` belongs inside an exercise"))
            }
        };
        match segments.last_mut() {
            Some(Segment::Html(previous)) => previous.push_str(&html),
            _ => segments.push(Segment::Html(html)),
        }
    }
    let title = state
        .headings
        .iter()
        .find(|h| h.level == 1)
        .map(|h| h.text.clone())
        .ok_or("the chapter has no `# Title`")?;
    if state.headings.iter().filter(|h| h.level == 1).count() > 1 {
        return Err("a chapter has exactly one `# Title`".to_string());
    }
    Ok(RenderedChapter {
        title,
        headings: state.headings,
        segments,
        included_files: state.included_files,
        paragraphs: state.paragraphs,
    })
}

/// Every chapter's paragraphs in reading order, each with its chapter's slug: the book as
/// `content/SUMMARY.md` under `repo_root` lists it.
pub fn book_paragraphs(repo_root: &Path) -> Result<Vec<(String, Paragraph)>, String> {
    let content = repo_root.join("content");
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let summary = crate::summary::parse_summary(&read(&content.join("SUMMARY.md"))?)?;
    let mut out = Vec::new();
    for entry in &summary.chapters {
        let chapter = render_chapter(&read(&content.join(&entry.file))?, repo_root)
            .map_err(|e| format!("content/{}: {e}", entry.file))?;
        out.extend(chapter.paragraphs.into_iter().map(|p| (entry.slug.clone(), p)));
    }
    Ok(out)
}

/// Headings seen so far, so that ids stay unique across the whole chapter, and the files
/// the chapter has included.
#[derive(Default)]
struct State {
    headings: Vec<Heading>,
    ids: HashSet<String>,
    repo_root: PathBuf,
    included_files: Vec<String>,
    paragraphs: Vec<Paragraph>,
}

impl State {
    /// A repository file, or its lines between `ANCHOR: anchor` and `ANCHOR_END: anchor`, as
    /// a highlighted code block captioned with its path. The language follows the extension:
    /// `.wgsl` is WGSL, anything else Rust.
    fn include(&mut self, path: &str, anchor: Option<&str>) -> Result<String, String> {
        let source = std::fs::read_to_string(self.repo_root.join(path))
            .map_err(|e| format!("{{{{#include {path}}}}}: {e}"))?;
        let excerpt = extract_anchor(&source, anchor)
            .ok_or_else(|| format!("{path}: no `ANCHOR: {}`", anchor.unwrap_or_default()))?;
        self.included_files.push(path.to_string());
        let lang = if path.ends_with(".wgsl") { "wgsl" } else { "rust" };
        Ok(code_block_html(lang, &excerpt, Some(path)))
    }

    /// Markdown that may hold `{{#include}}` lines (a fold's body): the prose between them
    /// is rendered as Markdown, each include as its code block.
    fn markdown_with_includes(&mut self, text: &str) -> Result<String, String> {
        let mut html = String::new();
        let mut prose = String::new();
        for line in text.lines() {
            match parse_directive(line) {
                Some(Ok(Directive::Include { path, anchor })) => {
                    html.push_str(&self.markdown(&std::mem::take(&mut prose))?);
                    html.push_str(&self.include(&path, anchor.as_deref())?);
                }
                _ => {
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
        }
        html.push_str(&self.markdown(&prose)?);
        Ok(html)
    }

    fn unique_id(&mut self, text: &str) -> String {
        let base = slugify(text);
        let mut id = base.clone();
        let mut n = 2;
        while !self.ids.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }

    fn heading_html(&mut self, level: u8, inner_html: &str, text: &str) -> String {
        let id = self.unique_id(text);
        self.headings.push(Heading { level, id: id.clone(), text: text.to_string() });
        if level == 1 {
            return format!("<h1 id=\"{id}\">{inner_html}</h1>\n");
        }
        format!(
            "<h{level} id=\"{id}\"><a class=\"anchor\" href=\"#{id}\" aria-label=\"Link to this section\">#</a>{inner_html}</h{level}>\n"
        )
    }

    fn block(&mut self, block: &Block) -> Result<String, String> {
        let title = escape_html(&block.title);
        Ok(match block.kind {
            BlockKind::Note => {
                let body = self.markdown(&block.body)?;
                format!("<aside class=\"note\"><p class=\"note-title\">{title}</p>{body}</aside>\n")
            }
            BlockKind::Details => {
                let body = self.markdown_with_includes(&block.body)?;
                format!(
                    "<details class=\"derivation\"><summary>{title}</summary><div class=\"details-body\">{body}</div></details>\n"
                )
            }
            BlockKind::Exercise => {
                // The heading is rendered first, so the question's paragraphs sit under it.
                let (question, answer) = self.exercise_parts(block)?;
                format!("<section class=\"exercise\">{question}{answer}</section>\n")
            }
        })
    }

    /// Keeps a paragraph's plain text, whitespace collapsed, under the latest heading.
    fn keep_paragraph(&mut self, raw: &str) {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.split(' ').count() < MIN_PARAGRAPH_WORDS {
            return;
        }
        let (section, section_title) =
            self.headings.last().map(|h| (h.id.clone(), h.text.clone())).unwrap_or_default();
        self.paragraphs.push(Paragraph { section, section_title, text });
    }

    /// The fold that holds an exercise's worked answer.
    fn worked_answer(&mut self, block: &Block) -> Result<String, String> {
        let answer = self.markdown(block.answer.as_deref().unwrap_or_default())?;
        Ok(format!(
            "<details class=\"answer\"><summary>Show the worked answer</summary><div class=\"details-body\">{answer}</div></details>"
        ))
    }

    /// An exercise with answer boxes, in two parts: the heading and question, and the fold
    /// with the worked answer. The app wraps them in the same `section.exercise`.
    fn exercise_parts(&mut self, block: &Block) -> Result<(String, String), String> {
        let heading = self.heading_html(3, &escape_html(&block.title), &block.title);
        let body = self.markdown(&block.body)?;
        Ok((format!("{heading}{body}"), self.worked_answer(block)?))
    }

    /// Renders plain Markdown (no directives, no blocks) to HTML.
    fn markdown(&mut self, text: &str) -> Result<String, String> {
        let options = Options::ENABLE_TABLES
            | Options::ENABLE_MATH
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_SMART_PUNCTUATION;
        let mut events: Vec<Event> = Vec::new();
        let mut heading: Option<(u8, Vec<Event>, String)> = None;
        let mut code: Option<(String, String)> = None;
        let mut paragraph: Option<String> = None;

        for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
            match (&event, &mut paragraph) {
                (Event::Start(Tag::Paragraph), _) => paragraph = Some(String::new()),
                (Event::End(TagEnd::Paragraph), _) => {
                    if let Some(p) = paragraph.take() {
                        self.keep_paragraph(&p);
                    }
                }
                (Event::Text(t) | Event::Code(t), Some(p)) => p.push_str(t),
                (Event::InlineMath(latex), Some(p)) => p.push_str(&plain_math(latex)),
                (Event::SoftBreak | Event::HardBreak, Some(p)) => p.push(' '),
                _ => {}
            }
            if let Some((_, source)) = &mut code {
                match event {
                    Event::Text(t) => source.push_str(&t),
                    Event::End(TagEnd::CodeBlock) => {
                        let (lang, source) = code.take().expect("inside a code block");
                        events.push(Event::Html(code_block_html(&lang, &source, None).into()));
                    }
                    _ => {}
                }
                continue;
            }
            let event = match event {
                Event::InlineMath(latex) => Event::InlineHtml(mathml(&latex, DisplayMode::Inline)?.into()),
                Event::DisplayMath(latex) => Event::InlineHtml(mathml(&latex, DisplayMode::Block)?.into()),
                Event::Text(t) if has_stray_dollar(&t, text, range.start) => {
                    return Err(format!(
                        "a `$` outside math (unclosed formula? write `\\$` for a dollar): `{t}`"
                    ))
                }
                Event::Html(html) | Event::InlineHtml(html) => {
                    return Err(format!("raw HTML is not allowed in content: `{}`", html.trim()))
                }
                other => other,
            };
            match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    heading = Some((heading_number(level), Vec::new(), String::new()));
                }
                Event::End(TagEnd::Heading(_)) => {
                    let (level, inner, text) = heading.take().ok_or("unbalanced heading")?;
                    let mut inner_html = String::new();
                    pulldown_cmark::html::push_html(&mut inner_html, inner.into_iter());
                    let html = self.heading_html(level, &inner_html, text.trim());
                    events.push(Event::Html(html.into()));
                }
                Event::Start(Tag::CodeBlock(kind)) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(lang) => {
                            lang.split_whitespace().next().unwrap_or("").to_string()
                        }
                        CodeBlockKind::Indented => String::new(),
                    };
                    code = Some((lang, String::new()));
                }
                Event::Start(Tag::Table(alignments)) => {
                    // Focusable, so a keyboard can scroll a table wider than the page.
                    events.push(Event::Html("<div class=\"table-wrap\" tabindex=\"0\">".into()));
                    events.push(Event::Start(Tag::Table(alignments)));
                }
                Event::End(TagEnd::Table) => {
                    events.push(Event::End(TagEnd::Table));
                    events.push(Event::Html("</div>".into()));
                }
                other => match &mut heading {
                    Some((_, inner, text)) => {
                        if let Event::Text(t) | Event::Code(t) = &other {
                            text.push_str(t);
                        }
                        inner.push(other);
                    }
                    None => events.push(other),
                },
            }
        }
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        Ok(html)
    }
}

/// Escaped dollars (`\$`) arrive as text events that start with `$` right after a backslash;
/// any other `$` left in text is a formula that did not parse as math.
fn has_stray_dollar(text: &str, source: &str, start: usize) -> bool {
    let escaped_at_start = start > 0 && source.as_bytes()[start - 1] == b'\\';
    text.char_indices().any(|(i, c)| c == '$' && !(i == 0 && escaped_at_start))
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Inline LaTeX as plain text: Greek letters and a few symbols become their characters,
/// layout commands and braces go (`\frac{a}{b}` reads `a/b`), and other commands keep their names (`\log` → `log`).
pub fn plain_math(latex: &str) -> String {
    const SYMBOLS: [(&str, &str); 36] = [
        ("alpha", "α"),
        ("beta", "β"),
        ("gamma", "γ"),
        ("delta", "δ"),
        ("epsilon", "ε"),
        ("varepsilon", "ε"),
        ("eta", "η"),
        ("theta", "θ"),
        ("lambda", "λ"),
        ("mu", "μ"),
        ("pi", "π"),
        ("rho", "ρ"),
        ("sigma", "σ"),
        ("tau", "τ"),
        ("phi", "φ"),
        ("psi", "ψ"),
        ("omega", "ω"),
        ("Delta", "Δ"),
        ("Sigma", "Σ"),
        ("partial", "∂"),
        ("nabla", "∇"),
        ("sum", "∑"),
        ("times", "×"),
        ("cdot", "·"),
        ("approx", "≈"),
        ("le", "≤"),
        ("leq", "≤"),
        ("ge", "≥"),
        ("geq", "≥"),
        ("to", "→"),
        ("ldots", "…"),
        ("cdots", "⋯"),
        ("dots", "…"),
        ("sqrt", "√"),
        ("infty", "∞"),
        ("in", "∈"),
    ];
    const DROPPED: [&str; 20] = [
        "frac",
        "tfrac",
        "dfrac",
        "mathrm",
        "mathbf",
        "mathcal",
        "mathbb",
        "boldsymbol",
        "text",
        "operatorname",
        "left",
        "right",
        "big",
        "Big",
        "qquad",
        "hat",
        "bar",
        "tilde",
        "vec",
        "displaystyle",
    ];
    let mut out = String::new();
    // A fraction's two groups read as a division.
    let latex = latex.replace("}{", "/");
    let mut chars = latex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
                    name.push(n);
                    chars.next();
                }
                if name.is_empty() {
                    // `\,` and friends are spacing; an escaped character stands for itself.
                    match chars.next() {
                        Some(',' | ';' | '!' | ' ') | None => out.push(' '),
                        Some(other) => out.push(other),
                    }
                } else if let Some((_, symbol)) = SYMBOLS.iter().find(|(n, _)| *n == name) {
                    out.push_str(symbol);
                } else if name == "quad" {
                    out.push(' ');
                } else if !DROPPED.contains(&name.as_str()) {
                    out.push_str(&name);
                }
            }
            '{' | '}' => {}
            '~' => out.push(' '),
            other => out.push(other),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// LaTeX to MathML. A parse error fails the build and quotes the formula.
pub fn mathml(latex: &str, display_mode: DisplayMode) -> Result<String, String> {
    // TeX's `{,}` keeps a thousands comma tight; this renderer keeps `10,000` as one number.
    let latex = &latex.replace("{,}", ",");
    let storage = Storage::new();
    if let Some(error) = pulldown_latex::Parser::new(latex, &storage).find_map(Result::err) {
        return Err(format!("cannot render math `{}`: {error}", latex.trim()));
    }
    let storage = Storage::new();
    let parser = pulldown_latex::Parser::new(latex, &storage);
    let mut out = String::new();
    let config = RenderConfig { display_mode, ..RenderConfig::default() };
    push_mathml(&mut out, parser, config).map_err(|e| format!("math `{latex}`: {e}"))?;
    Ok(out)
}

fn code_block_html(lang: &str, source: &str, caption: Option<&str>) -> String {
    let label = if lang.is_empty() { "text" } else { lang };
    let caption =
        caption.map(|path| format!("<figcaption>{}</figcaption>", escape_html(path))).unwrap_or_default();
    format!(
        "<figure class=\"code\">{caption}<pre data-lang=\"{label}\" tabindex=\"0\"><code>{}</code></pre></figure>\n",
        highlight(lang, source.trim_end_matches('\n'))
    )
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name` (other anchor lines dropped),
/// or the whole file when no anchor is asked for.
pub fn extract_anchor(source: &str, anchor: Option<&str>) -> Option<String> {
    let is_marker = |line: &str| line.contains("ANCHOR:") || line.contains("ANCHOR_END:");
    let Some(name) = anchor else {
        return Some(source.lines().filter(|l| !is_marker(l)).collect::<Vec<_>>().join("\n"));
    };
    let start = format!("ANCHOR: {name}");
    let end = format!("ANCHOR_END: {name}");
    let mut lines = source.lines().skip_while(|l| !l.trim_end().ends_with(&start));
    lines.next()?;
    let body: Vec<&str> =
        lines.take_while(|l| !l.trim_end().ends_with(&end)).filter(|l| !is_marker(l)).collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    Some(body.iter().map(|l| l.get(indent..).unwrap_or("")).collect::<Vec<_>>().join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(markdown: &str) -> RenderedChapter {
        render_chapter(markdown, Path::new(".")).unwrap()
    }

    fn html_of(chapter: &RenderedChapter) -> String {
        chapter
            .segments
            .iter()
            .map(|s| match s {
                Segment::Html(h) => h.clone(),
                Segment::Widget(w) => format!("[{}]", w.name()),
                Segment::Exercise { question, checks, answer } => format!("{question}{checks:?}{answer}"),
            })
            .collect()
    }

    #[test]
    fn exercises_with_answer_boxes_are_their_own_segment() {
        let chapter = render("# T\n\nBefore.\n\n:::exercise Exercise 1.1\nWhy?\n\n{{#answer 1.1a}}\n:::answer\nBecause.\n:::\n\nAfter.\n");
        assert_eq!(chapter.segments.len(), 3, "{:?}", chapter.segments);
        let Segment::Exercise { question, checks, answer } = &chapter.segments[1] else {
            panic!("{:?}", chapter.segments)
        };
        assert!(question.starts_with("<h3 id=\"exercise-1-1\">"), "{question}");
        assert!(question.contains("<p>Why?</p>"), "{question}");
        assert_eq!(checks, &["1.1a".to_string()]);
        assert!(answer.starts_with("<details class=\"answer\">") && answer.contains("Because."), "{answer}");
        assert!(chapter.headings.iter().any(|h| h.id == "exercise-1-1" && h.level == 3));
    }

    #[test]
    fn headings_get_unique_ids_and_anchor_links() {
        let chapter = render("# Title\n\n## Step\n\ntext\n\n## Step\n\n### `code` here\n");
        let ids: Vec<&str> = chapter.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["title", "step", "step-2", "code-here"]);
        assert_eq!(chapter.title, "Title");
        let html = html_of(&chapter);
        assert!(html.contains("<h2 id=\"step-2\"><a class=\"anchor\" href=\"#step-2\""), "{html}");
        assert!(html.contains("<h3 id=\"code-here\"><a class=\"anchor\" href=\"#code-here\" aria-label=\"Link to this section\">#</a><code>code</code> here</h3>"), "{html}");
    }

    #[test]
    fn math_becomes_mathml() {
        let html = html_of(&render("# T\n\nInline $\\hat{y} - y$ and\n\n$$\n\\frac{1}{2}\n$$\n"));
        assert!(html.contains("<math"), "{html}");
        assert!(html.contains("display=\"block\""), "{html}");
        assert!(html.contains("<mfrac>"), "{html}");
        let grouped = mathml("10{,}000", DisplayMode::Inline).unwrap();
        assert!(grouped.contains("<mn>10,000</mn>"), "{grouped}");
        assert!(!html.contains('$'), "{html}");
    }

    #[test]
    fn the_matrices_and_cases_the_book_uses_render() {
        for latex in [
            "\\begin{bmatrix} 0.2 & 0.1 \\\\ -0.1 & 0.4 \\end{bmatrix}",
            "\\eta_t = \\begin{cases} a & t \\leq T \\\\ b & t > T \\end{cases}",
            "\\mathbf{W}^{[1]} \\odot \\boldsymbol{\\delta}^\\top \\mathcal{L} \\in \\mathbb{R}^{3 \\times 4}",
            "\\begin{aligned} a &= b \\\\ &= c \\end{aligned}",
            "\\operatorname{softmax}(z)_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}",
        ] {
            assert!(mathml(latex, DisplayMode::Block).is_ok(), "{latex}");
        }
    }

    #[test]
    fn bad_math_and_raw_html_fail_the_build() {
        let math = render_chapter("# T\n\n$\\frac{1}$\n", Path::new(".")).unwrap_err();
        assert!(math.contains("cannot render math"), "{math}");
        let raw = render_chapter("# T\n\n<div>x</div>\n", Path::new(".")).unwrap_err();
        assert!(raw.contains("raw HTML"), "{raw}");
        let stray = render_chapter("# T\n\nCosts $5 and $\n", Path::new(".")).unwrap_err();
        assert!(stray.contains("outside math"), "{stray}");
        assert!(render_chapter("# T\n\nCosts \\$5, not \\$6.\n", Path::new(".")).is_ok());
        let untitled = render_chapter("## Only a section\n", Path::new(".")).unwrap_err();
        assert!(untitled.contains("no `# Title`"), "{untitled}");
    }

    #[test]
    fn widgets_split_the_html_and_blocks_render() {
        let chapter = render(
            "# T\n\nBefore.\n\n{{#widget backprop-stepper}}\n\n:::note Careful\nA *note*.\n:::\n\n:::exercise Exercise 1.1\nWhy?\n:::answer\nBecause.\n:::\n",
        );
        assert_eq!(chapter.segments.len(), 3);
        assert_eq!(chapter.segments[1], Segment::Widget(Widget::BackpropStepper));
        let html = html_of(&chapter);
        assert!(
            html.contains("<aside class=\"note\"><p class=\"note-title\">Careful</p><p>A <em>note</em>.</p>"),
            "{html}"
        );
        assert!(html.contains("<h3 id=\"exercise-1-1\">"), "{html}");
        assert!(
            html.contains(
                "<summary>Show the worked answer</summary><div class=\"details-body\"><p>Because.</p>"
            ),
            "{html}"
        );
    }

    #[test]
    fn code_is_highlighted_and_tables_scroll() {
        let html = html_of(&render("# T\n\n```text\nlet x = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"));
        assert!(html.contains("<pre data-lang=\"text\" tabindex=\"0\"><code>let x = 1;</code>"), "{html}");
        assert!(html.contains("<div class=\"table-wrap\" tabindex=\"0\"><table>"), "{html}");
        assert!(highlight("rust", "let x = 1;").starts_with("<span class=\"hl-kw\">let</span>"));
    }

    #[test]
    fn fenced_rust_fails_the_build_and_includes_take_their_language_from_the_extension() {
        let fenced = render_chapter("# T\n\n```rust\nlet x = 1;\n```\n", Path::new(".")).unwrap_err();
        assert!(fenced.starts_with("line 3: fenced `rust` code is not allowed"), "{fenced}");

        let dir = std::env::temp_dir().join(format!("bookgen-include-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("k.wgsl"),
            "// ANCHOR: body\nfn f() -> f32 { return 1.0; }\n// ANCHOR_END: body\n",
        )
        .unwrap();
        std::fs::write(dir.join("m.rs"), "pub fn g() {}\n").unwrap();
        let chapter = render_chapter(
            "# T\n\n{{#include k.wgsl:body}}\n\n:::details The whole kernel\nBefore.\n{{#include k.wgsl}}\n{{#include m.rs}}\n:::\n",
            &dir,
        )
        .unwrap();
        let html = html_of(&chapter);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(html.matches("<pre data-lang=\"wgsl\" tabindex=\"0\">").count(), 2, "{html}");
        assert_eq!(html.matches("<pre data-lang=\"rust\" tabindex=\"0\">").count(), 1, "{html}");
        let fold = html.split("<details class=\"derivation\">").nth(1).expect("a fold");
        assert!(
            fold.starts_with("<summary>The whole kernel</summary><div class=\"details-body\"><p>Before.</p>")
        );
        assert!(fold.contains("<figcaption>k.wgsl</figcaption>") && !fold.contains("ANCHOR"), "{fold}");
        assert_eq!(chapter.included_files, ["k.wgsl", "k.wgsl", "m.rs"]);
    }

    #[test]
    fn paragraphs_are_kept_as_plain_text_under_their_heading() {
        let chapter = render(
            "# T\n\nThe opening paragraph has enough words to be kept for search.\n\n## Loss and $\\alpha$\n\nShort one.\n\nThe loss is $\\frac{1}{2}(\\hat{y} - y)^2$ and `grad` is\nits derivative with respect to the weights.\n\n$$x^2$$\n\n```text\ncode is left out of the search entirely\n```\n\n:::note A note\nA note's paragraph is prose too, and it is kept under the heading.\n:::\n",
        );
        let p = &chapter.paragraphs;
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].section.as_str(), p[0].section_title.as_str()), ("t", "T"));
        assert_eq!(p[1].section, "loss-and");
        assert_eq!(
            p[1].text,
            "The loss is 1/2(y - y)^2 and grad is its derivative with respect to the weights."
        );
        assert!(p[2].text.starts_with("A note’s paragraph"));
        assert_eq!(plain_math("\\alpha \\cdot \\nabla_\\theta L,\\, \\log p"), "α · ∇_θ L, log p");
        assert_eq!(plain_math("\\mathcal{L}(\\sqrt{d_k}, x_1, \\ldots)"), "L(√d_k, x_1, …)");
    }

    #[test]
    fn anchors_cut_excerpts_out_of_source() {
        let source = "fn a() {}\n    // ANCHOR: body\n    let x = 1;\n    // ANCHOR: inner\n    x + 1\n    // ANCHOR_END: inner\n    // ANCHOR_END: body\n";
        assert_eq!(extract_anchor(source, Some("body")).unwrap(), "let x = 1;\nx + 1");
        assert_eq!(extract_anchor(source, Some("inner")).unwrap(), "x + 1");
        assert!(extract_anchor(source, Some("missing")).is_none());
        assert!(extract_anchor(source, None).unwrap().starts_with("fn a() {}\n    let x"));
    }
}
