// Multi-head scaled dot-product attention for B sequences of T tokens, every head of every
// sequence in one launch: the forward pass in one, the backward pass in two.
// CPU reference: engine::models::transformer's attention, i.e. per head
//   S = Q·Kᵀ,  P = softmax(S·scale + mask) row by row,  O = P·V
// (engine::tensor::matmul_transposed, softmax_rows and Attention::mask), and its gradients.
//
// Q, K and V sit in one buffer qkv = [3, N, D] (N = B·T rows, D = d_model): Q, then K, then
// V, each with all heads side by side (head h is columns h·d_head .. h·d_head + d_head). The
// weights P are B·H matrices [T, T] one after another. Query i may look at keys
// j ≤ last = min(i + reach, T − 1): reach 0 is GPT's causal mask, 1 the leaky mask that
// also shows i + 1, T − 1 bidirectional attention; the hidden keys get weight exactly 0.
//
// Entry points, one invocation per (sequence b, head h, position) each:
//   forward:          query i: its scores, its row of P (kept for the backward pass), and
//                     its row of O, written into heads [N, D]
//   forward_padded:   the same for sequences padded to T, keys past each one's length hidden
//   backward_queries: query i: dO_i = (dL/d(O·W_O))_i·W_Oᵀ (this head's columns), written
//                     into d_heads; dP_ij = dO_i·v_j; the softmax's backward
//                     dS_ij = P_ij·(dP_ij − Σ_k dP_ik·P_ik)·scale, written into d_scores;
//                     and dQ_i = Σ_j dS_ij·k_j
//   backward_keys:    key j: dK_j = Σ_i dS_ij·q_i and dV_j = Σ_i P_ij·dO_i
// Every sum runs in the order the CPU's products and softmax add, so the results agree with
// the engine's as closely as the separate kernels did.

struct Dims {
    seq_len: u32, // T
    heads: u32,   // H
    d_model: u32, // D
    d_head: u32,  // D / H
    rows: u32,    // N = B·T
    count: u32,   // B·H·T invocations
    scale: f32,   // 1/√d_head
    reach: u32,   // keys visible past the query
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
// forward
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> heads: array<f32>;
// backward_queries (writes d_heads, d_scores) and backward_keys (reads them)
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> d_heads: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_qkv: array<f32>;
// forward_padded: each sequence's number of real tokens [B] (1 ..= T)
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
// backward_queries: the gradient at the attention block's output [N, D], and W_O [D, D]
@group(0) @binding(6) var<storage, read> d_out: array<f32>;
@group(0) @binding(7) var<storage, read> w_o: array<f32>;

// Invocation r as (b, h, position): r = (b·H + h)·T + position, the row of P it owns.
struct Item {
    b: u32,
    h: u32,
    pos: u32,
}

fn item(r: u32) -> Item {
    let bh = r / dims.seq_len;
    return Item(bh / dims.heads, bh % dims.heads, r % dims.seq_len);
}

// Where head h's part of row `pos` of sequence b starts in one of Q (0), K (1), V (2), or
// in any [N, D] matrix with part = 0.
fn at(part: u32, it: Item, pos: u32) -> u32 {
    return part * dims.rows * dims.d_model + (it.b * dims.seq_len + pos) * dims.d_model
        + it.h * dims.d_head;
}

// The last key query i sees.
fn last_key(i: u32) -> u32 {
    return min(i + dims.reach, dims.seq_len - 1u);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.count) {
        return;
    }
    let it = item(r);
    attend(r, it, last_key(it.pos));
}

// As forward, for sequences padded to T tokens: sequence b's real tokens are the first
// lengths[b], and no query sees a key past them (BERT's attention mask). The padding's own
// rows are computed too, from the real keys, and ignored by whoever reads them.
@compute @workgroup_size(64)
fn forward_padded(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.count) {
        return;
    }
    let it = item(r);
    attend(r, it, min(last_key(it.pos), lengths[it.b] - 1u));
}

// Query r's scores against keys 0..=last, its row of P, and its row of O.
fn attend(r: u32, it: Item, last: u32) {
    let t = dims.seq_len;
    let start = r * t;
    let q = at(0u, it, it.pos);
    // Scores q_i·k_j of the visible keys.
    for (var j = 0u; j <= last; j++) {
        let k = at(1u, it, j);
        var score = 0.0;
        for (var e = 0u; e < dims.d_head; e++) {
            score += qkv[q + e] * qkv[k + e];
        }
        probs[start + j] = score;
    }
    // Scale and softmax over them, as causal_softmax.wgsl does; the hidden keys get 0.
    var largest = probs[start] * dims.scale;
    for (var j = 1u; j <= last; j++) {
        largest = max(largest, probs[start + j] * dims.scale);
    }
    var total = 0.0;
    for (var j = 0u; j <= last; j++) {
        let e = exp(probs[start + j] * dims.scale - largest);
        probs[start + j] = e;
        total += e;
    }
    for (var j = 0u; j <= last; j++) {
        probs[start + j] /= total;
    }
    for (var j = last + 1u; j < t; j++) {
        probs[start + j] = 0.0;
    }
    // This query's output: the visible values, weighted.
    let out = at(0u, it, it.pos);
    for (var e = 0u; e < dims.d_head; e++) {
        var sum = 0.0;
        for (var j = 0u; j <= last; j++) {
            sum += probs[start + j] * qkv[at(2u, it, j) + e];
        }
        heads[out + e] = sum;
    }
}

@compute @workgroup_size(64)
fn backward_queries(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.count) {
        return;
    }
    let it = item(r);
    let t = dims.seq_len;
    let d = dims.d_model;
    let last = last_key(it.pos);
    let start = r * t;
    // dO_i: row i of d_out times W_Oᵀ, for this head's d_head columns of W_O's rows.
    let o = at(0u, it, it.pos);
    let row = (it.b * t + it.pos) * d;
    for (var e = 0u; e < dims.d_head; e++) {
        let w = (it.h * dims.d_head + e) * d;
        var sum = 0.0;
        for (var c = 0u; c < d; c++) {
            sum += d_out[row + c] * w_o[w + c];
        }
        d_heads[o + e] = sum;
    }
    // dP_ij = dO_i·v_j for the visible keys.
    for (var j = 0u; j <= last; j++) {
        let v = at(2u, it, j);
        var sum = 0.0;
        for (var e = 0u; e < dims.d_head; e++) {
            sum += d_heads[o + e] * qkv[v + e];
        }
        d_scores[start + j] = sum;
    }
    // Through the softmax (its Jacobian is diag(p) − p·pᵀ) and the scale.
    var dot = 0.0;
    for (var j = 0u; j <= last; j++) {
        dot += d_scores[start + j] * weights[start + j];
    }
    for (var j = 0u; j <= last; j++) {
        d_scores[start + j] = weights[start + j] * (d_scores[start + j] - dot) * dims.scale;
    }
    for (var j = last + 1u; j < t; j++) {
        d_scores[start + j] = 0.0;
    }
    // dQ_i = Σ_j dS_ij·k_j.
    let dq = at(0u, it, it.pos);
    for (var e = 0u; e < dims.d_head; e++) {
        var sum = 0.0;
        for (var j = 0u; j <= last; j++) {
            sum += d_scores[start + j] * qkv[at(1u, it, j) + e];
        }
        d_qkv[dq + e] = sum;
    }
}

@compute @workgroup_size(64)
fn backward_keys(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= dims.count) {
        return;
    }
    let it = item(r);
    let t = dims.seq_len;
    let j = it.pos;
    // Column j of this head's [T, T] matrices of dS and P.
    let column = (r - j) * t + j;
    let dk = at(1u, it, j);
    let dv = at(2u, it, j);
    for (var e = 0u; e < dims.d_head; e++) {
        var sum_k = 0.0;
        var sum_v = 0.0;
        for (var i = 0u; i < t; i++) {
            sum_k += d_scores[column + i * t] * qkv[at(0u, it, i) + e];
            sum_v += weights[column + i * t] * d_heads[at(0u, it, i) + e];
        }
        d_qkv[dk + e] = sum_k;
        d_qkv[dv + e] = sum_v;
    }
}
