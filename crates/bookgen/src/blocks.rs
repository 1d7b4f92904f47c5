//! Splits a chapter's Markdown into prose, directives and `:::` blocks.
//!
//! Blocks are the book's three kinds of boxed content:
//!
//! ```text
//! :::note Title            an aside
//! :::details Title         a fold, closed until the reader opens it
//! :::exercise Title        a question ...
//! :::answer                ... and its worked answer, revealed on request
//! :::                      end of the block
//! ```
//!
//! Markers and directives are recognised only outside fenced code, so a code sample may
//! show them literally. Rust and WGSL are never fenced in content: they come from compiled
//! source through `{{#include PATH:ANCHOR}}`, which may also sit inside a `:::details` fold.

use crate::directive::{parse_directive, Directive};

/// What kind of boxed content a block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Note,
    Details,
    Exercise,
}

/// A `:::` block with its Markdown still unrendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub title: String,
    pub body: String,
    /// Only exercises have answers, and every exercise must have one.
    pub answer: Option<String>,
    /// The ids of the exercise's `{{#answer ID}}` boxes, in order (exercises only).
    pub checks: Vec<String>,
}

/// One piece of a chapter, in reading order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Markdown(String),
    Directive(Directive),
    Block(Block),
}

/// Where a block is being collected: its body first, then (for exercises) its answer.
struct OpenBlock {
    kind: BlockKind,
    title: String,
    body: String,
    answer: Option<String>,
    checks: Vec<String>,
    start_line: usize,
}

/// Splits `markdown` into pieces. Errors carry the 1-based line number.
pub fn split_pieces(markdown: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut prose = String::new();
    let mut open: Option<OpenBlock> = None;
    let mut fence: Option<String> = None;

    for (index, line) in markdown.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();

        if let Some(marker) = &fence {
            if trimmed.starts_with(marker.as_str())
                && trimmed.trim_start_matches(marker.as_str()).trim().is_empty()
            {
                fence = None;
            }
            push_line(&mut open, &mut prose, line);
            continue;
        }
        if let Some(marker) = fence_marker(trimmed) {
            let lang = trimmed.trim_start_matches(marker.as_str()).split_whitespace().next().unwrap_or("");
            if COMPILED_LANGUAGES.contains(&lang.to_ascii_lowercase().as_str()) {
                return Err(format!(
                    "line {line_no}: fenced `{lang}` code is not allowed in content; show compiled source with `{{{{#include PATH:ANCHOR}}}}`"
                ));
            }
            fence = Some(marker);
            push_line(&mut open, &mut prose, line);
            continue;
        }

        if let Some(rest) = trimmed.strip_prefix(":::") {
            let (word, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let title = title.trim().to_string();
            match (word, &mut open) {
                ("", Some(_)) => {
                    let block = open.take().expect("checked above");
                    if block.kind == BlockKind::Exercise && block.answer.is_none() {
                        return Err(format!(
                            "line {}: exercise `{}` has no `:::answer`",
                            block.start_line, block.title
                        ));
                    }
                    pieces.push(Piece::Block(Block {
                        kind: block.kind,
                        title: block.title,
                        body: block.body,
                        answer: block.answer,
                        checks: block.checks,
                    }));
                }
                ("", None) => return Err(format!("line {line_no}: `:::` closes no block")),
                ("answer", Some(block)) if block.kind == BlockKind::Exercise && block.answer.is_none() => {
                    block.answer = Some(String::new());
                }
                ("answer", _) => {
                    return Err(format!("line {line_no}: `:::answer` belongs once inside an exercise"))
                }
                (kind, None) => {
                    let kind = match kind {
                        "note" => BlockKind::Note,
                        "details" => BlockKind::Details,
                        "exercise" => BlockKind::Exercise,
                        other => {
                            return Err(format!(
                                "line {line_no}: unknown block `:::{other}`; use note, details or exercise"
                            ))
                        }
                    };
                    if title.is_empty() {
                        return Err(format!("line {line_no}: `:::{word}` needs a title"));
                    }
                    flush_prose(&mut pieces, &mut prose);
                    open = Some(OpenBlock {
                        kind,
                        title,
                        body: String::new(),
                        answer: None,
                        checks: Vec::new(),
                        start_line: line_no,
                    });
                }
                (_, Some(block)) => {
                    return Err(format!(
                        "line {line_no}: blocks do not nest (inside the block opened on line {})",
                        block.start_line
                    ))
                }
            }
            continue;
        }

        if let Some(directive) = parse_directive(trimmed) {
            let directive = directive.map_err(|e| format!("line {line_no}: {e}"))?;
            if let Directive::Answer(id) = &directive {
                match &mut open {
                    Some(block) if block.kind == BlockKind::Exercise && block.answer.is_none() => {
                        block.checks.push(id.clone());
                        continue;
                    }
                    _ => {
                        return Err(format!(
                            "line {line_no}: `{{{{#answer {id}}}}}` belongs inside an exercise, before its `:::answer`"
                        ))
                    }
                }
            }
            if let Some(block) = &open {
                if block.kind == BlockKind::Details && matches!(directive, Directive::Include { .. }) {
                    // Kept as text; the renderer expands it inside the fold.
                    push_line(&mut open, &mut prose, line);
                    continue;
                }
                return Err(format!(
                    "line {line_no}: only `{{{{#include}}}}` can sit inside a block, and only in `:::details`"
                ));
            }
            flush_prose(&mut pieces, &mut prose);
            pieces.push(Piece::Directive(directive));
            continue;
        }
        push_line(&mut open, &mut prose, line);
    }

    if let Some(block) = open {
        return Err(format!("line {}: block `{}` is never closed with `:::`", block.start_line, block.title));
    }
    if fence.is_some() {
        return Err("a fenced code block is never closed".to_string());
    }
    flush_prose(&mut pieces, &mut prose);
    Ok(pieces)
}

/// Fence languages content may not use: code in these languages is compiled somewhere in the
/// repository, and the book shows it from there with `{{#include}}` so that it cannot go stale.
pub const COMPILED_LANGUAGES: [&str; 3] = ["rust", "rs", "wgsl"];

/// The opening marker of a fenced code block (three or more backticks or tildes).
fn fence_marker(trimmed: &str) -> Option<String> {
    for ch in ['`', '~'] {
        let run = trimmed.chars().take_while(|&c| c == ch).count();
        if run >= 3 {
            return Some(ch.to_string().repeat(run));
        }
    }
    None
}

fn push_line(open: &mut Option<OpenBlock>, prose: &mut String, line: &str) {
    let target = match open {
        Some(block) => block.answer.as_mut().unwrap_or(&mut block.body),
        None => prose,
    };
    target.push_str(line);
    target.push('\n');
}

fn flush_prose(pieces: &mut Vec<Piece>, prose: &mut String) {
    if !prose.trim().is_empty() {
        pieces.push(Piece::Markdown(std::mem::take(prose)));
    }
    prose.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::Widget;

    #[test]
    fn prose_directives_and_blocks_come_out_in_order() {
        let pieces = split_pieces(
            "Intro.\n\n{{#widget backprop-stepper}}\n\n:::exercise Ex 1\nQ?\n:::answer\nA.\n:::\n\nOutro.\n",
        )
        .unwrap();
        assert_eq!(
            pieces,
            vec![
                Piece::Markdown("Intro.\n\n".into()),
                Piece::Directive(Directive::Widget(Widget::BackpropStepper)),
                Piece::Block(Block {
                    kind: BlockKind::Exercise,
                    title: "Ex 1".into(),
                    body: "Q?\n".into(),
                    answer: Some("A.\n".into()),
                    checks: Vec::new(),
                }),
                Piece::Markdown("\nOutro.\n".into()),
            ]
        );
    }

    #[test]
    fn answer_boxes_are_collected_from_the_question() {
        let pieces =
            split_pieces(":::exercise E\nQ?\n\n{{#answer 1.1a}}\n{{#answer 1.1b}}\n:::answer\nA.\n:::\n")
                .unwrap();
        let Piece::Block(block) = &pieces[0] else { panic!("{pieces:?}") };
        assert_eq!(block.checks, ["1.1a", "1.1b"]);
        assert_eq!(block.body, "Q?\n\n");
    }

    #[test]
    fn markers_inside_code_fences_are_text() {
        let pieces = split_pieces("```text\n:::note not a block\n{{#widget nope}}\n```\n").unwrap();
        assert_eq!(pieces.len(), 1);
        assert!(matches!(&pieces[0], Piece::Markdown(m) if m.contains(":::note")));
    }

    fn error_of(markdown: &str) -> String {
        split_pieces(markdown).unwrap_err()
    }

    #[test]
    fn malformed_blocks_are_reported_with_their_line() {
        assert_eq!(error_of("a\n:::\n"), "line 2: `:::` closes no block");
        assert!(error_of(":::exercise E\nQ\n:::\n").contains("has no `:::answer`"));
        assert!(error_of(":::note N\ntext\n").contains("never closed"));
        assert!(error_of(":::note N\n:::details D\n:::\n").contains("do not nest"));
        assert!(error_of(":::warning W\n:::\n").contains("unknown block `:::warning`"));
        assert!(error_of(":::note\n:::\n").contains("needs a title"));
        assert!(error_of(":::note N\n:::answer\n:::\n").contains("once inside an exercise"));
        assert!(error_of(":::note N\n{{#widget backprop-stepper}}\n:::\n").contains("only `{{#include}}`"));
        assert!(error_of(":::details D\n{{#widget backprop-stepper}}\n:::\n").contains("only `{{#include}}`"));
        assert!(error_of(":::note N\n{{#include a.rs:x}}\n:::\n").contains("only in `:::details`"));
        assert!(error_of("x\n{{#widget teleport}}\n").starts_with("line 2: unknown widget"));
        assert!(error_of("x\n{{#answer 1.1a}}\n").contains("belongs inside an exercise"));
        assert!(error_of(":::note N\n{{#answer 1.1a}}\n:::\n").contains("belongs inside an exercise"));
        assert!(error_of(":::exercise E\nQ\n:::answer\n{{#answer 1.1a}}\n:::\n")
            .contains("before its `:::answer`"));
        assert!(error_of(":::exercise E\n{{#answer 9.9}}\n:::answer\nA\n:::\n")
            .starts_with("line 2: unknown exercise"));
        assert!(error_of("```text\nfn main() {}\n").contains("never closed"));
    }

    #[test]
    fn fenced_rust_and_wgsl_are_refused_with_their_line() {
        for fence in ["```rust", "```rs", "```wgsl", "~~~rust", "```rust ignore", "```Rust"] {
            let error = error_of(&format!("Intro.\n\n{fence}\nlet x = 1;\n```\n"));
            assert!(error.starts_with("line 3: fenced `"), "{fence}: {error}");
            assert!(error.contains("{{#include PATH:ANCHOR}}"), "{error}");
        }
        assert!(split_pieces("```text\nlet x = 1;\n```\n\n```console\n$ ls\n```\n").is_ok());
    }

    #[test]
    fn a_details_fold_keeps_its_includes_for_the_renderer() {
        let pieces = split_pieces(":::details The whole file\n{{#include a.wgsl}}\n:::\n").unwrap();
        assert!(matches!(&pieces[0], Piece::Block(b) if b.body == "{{#include a.wgsl}}\n"), "{pieces:?}");
    }
}
