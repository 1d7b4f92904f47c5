// Attention weights from scores: scale, causal mask, softmax along each row; and back.
// CPU reference: engine::tensor::softmax_rows of (scores·scale + engine::tensor::causal_mask),
// and engine::autograd::Graph::softmax_rows's backward rule.
//
// The scores are B·H matrices [T, T] stored one after another, so row r is query
// i = r mod T of some head. Query i may look at keys j ≤ i only: the future gets weight
// exactly 0, as adding −∞ before the softmax gives.
//
//   forward (in place):  p_j = exp(s_j·scale − max) / Σ_{k≤i} exp(s_k·scale − max) for j ≤ i,
//                        p_j = 0 for j > i
//   backward (in place): ds_j = p_j·(dp_j − Σ_k dp_k·p_k)·scale
// (The softmax's Jacobian is diag(p) − p·pᵀ; the last factor is the scale's chain rule.)

struct Dims {
    rows: u32,    // B·H·T
    seq_len: u32, // T
    scale: f32,   // 1/√d_head
}

@group(0) @binding(0) var<uniform> dims: Dims;
// forward: scores in, weights out. backward: dL/dweights in, dL/dscores out.
@group(0) @binding(1) var<storage, read_write> values: array<f32>;
// backward: the weights from the forward pass.
@group(0) @binding(2) var<storage, read> probs: array<f32>;

// One invocation per row.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.rows) {
        return;
    }
    let t = dims.seq_len;
    let start = r * t;
    let i = r % t;
    var largest = values[start] * dims.scale;
    for (var j = 1u; j <= i; j++) {
        largest = max(largest, values[start + j] * dims.scale);
    }
    var total = 0.0;
    for (var j = 0u; j <= i; j++) {
        let e = exp(values[start + j] * dims.scale - largest);
        values[start + j] = e;
        total += e;
    }
    for (var j = 0u; j <= i; j++) {
        values[start + j] /= total;
    }
    for (var j = i + 1u; j < t; j++) {
        values[start + j] = 0.0;
    }
}

// One invocation per row.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.rows) {
        return;
    }
    let t = dims.seq_len;
    let start = r * t;
    var dot = 0.0;
    for (var j = 0u; j < t; j++) {
        dot += values[start + j] * probs[start + j];
    }
    for (var j = 0u; j < t; j++) {
        values[start + j] = probs[start + j] * (values[start + j] - dot) * dims.scale;
    }
}
