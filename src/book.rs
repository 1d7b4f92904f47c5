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
