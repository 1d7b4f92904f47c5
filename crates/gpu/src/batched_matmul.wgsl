// C[z] = A[z] · B[z] (or C[z] += A[z] · B[z]) for a batch of matrices z, each operand read
// through a strided view of its buffer. CPU reference: engine::tensor::matmul_transposed.
//
// Strides make one kernel do every product a transformer needs. Element (i, j) of matrix z
// of a view lives at
//   offset + outer·outer_stride + inner·inner_stride + i·row_stride + j·col_stride,
// where z = outer·inner_count + inner (a transformer's batch entry and attention head).
// A transpose swaps the row and column strides; one head's [T, d_head] block of a [B·T, D]
// matrix is a view with row stride D. Nothing is copied to split or merge heads.
//
// The tiling is matmul.wgsl's: a 16x16 workgroup computes one 16x16 tile of one C[z],
// staging 16x16 tiles of A and B in workgroup memory and adding the k products in order.

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
    pad0: u32,
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

const TILE: u32 = 16u;

var<workgroup> a_tile: array<array<f32, TILE>, TILE>;
var<workgroup> b_tile: array<array<f32, TILE>, TILE>;

// Where element (i, j) of matrix (outer, inner) of view v is.
fn index(v: View, outer: u32, inner: u32, i: u32, j: u32) -> u32 {
    return v.offset + outer * v.outer_stride + inner * v.inner_stride
        + i * v.row_stride + j * v.col_stride;
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let outer = group.z / dims.inner_count;
    let inner = group.z % dims.inner_count;
    let row = group.y * TILE + local.y;
    let col = group.x * TILE + local.x;
    var total = 0.0;
    let tiles = (dims.k + TILE - 1u) / TILE;
    for (var tile = 0u; tile < tiles; tile++) {
        let start = tile * TILE;
        // Load one element of each tile; 0 outside the matrices, so ragged edges add nothing.
        let p_a = start + local.x;
        var a_value = 0.0;
        if (row < dims.m && p_a < dims.k) {
            a_value = a[index(dims.a, outer, inner, row, p_a)];
        }
        a_tile[local.y][local.x] = a_value;
        let p_b = start + local.y;
        var b_value = 0.0;
        if (p_b < dims.k && col < dims.n) {
            b_value = b[index(dims.b, outer, inner, p_b, col)];
        }
        b_tile[local.y][local.x] = b_value;
        workgroupBarrier();
        for (var p = 0u; p < TILE; p++) {
            total += a_tile[local.y][p] * b_tile[p][local.x];
        }
        workgroupBarrier();
    }
    if (row < dims.m && col < dims.n) {
        let out = index(dims.c, outer, inner, row, col);
        if (dims.accumulate == 1u) {
            c[out] += total;
        } else {
            c[out] = total;
        }
    }
}
