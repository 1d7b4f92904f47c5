// Binary cross-entropy with logits, averaged over all n elements, and its gradient:
//   loss   = (1/n) Σ_i max(z_i, 0) - z_i·y_i + ln(1 + e^-|z_i|)
//   dL/dz_i = (σ(z_i) - y_i) / n
// The first line equals -[y·ln σ(z) + (1 - y)·ln(1 - σ(z))] but never takes the log of a
// probability that has rounded to 0.
// CPU reference: engine::autograd::Graph::bce_with_logits.
//
// One workgroup does it all: each invocation handles every 64th element and keeps a partial
// sum, then reduce.wgsl's workgroup_sum adds the 64 partial sums. (A batch of millions would
// want more workgroups; the book's batches are small.)

struct Settings {
    len: u32,
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>; // one element
@group(0) @binding(4) var<storage, read_write> grad: array<f32>; // dL/dz, like logits

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
    let n = settings.len;
    var sum = 0.0;
    for (var j = i; j < n; j += GROUP) {
        let z = logits[j];
        let y = targets[j];
        // WGSL has no log1p. ln(1 + e^-|z|) loses nothing that matters here: the term is
        // below 1e-7 in absolute value exactly where 1 + e^-|z| rounds to 1.
        sum += max(z, 0.0) - z * y + log(1.0 + exp(-abs(z)));
        grad[j] = (sigmoid(z) - y) / f32(n);
    }
    let total = workgroup_sum(i, sum);
    if (i == 0u) {
        loss[0] = total / f32(n);
    }
}
