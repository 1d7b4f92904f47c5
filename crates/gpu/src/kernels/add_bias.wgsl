// x[i][j] += bias[j]: a bias row added to every row of x, in place.
// CPU reference: engine::tensor::add with a [cols] row broadcast over [rows, cols].

struct Dims {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

// One invocation per element of x.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= dims.rows * dims.cols) {
        return;
    }
    // In row-major order, element i is in column i % cols.
    x[i] += bias[i % dims.cols];
}
