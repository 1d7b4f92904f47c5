//! What every kernel shares: a WGSL entry point compiled once into a pipeline, and a
//! [`Dispatch`] that binds buffers to it once and is recorded as often as needed.
//!
//! Each operation lives in its own pair of files, `op.rs` beside `op.wgsl`. The `.rs` checks
//! shapes, fills the kernel's small uniform of sizes and flags, and decides how many
//! workgroups to launch; the `.wgsl` does the arithmetic.

use crate::device::Gpu;
use crate::tensor::{GpuIndices, GpuTensor};

/// One WGSL entry point, compiled into a compute pipeline. Build it once per device.
#[derive(Clone, Debug)]
pub struct Kernel {
    pipeline: wgpu::ComputePipeline,
    label: &'static str,
}

impl Kernel {
    /// Compiles `entry_point` of the WGSL source made of `sources` joined in order (WGSL has
    /// no #include, so a shader that uses the shared helpers is `[math.wgsl, op.wgsl]`).
    ///
    /// The bind group layout is left to wgpu to derive from the shader (`layout: None`): the
    /// shader's `@binding` declarations are the single source of truth for what it reads
    /// and writes.
    pub fn new(gpu: &Gpu, label: &'static str, sources: &[&str], entry_point: &str) -> Kernel {
        let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(sources.join("\n").into()),
        });
        let pipeline = gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module: &module,
            entry_point: Some(entry_point),
            compilation_options: Default::default(),
            cache: None,
        });
        Kernel { pipeline, label }
    }

    /// Binds `buffers[i]` to `@group(0) @binding(i)` and fixes the launch size: the result
    /// can be recorded into any number of passes without creating anything new.
    pub fn bind(&self, gpu: &Gpu, buffers: &[&dyn Binding], workgroups: [u32; 3]) -> Dispatch {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, buffer)| wgpu::BindGroupEntry { binding: i as u32, resource: buffer.resource() })
            .collect();
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.label),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        Dispatch { pipeline: self.pipeline.clone(), bind_group, workgroups, label: self.label }
    }
}

/// Something a kernel can read or write: a whole buffer (a uniform of settings, indices) or
/// the range of one that a [`GpuTensor`] occupies.
pub trait Binding {
    fn resource(&self) -> wgpu::BindingResource<'_>;
}

impl Binding for wgpu::Buffer {
    fn resource(&self) -> wgpu::BindingResource<'_> {
        self.as_entire_binding()
    }
}

impl Binding for GpuTensor {
    fn resource(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer(),
            offset: self.offset(),
            // An empty tensor still binds one element (see `GpuTensor::zeros`).
            size: wgpu::BufferSize::new(4 * self.len().max(1) as u64),
        })
    }
}

impl Binding for GpuIndices {
    fn resource(&self) -> wgpu::BindingResource<'_> {
        self.buffer().as_entire_binding()
    }
}

/// A kernel launch with its buffers bound: the unit a training step is made of.
#[derive(Clone, Debug)]
pub struct Dispatch {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    label: &'static str,
}

impl Dispatch {
    /// Adds this launch to a compute pass. Within a pass, launches run in the order they
    /// were recorded, each seeing what the previous ones wrote.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }

    /// The kernel's name, e.g. "batched matmul" (for profiling: see
    /// `examples/profile_gpu_transformer.rs`).
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// How many workgroups the launch runs along x, y and z.
    pub fn workgroups(&self) -> [u32; 3] {
        self.workgroups
    }
}

/// How many workgroups of `per_group` invocations cover `count` items (at least one, so a
/// launch over nothing is still a valid launch).
pub fn groups_for(count: usize, per_group: u32) -> u32 {
    (count as u32).div_ceil(per_group).max(1)
}

/// A uniform buffer holding a kernel's settings: a `#[repr(C)]` struct whose fields match
/// the WGSL `struct` field by field.
pub fn uniform<T: bytemuck::Pod>(gpu: &Gpu, label: &str, settings: &T) -> wgpu::Buffer {
    use wgpu::util::DeviceExt;
    gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::bytes_of(settings),
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

/// Running recorded dispatches lives beside [`Dispatch`], so the device knows nothing of
/// kernels.
impl Gpu {
    /// Records `dispatches` in order into one compute pass and submits it. The GPU runs them
    /// one after another: each dispatch sees everything the previous ones wrote.
    pub fn run(&self, dispatches: &[&Dispatch]) {
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            for dispatch in dispatches {
                dispatch.record(&mut pass);
            }
        }
        self.queue.submit([encoder.finish()]);
    }
}
