//! ReLU, tanh, sigmoid and GELU (the tanh approximation and the exact one, with erf), forward
//! and backward (`activation.wgsl`). One shader serves them all: the function is a setting,
//! not a copy of the kernel.

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
    cols: u32,
    cols2: u32,
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
    /// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as `engine::models::minilm::gelu_erf`
    /// (BERT's and MiniLM's). WGSL has no erf: `math.wgsl` ports libm's.
    GeluErf,
    /// erf itself, as `libm::erff`: there to check `math.wgsl`'s erf directly.
    Erf,
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

/// The shader's code for each function (`RELU`, `TANH`, `SIGMOID`, `GELU`, `GELU_ERF`, `ERF`).
fn kind_code(kind: Function) -> u32 {
    match kind {
        Function::Relu => 0,
        Function::Tanh => 1,
        Function::Sigmoid => 2,
        Function::Gelu => 3,
        Function::GeluErf => 4,
        Function::Erf => 5,
    }
}

/// The forward and backward pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct Activations {
    forward: Kernel,
    backward: Kernel,
    forward_bias: Kernel,
    backward_sums: Kernel,
}

impl Activations {
    pub fn new(gpu: &Gpu) -> Activations {
        let source = [include_str!("math.wgsl"), include_str!("activation.wgsl")];
        Activations {
            forward: Kernel::new(gpu, "activation forward", &source, "forward"),
            backward: Kernel::new(gpu, "activation backward", &source, "backward"),
            forward_bias: Kernel::new(gpu, "activation forward+bias", &source, "forward_bias"),
            backward_sums: Kernel::new(gpu, "activation backward+bias sums", &source, "backward_sums"),
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

    /// Binds z ← z + bias (a `[cols]` row added to every row of `z`, in place), then
    /// y = f(z): a layer's bias and activation in one launch.
    pub fn bind_forward_bias(
        &self,
        gpu: &Gpu,
        kind: impl Into<Function>,
        z: &GpuTensor,
        bias: &GpuTensor,
        y: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let kind = kind.into();
        let cols = columns(z, bias, y)?;
        let settings = Settings { kind: kind_code(kind), len: z.len() as u32, cols: cols as u32, cols2: 0 };
        let settings = uniform(gpu, "activation settings", &settings);
        Ok(self.forward_bias.bind(gpu, &[&settings, z, y, bias], [groups_for(z.len(), GROUP), 1, 1]))
    }

    /// Binds grad ← grad · f'(x) as [`Activations::bind_backward`] does, and in the same
    /// launch the column sums of the result into `d_bias` (the gradient of the bias added
    /// before f) and the column sums of `other` into `d_other_bias` (`other` `[rows, cols2]`,
    /// the gradient at the next layer's output: its bias's gradient).
    pub fn bind_backward_sums(
        &self,
        gpu: &Gpu,
        kind: impl Into<Function>,
        x: &GpuTensor,
        grad: &GpuTensor,
        d_bias: &GpuTensor,
        (other, d_other_bias): (&GpuTensor, &GpuTensor),
    ) -> Result<Dispatch, ShapeError> {
        let kind = kind.into();
        let cols = columns(x, d_bias, grad)?;
        let rows = x.shape[0];
        let cols2 = d_other_bias.len();
        if other.shape != [rows, cols2] {
            return Err(ShapeError::new(format!(
                "{kind:?}: a second gradient of [{rows}, {cols2}] for a bias of [{cols2}], got {}",
                shape_str(&other.shape)
            )));
        }
        let settings =
            Settings { kind: kind_code(kind), len: x.len() as u32, cols: cols as u32, cols2: cols2 as u32 };
        let settings = uniform(gpu, "activation settings", &settings);
        Ok(self.backward_sums.bind(
            gpu,
            &[&settings, x, grad, other, d_bias, d_other_bias],
            [groups_for(cols + cols2, GROUP), 1, 1],
        ))
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
        let settings = Settings { kind: kind_code(kind), len: x.len() as u32, cols: 0, cols2: 0 };
        let settings = uniform(gpu, "activation settings", &settings);
        Ok(kernel.bind(gpu, &[&settings, x, out], [groups_for(x.len(), GROUP), 1, 1]))
    }
}

/// Checks `x` `[rows, cols]`, a bias `[cols]` and an output like `x`; returns cols.
fn columns(x: &GpuTensor, bias: &GpuTensor, out: &GpuTensor) -> Result<usize, ShapeError> {
    match x.shape[..] {
        [_, cols] if bias.shape == [cols] && out.shape == x.shape => Ok(cols),
        _ => Err(ShapeError::new(format!(
            "activation: x [rows, cols] needs a bias [cols] and an output like x, got {}, {} and {}",
            shape_str(&x.shape),
            shape_str(&bias.shape),
            shape_str(&out.shape)
        ))),
    }
}
