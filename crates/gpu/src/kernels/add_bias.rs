//! Bias add: a row vector added to every row of a matrix, in place (`add_bias.wgsl`).

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Dims` in add_bias.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    rows: u32,
    cols: u32,
}

/// The bias-add pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct AddBias {
    kernel: Kernel,
}

impl AddBias {
    pub fn new(gpu: &Gpu) -> AddBias {
        AddBias { kernel: Kernel::new(gpu, "add_bias", &[include_str!("add_bias.wgsl")], "main") }
    }

    /// Binds x ← x + bias for `x` of shape `[rows, cols]` and `bias` of shape `[cols]`.
    pub fn bind(&self, gpu: &Gpu, x: &GpuTensor, bias: &GpuTensor) -> Result<Dispatch, ShapeError> {
        let [rows, cols] = x.shape[..] else {
            return Err(ShapeError::new(format!(
                "add_bias: expected a matrix [rows, cols], got {}",
                shape_str(&x.shape)
            )));
        };
        if bias.shape != [cols] {
            return Err(ShapeError::new(format!(
                "add_bias: a bias for {} must be [{cols}], got {}",
                shape_str(&x.shape),
                shape_str(&bias.shape)
            )));
        }
        let dims = Dims { rows: rows as u32, cols: cols as u32 };
        let dims = uniform(gpu, "add_bias dims", &dims);
        Ok(self.kernel.bind(gpu, &[&dims, bias, x], [groups_for(rows * cols, GROUP), 1, 1]))
    }
}
