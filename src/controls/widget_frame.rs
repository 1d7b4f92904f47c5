//! The frame every widget sits in: a titled section with a badge saying what computes it.

use leptos::prelude::*;

use crate::hooks::training_run::machine::Backend;

/// A widget's section, its header (title and backend badge) and its body.
///
/// The badge is fixed text for CPU-only widgets and follows a signal for the ones that
/// switch; a widget that can switch also passes `backend`, which the badge carries as
/// `data-backend` ("cpu" or "gpu") for the browser tests.
#[component]
pub fn WidgetFrame(
    /// The section's class after `widget`, e.g. "xor" (the browser tests find widgets by it).
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
    view! {
        <section class=format!("widget {class}") aria-label=label>
            <header class="widget-head">
                <h3 class="widget-title">{title}</h3>
                <span class="backend-badge" title=badge_title data-value=badge_value
                    data-backend=move || backend.map(|b| b.get().value())>{move || badge.get()}</span>
            </header>
            {children()}
        </section>
    }
}
