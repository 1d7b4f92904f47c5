//! The table of contents: every chapter with the reader's solved exercises counted beside
//! it, the current chapter's sections, and a control that forgets that progress.

use bookgen::directive::ANSWER_IDS;
use leptos::prelude::*;

use crate::book::CHAPTERS;
use crate::hooks::exercise_progress::use_progress;
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
    let progress = use_progress();
    let reset = move |_| {
        let sure = window()
            .confirm_with_message("Forget which exercises you have solved in this browser?")
            .unwrap_or(false);
        if sure {
            progress.reset();
        }
    };
    view! {
        <nav id="sidebar" class="sidebar" aria-label="Table of contents">
            <ol class="toc">
                {CHAPTERS
                    .iter()
                    .enumerate()
                    .map(|(i, chapter)| {
                        let slug = chapter.slug;
                        let total = chapter.answer_ids().count();
                        let solved = move || progress.solved_among(chapter.answer_ids());
                        let counter = (total > 0)
                            .then(|| {
                                view! {
                                    <span
                                        class="toc-progress"
                                        class:done=move || solved() == total
                                        data-solved=solved
                                        data-total=total
                                        title="Graded exercises solved in this chapter"
                                    >
                                        {move || format!("{}/{total}", solved())}
                                    </span>
                                }
                            });
                        view! {
                            <li class:current=move || is_current(slug)>
                                <a
                                    href=chapter_href(slug, None)
                                    aria-current=move || is_current(slug).then_some("page")
                                >
                                    <span class="toc-number">{i + 1}"."</span>
                                    <span class="toc-title">{chapter.nav_title}</span>
                                    {counter}
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
            <div class="toc-footer">
                <p class="toc-progress-total">
                    {move || format!("Exercises solved: {} of {}", progress.solved_count(), ANSWER_IDS.len())}
                </p>
                <button
                    class="reset-progress"
                    on:click=reset
                    disabled=move || progress.solved_count() == 0
                >
                    "Clear exercise progress"
                </button>
            </div>
        </nav>
    }
}
