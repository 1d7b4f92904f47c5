//! How a training widget gets its GPU: it asks the browser once, keeps the device, says on
//! the page what happened, and hears when the device is lost. The XOR trainer, the network
//! race and the tiny-GPT panel all ask this way.

use leptos::prelude::*;
use leptos::task::spawn_local;

use gpu::Gpu;

use crate::hooks::training_run::machine::{Backend, Device};

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

/// A widget's GPU: the device, once the browser has given one, and what the page says about
/// it. Copy, so closures can share it.
#[derive(Clone, Copy)]
pub struct GpuHandle {
    /// The device; `None` until the browser answers, and always `None` without WebGPU.
    pub device: StoredValue<Option<Gpu>, LocalStorage>,
    /// What the browser said, followed reactively; [`GpuState::Lost`] once the device is lost.
    pub state: RwSignal<GpuState>,
}

impl GpuHandle {
    /// The device's description, or an empty string when there is none (tracked).
    pub fn description(&self) -> String {
        match self.state.get() {
            GpuState::Ready(d) => d,
            _ => String::new(),
        }
    }

    /// Where a run on `backend` trains: the GPU when it is chosen and there, else the CPU.
    pub fn device(&self, backend: Backend) -> Device {
        match (backend, self.device.with_value(|g| g.clone())) {
            (Backend::Gpu, Some(gpu)) => Device::Gpu(Box::new(gpu)),
            _ => Device::Cpu,
        }
    }
}

/// Asks the browser for a GPU once. `state` follows the answer and turns to
/// [`GpuState::Lost`] if the device is lost later; `ready` runs once a device is there (a
/// widget uses it to switch to the GPU if the reader has not started on the CPU).
pub fn use_gpu(ready: impl FnOnce() + 'static) -> GpuHandle {
    let handle = GpuHandle { device: StoredValue::new_local(None), state: RwSignal::new(GpuState::Probing) };
    spawn_local(async move {
        match Gpu::request().await {
            Ok(device) => {
                let state = handle.state;
                device.on_lost(move |reason| state.set(GpuState::Lost(reason)));
                handle.state.set(GpuState::Ready(device.describe()));
                handle.device.set_value(Some(device));
                ready();
            }
            Err(error) => handle.state.set(GpuState::Unavailable(error.to_string())),
        }
    });
    handle
}
