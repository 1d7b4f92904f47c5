//! How a training widget gets its GPU: it asks the browser once, keeps the device, says on
//! the page what happened, and hears when the device is lost. The XOR trainer, the network
//! race and the tiny-GPT panel all ask this way.

use leptos::prelude::*;
use leptos::task::spawn_local;

use gpu::Gpu;

/// Where a widget trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Cpu,
    Gpu,
}

impl Backend {
    /// The value of the backend menu's option.
    pub fn value(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }

    /// The short name the page prints.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "CPU",
            Backend::Gpu => "GPU",
        }
    }
}

/// What the browser said when asked for a GPU.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuState {
    Probing,
    /// An adapter and device, described for the reader.
    Ready(String),
    /// No WebGPU: the reason, in one sentence.
    Unavailable(String),
    /// The device went away during the session.
    Lost(String),
}

/// Asks the browser for a GPU once. The device goes into `gpu`; `state` follows the answer
/// and turns to [`GpuState::Lost`] if the device is lost later; `ready` runs once a device is
/// there (a widget uses it to switch to the GPU if the reader has not started on the CPU).
pub fn request_gpu(
    gpu: StoredValue<Option<Gpu>, LocalStorage>,
    state: RwSignal<GpuState>,
    ready: impl FnOnce() + 'static,
) {
    spawn_local(async move {
        match Gpu::request().await {
            Ok(device) => {
                device.on_lost(move |reason| state.set(GpuState::Lost(reason)));
                state.set(GpuState::Ready(device.describe()));
                gpu.set_value(Some(device));
                ready();
            }
            Err(error) => state.set(GpuState::Unavailable(error.to_string())),
        }
    });
}
