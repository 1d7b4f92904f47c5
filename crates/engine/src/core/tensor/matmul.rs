//! The CPU matrix product: a packed, register-tiled kernel in plain safe Rust.
//!
//! # The tiling idea
//!
//! Each entry of C = op(A)·op(B) is the textbook sum `C[i][j] = Σ_p A[i][p]·B[p][j]`, started
//! from 0 and added in order of p (no fused multiply-adds, no partial sums). Computing it
//! one entry at a time reads a row of A and a column of B per entry: two loads for every
//! multiply-add, far more memory traffic than arithmetic.
//!
//! Instead the kernel computes a *tile* of C, [`TILE_ROWS`] x [`TILE_COLS`] entries at once,
//! and keeps all of its running sums in local variables (registers) for the whole walk over
//! p. At each step p it loads [`TILE_ROWS`] numbers of A and [`TILE_COLS`] numbers of B and
//! does every product between them: with the 4 x 8 tile, 32 multiply-adds for 12 loads.
//!
//! Each row of the tile is two SIMD vectors of [`LANES`] numbers, so the tile's size follows
//! the widest vectors the build may use, chosen when it is compiled (no run-time detection):
//!
//! | build | vectors | tile | sums in flight |
//! |---|---|---|---|
//! | x86-64 baseline (SSE2), WebAssembly simd128 | 16 registers of 4 | 4 x 8 | 8 vectors |
//! | a CPU with AVX2 (`-C target-cpu=native`) | 16 registers of 8 | 6 x 16 | 12 vectors |
//! | a CPU with AVX-512 | 32 registers of 16 | 8 x 32 | 16 vectors |
//!
//! More sums in flight hide the few cycles each addition waits for the previous one, and
//! wider vectors do more of them per instruction. Rust never fuses a multiply and an add on
//! its own, so every build computes the same bits; only the speed differs.
//!
//! To make B's loads contiguous whatever the transposes, op(B) is first copied ("packed")
//! into the order the tile reads it: in *panels* of [`TILE_COLS`] columns, each stored p by p
//! (`panel[p]` is the panel's slice of row p). Each panel is packed once per product and
//! reused by every block of rows of A, so it stays in the nearest cache. A tile needs only
//! [`TILE_ROWS`] numbers of op(A) per step, which it reads where they lie: one number from
//! each of its rows of A, or a run of [`TILE_ROWS`] from one column when A is transposed. The
//! last, ragged block of rows is packed like B (in WebAssembly, every block is; see
//! `READ_A_IN_PLACE`). Panels and blocks at a ragged edge are padded with zeros; the padded
//! sums are computed and thrown away.
//!
//! Tiling over i and j changes only which sums are in flight together, never how any one of
//! them is added up, so every entry gets exactly the bits of the plain triple loop, on every
//! platform.

/// Numbers in one SIMD vector of the widest kind this build may use: 16 with AVX-512, 8 with
/// AVX2, else 4 (SSE2, the x86-64 baseline; WebAssembly's simd128; NEON).
pub const LANES: usize = if cfg!(target_feature = "avx512f") {
    16
} else if cfg!(target_feature = "avx2") {
    8
} else {
    4
};

/// Vectors in one row of a register tile.
const VECTORS: usize = 2;

/// Rows of C in one register tile: as many as the registers hold beside B's row and A's number
/// (two vectors of sums per row; 16 vector registers without AVX-512, 32 with it).
pub const TILE_ROWS: usize = if cfg!(target_feature = "avx512f") {
    8
} else if cfg!(target_feature = "avx2") {
    6
} else {
    4
};

/// Columns of C in one register tile: two SIMD vectors.
pub const TILE_COLS: usize = VECTORS * LANES;

/// Whether full blocks of rows of op(A) are read where they lie instead of packed first.
/// Packing A costs a pass over it per product and memory to hold the copy; reading in place
/// loads the same numbers, from [`TILE_ROWS`] rows (or one column) at a time. WebAssembly
/// keeps packing: that is the kernel measured in the page (BENCHMARKS.md), instruction for
/// instruction.
const READ_A_IN_PLACE: bool = !cfg!(target_arch = "wasm32");

/// A tile row's running sums, one array per SIMD vector.
type TileRow = [[f32; LANES]; VECTORS];

/// A matrix read in place from a flat slice: element (r, c) is
/// `data[r * row_stride + c * col_stride]`. A row-major matrix has `col_stride` 1; its
/// transpose is the same slice with the two strides swapped.
#[derive(Clone, Copy)]
pub struct MatrixView<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatrixView<'a> {
    /// A row-major `[rows, cols]` matrix, or its transpose `[cols, rows]` when `transposed`.
    pub fn new(data: &'a [f32], rows: usize, cols: usize, transposed: bool) -> MatrixView<'a> {
        if transposed {
            MatrixView { data, rows: cols, cols: rows, row_stride: 1, col_stride: cols }
        } else {
            MatrixView { data, rows, cols, row_stride: cols, col_stride: 1 }
        }
    }

    #[cfg(test)]
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.row_stride + c * self.col_stride]
    }
}

/// Copies `count` (at most `W`) adjacent lines of a matrix into `strip`, so that `strip[p][w]`
/// is element p of line `first + w` (the rest of each `[f32; W]` keeps its zeros). Element p
/// of line l is `data[l * line_stride + p * step]`: for op(A) the lines are rows, for op(B)
/// columns. Whichever way the matrix lies in memory, the copy reads it in order.
fn pack_strip<const W: usize>(
    strip: &mut [[f32; W]],
    data: &[f32],
    (first, count): (usize, usize),
    line_stride: usize,
    step: usize,
) {
    if line_stride == 1 {
        // The strip's W numbers at step p lie side by side.
        for (p, out) in strip.iter_mut().enumerate() {
            let start = first + p * step;
            if count == W {
                // A whole strip: a copy of known length, inlined (no call to memmove).
                *out = data[start..start + W].try_into().unwrap();
            } else {
                out[..count].copy_from_slice(&data[start..start + count]);
            }
        }
    } else {
        // Each line is walked on its own, `step` apart (1 when the line is contiguous).
        for w in 0..count {
            let line = data[(first + w) * line_stride..].iter().step_by(step.max(1));
            for (out, &value) in strip.iter_mut().zip(line) {
                out[w] = value;
            }
        }
    }
}

/// op(B) `[k, n]` packed into panels of [`TILE_COLS`] columns, ready for [`multiply_packed`].
pub struct PackedPanels {
    /// Panel after panel; within a panel, row p's [`TILE_COLS`] numbers after row p − 1's.
    panels: Vec<[f32; TILE_COLS]>,
    k: usize,
    n: usize,
}

impl PackedPanels {
    pub fn new(b: MatrixView) -> PackedPanels {
        let (k, n) = (b.rows, b.cols);
        let mut panels = vec![[0.0; TILE_COLS]; n.div_ceil(TILE_COLS) * k];
        for (index, panel) in panels.chunks_exact_mut(k.max(1)).enumerate() {
            let j0 = index * TILE_COLS;
            let columns = (j0, TILE_COLS.min(n - j0));
            pack_strip(panel, b.data, columns, b.col_stride, b.row_stride);
        }
        PackedPanels { panels, k, n }
    }
}

/// op(A) `[m, k]` packed into blocks of [`TILE_ROWS`] rows, stored column by column.
fn pack_row_blocks(a: MatrixView) -> Vec<[f32; TILE_ROWS]> {
    let (m, k) = (a.rows, a.cols);
    let mut blocks = vec![[0.0; TILE_ROWS]; m.div_ceil(TILE_ROWS) * k];
    for (index, block) in blocks.chunks_exact_mut(k.max(1)).enumerate() {
        let i0 = index * TILE_ROWS;
        pack_strip(block, a.data, (i0, TILE_ROWS.min(m - i0)), a.row_stride, a.col_stride);
    }
    blocks
}

/// Adds a · b to one vector's worth of running sums, lane by lane (separately rounded
/// multiply and add). Written as a new array rather than a loop of `+=` so that LLVM sees one
/// vector multiply and one vector add, with no shuffling of lanes.
#[inline(always)]
fn add_products(sums: &mut [f32; LANES], a: f32, b: &[f32; LANES]) {
    *sums = std::array::from_fn(|lane| sums[lane] + a * b[lane]);
}

/// Step p of one register tile: row r's sums += a_col[r] · b_row, for every row.
#[inline(always)]
fn tile_step(sums: &mut [TileRow; TILE_ROWS], a_col: &[f32; TILE_ROWS], b_row: &[f32; TILE_COLS]) {
    let (b_vectors, _) = b_row.as_chunks::<LANES>();
    // The rows are written out one by one (up to 8; `get` finds none past TILE_ROWS, which
    // the compiler sees, so they cost nothing): as a loop over rows, LLVM keeps the sums of
    // the larger tiles in memory instead of registers, and the kernel runs tens of times slower.
    macro_rules! each_row {
        ($($r:literal)*) => {$(
            if let (Some(row), Some(&a)) = (sums.get_mut($r), a_col.get($r)) {
                for v in 0..VECTORS {
                    add_products(&mut row[v], a, &b_vectors[v]);
                }
            }
        )*};
    }
    each_row!(0 1 2 3 4 5 6 7);
}
const _: () = assert!(TILE_ROWS <= 8, "tile_step writes out at most 8 rows");

/// One register tile: Σ_p a_cols[p][r] · b_panel[p][c] for every (r, c), each sum started
/// from 0 and added in order of p. `a_cols` yields the tile's rows of op(A) column by column.
#[inline(always)]
fn tile(
    a_cols: impl Iterator<Item = [f32; TILE_ROWS]>,
    b_panel: &[[f32; TILE_COLS]],
) -> [TileRow; TILE_ROWS] {
    let mut sums = [[[0.0f32; LANES]; VECTORS]; TILE_ROWS];
    for (a_col, b_row) in a_cols.zip(b_panel) {
        tile_step(&mut sums, &a_col, b_row);
    }
    sums
}

/// C = op(A)·op(B) into row-major `c` `[m, n]` (overwritten), with op(B) already packed.
pub fn multiply_packed(a: MatrixView, b: &PackedPanels, c: &mut [f32]) {
    let (m, k, n) = (a.rows, b.k, b.n);
    assert_eq!(a.cols, k, "matmul kernel: inner dimensions differ");
    assert_eq!(c.len(), m * n, "matmul kernel: C has the wrong size");
    if k == 0 {
        c.fill(0.0);
        return;
    }
    // Whole blocks of TILE_ROWS rows of op(A) are read where they lie when its rows are
    // contiguous (A as stored) or its columns are (A transposed); the ragged rest of the rows
    // (or all of them, in wasm or for other strides) is packed, padded with zeros.
    let rows_contiguous = a.col_stride == 1;
    let columns_contiguous = a.row_stride == 1 && a.col_stride >= TILE_ROWS;
    let blocks_in_place =
        if READ_A_IN_PLACE && (rows_contiguous || columns_contiguous) { m / TILE_ROWS } else { 0 };
    let packed_from = blocks_in_place * TILE_ROWS;
    let rest = MatrixView { data: &a.data[packed_from * a.row_stride..], rows: m - packed_from, ..a };
    let a_blocks = pack_row_blocks(rest);
    // Panel by panel: the panel (k rows of TILE_COLS numbers) stays in cache while every
    // block of rows of A passes by it.
    for (panel_index, b_panel) in b.panels.chunks_exact(k).enumerate() {
        let j0 = panel_index * TILE_COLS;
        let width = TILE_COLS.min(n - j0);
        for block_index in 0..m.div_ceil(TILE_ROWS) {
            let i0 = block_index * TILE_ROWS;
            let sums = if block_index >= blocks_in_place {
                let a_block = &a_blocks[(block_index - blocks_in_place) * k..][..k];
                tile(a_block.iter().copied(), b_panel)
            } else if rows_contiguous {
                // Column p of the block: element p of each of its rows.
                let rows: [&[f32]; TILE_ROWS] =
                    std::array::from_fn(|r| &a.data[(i0 + r) * a.row_stride..][..k]);
                tile((0..k).map(|p| std::array::from_fn(|r| rows[r][p])), b_panel)
            } else {
                // Column p of the block: TILE_ROWS neighbours in stored row p of Aᵀ.
                let columns = a.data[i0..].chunks(a.col_stride);
                tile(columns.map(|column| column[..TILE_ROWS].try_into().unwrap()), b_panel)
            };
            for (r, sum_row) in sums.iter().enumerate().take(m - i0) {
                let start = (i0 + r) * n + j0;
                let sum_row = sum_row.as_flattened();
                if width == TILE_COLS {
                    // A whole row of the tile: a copy of known length, no call to memcpy.
                    let target: &mut [f32; TILE_COLS] =
                        (&mut c[start..start + TILE_COLS]).try_into().unwrap();
                    target.copy_from_slice(sum_row);
                } else {
                    c[start..start + width].copy_from_slice(&sum_row[..width]);
                }
            }
        }
    }
}

/// C = op(A)·op(B) for two views, into row-major `c` `[m, n]` (overwritten).
pub fn multiply(a: MatrixView, b: MatrixView, c: &mut [f32]) {
    multiply_packed(a, &PackedPanels::new(b), c);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one entry at a time: Σ_p op(A)[i][p]·op(B)[p][j] from 0, in order of p.
    fn triple_loop(a: MatrixView, b: MatrixView) -> Vec<f32> {
        let mut c = Vec::with_capacity(a.rows * b.cols);
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut sum = 0.0f32;
                for p in 0..a.cols {
                    sum += a.at(i, p) * b.at(p, j);
                }
                c.push(sum);
            }
        }
        c
    }

    #[test]
    fn tiles_give_the_triple_loop_bit_for_bit_at_ragged_sizes_and_every_transpose() {
        let mut rng = crate::core::rng::Rng::new(16);
        // Every size from 1 to 70 appears in each dimension (on and off every tile size),
        // crossed with a few sizes in the other two; plus k = 0 (nothing to sum).
        let mut shapes = Vec::new();
        for s in 1..=70 {
            shapes.extend([(s, 7, 9), (5, s, 13), (11, 3, s), (s, s, s)]);
        }
        shapes.extend([(4, 0, 8), (3, 0, 5), (1, 1, 1), (70, 70, 1), (1, 70, 70), (64, 64, 64)]);
        for (m, k, n) in shapes {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal()).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal()).collect();
            for (transpose_a, transpose_b) in [(false, false), (true, false), (false, true), (true, true)] {
                // Stored so that op(stored) is [m, k] and [k, n].
                let a_view = if transpose_a {
                    MatrixView::new(&a, k, m, true)
                } else {
                    MatrixView::new(&a, m, k, false)
                };
                let b_view = if transpose_b {
                    MatrixView::new(&b, n, k, true)
                } else {
                    MatrixView::new(&b, k, n, false)
                };
                let mut c = vec![f32::NAN; m * n];
                multiply(a_view, b_view, &mut c);
                let expected = triple_loop(a_view, b_view);
                for (index, (got, want)) in c.iter().zip(&expected).enumerate() {
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "C[{}][{}] of {m}x{k}x{n}, transposes {transpose_a} {transpose_b}",
                        index / n,
                        index % n
                    );
                }
            }
        }
    }
}
