//! Every program output a chapter quotes is the program's real output.
//!
//! A chapter quotes output in a ```` ```console ```` block whose first line is the command
//! that produces it, `$ cargo run -p listings --example NAME [-- ARGS]`, and whose other
//! lines are what that command prints. This test runs each quoted command's program and
//! compares its output with the quote, character for character.

use std::path::{Path, PathBuf};

/// A quoted run: where it sits in the book, the command, and the quoted output.
struct Quote {
    place: String,
    command: String,
    output: String,
}

fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

/// The ```` ```console ```` blocks of one chapter.
fn quotes_in(chapter: &Path) -> Vec<Quote> {
    let text = std::fs::read_to_string(chapter).expect("chapters are readable");
    let name = chapter.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut quotes = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```console" {
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            let command = lines.get(start).copied().unwrap_or("").to_string();
            let output = lines[(start + 1).min(end)..end].join("\n");
            quotes.push(Quote { place: format!("content/{name}:{start}"), command, output });
            i = end;
        }
        i += 1;
    }
    quotes
}

/// The example name and arguments of `$ cargo run -p listings --example NAME [-- ARGS]`.
fn parse_command(command: &str) -> Option<(&str, Vec<&str>)> {
    let rest = command.strip_prefix("$ cargo run -p listings --example ")?;
    let (name, args) = match rest.split_once(" -- ") {
        Some((name, args)) => (name, args.split_whitespace().collect()),
        None => (rest, Vec::new()),
    };
    Some((name.trim(), args))
}

#[test]
fn every_quoted_output_is_what_the_program_prints() {
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(content_dir())
        .expect("content/ exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    chapters.sort();

    let mut checked = 0;
    let mut failures = Vec::new();
    for quote in chapters.iter().flat_map(|chapter| quotes_in(chapter)) {
        let Some((name, args)) = parse_command(&quote.command) else {
            failures.push(format!(
                "{}: a console block must start with `$ cargo run -p listings --example NAME`, found `{}`",
                quote.place, quote.command
            ));
            continue;
        };
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(format!("{name}.rs"));
        if !example.exists() {
            failures.push(format!(
                "{}: `{}` has no examples/{name}.rs for readers to run",
                quote.place, quote.command
            ));
            continue;
        }
        let mut printed = Vec::new();
        if let Err(e) = listings::run_example(name, &args, &mut printed) {
            failures.push(format!("{}: `{}` failed: {e}", quote.place, quote.command));
            continue;
        }
        let printed = String::from_utf8_lossy(&printed);
        let printed = printed.trim_end_matches('\n');
        if printed != quote.output {
            failures.push(format!(
                "{}: `{}`\n--- the chapter quotes ---\n{}\n--- the program prints ---\n{printed}",
                quote.place, quote.command, quote.output
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 15, "only {checked} quoted outputs found; is content/ where this test looks?");
}
