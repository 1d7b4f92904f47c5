//! The reading shell: sidebar, page, previous/next, and the keyboard.

use leptos::prelude::*;

use crate::book::{find_chapter, Chapter, Segment, BOOK_TITLE, CHAPTERS};
use crate::controls::answer_check::AnswerCheck;
use crate::layout::search::{SearchButton, SearchDialog};
use crate::layout::{pager::Pager, sidebar::Sidebar, theme::ThemeToggle, use_active_section};
use crate::route::{chapter_href, scroll_to_fragment, use_router, Route};
use crate::widgets::widget_view;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    crate::hooks::tiny_gpt::provide_model_slot();
    crate::hooks::word_vectors::provide_word_vectors_slot();
    crate::hooks::exercise_progress::provide_progress();
    let route = use_router();
    // The page is rebuilt only when the route names another page: a link to a section or a
    // widget of the chapter being read keeps every widget as the reader left it.
    let page = Memo::new(move |_| route.get());
    provide_context(route);
    let chapter_index = Memo::new(move |_| match route.get() {
        Route::Chapter(slug) => find_chapter(&slug).map(|(i, _)| i),
        Route::Cover => None,
    });
    let active_section = use_active_section(route);
    let sidebar_open = RwSignal::new(false);
    let search_requests = RwSignal::new(0u32);
    let link_notice = RwSignal::new(None::<String>);

    crate::layout::use_page_keys(chapter_index, route);
    crate::layout::use_print_opens_details();
    crate::layout::use_focusable_scroll_areas(route);

    // After a chapter renders, honour the fragment (a deep link or a reload) and the title.
    Effect::new(move |_| {
        let title = match route.get() {
            Route::Chapter(slug) => match find_chapter(&slug) {
                Some((_, chapter)) => format!("{} · {BOOK_TITLE}", chapter.title),
                None => format!("Chapter not found · {BOOK_TITLE}"),
            },
            Route::Cover => BOOK_TITLE.to_string(),
        };
        document().set_title(&title);
        sidebar_open.set(false);
        // Once the chapter's widgets are on the page (they mount one per task after its text,
        // see `ChapterPage`), so that a link to a widget finds it and its place is final.
        leptos::task::spawn_local(async move {
            crate::browser::pause(0).await;
            for _ in 0..500 {
                if document().query_selector(".widget-pending").ok().flatten().is_none() {
                    break;
                }
                crate::browser::pause(0).await;
            }
            scroll_to_fragment();
            let _ = link_notice.try_set(crate::controls::share_link::page_notice());
        });
    });

    view! {
        <a class="skip-link" href="#main">"Skip to the text"</a>
        <header class="topbar">
            <button
                class="menu-button"
                aria-controls="sidebar"
                aria-expanded=move || sidebar_open.get().to_string()
                on:click=move |_| sidebar_open.update(|open| *open = !*open)
            >
                "Contents"
            </button>
            <a class="book-title" href=crate::route::cover_href()>{BOOK_TITLE}</a>
            <SearchButton requests=search_requests />
            <ThemeToggle />
        </header>
        <SearchDialog requests=search_requests route=route />
        <div class="shell" class:sidebar-open=move || sidebar_open.get()>
            <Sidebar route=route active_section=active_section />
            <main id="main" tabindex="-1">
                {move || link_notice.get().map(|notice| view! {
                    <div class="link-notice page-notice" role="status">
                        <p>{notice}</p>
                        <button class="link-dismiss" aria-label="Hide this notice" on:click=move |_| link_notice.set(None)>"×"</button>
                    </div>
                })}
                {move || match page.get() {
                    Route::Cover => view! { <Cover /> }.into_any(),
                    Route::Chapter(slug) => match find_chapter(&slug) {
                        Some((index, chapter)) => view! { <ChapterPage chapter=chapter index=index /> }.into_any(),
                        None => view! { <NotFound slug=slug /> }.into_any(),
                    },
                }}
                <Pager chapter_index=chapter_index />
            </main>
        </div>
    }
}

/// One chapter: its static HTML with the live widgets mounted between.
#[component]
fn ChapterPage(
    /// The chapter to show.
    chapter: &'static Chapter,
    /// Its position in reading order (0-based), shown as the chapter number.
    index: usize,
) -> impl IntoView {
    // The text first; then the widgets, one per task, in reading order, so that no single
    // long task builds them all (the page answers input between them). Until its turn a
    // widget is an empty box (`.widget-pending`; `App` follows a link's fragment once none
    // is left).
    let mounted = RwSignal::new(0usize);
    let widgets = chapter.segments.iter().filter(|s| matches!(s, Segment::Widget(_))).count();
    leptos::task::spawn_local(async move {
        for _ in 0..widgets {
            crate::browser::pause(0).await;
            if mounted.try_update(|n| *n += 1).is_none() {
                return; // the reader has left the chapter
            }
        }
    });
    let mut ordinal = 0;
    let segments = chapter
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Html(html) => view! { <div class="prose" inner_html=*html></div> }.into_any(),
            Segment::Widget(widget) => {
                let (widget, turn) = (*widget, ordinal);
                ordinal += 1;
                let its_turn = move || mounted.get() > turn;
                let waiting =
                    || view! { <div class="widget-placeholder widget-pending" aria-hidden="true"></div> };
                view! {
                    <Show when=its_turn fallback=waiting>
                        {widget_view(widget)}
                    </Show>
                }
                .into_any()
            }
            Segment::Exercise { question, checks, answer } => view! {
                <div class="prose">
                    <section class="exercise graded">
                        <div inner_html=*question></div>
                        {checks.iter().map(|&id| view! { <AnswerCheck id=id /> }).collect_view()}
                        <div inner_html=*answer></div>
                    </section>
                </div>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <article class="chapter" data-chapter=chapter.slug>
            <p class="chapter-number">{format!("Chapter {}", index + 1)}</p>
            {segments}
        </article>
    }
}

/// The landing page: what the book is, and every chapter.
#[component]
fn Cover() -> impl IntoView {
    view! {
        <article class="cover prose">
            <h1>{BOOK_TITLE}</h1>
            <p class="lede">
                "Machine learning from first principles, computed live. Every number on these pages comes from Rust code running in your browser, and you can change the inputs and watch it recompute."
            </p>
            <ol class="chapter-list">
                {CHAPTERS
                    .iter()
                    .map(|c| {
                        view! {
                            <li>
                                <a href=chapter_href(c.slug, None)>{c.title}</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <p class="hint">"Tip: the left and right arrow keys turn pages."</p>
        </article>
    }
}

/// The page for a chapter name that does not exist.
#[component]
fn NotFound(
    /// The name the reader asked for.
    slug: String,
) -> impl IntoView {
    view! {
        <article class="not-found prose">
            <h1>"Chapter not found"</h1>
            <p>"There is no chapter called “" <code>{slug}</code> "”. It may have been renamed. Pick one from the list:"</p>
            <ol class="chapter-list">
                {CHAPTERS
                    .iter()
                    .map(|c| view! { <li><a href=chapter_href(c.slug, None)>{c.title}</a></li> })
                    .collect_view()}
            </ol>
        </article>
    }
}
