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
    wasm_bindgen_futures::spawn_local(async {
        layout::prerender::take_down_once_painted().await;
        leptos::mount::mount_to_body(app::App);
    });
}
