//! Light and dark themes. With no choice made the system's preference rules (in CSS);
//! the toggle overrides it and is remembered in local storage. `index.html` applies the
//! stored choice before the first paint, so there is no flash.

use leptos::prelude::*;

const STORAGE_KEY: &str = "mlbook-theme";

fn system_prefers_dark() -> bool {
    window().match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|query| query.matches())
}

fn stored_theme() -> Option<String> {
    window().local_storage().ok().flatten()?.get_item(STORAGE_KEY).ok().flatten()
}

/// A button that switches between light and dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(match stored_theme().as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => system_prefers_dark(),
    });
    let toggle = move |_| {
        let next = !dark.get_untracked();
        dark.set(next);
        let name = if next { "dark" } else { "light" };
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", name);
        }
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, name);
        }
    };
    view! {
        <button
            class="theme-toggle"
            on:click=toggle
            aria-pressed=move || dark.get().to_string()
            title="Switch between light and dark"
        >
            {move || if dark.get() { "☀ Light" } else { "☾ Dark" }}
        </button>
    }
}
