//! Tensors that live on the GPU, and the one way numbers come back.
//!
//! A [`GpuTensor`] is a shape and a storage buffer of f32 in row-major order, the same layout
//! as `engine::tensor::Tensor`, so uploading and reading back are plain copies.
//!
//! Reading back is the expensive, asynchronous part: the GPU copies into a staging buffer,
//! the buffer is mapped, and only then can the CPU see the bytes. [`read_back`] does that
//! without ever blocking the browser: it awaits the map through a oneshot channel.

use std::future::Future;

use engine::tensor::{shape_str, ShapeError, Tensor};

use crate::device::{Gpu, GpuError};

/// A tensor stored in a GPU buffer. (Not `Clone`: a copy of the handle would share the
/// buffer, which is not what cloning a tensor means.)
#[derive(Debug)]
pub struct GpuTensor {
    pub shape: Vec<usize>,
    buffer: wgpu::Buffer,
}

impl GpuTensor {
    /// A tensor of the given shape, all zeros (wgpu zero-fills new buffers).
    pub fn zeros(gpu: &Gpu, label: &str, shape: &[usize]) -> GpuTensor {
        let len: usize = shape.iter().product();
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            // An empty binding is not allowed, so an empty tensor still gets one element.
            size: 4 * len.max(1) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        GpuTensor {
            shape: shape.to_vec(),
            buffer,
        }
    }

    /// Uploads a CPU tensor.
    pub fn from_tensor(gpu: &Gpu, label: &str, tensor: &Tensor) -> GpuTensor {
        let gpu_tensor = GpuTensor::zeros(gpu, label, &tensor.shape);
        gpu_tensor
            .write(gpu, tensor)
            .expect("the shapes are equal by construction");
        gpu_tensor
    }

    /// Overwrites the contents with a CPU tensor of the same shape. The copy is queued and
    /// happens before any work submitted afterwards.
    pub fn write(&self, gpu: &Gpu, tensor: &Tensor) -> Result<(), ShapeError> {
        if tensor.shape != self.shape {
            return Err(ShapeError::new(format!(
                "write: GPU tensor is {} but the data is {}",
                shape_str(&self.shape),
                shape_str(&tensor.shape)
            )));
        }
        if !tensor.is_empty() {
            gpu.queue
                .write_buffer(&self.buffer, 0, bytemuck::cast_slice(&tensor.data));
        }
        Ok(())
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage buffer, to bind it to a kernel.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Copies the tensor back to the CPU. The future owns what it needs, so the caller may
    /// keep submitting work while it waits.
    pub fn read(&self, gpu: &Gpu) -> impl Future<Output = Result<Tensor, GpuError>> + 'static {
        let shape = self.shape.clone();
        let data = read_back(gpu, &self.buffer, self.len());
        async move { Ok(Tensor::from_vec(&shape, data.await?)?) }
    }
}

/// Reads the first `len` f32 of `source` back to the CPU.
///
/// The copy into a fresh staging buffer and the map request are issued now, in order after
/// everything already submitted; the returned future completes when the GPU has finished
/// that work. Natively the future drives the device with a blocking poll; in the browser the
/// poll does nothing and the browser's event loop completes the map, which the future awaits
/// without blocking.
pub fn read_back(
    gpu: &Gpu,
    source: &wgpu::Buffer,
    len: usize,
) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
    let bytes = 4 * len as u64;
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback staging"),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    if bytes > 0 {
        encoder.copy_buffer_to_buffer(source, 0, &staging, 0, bytes);
    }
    gpu.queue.submit([encoder.finish()]);

    // The map callback may run on another thread natively, or from the browser's event loop;
    // a oneshot channel carries its result to whoever awaits.
    let (sender, receiver) = futures_channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |result| {
        let _ = sender.send(result);
    });
    let gpu = gpu.clone();
    async move {
        // Natively: wait for the GPU and run the map callback. In the browser: a no-op.
        let polled = gpu.device.poll(wgpu::PollType::wait_indefinitely());
        let failed = |detail: String| match gpu.lost() {
            Some(reason) => GpuError::Lost { reason },
            None => GpuError::Readback { detail },
        };
        polled.map_err(|err| failed(err.to_string()))?;
        receiver
            .await
            .map_err(|_| failed("the map request was dropped".into()))?
            .map_err(|err| failed(err.to_string()))?;
        let data = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|err| failed(err.to_string()))?;
            // Collect rather than cast: the mapped bytes need not be aligned for f32.
            bytemuck::pod_collect_to_vec::<u8, f32>(&view[..4 * len])
        };
        staging.unmap();
        Ok(data)
    }
}
