//! Build-time book generator.
//!
//! The book is Markdown in `content/`. This crate reads it and produces what the app shows:
//! `SUMMARY.md` becomes the table of contents ([`summary`]), each chapter becomes HTML with
//! MathML and highlighted code, split around live widgets ([`render`]). Widgets are placed by
//! one directive syntax ([`directive`]) and an unknown widget is a build error, not a reader's
//! problem.
//!
//! [`search`] cuts rendered chapters into plain-text sections and indexes them at build
//! time, and ranks them in the page.
//!
//! [`directive`], [`summary`] and [`search`] need no renderer, so the app can link them; the renderer
//! sits behind the `render` feature and runs only in the app's build script.

pub mod directive;
pub mod search;
pub mod summary;

#[cfg(feature = "render")]
pub mod blocks;
#[cfg(feature = "render")]
pub mod highlight;
#[cfg(feature = "render")]
pub mod render;

/// The cover's sentence under the book's title. The app's cover (`src/app.rs`) and the cover
/// written into the served `index.html` (`xtask/src/prerender.rs`) both show this one copy.
pub const COVER_LEDE: &str = "Machine learning from first principles, computed live. Every number on these pages comes from Rust code running in your browser, and you can change the inputs and watch it recompute.";

/// The cover's last line, under the list of chapters.
pub const COVER_HINT: &str = "Tip: the left and right arrow keys turn pages.";

/// Turns heading text into a URL fragment: lowercase ASCII words joined by `-`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("section");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slugify("Step 1: Forward pass"), "step-1-forward-pass");
        assert_eq!(slugify("  Why δ = ŷ − y?  "), "why-y");
        assert_eq!(slugify("∑"), "section");
    }
}
