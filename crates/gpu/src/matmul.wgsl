// C = op(A) · op(B), where op transposes its operand when its flag is set.
// op(A) is [m, k], op(B) is [k, n] and C is [m, n], all stored row-major.
// CPU reference: engine::tensor::matmul_transposed.
//
// Tiled: a 16x16 workgroup computes one 16x16 tile of C. For each 16-wide slice of k it loads a
// 16x16 tile of op(A) and one of op(B) into workgroup memory (each invocation loads one
// element of each), waits for the whole tile, and then every invocation reads 16 values of
// each from fast shared memory instead of global memory.

struct Dims {
    m: u32,
    k: u32,
    n: u32,
    transpose_a: u32, // 1: A is stored as [k, m] and read through the transpose
    transpose_b: u32, // 1: B is stored as [n, k]
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const TILE: u32 = 16u;

// Two tiles of 16x16 f32: 2 KiB of workgroup memory.
var<workgroup> a_tile: array<array<f32, TILE>, TILE>;
var<workgroup> b_tile: array<array<f32, TILE>, TILE>;

// Element (i, p) of op(A); 0 outside the matrix, so ragged edges add nothing to the sums.
fn a_at(i: u32, p: u32) -> f32 {
    if (i >= dims.m || p >= dims.k) {
        return 0.0;
    }
    if (dims.transpose_a == 1u) {
        return a[p * dims.m + i];
    }
    return a[i * dims.k + p];
}

// Element (p, j) of op(B); 0 outside the matrix.
fn b_at(p: u32, j: u32) -> f32 {
    if (p >= dims.k || j >= dims.n) {
        return 0.0;
    }
    if (dims.transpose_b == 1u) {
        return b[j * dims.k + p];
    }
    return b[p * dims.n + j];
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    // This invocation computes C[row][col].
    let row = group.y * TILE + local.y;
    let col = group.x * TILE + local.x;
    var total = 0.0;
    let tiles = (dims.k + TILE - 1u) / TILE;
    for (var tile = 0u; tile < tiles; tile++) {
        let start = tile * TILE;
        a_tile[local.y][local.x] = a_at(row, start + local.x);
        b_tile[local.y][local.x] = b_at(start + local.y, col);
        // Every invocation must finish loading before anyone reads the tiles...
        workgroupBarrier();
        // ...then C[row][col] += Σ_p op(A)[row][p] · op(B)[p][col] over this tile, in order
        // of p, as the CPU loop adds them.
        for (var p = 0u; p < TILE; p++) {
            total += a_tile[local.y][p] * b_tile[p][local.x];
        }
        // ...and finish reading before the next tile overwrites them.
        workgroupBarrier();
    }
    // Invocations past the edge helped load tiles but have no element to write.
    if (row < dims.m && col < dims.n) {
        c[row * dims.n + col] = total;
    }
}
