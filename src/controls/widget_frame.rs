//! The frame every widget sits in: a titled section with a badge saying what computes it, and
//! a "Link to this" button that puts the widget's settings in a link (`share_link`).

use leptos::prelude::*;

use super::share_link;
use crate::hooks::training_run::machine::Backend;

/// A widget's section, its header (title, backend badge, link button) and its body.
///
/// The badge is fixed text for CPU-only widgets and follows a signal for the ones that
/// switch; a widget that can switch also passes `backend`, which the badge carries as
/// `data-backend` ("cpu" or "gpu") for the browser tests. When the page was opened from a
/// link naming this widget (`w=` + `class`), the frame restores the link's settings once its
/// body is on the page, and says which it could not.
#[component]
pub fn WidgetFrame(
    /// The section's class after `widget`, e.g. "xor" (the browser tests find widgets by it;
    /// links name the widget by it).
    class: &'static str,
    /// The section's accessible name.
    label: &'static str,
    /// The title shown in the header.
    title: &'static str,
    /// What computes the numbers, e.g. "CPU · engine::labs::attention_lab".
    #[prop(into)]
    badge: Signal<String>,
    /// The backend in use, for widgets that can switch.
    #[prop(optional, into)]
    backend: Option<Signal<Backend>>,
    /// A `data-value` name for the badge, when a test reads its text by name.
    #[prop(optional)]
    badge_value: Option<&'static str>,
    /// A tooltip for the badge.
    #[prop(optional)]
    badge_title: Option<&'static str>,
    /// The widget's body.
    children: Children,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let notices = RwSignal::new(Vec::<String>::new());
    let shared = RwSignal::new(None::<(String, String)>);

    // Opened from a link to this widget: once the body is drawn, restore its settings.
    // Also when the reader follows such a link while the widget is already on the page: every
    // navigation sets the route, even to the chapter being read.
    let route = use_context::<RwSignal<crate::route::Route>>();
    Effect::new(move |_| {
        if let Some(route) = route {
            route.track();
        }
        let state = share_link::link_in_address_bar();
        if state.widget.as_deref() != Some(class) {
            return;
        }
        let Some(frame) = section.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            crate::browser::pause(0).await;
            let found = share_link::apply(&frame, &state).await;
            // The reader may have left the chapter meanwhile; then there is no one to tell.
            let _ = notices.try_set(found);
        });
    });

    let link = move |_| {
        let Some(frame) = section.get_untracked() else { return };
        let (url, left_out) = share_link::current_link(&frame, class);
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
        let note = if left_out { " (a setting too long for a link was left out)" } else { "" };
        shared.set(Some((url.clone(), format!("Making the link{note}…"))));
        leptos::task::spawn_local(async move {
            let message = if share_link::copy_to_clipboard(&url).await {
                format!("Link copied{note}:")
            } else {
                format!("Copy this link{note}:")
            };
            let _ = shared.try_set(Some((url, message)));
        });
    };

    view! {
        <section class=format!("widget {class}") aria-label=label id=share_link::frame_id(class) node_ref=section>
            <header class="widget-head">
                <h3 class="widget-title">{title}</h3>
                <span class="backend-badge" title=badge_title data-value=badge_value
                    data-backend=move || backend.map(|b| b.get().value())>{move || badge.get()}</span>
                <button class="link-button" on:click=link
                    title="Put these settings in the address bar and copy the link">"Link to this"</button>
            </header>
            {move || shared.get().map(|(url, message)| view! {
                <div class="link-share" role="status">
                    <span>{message}</span>
                    <input type="text" readonly class="link-url" aria-label="Link to this widget with these settings"
                        prop:value=url on:focus=|ev| {
                            use wasm_bindgen::JsCast;
                            if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                input.select();
                            }
                        } />
                    <button class="link-dismiss" aria-label="Hide the link" on:click=move |_| shared.set(None)>"×"</button>
                </div>
            })}
            {move || {
                let list = notices.get();
                (!list.is_empty()).then(|| view! {
                    <div class="link-notice" role="status">
                        <ul>{list.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                        <button class="link-dismiss" aria-label="Hide this notice" on:click=move |_| notices.set(Vec::new())>"×"</button>
                    </div>
                })
            }}
            {children()}
        </section>
    }
}
