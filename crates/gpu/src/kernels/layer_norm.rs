//! Layer norm, forward and backward (`layer_norm.wgsl`): each row normalized to mean 0 and
//! variance 1 over its features, then scaled by γ and shifted by β.
//!
//! The forward pass is one launch that leaves behind a `saved` tensor from
//! [`LayerNorm::saved`]: x̂ and each row's 1/σ, all the backward pass needs. In a transformer
//! it can also finish the residual connection before it ([`LayerNorm::bind_forward_residual`]),
//! so the sum and its norm are one launch. The backward pass is one launch too: the
//! parameters' gradients and the input's, side by side.

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
    has_bias: u32,
    pad: [u32; 3],
}

/// The three layer-norm pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    forward: Kernel,
    forward_residual: Kernel,
    backward: Kernel,
}

impl LayerNorm {
    pub fn new(gpu: &Gpu) -> LayerNorm {
        let source = [include_str!("layer_norm.wgsl")];
        let kernel = |label, entry| Kernel::new(gpu, label, &source, entry);
        LayerNorm {
            forward: kernel("layer_norm forward", "forward"),
            forward_residual: kernel("layer_norm forward+residual", "forward_residual"),
            backward: kernel("layer_norm backward", "backward"),
        }
    }

    /// What the forward pass keeps for the backward pass of an `[rows, d]` input: x̂
    /// (`rows·d` numbers) followed by each row's 1/σ (`rows` numbers).
    pub fn saved(gpu: &Gpu, rows: usize, d: usize) -> GpuTensor {
        GpuTensor::zeros(gpu, "layer norm saved", &[rows * d + rows])
    }

    /// The forward pass y = x̂·γ + β for `x` and `y` of shape `[rows, d]`, `gamma` and `beta`
    /// of shape `[d]`: one launch.
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
    ) -> Result<Dispatch, ShapeError> {
        let (rows, d) = check(x, gamma, beta, saved, y)?;
        let dims = uniform(gpu, "layer norm dims", &Self::dims(rows, d, eps, false, false));
        Ok(self.forward.bind(gpu, &[&dims, x, saved, gamma, beta, y], [groups_for(rows, GROUP), 1, 1]))
    }

    /// A residual connection and the norm of its result, one launch: `x` holds a sublayer's
    /// output and becomes x + bias + residual (added in that order, the bias if given), the
    /// residual stream; then y = LN(x) as [`LayerNorm::bind_forward`] computes it.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_forward_residual(
        &self,
        gpu: &Gpu,
        eps: f32,
        (x, bias, residual): (&GpuTensor, Option<&GpuTensor>, &GpuTensor),
        gamma: &GpuTensor,
        beta: &GpuTensor,
        saved: &GpuTensor,
        y: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let (rows, d) = check(x, gamma, beta, saved, y)?;
        if residual.shape != x.shape || bias.is_some_and(|b| b.shape != [d]) {
            return Err(ShapeError::new(format!(
                "layer_norm: x {} needs a residual of the same shape and a bias of [{d}], got {} and {}",
                shape_str(&x.shape),
                shape_str(&residual.shape),
                bias.map_or("none".into(), |b| shape_str(&b.shape))
            )));
        }
        let dims = uniform(gpu, "layer norm dims", &Self::dims(rows, d, eps, false, bias.is_some()));
        // Without a bias the shader reads none; γ stands in for the binding.
        let bias = bias.unwrap_or(gamma);
        Ok(self.forward_residual.bind(
            gpu,
            &[&dims, x, saved, gamma, beta, y, residual, bias],
            [groups_for(rows, GROUP), 1, 1],
        ))
    }

    /// The backward pass from dy = dL/dy: writes dγ and dβ, and writes dx (or adds it into
    /// `dx` when `accumulate`, where x also feeds a residual connection). One launch.
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
    ) -> Result<Dispatch, ShapeError> {
        let (rows, d) = check(dy, d_gamma, d_beta, saved, dx)?;
        if gamma.shape != [d] {
            return Err(ShapeError::new(format!(
                "layer_norm: gamma must be [{d}], got {}",
                shape_str(&gamma.shape)
            )));
        }
        let dims = uniform(gpu, "layer norm dims", &Self::dims(rows, d, 0.0, accumulate, false));
        // Columns first (dγ, dβ), then rows (dx): see `backward` in the shader.
        let groups = (d as u32).div_ceil(GROUP) + groups_for(rows, GROUP);
        Ok(self.backward.bind(gpu, &[&dims, saved, dy, gamma, d_gamma, dx, d_beta], [groups, 1, 1]))
    }

    fn dims(rows: usize, d: usize, eps: f32, accumulate: bool, has_bias: bool) -> Dims {
        Dims {
            rows: rows as u32,
            d: d as u32,
            eps,
            accumulate: accumulate as u32,
            has_bias: has_bias as u32,
            pad: [0; 3],
        }
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
