//! Tensors: a shape and a flat list of numbers, and the plain forward kernels on them.
//!
//! A `Tensor` stores its elements in row-major order: the last index moves fastest, so a
//! `[2, 3]` matrix is stored as row 0 then row 1. Everything here is forward-only; the
//! autograd module records these kernels on a tape and adds their backward rules.
//!
//! Shapes are checked at run time. A mismatch is an `Err(ShapeError)` whose message says what
//! went wrong in words, never a panic: the book's bug injector breaks shapes on purpose and
//! shows the reader these messages.

use std::fmt;

pub mod matmul;

use matmul::{MatrixView, PackedPanels};

/// A shape mismatch, explained in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    pub message: String,
}

impl ShapeError {
    pub fn new(message: impl Into<String>) -> ShapeError {
        ShapeError { message: message.into() }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShapeError {}

/// What every fallible kernel returns.
pub type Result<T> = std::result::Result<T, ShapeError>;

/// A shape written as the book writes it, e.g. `[2, 3]`.
pub fn shape_str(shape: &[usize]) -> String {
    format!("{shape:?}")
}

/// An n-dimensional array of f32 in row-major order. `data.len()` is the product of `shape`;
/// a scalar has shape `[]` and one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of the given shape with every element 0.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::filled(shape, 0.0)
    }

    /// A tensor of the given shape with every element equal to `value`.
    pub fn filled(shape: &[usize], value: f32) -> Tensor {
        Tensor { shape: shape.to_vec(), data: vec![value; shape.iter().product()] }
    }

    /// A single number, shape `[]`.
    pub fn scalar(value: f32) -> Tensor {
        Tensor { shape: vec![], data: vec![value] }
    }

    /// Wraps row-major `data` in `shape`, checking that the element count matches.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor> {
        let expected: usize = shape.iter().product();
        if data.len() != expected {
            return Err(ShapeError::new(format!(
                "from_vec: shape {} needs {expected} numbers but {} were given",
                shape_str(shape),
                data.len()
            )));
        }
        Ok(Tensor { shape: shape.to_vec(), data })
    }

    /// A matrix from its rows. Every row must have the same length.
    pub fn from_rows(rows: &[Vec<f32>]) -> Result<Tensor> {
        let cols = rows.first().map_or(0, |r| r.len());
        if let Some(bad) = rows.iter().position(|r| r.len() != cols) {
            return Err(ShapeError::new(format!(
                "from_rows: row 0 has {cols} numbers but row {bad} has {}",
                rows[bad].len()
            )));
        }
        Ok(Tensor { shape: vec![rows.len(), cols], data: rows.concat() })
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The length of the last dimension: the "row" that softmax and layer norm work along.
    /// A scalar is one row of length 1.
    pub fn row_len(&self) -> usize {
        self.shape.last().copied().unwrap_or(1)
    }

    /// How many rows of length [`Tensor::row_len`] there are.
    pub fn rows(&self) -> usize {
        self.len().checked_div(self.row_len()).unwrap_or(0)
    }

    /// Element (i, j) of a matrix. Panics if out of range, like slice indexing.
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_len() + j]
    }

    /// Applies `f` to every element, in order.
    pub fn map(&self, mut f: impl FnMut(f32) -> f32) -> Tensor {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(|&v| f(v)).collect() }
    }

    /// The rows (runs of [`Tensor::row_len`] elements), in order.
    pub fn row_slices(&self) -> std::slice::Chunks<'_, f32> {
        // An empty last dimension means no elements; chunks of 1 then yields no rows.
        self.data.chunks(self.row_len().max(1))
    }

    /// The rows, mutably.
    pub fn row_slices_mut(&mut self) -> std::slice::ChunksMut<'_, f32> {
        let row_len = self.row_len().max(1);
        self.data.chunks_mut(row_len)
    }

    /// Each row's sum over its finite entries, so a masked row (−∞ where attention may not
    /// look) still sums what is there: an attention row's weights sum to 1.
    pub fn finite_row_sums(&self) -> Vec<f32> {
        self.row_slices().map(|row| row.iter().filter(|v| v.is_finite()).sum()).collect()
    }

    /// Combines two tensors element by element, broadcasting as in [`broadcast_shape`].
    /// `op` names the operation in error messages.
    pub fn zip_with(&self, other: &Tensor, op: &str, f: impl Fn(f32, f32) -> f32) -> Result<Tensor> {
        self.zip_with_into(other, op, f, Vec::new())
    }

    /// [`Tensor::zip_with`] writing into `out` (emptied first; its allocation is reused).
    pub fn zip_with_into(
        &self,
        other: &Tensor,
        op: &str,
        f: impl Fn(f32, f32) -> f32,
        mut out: Vec<f32>,
    ) -> Result<Tensor> {
        let shape = broadcast_shape(&self.shape, &other.shape, op)?;
        out.clear();
        // Fast paths for the two common cases, same shape and a row (such as a bias) repeated
        // down a matrix; they pair the same elements as the general index computation below.
        if self.shape == other.shape {
            out.extend(self.data.iter().zip(&other.data).map(|(&x, &y)| f(x, y)));
            return Ok(Tensor { data: out, shape });
        }
        if shape == self.shape && is_repeated_row(&other.shape, &shape) && !other.is_empty() {
            out.extend(self.data.iter().zip(other.data.iter().cycle()).map(|(&x, &y)| f(x, y)));
            return Ok(Tensor { data: out, shape });
        }
        let from_self = broadcast_indices(&self.shape, &shape);
        let from_other = broadcast_indices(&other.shape, &shape);
        out.extend(from_self.iter().zip(&from_other).map(|(&i, &j)| f(self.data[i], other.data[j])));
        Ok(Tensor { data: out, shape })
    }

    /// The same numbers in a new shape with the same element count. Row-major order means
    /// no data moves.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(ShapeError::new(format!(
                "reshape: cannot view {} ({} numbers) as {} ({} numbers)",
                shape_str(&self.shape),
                self.len(),
                shape_str(shape),
                shape.iter().product::<usize>()
            )));
        }
        Ok(Tensor { shape: shape.to_vec(), data: self.data.clone() })
    }

    /// Swaps the last two dimensions: a matrix's transpose, or the transpose of every matrix
    /// in a batch `[batch, rows, cols]`.
    pub fn transpose(&self) -> Result<Tensor> {
        let (batch, rows, cols) = as_batch_of_matrices(self, "transpose")?;
        let mut out = Vec::with_capacity(self.len());
        for b in 0..batch.unwrap_or(1) {
            let matrix = &self.data[b * rows * cols..(b + 1) * rows * cols];
            for j in 0..cols {
                for i in 0..rows {
                    out.push(matrix[i * cols + j]);
                }
            }
        }
        let mut shape = self.shape.clone();
        let rank = shape.len();
        shape.swap(rank - 2, rank - 1);
        Ok(Tensor { shape, data: out })
    }

    /// Reorders the dimensions: output dimension i is input dimension `axes[i]`, so
    /// `permute(&[0, 2, 1, 3])` turns `[batch, positions, heads, d_head]` into
    /// `[batch, heads, positions, d_head]`. `axes` must list every dimension exactly once.
    /// Unlike [`Tensor::reshape`], the numbers move: element (i₀, i₁, …) of the output is
    /// element (j with `j[axes[k]] = i_k`) of the input.
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        self.permute_into(axes, Vec::new())
    }

    /// [`Tensor::permute`] writing into `out` (emptied first; its allocation is reused).
    pub fn permute_into(&self, axes: &[usize], mut out: Vec<f32>) -> Result<Tensor> {
        let rank = self.shape.len();
        let mut seen = vec![false; rank];
        for &a in axes {
            if a >= rank || seen[a] {
                return Err(ShapeError::new(format!(
                    "permute: axes {axes:?} are not a reordering of the {rank} dimensions of {}",
                    shape_str(&self.shape)
                )));
            }
            seen[a] = true;
        }
        if axes.len() != rank {
            return Err(ShapeError::new(format!(
                "permute: {} axes given for the {rank} dimensions of {}",
                axes.len(),
                shape_str(&self.shape)
            )));
        }
        // Row-major strides of the input, then reordered so that stepping along output
        // dimension k steps along input dimension axes[k].
        let mut in_strides = vec![1; rank];
        for d in (0..rank.saturating_sub(1)).rev() {
            in_strides[d] = in_strides[d + 1] * self.shape[d + 1];
        }
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        let strides: Vec<usize> = axes.iter().map(|&a| in_strides[a]).collect();
        // Output rows (runs along the last output dimension) one at a time: a row is a
        // contiguous copy when the last dimension stays last (as when attention moves heads
        // next to the batch), else a walk with the input stride of that dimension.
        let (outer_rank, row_len) = (rank.saturating_sub(1), shape.last().copied().unwrap_or(1));
        let row_step = strides.last().copied().unwrap_or(1).max(1);
        out.clear();
        out.reserve(self.len());
        let mut data = out;
        let mut position = vec![0; outer_rank];
        for _ in 0..self.len().checked_div(row_len).unwrap_or(0) {
            let start: usize = position.iter().zip(&strides).map(|(p, s)| p * s).sum();
            if row_step == 1 {
                data.extend_from_slice(&self.data[start..start + row_len]);
            } else {
                data.extend(self.data[start..].iter().step_by(row_step).take(row_len));
            }
            // Advance the multi-index of the row like an odometer: the last digit fastest.
            for d in (0..outer_rank).rev() {
                position[d] += 1;
                if position[d] < shape[d] {
                    break;
                }
                position[d] = 0;
            }
        }
        Ok(Tensor { shape, data })
    }

    /// The sum of all elements, added in order.
    pub fn sum(&self) -> f32 {
        self.data.iter().sum()
    }

    /// The mean of all elements (0 for an empty tensor).
    pub fn mean(&self) -> f32 {
        if self.is_empty() {
            0.0
        } else {
            self.sum() / self.len() as f32
        }
    }
}

/// Splits a rank-2 or rank-3 shape into (batch, rows, cols); batch is `None` for a matrix.
fn as_batch_of_matrices(t: &Tensor, op: &str) -> Result<(Option<usize>, usize, usize)> {
    match t.shape[..] {
        [rows, cols] => Ok((None, rows, cols)),
        [batch, rows, cols] => Ok((Some(batch), rows, cols)),
        _ => Err(ShapeError::new(format!(
            "{op}: expected a matrix [rows, cols] or a batch [batch, rows, cols], got {}",
            shape_str(&t.shape)
        ))),
    }
}

/// Matrix product A·B of two matrices, or of batches of matrices.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    matmul_transposed(a, false, b, false)
}

/// Matrix product op(A)·op(B), where op transposes its operand when its flag is set:
/// `matmul_transposed(&q, false, &k, true)` is Q·Kᵀ.
///
/// Each operand is a matrix `[rows, cols]` or a batch `[batch, rows, cols]`. Two batches must
/// have the same batch size; a single matrix is used with every entry of the other's batch
/// (as a weight matrix is applied to every sequence in a batch).
pub fn matmul_transposed(a: &Tensor, transpose_a: bool, b: &Tensor, transpose_b: bool) -> Result<Tensor> {
    matmul_transposed_into(a, transpose_a, b, transpose_b, Vec::new())
}

/// How many numbers [`matmul_transposed`] of these operands returns (0 if their shapes do not
/// make a product), to size a buffer for [`matmul_transposed_into`].
pub fn matmul_len(a: &Tensor, transpose_a: bool, b: &Tensor, transpose_b: bool) -> usize {
    match (as_batch_of_matrices(a, "matmul"), as_batch_of_matrices(b, "matmul")) {
        (Ok((batch_a, a_rows, a_cols)), Ok((batch_b, b_rows, b_cols))) => {
            let m = if transpose_a { a_cols } else { a_rows };
            let n = if transpose_b { b_rows } else { b_cols };
            batch_a.or(batch_b).unwrap_or(1) * m * n
        }
        _ => 0,
    }
}

/// [`matmul_transposed`] writing into `out` (emptied first; its allocation is reused).
pub fn matmul_transposed_into(
    a: &Tensor,
    transpose_a: bool,
    b: &Tensor,
    transpose_b: bool,
    mut out: Vec<f32>,
) -> Result<Tensor> {
    let (batch_a, a_rows, a_cols) = as_batch_of_matrices(a, "matmul")?;
    let (batch_b, b_rows, b_cols) = as_batch_of_matrices(b, "matmul")?;
    // op(A) is [m, k] and op(B) is [k, n].
    let (m, k) = if transpose_a { (a_cols, a_rows) } else { (a_rows, a_cols) };
    let (k_b, n) = if transpose_b { (b_cols, b_rows) } else { (b_rows, b_cols) };
    let written = |t: &Tensor, transposed: bool| {
        format!("{}{}", shape_str(&t.shape), if transposed { "ᵀ" } else { "" })
    };
    if k != k_b {
        return Err(ShapeError::new(format!(
            "matmul: {} x {}: inner dimensions {k} and {k_b} differ (is a weight transposed?)",
            written(a, transpose_a),
            written(b, transpose_b)
        )));
    }
    let batch = match (batch_a, batch_b) {
        (Some(x), Some(y)) if x != y => {
            return Err(ShapeError::new(format!(
                "matmul: {} x {}: batch sizes {x} and {y} differ",
                written(a, transpose_a),
                written(b, transpose_b)
            )))
        }
        (Some(x), _) | (None, Some(x)) => Some(x),
        (None, None) => None,
    };
    // The kernel takes op(A) and op(B) as strided views of the stored numbers (no transposed
    // copies; see `matmul::MatrixView`), and packs what it reads itself.
    // A single B shared by a whole batch is packed into panels once, not once per entry.
    let a_entry = |s: usize| {
        let start = if batch_a.is_some() { s * a_rows * a_cols } else { 0 };
        MatrixView::new(&a.data[start..start + a_rows * a_cols], a_rows, a_cols, transpose_a)
    };
    let b_entry = |s: usize| {
        let start = if batch_b.is_some() { s * b_rows * b_cols } else { 0 };
        MatrixView::new(&b.data[start..start + b_rows * b_cols], b_rows, b_cols, transpose_b)
    };
    let shared_b = batch_b.is_none().then(|| PackedPanels::new(b_entry(0)));
    out.clear();
    out.resize(batch.unwrap_or(1) * m * n, 0.0);
    let mut data = out;
    for (s, c) in data.chunks_mut((m * n).max(1)).enumerate() {
        match &shared_b {
            Some(panels) => matmul::multiply_packed(a_entry(s), panels, c),
            None => matmul::multiply(a_entry(s), b_entry(s), c),
        }
    }
    let shape = match batch {
        Some(s) => vec![s, m, n],
        None => vec![m, n],
    };
    Ok(Tensor { shape, data })
}

/// C = A·B for row-major A `[m, k]`, B `[k, n]`, C `[m, n]` (C is overwritten).
///
/// Every entry is `C[i][j] = Σ_p A[i][p]·B[p][j]`, started from 0 and added in order of p, so
/// every platform gets the same bits as the plain triple loop. The work is done by the packed,
/// register-tiled kernel in [`matmul`](mod@matmul) (see there for how the tiles keep that order).
pub fn matmul_into(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    matmul::multiply(MatrixView::new(&a[..m * k], m, k, false), MatrixView::new(&b[..k * n], k, n, false), c);
}

/// The shape two tensors broadcast to, numpy style.
///
/// Shapes are lined up from the right. In each position the sizes must be equal, or one of
/// them must be 1 (that tensor is repeated along the dimension); a missing leading dimension
/// counts as 1. So a row vector `[3]` broadcasts over a matrix `[2, 3]`, and a column `[2, 1]`
/// broadcasts over it too.
pub fn broadcast_shape(a: &[usize], b: &[usize], op: &str) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut shape = vec![0; rank];
    for d in 0..rank {
        // Size of dimension d counted from the right, 1 if the tensor has fewer dimensions.
        let size_a = if d < a.len() { a[a.len() - 1 - d] } else { 1 };
        let size_b = if d < b.len() { b[b.len() - 1 - d] } else { 1 };
        shape[rank - 1 - d] = if size_a == size_b || size_b == 1 {
            size_a
        } else if size_a == 1 {
            size_b
        } else {
            return Err(ShapeError::new(format!(
                "{op}: shapes {} and {} do not broadcast: \
                 sizes {size_a} and {size_b} differ and neither is 1",
                shape_str(a),
                shape_str(b)
            )));
        };
    }
    Ok(shape)
}

/// Whether broadcasting `src` to `out` just repeats all of `src` back to back: `src` equals
/// the trailing dimensions of `out` (a bias `[d]` over `[n, d]`, a mask `[t, t]` over
/// `[heads, t, t]`).
fn is_repeated_row(src: &[usize], out: &[usize]) -> bool {
    src.len() <= out.len() && out.ends_with(src)
}

/// For each element of a tensor of shape `out`, in order, the position of the element of a
/// tensor of shape `src` that broadcasting pairs it with. `src` must broadcast to `out`.
fn broadcast_indices(src: &[usize], out: &[usize]) -> Vec<usize> {
    // Row-major strides of `src`, lined up with the trailing dimensions of `out`. A dimension
    // of size 1 gets stride 0, so every position along it reads the same element.
    let offset = out.len() - src.len();
    let mut strides = vec![0; out.len()];
    let mut stride = 1;
    for d in (0..src.len()).rev() {
        strides[offset + d] = if src[d] == 1 { 0 } else { stride };
        stride *= src[d];
    }
    let count: usize = out.iter().product();
    let mut indices = Vec::with_capacity(count);
    let mut position = vec![0; out.len()];
    for _ in 0..count {
        indices.push(position.iter().zip(&strides).map(|(p, s)| p * s).sum());
        // Advance the multi-index like an odometer: the last digit fastest.
        for d in (0..out.len()).rev() {
            position[d] += 1;
            if position[d] < out[d] {
                break;
            }
            position[d] = 0;
        }
    }
    indices
}

/// Elementwise a + b, with broadcasting.
pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.zip_with(b, "add", |x, y| x + y)
}

/// Elementwise a − b, with broadcasting.
pub fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.zip_with(b, "sub", |x, y| x - y)
}

/// Elementwise a · b, with broadcasting.
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.zip_with(b, "mul", |x, y| x * y)
}

/// Sums `t` down to `shape`, undoing a broadcast: every element of `t` is added into the
/// element of the smaller tensor that was repeated to produce it. This is how a gradient
/// flows back through broadcasting: a bias added to every row collects the gradient of
/// every row.
pub fn sum_to_shape(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if broadcast_shape(shape, &t.shape, "sum_to_shape")? != t.shape {
        return Err(ShapeError::new(format!(
            "sum_to_shape: {} does not broadcast to {}",
            shape_str(shape),
            shape_str(&t.shape)
        )));
    }
    if shape == t.shape.as_slice() {
        return Ok(t.clone());
    }
    let mut out = Tensor::zeros(shape);
    if is_repeated_row(shape, &t.shape) && !out.is_empty() {
        // Each run of out.len() elements of t adds into out once.
        for chunk in t.data.chunks(out.len()) {
            for (o, v) in out.data.iter_mut().zip(chunk) {
                *o += v;
            }
        }
        return Ok(out);
    }
    for (i, target) in broadcast_indices(shape, &t.shape).into_iter().enumerate() {
        out.data[target] += t.data[i];
    }
    Ok(out)
}

/// Softmax along each row (the last dimension): exp(x_j − max) / Σ_k exp(x_k − max).
///
/// Subtracting the row's maximum changes nothing mathematically and keeps exp from
/// overflowing. Entries of −∞ (masked out) get weight 0. A row that is entirely −∞ has no
/// sensible distribution; we return all zeros for it rather than 0/0 = NaN.
pub fn softmax_rows(x: &Tensor) -> Tensor {
    let mut out = x.clone();
    softmax_rows_in_place(&mut out);
    out
}

/// [`softmax_rows`] overwriting its input.
pub fn softmax_rows_in_place(out: &mut Tensor) {
    for row in out.row_slices_mut() {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if max == f32::NEG_INFINITY {
            row.fill(0.0);
            continue;
        }
        let mut total = 0.0;
        for v in row.iter_mut() {
            *v = libm::expf(*v - max);
            total += *v;
        }
        for v in row.iter_mut() {
            *v /= total;
        }
    }
}

/// Log-softmax along each row: x_j − max − ln Σ_k exp(x_k − max), computed without ever
/// taking the log of a rounded-to-zero probability. A row that is entirely −∞ stays −∞.
pub fn log_softmax_rows(x: &Tensor) -> Tensor {
    let mut out = x.clone();
    for row in out.row_slices_mut() {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if max == f32::NEG_INFINITY {
            continue;
        }
        let total: f32 = row.iter().map(|&v| libm::expf(v - max)).sum();
        let log_total = max + libm::logf(total);
        for v in row.iter_mut() {
            *v -= log_total;
        }
    }
    out
}

/// An additive causal mask for `n` positions: 0 where query i may look at key j (j ≤ i), −∞
/// above the diagonal. Added to attention scores before the softmax, it gives the future
/// exactly zero weight.
pub fn causal_mask(n: usize) -> Tensor {
    let mut mask = Tensor::zeros(&[n, n]);
    for i in 0..n {
        for j in i + 1..n {
            mask.data[i * n + j] = f32::NEG_INFINITY;
        }
    }
    mask
}

/// An additive padding mask `[queries, keys]`: column j is −∞ where `key_is_padding[j]`, so no
/// query attends to a padded position. If every key is padding, whole rows are −∞ and
/// [`softmax_rows`] turns them into zeros.
pub fn padding_mask(queries: usize, key_is_padding: &[bool]) -> Tensor {
    let keys = key_is_padding.len();
    let mut mask = Tensor::zeros(&[queries, keys]);
    for i in 0..queries {
        for (j, &padded) in key_is_padding.iter().enumerate() {
            if padded {
                mask.data[i * keys + j] = f32::NEG_INFINITY;
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_sums_skip_masked_entries() {
        let m = Tensor::from_rows(&[vec![0.25, 0.75, f32::NEG_INFINITY], vec![1.0, 2.0, 3.0]]).unwrap();
        assert_eq!(m.finite_row_sums(), vec![1.0, 6.0]);
    }

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::from_vec(shape, data.to_vec()).unwrap()
    }

    #[test]
    fn constructors_check_the_element_count() {
        assert_eq!(Tensor::zeros(&[2, 3]).data, vec![0.0; 6]);
        assert_eq!(Tensor::filled(&[2], 1.5).data, vec![1.5, 1.5]);
        assert_eq!(Tensor::scalar(4.0).len(), 1);
        let err = Tensor::from_vec(&[2, 3], vec![1.0; 5]).unwrap_err();
        assert_eq!(err.message, "from_vec: shape [2, 3] needs 6 numbers but 5 were given");
        assert!(Tensor::from_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
        assert_eq!(
            Tensor::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap(),
            t(&[2, 2], &[1.0, 2.0, 3.0, 4.0])
        );
    }

    #[test]
    fn matmul_by_hand() {
        // [1 2 3]   [1 0]   [1+0+3  0+2+3]   [4 5]
        // [4 5 6] · [0 1] = [4+0+6  0+5+6] = [10 11]
        //           [1 1]
        let a = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let b = t(&[3, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        assert_eq!(matmul(&a, &b).unwrap(), t(&[2, 2], &[4.0, 5.0, 10.0, 11.0]));
        // The flags read through stored transposes: (Aᵀ)ᵀ·(Bᵀ)ᵀ = A·B.
        let at = a.transpose().unwrap();
        let bt = b.transpose().unwrap();
        assert_eq!(matmul_transposed(&at, true, &bt, true).unwrap(), t(&[2, 2], &[4.0, 5.0, 10.0, 11.0]));
        assert_eq!(matmul_transposed(&a, false, &bt, true).unwrap(), t(&[2, 2], &[4.0, 5.0, 10.0, 11.0]));
        // Bᵀ·Aᵀ = (A·B)ᵀ.
        assert_eq!(matmul(&bt, &at).unwrap(), t(&[2, 2], &[4.0, 10.0, 5.0, 11.0]));
    }

    #[test]
    fn matmul_into_sums_every_entry_in_order_at_every_size() {
        // The four-row blocks and the leftover rows must both compute exactly the
        // textbook sum, Σ_p A[i][p]·B[p][j] added in order of p from 0: compared bit for bit
        // with the plain triple loop, for sizes on and off the four-row blocks.
        let mut rng = crate::core::rng::Rng::new(3);
        // (m, k, n): on the grid, ragged, and with nothing to sum (k = 0).
        let sizes = [(4, 3, 8), (8, 16, 16), (1, 1, 1), (5, 7, 9), (13, 17, 19), (9, 2, 33), (4, 0, 8)];
        for (m, k, n) in sizes {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal()).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal()).collect();
            let mut c = vec![f32::NAN; m * n];
            matmul_into(&a, &b, &mut c, m, k, n);
            for i in 0..m {
                for j in 0..n {
                    let mut sum = 0.0f32;
                    for p in 0..k {
                        sum += a[i * k + p] * b[p * n + j];
                    }
                    let at = format!("C[{i}][{j}] for {m}x{k}x{n}");
                    assert_eq!(c[i * n + j].to_bits(), sum.to_bits(), "{at}");
                }
            }
        }
    }

    #[test]
    fn matmul_shape_errors_explain_themselves() {
        let a = Tensor::zeros(&[2, 3]);
        let b = Tensor::zeros(&[2, 4]);
        assert_eq!(
            matmul(&a, &b).unwrap_err().message,
            "matmul: [2, 3] x [2, 4]: inner dimensions 3 and 2 differ (is a weight transposed?)"
        );
        assert_eq!(
            matmul_transposed(&a, false, &a, false).unwrap_err().message,
            "matmul: [2, 3] x [2, 3]: inner dimensions 3 and 2 differ (is a weight transposed?)"
        );
        assert!(matmul_transposed(&a, false, &a, true).is_ok());
        let err = matmul(&Tensor::zeros(&[2, 2, 3]), &Tensor::zeros(&[3, 3, 4])).unwrap_err();
        assert!(err.message.contains("batch sizes 2 and 3 differ"), "{err}");
        assert!(matmul(&Tensor::zeros(&[3]), &b).unwrap_err().message.contains("expected a matrix"));
    }

    #[test]
    fn batched_matmul_matches_matrix_by_matrix() {
        let a = t(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
        let w = t(&[2, 1], &[10.0, 1.0]);
        // Each batch entry is a 1x2 row times the shared 2x1 weight.
        assert_eq!(matmul(&a, &w).unwrap(), t(&[2, 1, 1], &[12.0, 34.0]));
        let b = t(&[2, 2, 1], &[1.0, 0.0, 0.0, 1.0]);
        assert_eq!(matmul(&a, &b).unwrap(), t(&[2, 1, 1], &[1.0, 4.0]));
    }

    #[test]
    fn broadcasting_follows_numpy() {
        let m = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let row = t(&[3], &[10.0, 20.0, 30.0]);
        let col = t(&[2, 1], &[100.0, 200.0]);
        assert_eq!(add(&m, &row).unwrap().data, vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        assert_eq!(add(&row, &m).unwrap().data, vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        assert_eq!(mul(&m, &col).unwrap().data, vec![100.0, 200.0, 300.0, 800.0, 1000.0, 1200.0]);
        assert_eq!(sub(&m, &Tensor::scalar(1.0)).unwrap().data, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        // A column and a row broadcast to a full matrix.
        assert_eq!(add(&col, &row).unwrap().shape, vec![2, 3]);
        let err = add(&m, &t(&[2], &[1.0, 2.0])).unwrap_err();
        assert_eq!(
            err.message,
            "add: shapes [2, 3] and [2] do not broadcast: sizes 3 and 2 differ and neither is 1"
        );
    }

    #[test]
    fn sum_to_shape_undoes_broadcasting() {
        let g = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(sum_to_shape(&g, &[3]).unwrap().data, vec![5.0, 7.0, 9.0]);
        assert_eq!(sum_to_shape(&g, &[2, 1]).unwrap().data, vec![6.0, 15.0]);
        assert_eq!(sum_to_shape(&g, &[]).unwrap().data, vec![21.0]);
        assert_eq!(sum_to_shape(&g, &[2, 3]).unwrap(), g);
        assert!(sum_to_shape(&g, &[4]).is_err());
        assert!(sum_to_shape(&t(&[3], &[1.0, 2.0, 3.0]), &[2, 3]).is_err());
    }

    #[test]
    fn reshape_transpose_sum_mean() {
        let m = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(m.reshape(&[3, 2]).unwrap().data, m.data);
        assert_eq!(
            m.reshape(&[4]).unwrap_err().message,
            "reshape: cannot view [2, 3] (6 numbers) as [4] (4 numbers)"
        );
        assert_eq!(m.transpose().unwrap(), t(&[3, 2], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
        assert_eq!(m.transpose().unwrap().transpose().unwrap(), m);
        assert!(Tensor::zeros(&[4]).transpose().is_err());
        assert_eq!(m.sum(), 21.0);
        assert_eq!(m.mean(), 3.5);
        assert_eq!((m.rows(), m.row_len(), m.at(1, 2)), (2, 3, 6.0));
    }

    #[test]
    fn permute_moves_the_numbers() {
        // [2, 3] permuted (1, 0) is the transpose.
        let m = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(m.permute(&[1, 0]).unwrap(), m.transpose().unwrap());
        assert_eq!(m.permute(&[0, 1]).unwrap(), m);
        // [1, 2, 2, 2] as (batch, position, head, d_head): swapping position and head puts
        // head 0's rows (1 2, 5 6) before head 1's (3 4, 7 8).
        let x = t(&[1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let y = x.permute(&[0, 2, 1, 3]).unwrap();
        assert_eq!(y.shape, vec![1, 2, 2, 2]);
        assert_eq!(y.data, vec![1.0, 2.0, 5.0, 6.0, 3.0, 4.0, 7.0, 8.0]);
        assert_eq!(y.permute(&[0, 2, 1, 3]).unwrap(), x, "this swap is its own inverse");
        assert_eq!(
            m.permute(&[0, 0]).unwrap_err().message,
            "permute: axes [0, 0] are not a reordering of the 2 dimensions of [2, 3]"
        );
        assert!(m.permute(&[0]).unwrap_err().message.contains("1 axes given"));
    }

    #[test]
    fn permute_matches_the_index_formula_for_every_order_of_three_axes() {
        // Element (i0, i1, i2) of the output is the input element whose index along
        // dimension axes[d] is i_d.
        let x = t(&[2, 3, 4], &(0..24).map(|v| v as f32).collect::<Vec<f32>>());
        for axes in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let y = x.permute(&axes).unwrap();
            let mut expected = Vec::new();
            for i0 in 0..y.shape[0] {
                for i1 in 0..y.shape[1] {
                    for i2 in 0..y.shape[2] {
                        let mut j = [0; 3];
                        for (d, i) in [i0, i1, i2].into_iter().enumerate() {
                            j[axes[d]] = i;
                        }
                        expected.push(x.data[j[0] * 12 + j[1] * 4 + j[2]]);
                    }
                }
            }
            assert_eq!(y.data, expected, "axes {axes:?}");
        }
        assert_eq!(Tensor::scalar(2.0).permute(&[]).unwrap(), Tensor::scalar(2.0));
        assert_eq!(Tensor::zeros(&[2, 0, 3]).permute(&[2, 1, 0]).unwrap().shape, vec![3, 0, 2]);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_masked_rows_are_zero() {
        let x = t(
            &[3, 3],
            &[
                1.0,
                2.0,
                3.0,
                1000.0,
                0.0,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
            ],
        );
        let p = softmax_rows(&x);
        let row_sums: Vec<f32> = p.data.chunks(3).map(|r| r.iter().sum()).collect();
        assert!((row_sums[0] - 1.0).abs() < 1e-6);
        assert_eq!(&p.data[3..6], &[1.0, 0.0, 0.0], "a huge logit does not overflow");
        assert_eq!(&p.data[6..9], &[0.0, 0.0, 0.0], "a fully masked row is zeros, not NaN");
        // softmax(1, 2, 3) = (e^-2, e^-1, 1) / (e^-2 + e^-1 + 1)
        assert!((p.data[2] - 0.665_240_9).abs() < 1e-6);
        let lp = log_softmax_rows(&x);
        assert!((lp.data[2] - libm::logf(0.665_240_9)).abs() < 1e-6);
        assert_eq!(lp.data[4], -1000.0);
        assert!(lp.data[6..9].iter().all(|&v| v == f32::NEG_INFINITY));
    }

    #[test]
    fn masks_are_zero_where_allowed_and_minus_infinity_elsewhere() {
        let inf = f32::NEG_INFINITY;
        assert_eq!(causal_mask(3).data, vec![0.0, inf, inf, 0.0, 0.0, inf, 0.0, 0.0, 0.0]);
        assert_eq!(padding_mask(2, &[false, true]).data, vec![0.0, inf, 0.0, inf]);
    }
}
