//! Optimizer updates on the GPU, every [`Method`] of `engine::optim` (`optim.wgsl`).
//!
//! As on the CPU, each parameter tensor has its own state (the moments), and all tensors of
//! a model step together: one [`OptimizerShared`] per model holds the step count, ticked
//! once per step before the tensors' updates.

use engine::optim::Method;
use engine::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

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
        };
        match method {
            Method::Sgd => zero,
            Method::Momentum { beta } => Settings {
                method: 1,
                beta1: beta,
                ..zero
            },
            Method::RmsProp { beta, eps } => Settings {
                method: 2,
                beta2: beta,
                eps,
                ..zero
            },
            Method::Adam { beta1, beta2, eps } => Settings {
                method: 3,
                beta1,
                beta2,
                eps,
                ..zero
            },
            Method::AdamL2 {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => Settings {
                method: 4,
                beta1,
                beta2,
                eps,
                weight_decay,
                ..zero
            },
            Method::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => Settings {
                method: 5,
                beta1,
                beta2,
                eps,
                weight_decay,
                ..zero
            },
        }
    }
}

/// Matches `struct StepCount` in optim.wgsl: t, β1^t, β2^t.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct StepCount {
    t: u32,
    beta1_power: f32,
    beta2_power: f32,
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
        let start = StepCount {
            t: 0,
            beta1_power: 1.0,
            beta2_power: 1.0,
        };
        let counter = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("step counter"),
                contents: bytemuck::bytes_of(&start),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            });
        OptimizerShared {
            method,
            lr,
            counter,
        }
    }
}

/// The tick and update pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct Optim {
    tick: Kernel,
    update: Kernel,
}

impl Optim {
    pub fn new(gpu: &Gpu) -> Optim {
        let source = [include_str!("optim.wgsl")];
        Optim {
            tick: Kernel::new(gpu, "optim tick", &source, "tick"),
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
        self.tick
            .bind(gpu, &[&settings, &shared.counter], [1, 1, 1])
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
        let len = params.len();
        if grads.len() != len || moments.shape != [2, len] {
            return Err(ShapeError::new(format!(
                "optimizer: parameters {} need gradients of {len} numbers and moments [2, {len}], \
                 got {} and {}",
                shape_str(&params.shape),
                shape_str(&grads.shape),
                shape_str(&moments.shape)
            )));
        }
        let settings = Settings::new(shared.method, shared.lr, len);
        let settings = uniform(gpu, "optim settings", &settings);
        Ok(self.update.bind(
            gpu,
            &[
                &settings,
                &shared.counter,
                params.buffer(),
                grads.buffer(),
                moments.buffer(),
            ],
            [groups_for(len, GROUP), 1, 1],
        ))
    }
}
