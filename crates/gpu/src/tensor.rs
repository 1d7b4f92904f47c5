//! Tensors that live on the GPU, and the one way numbers come back.
//!
//! A [`GpuTensor`] is a shape and a storage buffer of f32 in row-major order, the same layout
//! as `engine::core::tensor::Tensor`, so uploading and reading back are plain copies. A tensor may
//! also be a view of part of a larger buffer ([`GpuTensor::packed`]): a model keeps all its
//! parameters in one buffer, so that one optimizer launch updates them all.
//!
//! Reading back is the expensive, asynchronous part: the GPU copies into a staging buffer,
//! the buffer is mapped, and only then can the CPU see the bytes. [`read_back`] does that
//! without ever blocking the browser: it awaits the map through a oneshot channel.

use std::future::Future;

use engine::core::tensor::{shape_str, ShapeError, Tensor};

use crate::device::{Gpu, GpuError};

/// A tensor stored in a GPU buffer, or in a range of one. (Not `Clone`: a copy of the handle
/// would share the buffer, which is not what cloning a tensor means.)
#[derive(Debug)]
pub struct GpuTensor {
    pub shape: Vec<usize>,
    buffer: wgpu::Buffer,
    /// Where the tensor starts in `buffer`, in bytes (0 unless it is part of a packed buffer).
    offset: u64,
}

/// A view into a buffer must start on a multiple of this many f32: WebGPU's
/// `minStorageBufferOffsetAlignment` is 256 bytes on every device.
pub const VIEW_ALIGNMENT: usize = 64;

impl GpuTensor {
    /// A tensor of the given shape, all zeros (wgpu zero-fills new buffers).
    pub fn zeros(gpu: &Gpu, label: &str, shape: &[usize]) -> GpuTensor {
        let len: usize = shape.iter().product();
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            // An empty binding is not allowed, so an empty tensor still gets one element.
            size: 4 * len.max(1) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        GpuTensor { shape: shape.to_vec(), buffer, offset: 0 }
    }

    /// One buffer holding a tensor of each of `shapes`, zeros, each starting on a 256-byte
    /// boundary ([`VIEW_ALIGNMENT`]); returns the whole buffer as a flat tensor and a view
    /// per shape. The few padding numbers between views stay 0, so a kernel that runs over
    /// the whole buffer (a gradient norm, an optimizer step) sees every tensor and nothing
    /// else that counts.
    pub fn packed(gpu: &Gpu, label: &str, shapes: &[Vec<usize>]) -> (GpuTensor, Vec<GpuTensor>) {
        let mut starts = Vec::with_capacity(shapes.len());
        let mut end = 0;
        for shape in shapes {
            starts.push(end);
            let len: usize = shape.iter().product();
            end += len.div_ceil(VIEW_ALIGNMENT).max(1) * VIEW_ALIGNMENT;
        }
        let whole = GpuTensor::zeros(gpu, label, &[end]);
        let views = shapes
            .iter()
            .zip(starts)
            .map(|(shape, start)| GpuTensor {
                shape: shape.clone(),
                buffer: whole.buffer.clone(),
                offset: 4 * start as u64,
            })
            .collect();
        (whole, views)
    }

    /// Elements `start .. start + len` of this tensor as a flat tensor of their own, a view
    /// of the same buffer (no copy): e.g. the part of a packed buffer that holds a group of
    /// its tensors. `start` must be a multiple of [`VIEW_ALIGNMENT`].
    pub fn range(&self, start: usize, len: usize) -> Result<GpuTensor, ShapeError> {
        if !start.is_multiple_of(VIEW_ALIGNMENT) || start + len > self.len() {
            return Err(ShapeError::new(format!(
                "range: elements {start}..{} of a tensor of {} (the start must be a multiple \
                 of {VIEW_ALIGNMENT})",
                start + len,
                self.len()
            )));
        }
        Ok(GpuTensor {
            shape: vec![len],
            buffer: self.buffer.clone(),
            offset: self.offset + 4 * start as u64,
        })
    }

    /// Uploads a CPU tensor.
    pub fn from_tensor(gpu: &Gpu, label: &str, tensor: &Tensor) -> GpuTensor {
        let gpu_tensor = GpuTensor::zeros(gpu, label, &tensor.shape);
        gpu_tensor.write(gpu, tensor).expect("the shapes are equal by construction");
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
            gpu.queue.write_buffer(&self.buffer, self.offset, bytemuck::cast_slice(&tensor.data));
        }
        Ok(())
    }

    /// Overwrites elements `start .. start + data.len()` (of the flat tensor) with `data`: a
    /// large tensor uploaded a slice at a time. Queued like [`GpuTensor::write`].
    pub fn write_at(&self, gpu: &Gpu, start: usize, data: &[f32]) -> Result<(), ShapeError> {
        if start + data.len() > self.len() {
            return Err(ShapeError::new(format!(
                "write_at: elements {start}..{} of a tensor of {}",
                start + data.len(),
                self.len()
            )));
        }
        if !data.is_empty() {
            gpu.queue.write_buffer(&self.buffer, self.offset + 4 * start as u64, bytemuck::cast_slice(data));
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

    /// The storage buffer this tensor lives in. For a view that is the whole packed buffer:
    /// the tensor starts at [`GpuTensor::offset`]. Kernels bind a tensor through
    /// [`crate::kernel::Binding`], which knows its range.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Where the tensor starts in [`GpuTensor::buffer`], in bytes.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Copies the tensor back to the CPU. The future owns what it needs, so the caller may
    /// keep submitting work while it waits.
    pub fn read(&self, gpu: &Gpu) -> impl Future<Output = Result<Tensor, GpuError>> + 'static {
        let shape = self.shape.clone();
        let data = read_back_from(gpu, &self.buffer, self.offset, self.len());
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
    read_back_from(gpu, source, 0, len)
}

/// Reads `len` f32 starting `offset` bytes into `source` (see [`read_back`]).
pub fn read_back_from(
    gpu: &Gpu,
    source: &wgpu::Buffer,
    offset: u64,
    len: usize,
) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
    let bytes = 4 * len as u64;
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback staging"),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    if bytes > 0 {
        encoder.copy_buffer_to_buffer(source, offset, &staging, 0, bytes);
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
            let view = staging.get_mapped_range(..).map_err(|err| failed(err.to_string()))?;
            // Collect rather than cast: the mapped bytes need not be aligned for f32.
            bytemuck::pod_collect_to_vec::<u8, f32>(&view[..4 * len])
        };
        staging.unmap();
        Ok(data)
    }
}

/// Indices on the GPU (u32): token ids, target classes, positions. Uploaded, never read back.
#[derive(Debug)]
pub struct GpuIndices {
    len: usize,
    buffer: wgpu::Buffer,
}

impl GpuIndices {
    /// A buffer for `len` indices, all 0.
    pub fn zeros(gpu: &Gpu, label: &str, len: usize) -> GpuIndices {
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: 4 * len.max(1) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        GpuIndices { len, buffer }
    }

    /// Uploads `indices` (each must fit in a u32; callers check them against the vocabulary
    /// first).
    pub fn from_slice(gpu: &Gpu, label: &str, indices: &[usize]) -> GpuIndices {
        let gpu_indices = GpuIndices::zeros(gpu, label, indices.len());
        gpu_indices.write(gpu, indices).expect("the lengths are equal by construction");
        gpu_indices
    }

    /// Overwrites the indices; the copy happens before any work submitted afterwards.
    pub fn write(&self, gpu: &Gpu, indices: &[usize]) -> Result<(), ShapeError> {
        if indices.len() != self.len {
            return Err(ShapeError::new(format!(
                "write: the GPU holds {} indices but {} were given",
                self.len,
                indices.len()
            )));
        }
        if !indices.is_empty() {
            let words: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
            gpu.queue.write_buffer(&self.buffer, 0, bytemuck::cast_slice(&words));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The storage buffer.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}
