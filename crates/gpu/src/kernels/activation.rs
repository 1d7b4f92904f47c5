//! ReLU, tanh, sigmoid and GELU, forward and backward (`activation.wgsl`). One shader serves
//! all four: the function is a setting, not a copy of the kernel.

use engine::core::tensor::{shape_str, ShapeError};
use engine::models::mlp::Activation;

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Settings` in activation.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Settings {
    kind: u32,
    len: u32,
}

/// The functions the shader knows: the XOR network's three (`engine::models::mlp::Activation`
/// converts into this) and GELU, a transformer's usual choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Relu,
    Tanh,
    Sigmoid,
    /// GELU in the tanh approximation, as `engine::core::autograd::Graph::gelu`.
    Gelu,
}

impl From<Activation> for Function {
    fn from(kind: Activation) -> Function {
        match kind {
            Activation::Relu => Function::Relu,
            Activation::Tanh => Function::Tanh,
            Activation::Sigmoid => Function::Sigmoid,
        }
    }
}

/// The shader's code for each function (`RELU`, `TANH`, `SIGMOID`, `GELU`).
fn kind_code(kind: Function) -> u32 {
    match kind {
        Function::Relu => 0,
        Function::Tanh => 1,
        Function::Sigmoid => 2,
        Function::Gelu => 3,
    }
}

/// The forward and backward pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct Activations {
    forward: Kernel,
    backward: Kernel,
}

impl Activations {
    pub fn new(gpu: &Gpu) -> Activations {
        let source = [include_str!("math.wgsl"), include_str!("activation.wgsl")];
        Activations {
            forward: Kernel::new(gpu, "activation forward", &source, "forward"),
            backward: Kernel::new(gpu, "activation backward", &source, "backward"),
        }
    }

    /// Binds y = f(x), elementwise.
    pub fn bind_forward(
        &self,
        gpu: &Gpu,
        kind: impl Into<Function>,
        x: &GpuTensor,
        y: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        self.bind(gpu, &self.forward, kind.into(), x, y)
    }

    /// Binds grad ← grad · f'(x), in place: `grad` holds dL/dy and becomes dL/dx, where `x`
    /// is the forward input.
    pub fn bind_backward(
        &self,
        gpu: &Gpu,
        kind: impl Into<Function>,
        x: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        self.bind(gpu, &self.backward, kind.into(), x, grad)
    }

    fn bind(
        &self,
        gpu: &Gpu,
        kernel: &Kernel,
        kind: Function,
        x: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        if x.shape != out.shape {
            return Err(ShapeError::new(format!(
                "{kind:?}: input {} and output {} must have the same shape",
                shape_str(&x.shape),
                shape_str(&out.shape)
            )));
        }
        let settings = Settings { kind: kind_code(kind), len: x.len() as u32 };
        let settings = uniform(gpu, "activation settings", &settings);
        Ok(kernel.bind(gpu, &[&settings, x, out], [groups_for(x.len(), GROUP), 1, 1]))
    }
}
