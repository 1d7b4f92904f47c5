//! Matrix product with optional transposes, C = op(A)·op(B): the forward pass of a layer
//! (X·W) and both of its gradients (dY·Wᵀ and Xᵀ·dY) are this one kernel with different
//! flags. The shader is `matmul.wgsl`.

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// The uniform the shader reads; the fields match `struct Dims` in matmul.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    m: u32,
    k: u32,
    n: u32,
    transpose_a: u32,
    transpose_b: u32,
}

/// The matmul pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct Matmul {
    kernel: Kernel,
}

impl Matmul {
    /// The side of the square tile of C a workgroup computes (`TILE` in the shader): 8 × 8
    /// invocations, each computing a 4 × 4 block.
    pub const TILE: u32 = 32;

    pub fn new(gpu: &Gpu) -> Matmul {
        Matmul { kernel: Kernel::new(gpu, "matmul", &[include_str!("matmul.wgsl")], "main") }
    }

    /// Binds C = op(A)·op(B). `a` and `b` are matrices as stored (op transposes them when
    /// its flag is set); `c` must be `[m, n]`. Shapes are checked here, once, with the
    /// engine's kind of message.
    pub fn bind(
        &self,
        gpu: &Gpu,
        a: &GpuTensor,
        transpose_a: bool,
        b: &GpuTensor,
        transpose_b: bool,
        c: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let (m, k) = matrix_dims(a, transpose_a)?;
        let (k_b, n) = matrix_dims(b, transpose_b)?;
        if k != k_b || c.shape != [m, n] {
            return Err(ShapeError::new(format!(
                "matmul: {}{} x {}{} does not give {} (inner dimensions {k} and {k_b})",
                shape_str(&a.shape),
                if transpose_a { "ᵀ" } else { "" },
                shape_str(&b.shape),
                if transpose_b { "ᵀ" } else { "" },
                shape_str(&c.shape),
            )));
        }
        let dims = Dims {
            m: m as u32,
            k: k as u32,
            n: n as u32,
            transpose_a: transpose_a as u32,
            transpose_b: transpose_b as u32,
        };
        let dims = uniform(gpu, "matmul dims", &dims);
        // One workgroup per 32 × 32 tile of C: x runs along columns, y along rows.
        let workgroups = [groups_for(n, Self::TILE), groups_for(m, Self::TILE), 1];
        Ok(self.kernel.bind(gpu, &[&dims, a, b, c], workgroups))
    }
}

/// (rows, cols) of op(t) for a matrix t.
fn matrix_dims(t: &GpuTensor, transposed: bool) -> Result<(usize, usize), ShapeError> {
    match t.shape[..] {
        [rows, cols] if transposed => Ok((cols, rows)),
        [rows, cols] => Ok((rows, cols)),
        _ => Err(ShapeError::new(format!(
            "matmul: expected a matrix [rows, cols], got {}",
            shape_str(&t.shape)
        ))),
    }
}
