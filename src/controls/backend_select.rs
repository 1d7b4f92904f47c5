//! The backend menu of the training widgets: CPU always, GPU once the browser has one.

use leptos::prelude::*;

use crate::hooks::gpu::GpuState;
use crate::hooks::training_run::machine::Backend;

/// Which backend the menu's option `value` names; anything but "gpu" is the CPU, which
/// always works.
pub fn backend_named(value: &str) -> Backend {
    if value == "gpu" {
        Backend::Gpu
    } else {
        Backend::Cpu
    }
}

/// The "backend" menu. The GPU option is disabled until a device is ready; each pick goes to
/// `on_change`, which may do more than set the backend (a trainer also starts over).
#[component]
pub fn BackendSelect(
    /// The menu's `data-name`, for tests, e.g. "xor-backend".
    name: &'static str,
    /// The backend in use.
    #[prop(into)]
    value: Signal<Backend>,
    /// What the browser said when asked for a GPU.
    #[prop(into)]
    gpu_state: Signal<GpuState>,
    /// Receives each pick.
    on_change: Callback<Backend>,
    /// The id of the note that explains the GPU's state, if the widget shows one.
    #[prop(optional)]
    note_id: Option<&'static str>,
) -> impl IntoView {
    view! {
        <label class="select">"backend "
            <select data-name=name aria-describedby=note_id
                prop:value=move || value.get().value()
                on:change=move |ev| on_change.run(backend_named(&event_target_value(&ev)))>
                <option value="cpu">"CPU (WebAssembly)"</option>
                <option value="gpu" disabled=move || !matches!(gpu_state.get(), GpuState::Ready(_))>"GPU (WebGPU)"</option>
            </select>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_names_both_backends() {
        assert_eq!(backend_named("gpu"), Backend::Gpu);
        assert_eq!(backend_named("cpu"), Backend::Cpu);
        assert_eq!(backend_named(Backend::Gpu.value()), Backend::Gpu);
        assert_eq!(backend_named(""), Backend::Cpu);
    }
}
