// C[z] = A[z] · B[z] (or C[z] += A[z] · B[z]) for a batch of matrices z, each operand read
// through a strided view of its buffer. CPU reference: engine::tensor::matmul_transposed.
// With sum_inner, the products of each outer index are added up instead:
// C[outer] (+)= Σ_inner A[outer, inner] · B[outer, inner], as one product whose inner
// dimension runs over every matrix in turn (a transformer's dQ·W_Qᵀ + dK·W_Kᵀ + dV·W_Vᵀ).
//
// Strides make one kernel do every product a transformer needs. Element (i, j) of matrix z
// of a view lives at
//   offset + outer·outer_stride + inner·inner_stride + i·row_stride + j·col_stride,
// where z = outer·inner_count + inner (a transformer's batch entry and attention head).
// A transpose swaps the row and column strides; one head's [T, d_head] block of a [B·T, D]
// matrix is a view with row stride D. Nothing is copied to split or merge heads.
//
// Register blocking: each invocation computes an 8x8 block of C[z], not one element. For
// each p it reads 8 numbers of A's column p (one per row of the block) and 8 of B's row p
// (one per column), and makes all 64 products a_i·b_j from those 16 reads: four products
// per number read, where one element per invocation makes one product per two reads. A
// workgroup of 8x8 invocations covers a 64x64 block of C[z]. Each element of C still adds
// its k products in order of p, as the CPU loop does.
//
// Why not stage tiles in workgroup memory, as matmul.wgsl does? Reading a tile from
// workgroup memory is still one read per product, and the barriers around each tile cost
// more than they save on a CPU-emulated GPU (Mesa's lavapipe, where this kernel was
// profiled: 8x8 blocks made the transformer's products about 7 times faster than 16x16
// shared tiles). The operands of a book-sized model fit in any GPU's cache anyway.

// One operand. WGSL aligns a struct inside a uniform to 16 bytes, hence the padding to 32.
struct View {
    offset: u32,
    outer_stride: u32,
    inner_stride: u32,
    row_stride: u32,
    col_stride: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

struct Dims {
    m: u32,           // rows of A and C
    k: u32,           // columns of A, rows of B
    n: u32,           // columns of B and C
    inner_count: u32, // z = outer·inner_count + inner
    accumulate: u32,  // 1: C += A·B; 0: C = A·B
    sum_inner: u32,   // 1: one C per outer index, the sum over inner (launched per outer)
    pad1: u32,
    pad2: u32,
    a: View,
    b: View,
    c: View,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// The side of the block of C one invocation computes.
const BLOCK: u32 = 8u;

// Where element (i, j) of matrix (outer, inner) of view v is.
fn index(v: View, outer: u32, inner: u32, i: u32, j: u32) -> u32 {
    return v.offset + outer * v.outer_stride + inner * v.inner_stride
        + i * v.row_stride + j * v.col_stride;
}

@compute @workgroup_size(8, 8)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    var outer = group.z / dims.inner_count;
    var first = group.z % dims.inner_count;
    var end = first + 1u;
    var c_inner = first;
    if (dims.sum_inner == 1u) {
        outer = group.z;
        first = 0u;
        end = dims.inner_count;
        c_inner = 0u;
    }
    // This invocation's block: rows row..row+7 and columns col..col+7 of C[z].
    let row = id.y * BLOCK;
    let col = id.x * BLOCK;
    if (row >= dims.m || col >= dims.n) {
        return;
    }
    var total: array<array<f32, BLOCK>, BLOCK>;
    for (var inner = first; inner < end; inner++) {
        // Where row i of the block starts in A (at p = 0) and column j in B. A block on the
        // ragged edge reads the last row or column again in place of the missing ones, so
        // the loop below needs no bounds checks; those results are simply not written.
        var a_start: array<u32, BLOCK>;
        var b_start: array<u32, BLOCK>;
        for (var i = 0u; i < BLOCK; i++) {
            a_start[i] = index(dims.a, outer, inner, min(row + i, dims.m - 1u), 0u);
            b_start[i] = index(dims.b, outer, inner, 0u, min(col + i, dims.n - 1u));
        }
        for (var p = 0u; p < dims.k; p++) {
            // Row p of B under the block's columns, read once for all eight rows.
            var b_row: array<f32, BLOCK>;
            for (var j = 0u; j < BLOCK; j++) {
                b_row[j] = b[b_start[j] + p * dims.b.row_stride];
            }
            for (var i = 0u; i < BLOCK; i++) {
                let a_ip = a[a_start[i] + p * dims.a.col_stride];
                for (var j = 0u; j < BLOCK; j++) {
                    total[i][j] += a_ip * b_row[j];
                }
            }
        }
    }
    for (var i = 0u; i < BLOCK; i++) {
        for (var j = 0u; j < BLOCK; j++) {
            if (row + i < dims.m && col + j < dims.n) {
                let out = index(dims.c, outer, c_inner, row + i, col + j);
                if (dims.accumulate == 1u) {
                    c[out] += total[i][j];
                } else {
                    c[out] = total[i][j];
                }
            }
        }
    }
}
