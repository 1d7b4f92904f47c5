//! Entry point: install the panic hook, mount the app and let it keep the served page's text.
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
        layout::prerender::chapter_text_arrived().await;
        leptos::mount::mount_to_body(app::App);
        layout::prerender::adopt_and_take_down();
    });
}
