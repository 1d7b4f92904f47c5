//! Getting a GPU: the adapter, the device and its queue, and what can go wrong.
//!
//! Acquiring the device is kept apart from using it: [`Gpu::request`] is the only async,
//! fallible step, and everything else takes a `&Gpu`, so a test or a page can hand in a
//! device it already has ([`Gpu::from_device`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use engine::core::tensor::ShapeError;

/// A GPU device and the queue that feeds it, plus a note of whether it has been lost.
///
/// Cloning is cheap: wgpu's handles are reference-counted, so a clone talks to the same
/// device.
#[derive(Clone, Debug)]
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter's name, driver and backend, for the page to say what it runs on.
    pub adapter_info: wgpu::AdapterInfo,
    /// Set (with the reason) when the device is lost; see [`Gpu::lost`].
    lost: Arc<Mutex<Option<String>>>,
}

/// Why the GPU path is not available. Every message is written for the reader of the page.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuError {
    /// There is no GPU adapter: no WebGPU in this browser, or no driver natively.
    NoAdapter { detail: String },
    /// An adapter exists but would not give us a device.
    NoDevice { adapter: String, detail: String },
    /// The device was lost (driver reset, tab in the background too long, ...).
    Lost { reason: String },
    /// Mapping a buffer to read results back failed.
    Readback { detail: String },
    /// A kernel was given tensors whose shapes do not fit, explained as the engine explains it.
    Shape(ShapeError),
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // In a browser, wgpu's detail lists the native backends it was not built with,
            // which says nothing to the reader.
            GpuError::NoAdapter { .. } if cfg!(target_arch = "wasm32") => write!(
                f,
                "This browser offers no WebGPU adapter (WebGPU ships in Chrome and Edge 113+, \
                 and Safari 26), so the book runs on the CPU."
            ),
            GpuError::NoAdapter { detail } => write!(
                f,
                "No GPU adapter was found ({detail}). Without a GPU, Mesa's software Vulkan \
                 driver works: apt-get install mesa-vulkan-drivers libvulkan1."
            ),
            GpuError::NoDevice { adapter, detail } => write!(
                f,
                "The GPU adapter {adapter} would not create a device ({detail}); the book runs \
                 on the CPU instead."
            ),
            GpuError::Lost { reason } => {
                write!(f, "The GPU was lost ({reason}); the book continues on the CPU.")
            }
            GpuError::Readback { detail } => {
                write!(f, "Reading results back from the GPU failed: {detail}")
            }
            GpuError::Shape(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for GpuError {}

impl From<ShapeError> for GpuError {
    fn from(err: ShapeError) -> GpuError {
        GpuError::Shape(err)
    }
}

impl Gpu {
    /// Asks for a GPU: WebGPU in the browser, Vulkan (or Metal, DX12) natively.
    ///
    /// This is async because the browser answers adapter and device requests with promises;
    /// natively, block on it (the tests use `pollster::block_on`).
    pub async fn request() -> Result<Gpu, GpuError> {
        // The backends built for compute (WebGPU, Vulkan, Metal, DX12), not OpenGL.
        // WGPU_BACKEND=vulkan (or another) in the environment overrides the choice natively.
        let instance = wgpu::Instance::new(
            wgpu::InstanceDescriptor {
                backends: wgpu::Backends::PRIMARY,
                ..wgpu::InstanceDescriptor::new_without_display_handle()
            }
            .with_env(),
        );
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .map_err(|err| GpuError::NoAdapter { detail: err.to_string() })?;
        let adapter_info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("mlbook"),
                required_features: wgpu::Features::empty(),
                // Limits every WebGPU device offers (256 invocations and 16 KiB of workgroup
                // memory per workgroup; 8 storage buffers per kernel, WebGPU's default, which
                // the fused kernels of the transformer need), so what runs in a test here runs
                // in any browser.
                required_limits: wgpu::Limits {
                    max_storage_buffers_per_shader_stage: 8,
                    ..wgpu::Limits::downlevel_defaults()
                },
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::default(),
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|err| GpuError::NoDevice {
                adapter: adapter_info.name.clone(),
                detail: err.to_string(),
            })?;
        Ok(Gpu::from_device(device, queue, adapter_info))
    }

    /// Wraps a device that the caller already has.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, adapter_info: wgpu::AdapterInfo) -> Gpu {
        let gpu = Gpu { device, queue, adapter_info, lost: Arc::new(Mutex::new(None)) };
        gpu.on_lost(|_| {});
        gpu
    }

    /// `Some(reason)` once the device has been lost. A lost device stays lost: the page
    /// should drop this `Gpu` and carry on with crates/engine on the CPU.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|reason| reason.clone())
    }

    /// Calls `callback` with the reason if the device is lost, so the page can switch to the
    /// CPU at once instead of noticing at the next readback. (A device has one such hook; a
    /// new call replaces the previous callback. [`Gpu::lost`] works either way.)
    pub fn on_lost(&self, callback: impl Fn(String) + Send + 'static) {
        let lost = Arc::clone(&self.lost);
        self.device.set_device_lost_callback(move |reason, message| {
            let reason = format!("{reason:?}: {message}");
            if let Ok(mut slot) = lost.lock() {
                *slot = Some(reason.clone());
            }
            callback(reason);
        });
    }

    /// Whether the adapter is a software rasterizer (lavapipe natively, SwiftShader in
    /// headless Chromium): correct, but slower than the CPU code for the book's sizes.
    pub fn is_software(&self) -> bool {
        self.adapter_info.device_type == wgpu::DeviceType::Cpu
    }

    /// What the page shows as "running on": the adapter's name and backend.
    pub fn describe(&self) -> String {
        // Browsers may withhold the adapter's name (privacy); say so rather than print "".
        let name = match self.adapter_info.name.trim() {
            "" => "an unnamed adapter",
            name => name,
        };
        let api = match self.adapter_info.backend {
            wgpu::Backend::BrowserWebGpu => "WebGPU".to_string(),
            other => format!("{other:?}"),
        };
        format!("{name} via {api}")
    }
}
