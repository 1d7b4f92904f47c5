//! Embedding lookup (a gather of table rows) and its gradient (a scatter-add back into the
//! table), in `embedding.wgsl`. The same two kernels serve token embeddings (indexed by token
//! id) and learned position embeddings (indexed by position).

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::{GpuIndices, GpuTensor};

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Dims` in embedding.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    rows: u32,
    width: u32,
    vocab: u32,
    accumulate: u32,
    vocab2: u32,
    accumulate2: u32,
    pad: [u32; 2],
}

/// The gather and scatter pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct Embedding {
    gather: Kernel,
    scatter: Kernel,
    gather_both: Kernel,
    scatter_both: Kernel,
}

impl Embedding {
    pub fn new(gpu: &Gpu) -> Embedding {
        let source = [include_str!("embedding.wgsl")];
        Embedding {
            gather: Kernel::new(gpu, "embedding gather", &source, "gather"),
            scatter: Kernel::new(gpu, "embedding scatter", &source, "scatter"),
            gather_both: Kernel::new(gpu, "embedding gather both", &source, "gather_both"),
            scatter_both: Kernel::new(gpu, "embedding scatter both", &source, "scatter_both"),
        }
    }

    /// Binds `out[r] = table[indices[r]]` (or `+=` when `accumulate`, to add position
    /// embeddings to token embeddings). `table` is `[vocab, width]`, `out` is
    /// `[indices.len(), width]`.
    pub fn bind_gather(
        &self,
        gpu: &Gpu,
        table: &GpuTensor,
        indices: &GpuIndices,
        out: &GpuTensor,
        accumulate: bool,
    ) -> Result<Dispatch, ShapeError> {
        let dims = Self::dims(table, indices, out, accumulate)?;
        let count = (dims.rows * dims.width) as usize;
        let dims = uniform(gpu, "embedding dims", &dims);
        Ok(self.gather.bind(gpu, &[&dims, indices, table, out], [groups_for(count, GROUP), 1, 1]))
    }

    /// Binds `d_table[v]` = Σ over positions r with `indices[r] = v` of `d_out[r]` (or `+=` when
    /// `accumulate`, for a table whose gradient already holds another use's share, such as
    /// a token embedding tied to the output layer).
    pub fn bind_scatter(
        &self,
        gpu: &Gpu,
        d_out: &GpuTensor,
        indices: &GpuIndices,
        d_table: &GpuTensor,
        accumulate: bool,
    ) -> Result<Dispatch, ShapeError> {
        let dims = Self::dims(d_table, indices, d_out, accumulate)?;
        let count = (dims.vocab * dims.width) as usize;
        let dims = uniform(gpu, "embedding dims", &dims);
        Ok(self.scatter.bind(gpu, &[&dims, indices, d_out, d_table], [groups_for(count, GROUP), 1, 1]))
    }

    /// Binds `out[r] = table[indices[r]] + table2[indices2[r]]`, one launch: a transformer's
    /// token embeddings plus its position embeddings. Both tables have `out`'s width.
    pub fn bind_gather_both(
        &self,
        gpu: &Gpu,
        (table, indices): (&GpuTensor, &GpuIndices),
        (table2, indices2): (&GpuTensor, &GpuIndices),
        out: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let dims = Self::dims(table, indices, out, false)?;
        let second = Self::dims(table2, indices2, out, false)?;
        let dims = Dims { vocab2: second.vocab, ..dims };
        let count = (dims.rows * dims.width) as usize;
        let dims = uniform(gpu, "embedding dims", &dims);
        Ok(self.gather_both.bind(
            gpu,
            &[&dims, indices, table, out, indices2, table2],
            [groups_for(count, GROUP), 1, 1],
        ))
    }

    /// Binds both scatters of [`Embedding::bind_gather_both`]'s gradient in one launch:
    /// d_table from `indices` and d_table2 from `indices2`, each written or, with its flag,
    /// added into.
    pub fn bind_scatter_both(
        &self,
        gpu: &Gpu,
        d_out: &GpuTensor,
        (indices, d_table, accumulate): (&GpuIndices, &GpuTensor, bool),
        (indices2, d_table2, accumulate2): (&GpuIndices, &GpuTensor, bool),
    ) -> Result<Dispatch, ShapeError> {
        let dims = Self::dims(d_table, indices, d_out, accumulate)?;
        let second = Self::dims(d_table2, indices2, d_out, accumulate2)?;
        let dims = Dims { vocab2: second.vocab, accumulate2: accumulate2 as u32, ..dims };
        let count = ((dims.vocab + dims.vocab2) * dims.width) as usize;
        let dims = uniform(gpu, "embedding dims", &dims);
        Ok(self.scatter_both.bind(
            gpu,
            &[&dims, indices, d_out, d_table, indices2, d_table2],
            [groups_for(count, GROUP), 1, 1],
        ))
    }

    /// Checks that `table` is `[vocab, width]` and `rows` is `[indices, width]`.
    fn dims(
        table: &GpuTensor,
        indices: &GpuIndices,
        rows: &GpuTensor,
        accumulate: bool,
    ) -> Result<Dims, ShapeError> {
        let [vocab, width] = table.shape[..] else {
            return Err(ShapeError::new(format!(
                "embedding: the table must be a matrix [vocabulary, width], got {}",
                shape_str(&table.shape)
            )));
        };
        if rows.shape != [indices.len(), width] {
            return Err(ShapeError::new(format!(
                "embedding: {} indices into a table {} give [{}, {width}], not {}",
                indices.len(),
                shape_str(&table.shape),
                indices.len(),
                shape_str(&rows.shape)
            )));
        }
        Ok(Dims {
            rows: indices.len() as u32,
            width: width as u32,
            vocab: vocab as u32,
            accumulate: accumulate as u32,
            vocab2: 0,
            accumulate2: 0,
            pad: [0; 2],
        })
    }
}
