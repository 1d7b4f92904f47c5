// One optimizer step on one flat list of parameters, for every method of
// engine::optim::Method (CPU reference: engine::optim::Optimizer::step), with optional
// global gradient-norm clipping (engine::optim::clip_grad_norm) and a learning rate per step
// from a schedule (engine::optim::Schedule).
//
// Entry points, recorded in this order each training step:
//   clip (optional):  grad_scale ← max_norm / ‖g‖ if ‖g‖ > max_norm, else 1
//   tick, or tick_scheduled: t ← t + 1, and this step's learning rate
//   update:           once per parameter tensor: θ ← θ - lr·(direction), per element,
//                     from the gradient times grad_scale
// clip_tick does clip and tick_scheduled in one launch, and one update can cover a whole
// model packed into one buffer, the matrices (decayed) before the rest (not decayed): a
// training step's optimizer is then two launches.
// The step count, learning rate and clipping factor live on the GPU, so many steps can be
// queued without the CPU writing anything in between.

struct Settings {
    method: u32, // SGD ... ADAMW below, in the order of engine::optim::Method
    len: u32,    // number of parameters
    lr: f32,
    beta1: f32,  // Momentum's β, Adam's β1
    beta2: f32,  // RMSProp's β, Adam's β2
    eps: f32,
    weight_decay: f32,
    max_norm: f32, // clip: the largest gradient norm let through
    decay_end: u32, // update: weight decay applies to parameters [0, decay_end) only
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const SGD: u32 = 0u;
const MOMENTUM: u32 = 1u;
const RMSPROP: u32 = 2u;
const ADAM: u32 = 3u;
const ADAM_L2: u32 = 4u;
const ADAMW: u32 = 5u;

// Shared by every parameter tensor of a model. β^t is kept by multiplying by β once per
// step rather than computed with pow: the product is exact to an ulp or so, which matters
// early on, when 1 - β2^t is as small as 0.001 and pow's error would be magnified.
struct StepCount {
    t: u32,
    beta1_power: f32, // β1^t
    beta2_power: f32, // β2^t
    lr: f32,          // this step's learning rate
    grad_scale: f32,  // what clip decided this step's gradients are multiplied by (or 1)
    grad_norm: f32,   // ‖g‖ before clipping, as clip measured it
}

// Learning rates for a run of steps: step s (counting from 0, so t = s + 1) uses
// lrs[s - first_step]. Written by the CPU before each batch of steps it queues.
struct Schedule {
    first_step: u32,
    lrs: array<f32>,
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read_write> counter: StepCount;
// tick_scheduled
@group(0) @binding(2) var<storage, read> schedule: Schedule;
// clip: every gradient of the model, as one flat list
@group(0) @binding(2) var<storage, read> all_grads: array<f32>;
// clip_tick: the schedule, after the gradients
@group(0) @binding(3) var<storage, read> clip_schedule: Schedule;
// update
@group(0) @binding(2) var<storage, read_write> params: array<f32>;
@group(0) @binding(3) var<storage, read> grads: array<f32>;
// The per-parameter state, two halves: m (velocity, Adam's first moment) in [0, len),
// v (RMSProp's s, Adam's second moment) in [len, 2·len).
@group(0) @binding(4) var<storage, read_write> moments: array<f32>;

@compute @workgroup_size(1)
fn tick() {
    counter.t += 1u;
    counter.beta1_power *= settings.beta1;
    counter.beta2_power *= settings.beta2;
    counter.lr = settings.lr;
}

@compute @workgroup_size(1)
fn tick_scheduled() {
    counter.t += 1u;
    counter.beta1_power *= settings.beta1;
    counter.beta2_power *= settings.beta2;
    counter.lr = schedule.lrs[counter.t - 1u - schedule.first_step];
}

// ‖g‖ = √(Σ g²) over all gradients, then the factor that caps it at max_norm. One
// workgroup: partial sums over every 64th element, then a tree, as bce.wgsl does. (The CPU
// sums in f64; an f32 tree of a few hundred thousand squares is within ~1e-6 of it.)
const CLIP_GROUP: u32 = 64u;
var<workgroup> partial: array<f32, CLIP_GROUP>;

// Measures ‖g‖ and stores it and the clipping factor (invocation i of the one workgroup).
fn measure_and_clip(i: u32) {
    var sum = 0.0;
    for (var j = i; j < settings.len; j += CLIP_GROUP) {
        sum += all_grads[j] * all_grads[j];
    }
    partial[i] = sum;
    workgroupBarrier();
    for (var stride = CLIP_GROUP / 2u; stride > 0u; stride /= 2u) {
        if (i < stride) {
            partial[i] += partial[i + stride];
        }
        workgroupBarrier();
    }
    if (i == 0u) {
        let norm = sqrt(partial[0]);
        counter.grad_norm = norm;
        // Keep the direction, cap the length.
        counter.grad_scale = select(1.0, settings.max_norm / norm, norm > settings.max_norm);
    }
}

@compute @workgroup_size(64)
fn clip(@builtin(local_invocation_index) i: u32) {
    measure_and_clip(i);
}

// clip, then tick_scheduled, in one launch.
@compute @workgroup_size(64)
fn clip_tick(@builtin(local_invocation_index) i: u32) {
    measure_and_clip(i);
    if (i == 0u) {
        counter.t += 1u;
        counter.beta1_power *= settings.beta1;
        counter.beta2_power *= settings.beta2;
        counter.lr = clip_schedule.lrs[counter.t - 1u - clip_schedule.first_step];
    }
}

// ANCHOR: adam_direction
// Updates Adam's moments of parameter i with gradient g and returns m̂ / (√v̂ + eps), the
// direction Adam steps against:
//   m ← β1·m + (1 - β1)·g,  v ← β2·v + (1 - β2)·g²
//   m̂ = m / (1 - β1^t),     v̂ = v / (1 - β2^t)    (bias correction: m and v start at 0)
fn adam_direction(i: u32, g: f32) -> f32 {
    let m = settings.beta1 * moments[i] + (1.0 - settings.beta1) * g;
    let v = settings.beta2 * moments[settings.len + i] + (1.0 - settings.beta2) * g * g;
    moments[i] = m;
    moments[settings.len + i] = v;
    let m_hat = m / (1.0 - counter.beta1_power);
    let v_hat = v / (1.0 - counter.beta2_power);
    return m_hat / (sqrt(v_hat) + settings.eps);
}
// ANCHOR_END: adam_direction

// One invocation per parameter.
@compute @workgroup_size(64)
fn update(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= settings.len) {
        return;
    }
    let g = grads[i] * counter.grad_scale;
    let lr = counter.lr;
    let decay = select(0.0, settings.weight_decay, i < settings.decay_end);
    switch settings.method {
        case SGD: {
            params[i] -= lr * g;
        }
        case MOMENTUM: {
            let m = settings.beta1 * moments[i] + (1.0 - settings.beta1) * g;
            moments[i] = m;
            params[i] -= lr * m;
        }
        case RMSPROP: {
            let v = settings.beta2 * moments[settings.len + i] + (1.0 - settings.beta2) * g * g;
            moments[settings.len + i] = v;
            params[i] -= lr * g / (sqrt(v) + settings.eps);
        }
        // ANCHOR: adam_cases
        case ADAM: {
            params[i] -= lr * adam_direction(i, g);
        }
        // L2: the decay joins the gradient, so Adam's scaling divides it too.
        case ADAM_L2: {
            params[i] -= lr * adam_direction(i, g + decay * params[i]);
        }
        // AdamW: the decay is applied apart from Adam's scaling.
        case ADAMW, default: {
            let direction = adam_direction(i, g);
            params[i] -= lr * (direction + decay * params[i]);
        }
        // ANCHOR_END: adam_cases
    }
}
