// Attention weights from scores: scale, mask, softmax along each row; and back.
// CPU reference: engine::tensor::softmax_rows of (scores·scale + Attention::mask), and
// engine::autograd::Graph::softmax_rows's backward rule.
//
// The scores are B·H matrices [T, T] stored one after another, so row r is query
// i = r mod T of some head. Query i may look at keys j ≤ last = min(i + reach, T − 1):
// reach 0 is GPT's causal mask, 1 the leaky mask that also shows i + 1, T − 1 BERT's
// bidirectional attention. The hidden keys get weight exactly 0, as adding −∞ before the
// softmax gives.
//
//   forward (in place):  p_j = exp(s_j·scale − max) / Σ_{k≤last} exp(s_k·scale − max) for j ≤ last,
//                        p_j = 0 for j > last
//   backward (in place): ds_j = p_j·(dp_j − Σ_k dp_k·p_k)·scale
// (The softmax's Jacobian is diag(p) − p·pᵀ; the last factor is the scale's chain rule.)

struct Dims {
    rows: u32,    // B·H·T
    seq_len: u32, // T
    scale: f32,   // 1/√d_head
    reach: u32,   // keys visible past the query: 0 causal, 1 leaky, T − 1 bidirectional
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
    let i = min(r % t + dims.reach, t - 1u);
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
