// Cross-entropy of logits [rows, classes] against one target class per row, averaged over
// the rows, and its gradient:
//   loss      = (1/rows) Σ_r −log softmax(z_r)[target_r]
//   dL/dz_r,j = (softmax(z_r)_j − [j = target_r]) / rows
// log softmax(z)_j = z_j − (max + log Σ_k e^(z_k − max)) never takes the log of a
// probability that rounded to 0.
// CPU reference: engine::autograd::Graph::cross_entropy (with no ignored rows).
//
// One workgroup: each invocation takes every 64th row and keeps a partial sum of the
// losses, then reduce.wgsl's workgroup_sum adds the 64 partial sums.

struct Dims {
    rows: u32,
    classes: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>; // one element
@group(0) @binding(4) var<storage, read_write> grad: array<f32>; // dL/dz, like logits

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
    let n = dims.classes;
    let count = f32(dims.rows);
    var sum = 0.0;
    for (var r = i; r < dims.rows; r += GROUP) {
        let start = r * n;
        var largest = logits[start];
        for (var j = 1u; j < n; j++) {
            largest = max(largest, logits[start + j]);
        }
        var total = 0.0;
        for (var j = 0u; j < n; j++) {
            total += exp(logits[start + j] - largest);
        }
        let log_total = largest + log(total);
        let target_class = targets[r];
        sum -= logits[start + target_class] - log_total;
        for (var j = 0u; j < n; j++) {
            let p = exp(logits[start + j] - log_total);
            grad[start + j] = (p - select(0.0, 1.0, j == target_class)) / count;
        }
    }
    let total = workgroup_sum(i, sum);
    if (i == 0u) {
        loss[0] = total / count;
    }
}
