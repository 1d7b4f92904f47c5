// C = op(A) · op(B), where op transposes its operand when its flag is set.
// op(A) is [m, k], op(B) is [k, n] and C is [m, n], all stored row-major.
// CPU reference: engine::tensor::matmul_transposed.
//
// The work is tiled at two levels.
//
// Workgroup: 8 × 8 invocations compute one 32 × 32 tile of C. They walk along k in slices of
// 32. For each slice, together they copy the 32 × 32 block of op(A) that the tile's rows need
// and the 32 × 32 block of op(B) that its columns need from global memory into workgroup
// memory, wait until the copy is complete, and then read only the fast copies. Each value is
// fetched from global memory once per workgroup instead of once per output that uses it.
//
// Invocation: each one computes a 4 × 4 block of the tile and keeps its 16 running sums in
// registers. At step p of a slice it reads four values of op(A) (its rows at p) and four of
// op(B) (its columns at p) and adds their outer product to the block: 16 multiply-adds for 8
// reads. An invocation that computed a single output would make 2 reads per multiply-add, and
// there would be 16 times as many invocations, each paying its own start-up and bookkeeping.

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

const TILE: u32 = 32u;  // the side of the tile of C one workgroup computes
const SLICE: u32 = 32u; // how much of k one pass over workgroup memory covers
const BLOCK: u32 = 4u;  // the side of the block of C one invocation computes
const GROUP: u32 = 8u;  // TILE / BLOCK: invocations along each side of the workgroup

// The current slice, as groups of four: a_slice[p][r] holds op(A) at rows 4r..4r+3 of the
// tile and step p of the slice; b_slice[p][c] holds op(B) at step p and columns 4c..4c+3.
// Two 32 × 32 blocks of f32: 8 KiB of workgroup memory.
var<workgroup> a_slice: array<array<vec4<f32>, GROUP>, SLICE>;
var<workgroup> b_slice: array<array<vec4<f32>, GROUP>, SLICE>;

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

// op(A) at four consecutive rows, from row i, and step p.
fn a_column(i: u32, p: u32) -> vec4<f32> {
    return vec4(a_at(i, p), a_at(i + 1u, p), a_at(i + 2u, p), a_at(i + 3u, p));
}

// op(B) at step p and four consecutive columns, from column j.
fn b_row(p: u32, j: u32) -> vec4<f32> {
    return vec4(b_at(p, j), b_at(p, j + 1u), b_at(p, j + 2u), b_at(p, j + 3u));
}

// C[i][j..j+4] = sums, for the columns that exist.
fn store_row(i: u32, j: u32, sums: vec4<f32>) {
    if (i >= dims.m) {
        return;
    }
    for (var col = 0u; col < BLOCK; col++) {
        if (j + col < dims.n) {
            c[i * dims.n + j + col] = sums[col];
        }
    }
}

@compute @workgroup_size(8, 8)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    // The tile starts at C[tile_row][tile_col]; this invocation's block at C[row][col].
    let tile_row = group.y * TILE;
    let tile_col = group.x * TILE;
    let row = tile_row + local.y * BLOCK;
    let col = tile_col + local.x * BLOCK;
    // sum0 is row `row` of the block, sum1 the next row, and so on; each holds four columns.
    var sum0 = vec4(0.0);
    var sum1 = vec4(0.0);
    var sum2 = vec4(0.0);
    var sum3 = vec4(0.0);
    let slices = (dims.k + SLICE - 1u) / SLICE;
    for (var slice = 0u; slice < slices; slice++) {
        let start = slice * SLICE;
        // The 64 invocations copy the 256 groups of four of each block, four groups each.
        // Neighbours in x take neighbouring steps of op(A) and neighbouring columns of op(B),
        // so together they read runs of adjacent addresses when neither is transposed.
        for (var first = 0u; first < SLICE; first += GROUP) {
            let pa = first + local.x;
            a_slice[pa][local.y] = a_column(tile_row + local.y * BLOCK, start + pa);
            let pb = first + local.y;
            b_slice[pb][local.x] = b_row(start + pb, tile_col + local.x * BLOCK);
        }
        // ANCHOR: outer_products
        // Every invocation must finish copying before anyone reads the slice...
        workgroupBarrier();
        // ...then the block gains op(A)[rows][p] · op(B)[p][cols] for each p of the slice, in
        // order of p, as the CPU loop adds them: one outer product of two fours per step.
        for (var p = 0u; p < SLICE; p++) {
            let a4 = a_slice[p][local.y]; // op(A) at this invocation's 4 rows, step p
            let b4 = b_slice[p][local.x]; // op(B) at step p, this invocation's 4 columns
            sum0 += a4.x * b4;
            sum1 += a4.y * b4;
            sum2 += a4.z * b4;
            sum3 += a4.w * b4;
        }
        // ...and finish reading before the next slice overwrites it.
        workgroupBarrier();
        // ANCHOR_END: outer_products
    }
    // Blocks that hang over the edge of C write only the entries inside it.
    store_row(row, col, sum0);
    store_row(row + 1u, col, sum1);
    store_row(row + 2u, col, sum2);
    store_row(row + 3u, col, sum3);
}
