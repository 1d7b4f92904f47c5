//! Layer norm, forward and backward (`layer_norm.wgsl`): each row normalized to mean 0 and
//! variance 1 over its features, then scaled by γ and shifted by β.
//!
//! The forward pass is two launches (normalize, then scale and shift) and leaves behind a
//! `saved` tensor from [`LayerNorm::saved`]: x̂ and each row's 1/σ, all the backward pass
//! needs. The backward pass is two launches too: the parameters' gradients, and the input's.

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Dims` in layer_norm.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    rows: u32,
    d: u32,
    eps: f32,
    accumulate: u32,
}

/// The four layer-norm pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    normalize: Kernel,
    scale_shift: Kernel,
    backward_params: Kernel,
    backward_input: Kernel,
}

impl LayerNorm {
    pub fn new(gpu: &Gpu) -> LayerNorm {
        let source = [include_str!("layer_norm.wgsl")];
        let kernel = |label, entry| Kernel::new(gpu, label, &source, entry);
        LayerNorm {
            normalize: kernel("layer_norm normalize", "normalize"),
            scale_shift: kernel("layer_norm scale_shift", "scale_shift"),
            backward_params: kernel("layer_norm backward_params", "backward_params"),
            backward_input: kernel("layer_norm backward_input", "backward_input"),
        }
    }

    /// What the forward pass keeps for the backward pass of an `[rows, d]` input: x̂
    /// (`rows·d` numbers) followed by each row's 1/σ (`rows` numbers).
    pub fn saved(gpu: &Gpu, rows: usize, d: usize) -> GpuTensor {
        GpuTensor::zeros(gpu, "layer norm saved", &[rows * d + rows])
    }

    /// The forward pass y = x̂·γ + β for `x` and `y` of shape `[rows, d]`, `gamma` and `beta`
    /// of shape `[d]`: two launches, normalize then scale and shift.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_forward(
        &self,
        gpu: &Gpu,
        eps: f32,
        x: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        saved: &GpuTensor,
        y: &GpuTensor,
    ) -> Result<[Dispatch; 2], ShapeError> {
        let (rows, d) = check(x, gamma, beta, saved, y)?;
        let dims = uniform(gpu, "layer norm dims", &Self::dims(rows, d, eps, false));
        Ok([
            self.normalize.bind(gpu, &[&dims, x, saved], [groups_for(rows, GROUP), 1, 1]),
            self.scale_shift.bind(gpu, &[&dims, saved, gamma, beta, y], [groups_for(rows * d, GROUP), 1, 1]),
        ])
    }

    /// The backward pass from dy = dL/dy: writes dγ and dβ, and writes dx (or adds it into
    /// `dx` when `accumulate`, where x also feeds a residual connection). Two launches.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_backward(
        &self,
        gpu: &Gpu,
        saved: &GpuTensor,
        gamma: &GpuTensor,
        dy: &GpuTensor,
        d_gamma: &GpuTensor,
        d_beta: &GpuTensor,
        dx: &GpuTensor,
        accumulate: bool,
    ) -> Result<[Dispatch; 2], ShapeError> {
        let (rows, d) = check(dy, d_gamma, d_beta, saved, dx)?;
        if gamma.shape != [d] {
            return Err(ShapeError::new(format!(
                "layer_norm: gamma must be [{d}], got {}",
                shape_str(&gamma.shape)
            )));
        }
        let dims = Self::dims(rows, d, 0.0, accumulate);
        let dims = uniform(gpu, "layer norm dims", &dims);
        Ok([
            self.backward_params.bind(
                gpu,
                &[&dims, saved, dy, d_gamma, d_beta],
                [groups_for(d, GROUP), 1, 1],
            ),
            self.backward_input.bind(gpu, &[&dims, saved, gamma, dy, dx], [groups_for(rows, GROUP), 1, 1]),
        ])
    }

    fn dims(rows: usize, d: usize, eps: f32, accumulate: bool) -> Dims {
        Dims { rows: rows as u32, d: d as u32, eps, accumulate: accumulate as u32 }
    }
}

/// Checks an `[rows, d]` input and output, two `[d]` vectors and a saved tensor to match;
/// returns (rows, d).
fn check(
    x: &GpuTensor,
    gamma: &GpuTensor,
    beta: &GpuTensor,
    saved: &GpuTensor,
    y: &GpuTensor,
) -> Result<(usize, usize), ShapeError> {
    let [rows, d] = x.shape[..] else {
        return Err(ShapeError::new(format!(
            "layer_norm: expected x of shape [rows, features], got {}",
            shape_str(&x.shape)
        )));
    };
    let fits =
        gamma.shape == [d] && beta.shape == [d] && y.shape == x.shape && saved.shape == [rows * d + rows];
    if !fits {
        return Err(ShapeError::new(format!(
            "layer_norm: x {} needs γ and β of [{d}], an output like x and saved [{}]; got {}, \
             {}, {} and {}",
            shape_str(&x.shape),
            rows * d + rows,
            shape_str(&gamma.shape),
            shape_str(&beta.shape),
            shape_str(&y.shape),
            shape_str(&saved.shape)
        )));
    }
    Ok((rows, d))
}
