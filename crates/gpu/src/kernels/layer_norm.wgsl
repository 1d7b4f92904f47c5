// Layer norm over the rows of x [rows, d], and its gradients.
// CPU reference: engine::autograd::Graph::layer_norm (normalize_rows, then mul, then add).
//
//   x̂ = (x − μ) / √(σ² + eps)     μ and σ² (dividing by d) per row
//   y = x̂·γ + β                   γ, β: [d], one per feature
//
// Three entry points, one launch each:
//   forward:          x → saved (x̂ and each row's 1/√(σ² + eps), what backward needs), y
//   forward_residual: the same, after first finishing a residual connection in place:
//                     x ← (x + bias) + r, the bias optional (a transformer's sublayer output
//                     x, its bias, and the stream r it is added back to)
//   backward:         saved, γ, dy → dγ = Σ_rows dy·x̂, dβ = Σ_rows dy, and
//                     dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ
// `saved` is one buffer: x̂ in its first rows·d numbers, then the rows' 1/σ.
//
// Each row (and each column of dγ, dβ) is a short loop done by one invocation in the CPU's
// order, so the sums agree with the engine's to the last bit or two.

struct Dims {
    rows: u32,
    d: u32,
    eps: f32,
    accumulate: u32, // backward: 1 adds dx into the output (a residual's gradient)
    has_bias: u32,   // forward_residual: 1 adds `bias` before the residual
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;

// forward, forward_residual: the input. forward_residual finishes it in place first: the
// sublayer's output on entry, the residual sum (the stream the next layer reads) after.
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> saved_out: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
// forward_residual
@group(0) @binding(6) var<storage, read> residual: array<f32>;
@group(0) @binding(7) var<storage, read> bias: array<f32>;
// backward: saved and dy in, γ at binding 3, dx into `out` at binding 5
@group(0) @binding(1) var<storage, read> saved: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_gamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_beta: array<f32>;

const GROUP: u32 = 64u;

// Row r of x into saved_out (x̂, then 1/σ) and out (y).
fn normalize_row(r: u32) {
    let d = dims.d;
    let start = r * d;
    var sum = 0.0;
    for (var j = 0u; j < d; j++) {
        sum += x[start + j];
    }
    let mean = sum / f32(d);
    var squares = 0.0;
    for (var j = 0u; j < d; j++) {
        let centered = x[start + j] - mean;
        squares += centered * centered;
    }
    let inv_std = 1.0 / sqrt(squares / f32(d) + dims.eps);
    for (var j = 0u; j < d; j++) {
        let normalized = (x[start + j] - mean) * inv_std;
        saved_out[start + j] = normalized;
        out[start + j] = normalized * gamma[j] + beta[j];
    }
    saved_out[dims.rows * d + r] = inv_std;
}

// One invocation per row.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < dims.rows) {
        normalize_row(id.x);
    }
}

// One invocation per row: the residual connection (and the bias before it, in the order the
// CPU adds them), then the norm of the sum.
@compute @workgroup_size(64)
fn forward_residual(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.rows) {
        return;
    }
    let start = r * dims.d;
    for (var j = 0u; j < dims.d; j++) {
        var value = x[start + j];
        if (dims.has_bias == 1u) {
            value += bias[j];
        }
        x[start + j] = value + residual[start + j];
    }
    normalize_row(r);
}

// dγ and dβ of column j, adding down the rows in order.
fn column_gradients(j: u32) {
    var dg = 0.0;
    var db = 0.0;
    for (var r = 0u; r < dims.rows; r++) {
        let i = r * dims.d + j;
        dg += dy[i] * saved[i];
        db += dy[i];
    }
    d_gamma[j] = dg;
    d_beta[j] = db;
}

// dx of row r. Every x_j moves the row's mean and variance, hence the two correction terms
// after dx̂.
fn row_gradient(r: u32) {
    let d = dims.d;
    let start = r * d;
    let inv_std = saved[dims.rows * d + r];
    var sum_g = 0.0;
    var sum_gx = 0.0;
    for (var j = 0u; j < d; j++) {
        let g = dy[start + j] * gamma[j];
        sum_g += g;
        sum_gx += g * saved[start + j];
    }
    let mean_g = sum_g / f32(d);
    let mean_gx = sum_gx / f32(d);
    for (var j = 0u; j < d; j++) {
        let g = dy[start + j] * gamma[j];
        let dx = inv_std * (g - mean_g - saved[start + j] * mean_gx);
        if (dims.accumulate == 1u) {
            out[start + j] += dx;
        } else {
            out[start + j] = dx;
        }
    }
}

// Both halves of the backward pass in one launch: they read the same inputs and write
// different outputs, so they need no order. The first ⌈d/64⌉ workgroups take one column of
// dγ, dβ per invocation; the rest one row of dx each.
@compute @workgroup_size(64)
fn backward(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let column_groups = (dims.d + GROUP - 1u) / GROUP;
    if (group.x < column_groups) {
        let j = group.x * GROUP + lane;
        if (j < dims.d) {
            column_gradients(j);
        }
    } else {
        let r = (group.x - column_groups) * GROUP + lane;
        if (r < dims.rows) {
            row_gradient(r);
        }
    }
}
