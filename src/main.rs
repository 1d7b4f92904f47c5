//! Entry point: install the panic hook and mount the app. Nothing else lives here.

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
    leptos::mount::mount_to_body(app::App);
}
