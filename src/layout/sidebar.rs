//! The table of contents: every chapter, and the current chapter's sections.

use leptos::prelude::*;

use crate::book::CHAPTERS;
use crate::route::{chapter_href, Route};

/// The sidebar. On narrow screens it slides over the page when "Contents" is pressed.
#[component]
pub fn Sidebar(
    /// The current route, to mark the current chapter.
    route: RwSignal<Route>,
    /// The id of the section being read, to mark it.
    active_section: RwSignal<Option<String>>,
) -> impl IntoView {
    let is_current = move |slug: &str| matches!(route.get(), Route::Chapter(s) if s == slug);
    view! {
        <nav id="sidebar" class="sidebar" aria-label="Table of contents">
            <ol class="toc">
                {CHAPTERS
                    .iter()
                    .enumerate()
                    .map(|(i, chapter)| {
                        let slug = chapter.slug;
                        view! {
                            <li class:current=move || is_current(slug)>
                                <a
                                    href=chapter_href(slug, None)
                                    aria-current=move || is_current(slug).then_some("page")
                                >
                                    <span class="toc-number">{i + 1}"."</span>
                                    {chapter.nav_title}
                                </a>
                                <Show when=move || is_current(slug)>
                                    <ol class="toc-sections">
                                        {chapter
                                            .headings
                                            .iter()
                                            .filter(|h| h.level == 2)
                                            .map(|h| {
                                                let id = h.id;
                                                let active = move || active_section.get().as_deref() == Some(id);
                                                view! {
                                                    <li>
                                                        <a
                                                            href=chapter_href(slug, Some(id))
                                                            class:active=active
                                                            aria-current=move || active().then_some("location")
                                                        >
                                                            {h.text}
                                                        </a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ol>
                                </Show>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}
