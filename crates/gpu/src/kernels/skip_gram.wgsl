// Skip-gram with negative sampling, one minibatch of pairs at a time.
// CPU reference: engine::models::skip_gram::SkipGram::apply_batched.
//
// Every pair of a minibatch is scored at the same weights; then each row moves once, by the
// sum of its pairs' gradients. For a pair with centre c, target t (label 1 for the true
// context word, 0 for a noise word) and learning rate η:
//   x = u_t·v_c,   g = η·(σ(x) − label),   loss = −log σ(±x)
//   v_c −= Σ g·u_t   over the pair's targets, and over every pair with centre c
//   u_t −= Σ g·v_c   over every (pair, target) slot whose target is t
// Many pairs share a row (a frequent word is a noise word dozens of times per minibatch).
// Adding into a row from many invocations at once would need float atomics, which WebGPU
// lacks, and would add in a different order each run. Instead the CPU lists, for each row
// the minibatch touches, the pairs (or slots) that touch it, in order (see
// `gpu::models::skip_gram`); one invocation owns each (row, column) and adds its list in
// that order, the order the engine adds them in.
//
// One minibatch is four launches: score, centre_gradients (into scratch, since they need
// the context vectors before they move), update_contexts (in place; it reads only centre
// vectors, which have not moved yet), update_centres. `mean_loss` ends the chunk.
//
// Everything indexed lives in one u32 buffer, `plan`, in sections that start where the
// settings say; the learning rates are stored there as f32 bits. Row tables of the
// minibatch: `batches[6·b ..]` = first pair, pairs, first centre row, centre rows, first
// context row, context rows.

struct Settings {
    batch: u32, // which minibatch of the chunk this launch works on
    dim: u32,
    slots: u32, // targets per pair: 1 + noise words
    vocab: u32,
    batches_at: u32,
    centres_at: u32,
    targets_at: u32,
    rates_at: u32,
    centre_rows_at: u32,
    centre_starts_at: u32,
    centre_items_at: u32, // pair indices
    context_rows_at: u32,
    context_starts_at: u32,
    context_items_at: u32, // slot indices, pair·slots + target
    g_at: u32,            // scratch: each slot's g
    loss_at: u32,         // scratch: each slot's loss
    delta_at: u32,        // scratch: the minibatch's centre gradients [centre rows, dim]
    mean_at: u32,         // scratch: the chunk's mean loss per pair
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> s: Settings;
@group(0) @binding(1) var<storage, read> plan: array<u32>;
@group(0) @binding(2) var<storage, read_write> scratch: array<f32>;
// The centre vectors [vocab, dim], then the context vectors [vocab, dim].
@group(0) @binding(3) var<storage, read_write> params: array<f32>;

fn batch_field(i: u32) -> u32 {
    return plan[s.batches_at + 6u * s.batch + i];
}

fn centre_at(word: u32) -> u32 {
    return word * s.dim;
}

fn context_at(word: u32) -> u32 {
    return (s.vocab + word) * s.dim;
}

// −log σ(x) without overflow. WGSL has no log1p; ln(1 + e^−|x|) loses only what is below
// 1e-7 in absolute value.
fn neg_log_sigmoid(x: f32) -> f32 {
    return max(-x, 0.0) + log(1.0 + exp(-abs(x)));
}

// The minibatch table's fields where each group of rows starts (its count follows).
const CENTRE_ROWS = 2u;
const CONTEXT_ROWS = 4u;

// Invocation x of a pass with one invocation per (row, column) of a group of rows: the
// group's r-th row, which is row `row` of the chunk's row lists, and its column k. Only
// invocations with r < rows have work.
struct Cell {
    r: u32,
    row: u32,
    k: u32,
    rows: u32,
}

fn cell(x: u32, group: u32) -> Cell {
    let r = x / s.dim;
    return Cell(r, batch_field(group) + r, x % s.dim, batch_field(group + 1u));
}

// One invocation per slot of the minibatch: its score, g and loss.
@compute @workgroup_size(64)
fn score(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= batch_field(1u) * s.slots) {
        return;
    }
    let q = batch_field(0u) * s.slots + id.x;
    let pair = q / s.slots;
    let is_context = q % s.slots == 0u;
    let v = centre_at(plan[s.centres_at + pair]);
    let u = context_at(plan[s.targets_at + q]);
    var x = 0.0;
    for (var k = 0u; k < s.dim; k++) {
        x += params[u + k] * params[v + k];
    }
    let label = select(0.0, 1.0, is_context);
    scratch[s.g_at + q] = bitcast<f32>(plan[s.rates_at + pair]) * (sigmoid(x) - label);
    scratch[s.loss_at + q] = neg_log_sigmoid(select(-x, x, is_context));
}

// One invocation per (centre row, column): Σ g·u over the row's pairs and their targets.
@compute @workgroup_size(64)
fn centre_gradients(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = cell(id.x, CENTRE_ROWS);
    if (c.r >= c.rows) {
        return;
    }
    var total = 0.0;
    let starts = s.centre_starts_at + c.row;
    for (var i = plan[starts]; i < plan[starts + 1u]; i++) {
        let pair = plan[s.centre_items_at + i];
        for (var j = 0u; j < s.slots; j++) {
            let q = pair * s.slots + j;
            total += scratch[s.g_at + q] * params[context_at(plan[s.targets_at + q]) + c.k];
        }
    }
    scratch[s.delta_at + c.r * s.dim + c.k] = total;
}

// One invocation per (context row, column): u_t −= Σ g·v_c over the row's slots.
@compute @workgroup_size(64)
fn update_contexts(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = cell(id.x, CONTEXT_ROWS);
    if (c.r >= c.rows) {
        return;
    }
    var total = 0.0;
    let starts = s.context_starts_at + c.row;
    for (var i = plan[starts]; i < plan[starts + 1u]; i++) {
        let q = plan[s.context_items_at + i];
        total += scratch[s.g_at + q] * params[centre_at(plan[s.centres_at + q / s.slots]) + c.k];
    }
    let at = context_at(plan[s.context_rows_at + c.row]) + c.k;
    params[at] -= total;
}

// One invocation per (centre row, column): v_c −= its summed gradient.
@compute @workgroup_size(64)
fn update_centres(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = cell(id.x, CENTRE_ROWS);
    if (c.r >= c.rows) {
        return;
    }
    let at = centre_at(plan[s.centre_rows_at + c.row]) + c.k;
    params[at] -= scratch[s.delta_at + c.r * s.dim + c.k];
}

// One workgroup: the chunk's mean loss per pair (plan[0] pairs), from every slot's loss.
@compute @workgroup_size(64)
fn mean_loss(@builtin(local_invocation_index) i: u32) {
    let pairs = plan[0];
    var sum = 0.0;
    for (var q = i; q < pairs * s.slots; q += GROUP) {
        sum += scratch[s.loss_at + q];
    }
    let total = workgroup_sum(i, sum);
    if (i == 0u) {
        scratch[s.mean_at] = select(0.0, total / f32(pairs), pairs > 0u);
    }
}
