// Layer norm over the rows of x [rows, d], and its gradients.
// CPU reference: engine::autograd::Graph::layer_norm (normalize_rows, then mul, then add).
//
//   x̂ = (x − μ) / √(σ² + eps)     μ and σ² (dividing by d) per row
//   y = x̂·γ + β                   γ, β: [d], one per feature
//
// Four entry points, one launch each:
//   normalize:       x → saved (x̂ and each row's 1/√(σ² + eps), what backward needs)
//   scale_shift:     saved, γ, β → y
//   backward_params: saved, dy → dγ = Σ_rows dy·x̂, dβ = Σ_rows dy
//   backward_input:  saved, γ, dy → dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ
// `saved` is one buffer: x̂ in its first rows·d numbers, then the rows' 1/σ. (A kernel may
// bind at most four storage buffers; keeping x̂ and 1/σ together keeps each under that.)
//
// Each row is a short loop done by one invocation in the CPU's order, so the sums agree
// with the engine's to the last bit or two.

struct Dims {
    rows: u32,
    d: u32,
    eps: f32,
    accumulate: u32, // backward_input: 1 adds dx into the output (a residual's gradient)
}

@group(0) @binding(0) var<uniform> dims: Dims;

// normalize
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> saved_out: array<f32>;

// scale_shift, backward_params, backward_input
@group(0) @binding(1) var<storage, read> saved: array<f32>;
// scale_shift, backward_input: γ; backward_params: dy
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> dy_params: array<f32>;
// scale_shift: β; backward_input: dy
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
// scale_shift: y; backward_input: dx
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// backward_params
@group(0) @binding(3) var<storage, read_write> d_gamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_beta: array<f32>;

// One invocation per row.
@compute @workgroup_size(64)
fn normalize(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.rows) {
        return;
    }
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
        saved_out[start + j] = (x[start + j] - mean) * inv_std;
    }
    saved_out[dims.rows * d + r] = inv_std;
}

// One invocation per element.
@compute @workgroup_size(64)
fn scale_shift(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= dims.rows * dims.d) {
        return;
    }
    let j = i % dims.d;
    out[i] = saved[i] * gamma[j] + beta[j];
}

// One invocation per feature (column), adding down the rows in order.
@compute @workgroup_size(64)
fn backward_params(@builtin(global_invocation_id) id: vec3<u32>) {
    let j = id.x;
    if (j >= dims.d) {
        return;
    }
    var dg = 0.0;
    var db = 0.0;
    for (var r = 0u; r < dims.rows; r++) {
        let i = r * dims.d + j;
        dg += dy_params[i] * saved[i];
        db += dy_params[i];
    }
    d_gamma[j] = dg;
    d_beta[j] = db;
}

// One invocation per row. Every x_j moves the row's mean and variance, hence the two
// correction terms after dx̂.
@compute @workgroup_size(64)
fn backward_input(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.rows) {
        return;
    }
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
