//! Previous and next chapter links at the foot of each page.

use leptos::prelude::*;

use crate::book::CHAPTERS;
use crate::route::chapter_href;

/// Links to the neighbouring chapters (the cover's "next" is chapter 1).
#[component]
pub fn Pager(
    /// Index of the chapter shown, or `None` on the cover.
    chapter_index: Memo<Option<usize>>,
) -> impl IntoView {
    let neighbours = move || {
        let (prev, next) = match chapter_index.get() {
            None => (None, Some(0)),
            Some(i) => (i.checked_sub(1), (i + 1 < CHAPTERS.len()).then_some(i + 1)),
        };
        (prev.map(|i| &CHAPTERS[i]), next.map(|i| &CHAPTERS[i]))
    };
    view! {
        <nav class="pager" aria-label="Chapters">
            {move || {
                let (prev, next) = neighbours();
                view! {
                    {prev.map(|c| view! {
                        <a class="pager-prev" rel="prev" href=chapter_href(c.slug, None)>
                            <span class="pager-label">"← Previous"</span>
                            <span class="pager-title">{c.nav_title}</span>
                        </a>
                    })}
                    {next.map(|c| view! {
                        <a class="pager-next" rel="next" href=chapter_href(c.slug, None)>
                            <span class="pager-label">"Next →"</span>
                            <span class="pager-title">{c.nav_title}</span>
                        </a>
                    })}
                }
            }}
        </nav>
    }
}
