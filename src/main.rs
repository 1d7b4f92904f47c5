//! Entry point: install the panic hook, take down the prerendered page and mount the app.
//! Nothing else lives here.

mod app;
mod book;
mod browser;
mod controls;
mod hooks;
mod layout;
mod mathml;
mod plot;
mod route;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    // `cargo xtask build` puts the page's text in the served HTML (xtask/src/prerender.rs) so
    // it shows before this module has arrived; the app renders the whole page itself, so that
    // copy goes just before it mounts, in the same task (no frame without text).
    if let Some(prerendered) = leptos::prelude::document().get_element_by_id("prerender") {
        prerendered.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
