// Cross-entropy of logits [rows, classes] against one target class per row, averaged over
// the graded rows, and its gradient:
//   loss      = (1/graded) Σ_{graded r} −log softmax(z_r)[target_r]
//   dL/dz_r,j = (softmax(z_r)_j − [j = target_r]) / graded    for a graded row, 0 otherwise
// A row whose target is NOT_GRADED (a masked LM's unchosen positions) is not graded; when
// every row is graded (a causal LM), graded = rows. With no graded row the loss is 0 and
// so is every gradient, nothing is divided by 0.
// log softmax(z)_j = z_j − (max + log Σ_k e^(z_k − max)) never takes the log of a
// probability that rounded to 0.
// CPU reference: engine::autograd::Graph::cross_entropy, with ignore_index NOT_A_TARGET.
//
// One workgroup: the invocations first count the graded rows (workgroup_sum of each one's
// count, exact in f32 below 2^24), then each takes every 64th row and keeps a partial sum
// of the losses, and workgroup_sum adds the 64 partial sums.

const NOT_GRADED: u32 = 0xffffffffu;

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
    var mine = 0.0;
    for (var r = i; r < dims.rows; r += GROUP) {
        mine += select(1.0, 0.0, targets[r] == NOT_GRADED);
    }
    let count = workgroup_sum(i, mine);
    // Everyone has read the count before `partial` is reused for the losses.
    workgroupBarrier();
    var sum = 0.0;
    for (var r = i; r < dims.rows; r += GROUP) {
        let start = r * n;
        let target_class = targets[r];
        if (target_class == NOT_GRADED) {
            for (var j = 0u; j < n; j++) {
                grad[start + j] = 0.0;
            }
            continue;
        }
        var largest = logits[start];
        for (var j = 1u; j < n; j++) {
            largest = max(largest, logits[start + j]);
        }
        var total = 0.0;
        for (var j = 0u; j < n; j++) {
            total += exp(logits[start + j] - largest);
        }
        let log_total = largest + log(total);
        sum -= logits[start + target_class] - log_total;
        for (var j = 0u; j < n; j++) {
            let p = exp(logits[start + j] - log_total);
            grad[start + j] = (p - select(0.0, 1.0, j == target_class)) / count;
        }
    }
    let total = workgroup_sum(i, sum);
    if (i == 0u) {
        loss[0] = select(total / count, 0.0, count == 0.0);
    }
}
