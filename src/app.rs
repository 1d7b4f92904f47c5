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
    let mounts = crate::layout::lazy_mount::WidgetMounts::provide();

    crate::layout::use_page_keys(chapter_index, route);
    crate::layout::use_print_opens_details(mounts);
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
        // A link to a section or a widget (a fragment, or a widget's settings) first mounts
        // the chapter's widgets (they otherwise wait until the reader scrolls near them, see
        // `layout::lazy_mount`), so that it finds its widget and its place is final.
        leptos::task::spawn_local(async move {
            crate::browser::pause(0).await;
            let fragment = window().location().hash().unwrap_or_default().len() > 1;
            let widget_link = crate::controls::share_link::link_in_address_bar().widget.is_some();
            if fragment || widget_link {
                mounts.all_soon().await;
            }
            scroll_to_fragment();
            // The place is final now, but the page may not have moved (the browser had
            // already scrolled the served page there): tell the scroll listeners (the
            // sidebar's current section) anyway.
            if let Ok(scrolled) = web_sys::Event::new("scroll") {
                let _ = window().dispatch_event(&scrolled);
            }
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
    // The text first; each widget is an empty box (`.widget-pending`) until the reader scrolls
    // near it, then it mounts in a task of its own (`layout::lazy_mount`).
    let widgets = chapter.segments.iter().filter(|s| matches!(s, Segment::Widget(_))).count();
    let mounts = crate::layout::lazy_mount::use_widget_mounts(widgets);
    // Opened with the page, the chapter's prose is already on it (`layout::prerender`): those
    // blocks are left empty here and filled with the served paragraphs themselves.
    let adopt = crate::layout::prerender::can_adopt_chapter(chapter.slug, chapter.segments);
    let mut ordinal = 0;
    let segments = chapter
        .segments
        .iter()
        .enumerate()
        .map(|(i, segment)| match segment {
            Segment::Html(_) if adopt => view! { <div class="prose" data-adopt=i></div> }.into_any(),
            Segment::Html(html) => view! { <div class="prose" inner_html=*html></div> }.into_any(),
            Segment::Widget(widget) => {
                let (widget, turn) = (*widget, ordinal);
                ordinal += 1;
                let mount = mounts[turn];
                let its_turn = move || mount.get();
                let waiting = move || {
                    view! { <div class="widget-placeholder widget-pending" data-turn=turn aria-hidden="true"></div> }
                };
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

/// The landing page: what the book is, and every chapter. Opened with the page, it is the
/// served cover itself (`layout::prerender`), which says the same.
#[component]
fn Cover() -> impl IntoView {
    if crate::layout::prerender::can_adopt_cover() {
        return view! { <article class="cover prose" data-adopt="cover"></article> }.into_any();
    }
    view! {
        <article class="cover prose">
            <h1>{BOOK_TITLE}</h1>
            <p class="lede">{bookgen::COVER_LEDE}</p>
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
            <p class="hint">{bookgen::COVER_HINT}</p>
        </article>
    }
    .into_any()
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
