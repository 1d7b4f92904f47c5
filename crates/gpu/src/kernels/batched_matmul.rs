//! Batched matrix products through strided views, `C[z] = A[z]·B[z]` or `C[z] += A[z]·B[z]`
//! (`batched_matmul.wgsl`): every matrix product of the transformer, per layer and per
//! attention head, is this one kernel with different [`View`]s.
//!
//! A view says where each element of a batch of matrices is, so splitting a `[B·T, D]`
//! matrix into attention heads, merging them back, and transposing are all free: they are
//! different strides over the same numbers, never copies.

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// How a batch of `rows x cols` matrices sits in a buffer: element (i, j) of matrix
/// (outer, inner) is at `offset + outer·outer_stride + inner·inner_stride + i·row_stride +
/// j·col_stride` (in f32, from the start of the tensor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
    pub outer_stride: usize,
    pub inner_stride: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl View {
    /// One row-major matrix, the same for every entry of the batch (a weight matrix).
    pub fn matrix(rows: usize, cols: usize) -> View {
        View { rows, cols, offset: 0, outer_stride: 0, inner_stride: 0, row_stride: cols, col_stride: 1 }
    }

    /// Row-major `rows x cols` matrices stored one after another, `inner_count` per outer
    /// index: the attention scores `[B, H, T, T]` as B·H matrices `[T, T]`.
    pub fn stacked(rows: usize, cols: usize, inner_count: usize) -> View {
        View {
            rows,
            cols,
            offset: 0,
            outer_stride: inner_count * rows * cols,
            inner_stride: rows * cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The attention heads of a `[B·T, d_model]` matrix (B sequences of T rows): matrix
    /// (b, h) is `[T, d_model / heads]`, rows b·T .. b·T + T and that head's columns
    /// h·d_head .. h·d_head + d_head.
    pub fn heads(seq_len: usize, d_model: usize, heads: usize) -> View {
        let d_head = d_model / heads.max(1);
        View {
            rows: seq_len,
            cols: d_head,
            offset: 0,
            outer_stride: seq_len * d_model,
            inner_stride: d_head,
            row_stride: d_model,
            col_stride: 1,
        }
    }

    /// The transpose: the same numbers read with rows and columns swapped.
    pub fn t(self) -> View {
        View {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// One past the largest index this view reads over a batch of `batch` = [outer, inner]
    /// matrices (0 if it reads nothing).
    fn extent(&self, batch: [usize; 2]) -> usize {
        if self.rows == 0 || self.cols == 0 || batch[0] == 0 || batch[1] == 0 {
            return 0;
        }
        self.offset
            + (batch[0] - 1) * self.outer_stride
            + (batch[1] - 1) * self.inner_stride
            + (self.rows - 1) * self.row_stride
            + (self.cols - 1) * self.col_stride
            + 1
    }
}

/// Matches `struct View` in batched_matmul.wgsl (padded to 32 bytes).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ViewUniform {
    offset: u32,
    outer_stride: u32,
    inner_stride: u32,
    row_stride: u32,
    col_stride: u32,
    pad: [u32; 3],
}

impl From<View> for ViewUniform {
    fn from(v: View) -> ViewUniform {
        ViewUniform {
            offset: v.offset as u32,
            outer_stride: v.outer_stride as u32,
            inner_stride: v.inner_stride as u32,
            row_stride: v.row_stride as u32,
            col_stride: v.col_stride as u32,
            pad: [0; 3],
        }
    }
}

/// Matches `struct Dims` in batched_matmul.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    m: u32,
    k: u32,
    n: u32,
    inner_count: u32,
    accumulate: u32,
    sum_inner: u32,
    pad: [u32; 2],
    a: ViewUniform,
    b: ViewUniform,
    c: ViewUniform,
}

/// An operand: a tensor and how to read it as a batch of matrices.
pub type Operand<'a> = (&'a GpuTensor, View);

/// The batched matmul pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct BatchedMatmul {
    kernel: Kernel,
}

impl BatchedMatmul {
    /// The side of the square block of C a workgroup computes: 8x8 invocations, each an
    /// 8x8 block (`BLOCK` in the shader).
    pub const TILE: u32 = 64;

    pub fn new(gpu: &Gpu) -> BatchedMatmul {
        let source = [include_str!("batched_matmul.wgsl")];
        BatchedMatmul { kernel: Kernel::new(gpu, "batched matmul", &source, "main") }
    }

    /// Binds `C[z] = A[z]·B[z]` (or `+=` when `accumulate`) for the `batch[0]·batch[1]`
    /// matrices z = (outer, inner). Checks that the shapes chain (A is m x k, B is k x n,
    /// C is m x n) and that every view stays inside its tensor.
    pub fn bind(
        &self,
        gpu: &Gpu,
        batch: [usize; 2],
        a: Operand<'_>,
        b: Operand<'_>,
        c: Operand<'_>,
        accumulate: bool,
    ) -> Result<Dispatch, ShapeError> {
        self.bind_with(gpu, batch, a, b, c, accumulate, false)
    }

    /// Binds `C[outer] = Σ_inner A[outer, inner]·B[outer, inner]` (or `+=` when
    /// `accumulate`): one product per outer index whose inner dimension runs over the
    /// `batch[1]` matrices in turn, e.g. dX = dQ·W_Qᵀ + dK·W_Kᵀ + dV·W_Vᵀ in one launch.
    /// C's view is read with inner index 0.
    pub fn bind_summed(
        &self,
        gpu: &Gpu,
        batch: [usize; 2],
        a: Operand<'_>,
        b: Operand<'_>,
        c: Operand<'_>,
        accumulate: bool,
    ) -> Result<Dispatch, ShapeError> {
        self.bind_with(gpu, batch, a, b, c, accumulate, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_with(
        &self,
        gpu: &Gpu,
        batch: [usize; 2],
        a: Operand<'_>,
        b: Operand<'_>,
        c: Operand<'_>,
        accumulate: bool,
        sum_inner: bool,
    ) -> Result<Dispatch, ShapeError> {
        let ((a, va), (b, vb), (c, vc)) = (a, b, c);
        let c_batch = if sum_inner { [batch[0], batch[1].min(1)] } else { batch };
        if va.cols != vb.rows || va.rows != vc.rows || vb.cols != vc.cols {
            return Err(ShapeError::new(format!(
                "batched matmul: [{}, {}] x [{}, {}] does not give [{}, {}]",
                va.rows, va.cols, vb.rows, vb.cols, vc.rows, vc.cols
            )));
        }
        for (name, t, v, batch) in [("A", a, va, batch), ("B", b, vb, batch), ("C", c, vc, c_batch)] {
            if v.extent(batch) > t.len() {
                return Err(ShapeError::new(format!(
                    "batched matmul: {name} reads up to element {} of a tensor {} ({} elements)",
                    v.extent(batch),
                    shape_str(&t.shape),
                    t.len()
                )));
            }
        }
        let count = c_batch[0] * c_batch[1];
        if count > 65_535 {
            return Err(ShapeError::new(format!(
                "batched matmul: {count} matrices is more than one launch allows (65,535)"
            )));
        }
        let dims = Dims {
            m: va.rows as u32,
            k: va.cols as u32,
            n: vb.cols as u32,
            inner_count: batch[1].max(1) as u32,
            accumulate: accumulate as u32,
            sum_inner: sum_inner as u32,
            pad: [0; 2],
            a: va.into(),
            b: vb.into(),
            c: vc.into(),
        };
        let dims = uniform(gpu, "batched matmul dims", &dims);
        // x along columns of C, y along rows, z along the batch (an empty batch launches
        // nothing).
        let workgroups = [groups_for(vc.cols, Self::TILE), groups_for(vc.rows, Self::TILE), count as u32];
        Ok(self.kernel.bind(gpu, &[&dims, a, b, c], workgroups))
    }
}
