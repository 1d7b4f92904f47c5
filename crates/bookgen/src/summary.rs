//! `content/SUMMARY.md`: the book's table of contents, in reading order.
//!
//! The format follows mdBook: a `# Title` line, then one list item per chapter,
//! `- [Chapter title](NN-slug.md)`. The slug (file name without `.md` and without the
//! leading number) is what appears in URLs.

/// One chapter as listed in the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryEntry {
    /// Title shown in the sidebar.
    pub title: String,
    /// Markdown file, relative to `content/`.
    pub file: String,
    /// URL name, e.g. `backpropagation` for `01-backpropagation.md`.
    pub slug: String,
}

/// The parsed summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The book's title, from the `# ` line.
    pub title: String,
    /// Chapters in reading order.
    pub chapters: Vec<SummaryEntry>,
}

/// Parses `SUMMARY.md`. Errors name the line, so a typo fails the build with a clear message.
pub fn parse_summary(text: &str) -> Result<Summary, String> {
    let mut title = None;
    let mut chapters: Vec<SummaryEntry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(heading) = line.strip_prefix("# ") {
            if title.replace(heading.trim().to_string()).is_some() {
                return Err(format!("line {line_no}: a second `# ` title"));
            }
            continue;
        }
        let Some(item) = line.strip_prefix("- ") else {
            return Err(format!("line {line_no}: expected `- [Title](file.md)`, found `{line}`"));
        };
        let entry = parse_item(item.trim()).map_err(|e| format!("line {line_no}: {e}"))?;
        if chapters.iter().any(|c| c.slug == entry.slug) {
            return Err(format!("line {line_no}: chapter slug `{}` appears twice", entry.slug));
        }
        chapters.push(entry);
    }
    let title = title.ok_or("SUMMARY.md needs a `# Title` line")?;
    if chapters.is_empty() {
        return Err("SUMMARY.md lists no chapters".to_string());
    }
    Ok(Summary { title, chapters })
}

fn parse_item(item: &str) -> Result<SummaryEntry, String> {
    let rest = item.strip_prefix('[').ok_or("a chapter link starts with `[`")?;
    let (title, rest) = rest.split_once("](").ok_or("expected `](` after the title")?;
    let file = rest.strip_suffix(')').ok_or("a chapter link ends with `)`")?;
    let title = title.trim();
    if title.is_empty() {
        return Err("empty chapter title".to_string());
    }
    let stem = file.strip_suffix(".md").ok_or(format!("`{file}` is not a .md file"))?;
    if stem.is_empty() || stem.contains('/') {
        return Err(format!("`{file}` must be a file directly in content/"));
    }
    let slug = stem.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches('-');
    if slug.is_empty() || !slug.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()) {
        return Err(format!("`{file}`: name files NN-lowercase-words.md"));
    }
    Ok(SummaryEntry { title: title.to_string(), file: file.to_string(), slug: slug.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_title_and_chapters_in_order() {
        let summary = parse_summary(
            "# The Book\n\n- [Backpropagation](01-backpropagation.md)\n- [Attention](02-attention.md)\n",
        )
        .unwrap();
        assert_eq!(summary.title, "The Book");
        let slugs: Vec<&str> = summary.chapters.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(slugs, ["backpropagation", "attention"]);
        assert_eq!(summary.chapters[0].file, "01-backpropagation.md");
        assert_eq!(summary.chapters[1].title, "Attention");
    }

    fn error_of(text: &str) -> String {
        parse_summary(text).unwrap_err()
    }

    #[test]
    fn bad_summaries_name_the_problem() {
        assert!(error_of("- [A](01-a.md)").contains("`# Title`"));
        assert!(error_of("# T\n").contains("no chapters"));
        assert!(error_of("# T\n* [A](01-a.md)").starts_with("line 2: expected"));
        assert!(error_of("# T\n- [A](01-a.txt)").contains("not a .md file"));
        assert!(error_of("# T\n- [](01-a.md)").contains("empty chapter title"));
        assert!(error_of("# T\n- [A](sub/01-a.md)").contains("directly in content/"));
        assert!(error_of("# T\n- [A](01-a.md)\n- [B](02-a.md)").contains("appears twice"));
        assert!(error_of("# T\n- [A](01-Big.md)").contains("lowercase"));
        assert!(error_of("# T\n# U\n").contains("second"));
        assert!(error_of("# T\n- A(01-a.md)").contains("starts with `[`"));
    }
}
