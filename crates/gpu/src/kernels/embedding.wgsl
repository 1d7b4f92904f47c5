// Embedding lookup and its gradient. CPU reference: engine::autograd::Graph::embedding.
//
//   gather:  out[r][j] = table[indices[r]][j]             (or += with accumulate)
//   scatter: d_table[v][j] = Σ over r with indices[r] = v of d_out[r][j]   (or +=)
//
// gather_both and scatter_both do two tables in one launch (a transformer's token and
// position embeddings):
//   gather_both:  out[r][j] = table[indices[r]][j] + table2[indices2[r]][j]
//   scatter_both: scatter into d_table (or +=), and scatter into d_table2 (or +=)
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
    vocab2: u32,      // the second table's rows (gather_both, scatter_both)
    accumulate2: u32, // scatter_both: 1 adds into the second table's gradient
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
// gather: the table [vocab, width]; scatter: the gradient at the positions [rows, width].
@group(0) @binding(2) var<storage, read> src: array<f32>;
// gather: the looked-up rows [rows, width]; scatter: the table's gradient [vocab, width].
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
// gather_both, scatter_both: the second table's indices; its table, or its gradient
@group(0) @binding(4) var<storage, read> indices2: array<u32>;
@group(0) @binding(5) var<storage, read> src2: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst2: array<f32>;

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

// One invocation per element of the output [rows, width]: the first table's row, plus the
// second's, added in that order.
@compute @workgroup_size(64)
fn gather_both(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= dims.rows * dims.width) {
        return;
    }
    let r = i / dims.width;
    let j = i % dims.width;
    let v = indices[r];
    let w = indices2[r];
    var value = 0.0;
    if (v < dims.vocab) {
        value = src[v * dims.width + j];
    }
    var value2 = 0.0;
    if (w < dims.vocab2) {
        value2 = src2[w * dims.width + j];
    }
    store(i, value + value2);
}

// One invocation per element of the first table's gradient [vocab, width], then one per
// element of the second's [vocab2, width]; each as `scatter`.
@compute @workgroup_size(64)
fn scatter_both(@builtin(global_invocation_id) id: vec3<u32>) {
    let first = dims.vocab * dims.width;
    let i = id.x;
    if (i < first) {
        let v = i / dims.width;
        let j = i % dims.width;
        var total = 0.0;
        for (var r = 0u; r < dims.rows; r++) {
            if (indices[r] == v) {
                total += src[r * dims.width + j];
            }
        }
        store(i, total);
    } else if (i < first + dims.vocab2 * dims.width) {
        let k = i - first;
        let v = k / dims.width;
        let j = k % dims.width;
        var total = 0.0;
        for (var r = 0u; r < dims.rows; r++) {
            if (indices2[r] == v) {
                total += src[r * dims.width + j];
            }
        }
        if (dims.accumulate2 == 1u) {
            dst2[k] += total;
        } else {
            dst2[k] = total;
        }
    }
}
