// Embedding lookup and its gradient. CPU reference: engine::autograd::Graph::embedding.
//
//   gather:  out[r][j] = table[indices[r]][j]             (or += with accumulate)
//   scatter: d_table[v][j] = Σ over r with indices[r] = v of d_out[r][j]   (or +=)
//
// A table row used by several positions receives the sum of their gradients. Many
// invocations adding into the same row at once would need atomic float adds, which WebGPU
// does not have; instead one invocation owns each (row v, column j) of the gradient and
// walks every position in order, adding the ones that looked up row v. That is the order
// the CPU adds them in, so the sums agree to the last bit.

struct Dims {
    rows: u32,       // how many indices (positions)
    width: u32,      // columns of the table
    vocab: u32,      // rows of the table
    accumulate: u32, // 1: add into the output; 0: overwrite it
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
// gather: the table [vocab, width]; scatter: the gradient at the positions [rows, width].
@group(0) @binding(2) var<storage, read> src: array<f32>;
// gather: the looked-up rows [rows, width]; scatter: the table's gradient [vocab, width].
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

fn store(i: u32, value: f32) {
    if (dims.accumulate == 1u) {
        dst[i] += value;
    } else {
        dst[i] = value;
    }
}

// One invocation per element of the output [rows, width].
@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= dims.rows * dims.width) {
        return;
    }
    let r = i / dims.width;
    let j = i % dims.width;
    let v = indices[r];
    // The CPU refuses an index outside the table before uploading; reading 0 here keeps a
    // stray one from reading another buffer's memory.
    var value = 0.0;
    if (v < dims.vocab) {
        value = src[v * dims.width + j];
    }
    store(i, value);
}

// One invocation per element of the table's gradient [vocab, width].
@compute @workgroup_size(64)
fn scatter(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= dims.vocab * dims.width) {
        return;
    }
    let v = i / dims.width;
    let j = i % dims.width;
    var total = 0.0;
    for (var r = 0u; r < dims.rows; r++) {
        if (indices[r] == v) {
            total += src[r * dims.width + j];
        }
    }
    store(i, total);
}
