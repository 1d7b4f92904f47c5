//! Optimizer updates on the GPU, every [`Method`] of `engine::core::optim` (`optim.wgsl`).
//!
//! As on the CPU, each parameter tensor has its own state (the moments), and all tensors of
//! a model step together: one [`OptimizerShared`] per model holds the step count, ticked
//! once per step before the tensors' updates, with that step's learning rate (fixed, or from
//! a [`ScheduleTable`]) and the gradient-clipping factor ([`Optim::bind_clip`]).

use engine::core::optim::Method;
use engine::core::tensor::{shape_str, ShapeError};

use std::future::Future;

use crate::device::{Gpu, GpuError};
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::{read_back, GpuTensor};

/// Invocations per workgroup (`@workgroup_size` of `update`).
const GROUP: u32 = 64;

/// Matches `struct Settings` in optim.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Settings {
    method: u32,
    len: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    max_norm: f32,
    decay_end: u32,
    pad: [u32; 3],
}

impl Settings {
    /// The shader's code for `method` and its hyperparameters (unused ones stay 0).
    fn new(method: Method, lr: f32, len: usize) -> Settings {
        let zero = Settings {
            method: 0,
            len: len as u32,
            lr,
            beta1: 0.0,
            beta2: 0.0,
            eps: 0.0,
            weight_decay: 0.0,
            max_norm: 0.0,
            // Every parameter decays (Adam+L2 and AdamW; the others have no decay).
            decay_end: len as u32,
            pad: [0; 3],
        };
        match method {
            Method::Sgd => zero,
            Method::Momentum { beta } => Settings { method: 1, beta1: beta, ..zero },
            Method::RmsProp { beta, eps } => Settings { method: 2, beta2: beta, eps, ..zero },
            Method::Adam { beta1, beta2, eps } => Settings { method: 3, beta1, beta2, eps, ..zero },
            Method::AdamL2 { beta1, beta2, eps, weight_decay } => {
                Settings { method: 4, beta1, beta2, eps, weight_decay, ..zero }
            }
            Method::AdamW { beta1, beta2, eps, weight_decay } => {
                Settings { method: 5, beta1, beta2, eps, weight_decay, ..zero }
            }
        }
    }
}

/// Matches `struct StepCount` in optim.wgsl: t, β1^t, β2^t, and this step's learning rate,
/// clipping factor and gradient norm.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct StepCount {
    t: u32,
    beta1_power: f32,
    beta2_power: f32,
    lr: f32,
    grad_scale: f32,
    grad_norm: f32,
}

/// The optimizer's step state as last written on the GPU, read back with
/// [`OptimizerShared::read`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepState {
    /// Steps taken.
    pub t: u32,
    /// The learning rate of the latest step.
    pub lr: f32,
    /// The gradient norm of the latest step, before clipping (0 if nothing is clipped).
    pub grad_norm: f32,
    /// What the latest step's gradients were multiplied by (1 unless clipped).
    pub grad_scale: f32,
}

/// What every parameter tensor of one model shares: the method, the learning rate, and the
/// step count t (with β1^t and β2^t), which lives on the GPU.
#[derive(Clone, Debug)]
pub struct OptimizerShared {
    pub method: Method,
    pub lr: f32,
    counter: wgpu::Buffer,
}

impl OptimizerShared {
    /// Starts at t = 0, so β^t = 1.
    pub fn new(gpu: &Gpu, method: Method, lr: f32) -> OptimizerShared {
        use wgpu::util::DeviceExt;
        let start =
            StepCount { t: 0, beta1_power: 1.0, beta2_power: 1.0, lr, grad_scale: 1.0, grad_norm: 0.0 };
        let counter = gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("step counter"),
            contents: bytemuck::bytes_of(&start),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        OptimizerShared { method, lr, counter }
    }

    /// Reads the step state back (after everything submitted so far).
    pub fn read(&self, gpu: &Gpu) -> impl Future<Output = Result<StepState, GpuError>> + 'static {
        let words = read_back(gpu, &self.counter, 6);
        async move {
            let words = words.await?;
            Ok(StepState { t: words[0].to_bits(), lr: words[3], grad_scale: words[4], grad_norm: words[5] })
        }
    }
}

/// A learning rate per step for a run of queued steps (`struct Schedule` in optim.wgsl):
/// step s uses the rate at s − first_step. The CPU computes the rates (with
/// `engine::core::optim::Schedule::lr_at`, so both sides use the same numbers) and writes them
/// before it queues the steps.
#[derive(Debug)]
pub struct ScheduleTable {
    buffer: wgpu::Buffer,
    capacity: usize,
}

impl ScheduleTable {
    /// Room for `capacity` steps' rates.
    pub fn new(gpu: &Gpu, capacity: usize) -> ScheduleTable {
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("learning-rate schedule"),
            size: 4 * (1 + capacity.max(1)) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ScheduleTable { buffer, capacity }
    }

    /// How many steps' rates fit.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Writes the rates of steps first_step, first_step + 1, … (at most `capacity`).
    pub fn write(&self, gpu: &Gpu, first_step: u32, lrs: &[f32]) -> Result<(), ShapeError> {
        if lrs.len() > self.capacity {
            return Err(ShapeError::new(format!(
                "schedule: {} rates do not fit a table for {} steps",
                lrs.len(),
                self.capacity
            )));
        }
        let mut words = vec![f32::from_bits(first_step)];
        words.extend_from_slice(lrs);
        gpu.queue.write_buffer(&self.buffer, 0, bytemuck::cast_slice(&words));
        Ok(())
    }
}

/// The tick and update pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct Optim {
    tick: Kernel,
    tick_scheduled: Kernel,
    clip: Kernel,
    clip_tick: Kernel,
    update: Kernel,
}

impl Optim {
    pub fn new(gpu: &Gpu) -> Optim {
        let source = [include_str!("optim.wgsl")];
        Optim {
            tick: Kernel::new(gpu, "optim tick", &source, "tick"),
            tick_scheduled: Kernel::new(gpu, "optim tick", &source, "tick_scheduled"),
            clip: Kernel::new(gpu, "optim clip", &source, "clip"),
            clip_tick: Kernel::new(gpu, "optim clip+tick", &source, "clip_tick"),
            update: Kernel::new(gpu, "optim update", &source, "update"),
        }
    }

    /// The optimizer state for a parameter tensor of `len` elements: its two moments, zero.
    pub fn moments(gpu: &Gpu, len: usize) -> GpuTensor {
        GpuTensor::zeros(gpu, "moments", &[2, len])
    }

    /// Binds t ← t + 1. Record it once per step, before that step's updates.
    pub fn bind_tick(&self, gpu: &Gpu, shared: &OptimizerShared) -> Dispatch {
        let settings = Settings::new(shared.method, shared.lr, 0);
        let settings = uniform(gpu, "optim tick settings", &settings);
        self.tick.bind(gpu, &[&settings, &shared.counter], [1, 1, 1])
    }

    /// Binds t ← t + 1 with this step's learning rate taken from `schedule` (record it once
    /// per step, in place of [`Optim::bind_tick`]).
    pub fn bind_tick_scheduled(
        &self,
        gpu: &Gpu,
        shared: &OptimizerShared,
        schedule: &ScheduleTable,
    ) -> Dispatch {
        let settings = Settings::new(shared.method, shared.lr, 0);
        let settings = uniform(gpu, "optim tick settings", &settings);
        self.tick_scheduled.bind(gpu, &[&settings, &shared.counter, &schedule.buffer], [1, 1, 1])
    }

    /// Binds global gradient-norm clipping: measures ‖g‖ over `all_grads` (every gradient of
    /// the model in one flat tensor, see `GpuTensor::packed`) and sets the factor the
    /// following updates multiply their gradients by: max_norm / ‖g‖ when ‖g‖ > max_norm,
    /// else 1. Record it after the backward pass and before the updates.
    pub fn bind_clip(
        &self,
        gpu: &Gpu,
        shared: &OptimizerShared,
        all_grads: &GpuTensor,
        max_norm: f32,
    ) -> Dispatch {
        let settings = Settings { max_norm, ..Settings::new(shared.method, shared.lr, all_grads.len()) };
        let settings = uniform(gpu, "optim clip settings", &settings);
        // One workgroup: see the note above `clip` in optim.wgsl.
        self.clip.bind(gpu, &[&settings, &shared.counter, all_grads], [1, 1, 1])
    }

    /// Binds [`Optim::bind_clip`] and [`Optim::bind_tick_scheduled`] as one launch: the
    /// gradient norm and clipping factor, then t ← t + 1 with this step's learning rate.
    pub fn bind_clip_tick_scheduled(
        &self,
        gpu: &Gpu,
        shared: &OptimizerShared,
        all_grads: &GpuTensor,
        max_norm: f32,
        schedule: &ScheduleTable,
    ) -> Dispatch {
        let settings = Settings { max_norm, ..Settings::new(shared.method, shared.lr, all_grads.len()) };
        let settings = uniform(gpu, "optim clip settings", &settings);
        self.clip_tick.bind(gpu, &[&settings, &shared.counter, all_grads, &schedule.buffer], [1, 1, 1])
    }

    /// Binds one update of `params` from `grads`. `moments` is this tensor's state from
    /// [`Optim::moments`].
    pub fn bind_update(
        &self,
        gpu: &Gpu,
        shared: &OptimizerShared,
        params: &GpuTensor,
        grads: &GpuTensor,
        moments: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let decay = match shared.method {
            Method::AdamL2 { weight_decay, .. } | Method::AdamW { weight_decay, .. } => weight_decay,
            _ => 0.0,
        };
        self.bind_update_with_decay(gpu, shared, decay, params, grads, moments)
    }

    /// Binds one update as [`Optim::bind_update`] does, with the method's weight decay
    /// replaced by `weight_decay` (for Adam+L2 and AdamW; the others have none). A model
    /// whose matrices are decayed and whose biases and layer-norm parameters are not
    /// (`engine::models::train::Trainer`) binds one update per group, sharing the step count.
    pub fn bind_update_with_decay(
        &self,
        gpu: &Gpu,
        shared: &OptimizerShared,
        weight_decay: f32,
        params: &GpuTensor,
        grads: &GpuTensor,
        moments: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        self.bind_update_decaying_first(gpu, shared, weight_decay, params.len(), params, grads, moments)
    }

    /// Binds one update as [`Optim::bind_update_with_decay`] does, with the weight decay for
    /// the first `decayed` parameters only: one launch for a model packed with its matrices
    /// first and its biases and layer-norm parameters after them (see
    /// `engine::models::train::Trainer`, which decays the matrices only).
    #[allow(clippy::too_many_arguments)]
    pub fn bind_update_decaying_first(
        &self,
        gpu: &Gpu,
        shared: &OptimizerShared,
        weight_decay: f32,
        decayed: usize,
        params: &GpuTensor,
        grads: &GpuTensor,
        moments: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let len = params.len();
        if grads.len() != len || moments.shape != [2, len] || decayed > len {
            return Err(ShapeError::new(format!(
                "optimizer: parameters {} need gradients of {len} numbers, moments [2, {len}] \
                 and at most {len} decayed, got {}, {} and {decayed}",
                shape_str(&params.shape),
                shape_str(&grads.shape),
                shape_str(&moments.shape)
            )));
        }
        let settings = Settings {
            weight_decay,
            decay_end: decayed as u32,
            ..Settings::new(shared.method, shared.lr, len)
        };
        let settings = uniform(gpu, "optim settings", &settings);
        Ok(self.update.bind(
            gpu,
            &[&settings, &shared.counter, params, grads, moments],
            [groups_for(len, GROUP), 1, 1],
        ))
    }
}
