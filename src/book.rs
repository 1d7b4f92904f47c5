//! The book as compiled into the app: chapters rendered at build time by `build.rs`.

pub use bookgen::directive::Widget;

/// A heading inside a chapter, for the sidebar and deep links.
pub struct Heading {
    pub level: u8,
    pub id: &'static str,
    pub text: &'static str,
}

/// A paragraph of a chapter's prose as plain text, under the heading it follows (for search).
pub struct Paragraph {
    /// The heading's id.
    pub section: &'static str,
    pub section_title: &'static str,
    pub text: &'static str,
}

/// A run of a chapter: static HTML, or a live widget mounted in its place, or an exercise
/// with answer boxes (graded by `engine::labs::exercises`) between its question and its
/// worked answer.
pub enum Segment {
    Html(&'static str),
    Widget(Widget),
    Exercise { question: &'static str, checks: &'static [&'static str], answer: &'static str },
}

/// One chapter, ready to show.
pub struct Chapter {
    /// The name in URLs: its page `slug.html` (or `?ch=slug`).
    pub slug: &'static str,
    /// The short title in the sidebar (from SUMMARY.md).
    pub nav_title: &'static str,
    /// The chapter's own `# ` title.
    pub title: &'static str,
    pub headings: &'static [Heading],
    pub segments: &'static [Segment],
    pub paragraphs: &'static [Paragraph],
}

/// A section of a chapter as plain text, for search: the index's documents, in order.
pub struct SearchSection {
    /// The chapter's index in [`CHAPTERS`].
    pub chapter: usize,
    /// The heading's id (the section's fragment).
    pub id: &'static str,
    /// The heading as plain text.
    pub heading: &'static str,
    /// The section's text (formulas as their symbols, listings left out).
    pub text: &'static str,
}

/// The book's full-text index, built with the book (`bookgen::search`).
pub type SearchIndex = bookgen::search::Index<'static, &'static str>;

include!(concat!(env!("OUT_DIR"), "/book_data.rs"));

impl Chapter {
    /// The ids of the chapter's answer boxes, in reading order.
    pub fn answer_ids(&self) -> impl Iterator<Item = &'static str> {
        self.segments.iter().flat_map(|s| match s {
            Segment::Exercise { checks, .. } => checks.iter().copied(),
            _ => [].iter().copied(),
        })
    }
}

/// The chapter with this slug and its index in reading order.
pub fn find_chapter(slug: &str) -> Option<(usize, &'static Chapter)> {
    CHAPTERS.iter().enumerate().find(|(_, c)| c.slug == slug)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use super::*;

    /// The characters the page draws in the math font: the text of every `<math>` element,
    /// √ where there is a root, and for a one-letter `<mi>` also its mathematical italic form,
    /// which the browser substitutes (MathML's automatic italic).
    fn math_characters(html: &str, into: &mut BTreeSet<char>) {
        let mut rest = html;
        while let Some(start) = rest.find("<math") {
            let end = rest[start..].find("</math>").map_or(rest.len(), |e| start + e);
            let math = &rest[start..end];
            let text = plain_text(math);
            into.extend(text.chars().filter(|c| !c.is_control()));
            // A root's sign is drawn from the font's √ and its larger sizes.
            if math.contains("<msqrt") || math.contains("<mroot") {
                into.insert('√');
            }
            for piece in math.split("<mi>").skip(1) {
                let letter = plain_text(piece.split("</mi>").next().unwrap_or(""));
                let mut chars = letter.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    into.extend(italic(c));
                }
            }
            rest = &rest[end..];
        }
    }

    /// Markup removed and the entities the renderer writes decoded.
    fn plain_text(html: &str) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// A letter's mathematical italic form, as MathML Core maps it (U+1D434 …; italic h is
    /// U+210E; ∂, ∇ and the Greek symbol forms have their own).
    fn italic(c: char) -> Option<char> {
        let code = match c {
            'h' => 0x210E,
            'a'..='z' => 0x1D44E + (c as u32 - 'a' as u32),
            'A'..='Z' => 0x1D434 + (c as u32 - 'A' as u32),
            'Α'..='Ω' => 0x1D6E2 + (c as u32 - 'Α' as u32),
            'α'..='ω' => 0x1D6FC + (c as u32 - 'α' as u32),
            'ϴ' => 0x1D6F3,
            '∇' => 0x1D6FB,
            '∂' => 0x1D715,
            'ϵ' => 0x1D716,
            'ϑ' => 0x1D717,
            'ϰ' => 0x1D718,
            'ϕ' => 0x1D719,
            'ϱ' => 0x1D71A,
            'ϖ' => 0x1D71B,
            'ı' => 0x1D6A4,
            'ȷ' => 0x1D6A5,
            _ => return None,
        };
        char::from_u32(code)
    }

    /// The math font is cut down to the characters listed in xtask/math-font/characters.txt
    /// (xtask/math-font/subset.py); a character missing from it would be drawn in another font.
    #[test]
    fn every_character_in_the_books_math_is_in_the_font_subset() {
        let listed: HashSet<char> = include_str!("../xtask/math-font/characters.txt")
            .lines()
            .filter_map(|l| u32::from_str_radix(l.trim().strip_prefix("U+")?, 16).ok())
            .filter_map(char::from_u32)
            .collect();
        let mut used = BTreeSet::new();
        for chapter in CHAPTERS {
            for segment in chapter.segments {
                match segment {
                    Segment::Html(html) => math_characters(html, &mut used),
                    Segment::Exercise { question, answer, .. } => {
                        math_characters(question, &mut used);
                        math_characters(answer, &mut used);
                    }
                    Segment::Widget(_) => {}
                }
            }
        }
        assert!(used.len() > 100, "only {} characters found in the book's math", used.len());
        let missing: Vec<String> =
            used.iter().filter(|c| !listed.contains(c)).map(|c| format!("U+{:04X} {c}", *c as u32)).collect();
        assert!(
            missing.is_empty(),
            "not in the math font's subset: {}; add them to xtask/math-font/characters.txt and run \
             python3 xtask/math-font/subset.py",
            missing.join(", ")
        );
    }
}
