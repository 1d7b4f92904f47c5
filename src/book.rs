//! The book as compiled into the app: chapters rendered at build time by `build.rs`.

pub use bookgen::directive::Widget;

/// A heading inside a chapter, for the sidebar and deep links.
pub struct Heading {
    pub level: u8,
    pub id: &'static str,
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
    /// The name in URLs, `?ch=slug`.
    pub slug: &'static str,
    /// The short title in the sidebar (from SUMMARY.md).
    pub nav_title: &'static str,
    /// The chapter's own `# ` title.
    pub title: &'static str,
    pub headings: &'static [Heading],
    pub segments: &'static [Segment],
}

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
