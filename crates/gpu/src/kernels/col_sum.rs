//! Column sums of a matrix, for bias gradients (`col_sum.wgsl`).

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Dims` in col_sum.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    rows: u32,
    cols: u32,
}

/// The column-sum pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct ColSum {
    kernel: Kernel,
}

impl ColSum {
    pub fn new(gpu: &Gpu) -> ColSum {
        ColSum { kernel: Kernel::new(gpu, "col_sum", &[include_str!("col_sum.wgsl")], "main") }
    }

    /// Binds `out[j] = Σ_i x[i][j]` for `x` of shape `[rows, cols]` and `out` of shape `[cols]`.
    pub fn bind(&self, gpu: &Gpu, x: &GpuTensor, out: &GpuTensor) -> Result<Dispatch, ShapeError> {
        let [rows, cols] = x.shape[..] else {
            return Err(ShapeError::new(format!(
                "col_sum: expected a matrix [rows, cols], got {}",
                shape_str(&x.shape)
            )));
        };
        if out.shape != [cols] {
            return Err(ShapeError::new(format!(
                "col_sum: the column sums of {} are [{cols}], not {}",
                shape_str(&x.shape),
                shape_str(&out.shape)
            )));
        }
        let dims = Dims { rows: rows as u32, cols: cols as u32 };
        let dims = uniform(gpu, "col_sum dims", &dims);
        Ok(self.kernel.bind(gpu, &[&dims, x, out], [groups_for(cols, GROUP), 1, 1]))
    }
}
