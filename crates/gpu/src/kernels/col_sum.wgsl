// out[j] = Σ_i x[i][j]: the sum of each column of x, e.g. a bias gradient, which collects
// the gradient of every row the bias was added to.
// CPU reference: engine::tensor::sum_to_shape from [rows, cols] to [cols].

struct Dims {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// One invocation per column; it walks down its column adding rows in order, as the CPU does.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let j = id.x;
    if (j >= dims.cols) {
        return;
    }
    var total = 0.0;
    for (var i = 0u; i < dims.rows; i++) {
        total += x[i * dims.cols + j];
    }
    out[j] = total;
}
