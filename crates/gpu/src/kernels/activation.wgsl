// Elementwise activations and their gradients: ReLU, tanh, sigmoid and GELU (the tanh
// approximation), and the exact GELU x·Φ(x) with erf itself.
// CPU reference: engine::autograd::Graph::{relu, tanh, sigmoid, gelu},
// engine::models::minilm::gelu_erf and libm::erff.
//
// Two entry points share the bindings:
//   forward:  out = f(x)
//   backward: out = out · f'(x), in place: out holds dL/dy on entry and dL/dx on exit.
// x is always the activation's input (the pre-activation z of a layer).
// Two more fuse a layer's neighbours in (a transformer's feed-forward block):
//   forward_bias:  z ← z + bias (the row added to every row, in place), then out = f(z)
//   backward_sums: backward, and the column sums of its result (the bias's gradient) and of
//                  a second gradient [rows, cols2] (the next layer's bias gradient)

struct Settings {
    kind: u32, // RELU, TANH, SIGMOID (the order of engine::mlp::Activation), GELU, GELU_ERF, ERF
    len: u32,
    cols: u32,  // forward_bias, backward_sums: columns of x (len / cols rows)
    cols2: u32, // backward_sums: columns of the second gradient
}

const RELU: u32 = 0u;
const TANH: u32 = 1u;
const SIGMOID: u32 = 2u;
const GELU: u32 = 3u;
const GELU_ERF: u32 = 4u;
const ERF: u32 = 5u;

// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (BERT's), and the normal density's constant.
const FRAC_1_SQRT_2: f32 = 0.70710677;
const FRAC_1_SQRT_2PI: f32 = 0.3989423;
const FRAC_2_SQRT_PI: f32 = 1.1283792;

// GELU's tanh approximation: 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))).
const SQRT_2_OVER_PI: f32 = 0.7978846;
const GELU_CUBIC: f32 = 0.044715;

fn gelu_inner(z: f32) -> f32 {
    return SQRT_2_OVER_PI * (z + GELU_CUBIC * z * z * z);
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// forward_bias: z in place of x, and the bias
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
// backward_sums: the second gradient, and where the two column sums go
@group(0) @binding(3) var<storage, read> other: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_other_bias: array<f32>;

// sigmoid, tanh_safe and erf come from math.wgsl.

fn activate(z: f32) -> f32 {
    switch settings.kind {
        case RELU: { return max(z, 0.0); }
        case TANH: { return tanh_safe(z); }
        case GELU: { return 0.5 * z * (1.0 + tanh_safe(gelu_inner(z))); }
        case GELU_ERF: { return 0.5 * z * (1.0 + erf(z * FRAC_1_SQRT_2)); }
        case ERF: { return erf(z); }
        case SIGMOID, default: { return sigmoid(z); }
    }
}

// f'(z), in the form the engine uses.
fn slope(z: f32) -> f32 {
    switch settings.kind {
        // 1 where the input was positive, else 0 (0 at exactly 0).
        case RELU: { return select(0.0, 1.0, z > 0.0); }
        // tanh' = 1 - tanh².
        case TANH: {
            let t = tanh_safe(z);
            return 1.0 - t * t;
        }
        // With t = tanh(inner(z)): 0.5·(1 + t) + 0.5·z·(1 - t²)·inner'(z),
        // where inner'(z) = √(2/π)·(1 + 3·0.044715·z²).
        case GELU: {
            let t = tanh_safe(gelu_inner(z));
            let inner_slope = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * z * z);
            return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * inner_slope;
        }
        // (x·Φ(x))' = Φ(x) + x·φ(x), φ the standard normal density.
        case GELU_ERF: {
            return 0.5 * (1.0 + erf(z * FRAC_1_SQRT_2)) + z * FRAC_1_SQRT_2PI * exp(-0.5 * z * z);
        }
        // erf' = 2/√π·e^(−x²).
        case ERF: { return FRAC_2_SQRT_PI * exp(-z * z); }
        // σ' = σ·(1 - σ).
        case SIGMOID, default: {
            let s = sigmoid(z);
            return s * (1.0 - s);
        }
    }
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < settings.len) {
        out[i] = activate(x[i]);
    }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < settings.len) {
        // The chain rule for an elementwise function: dL/dx = dL/dy · f'(x).
        out[i] = out[i] * slope(x[i]);
    }
}

// One invocation per element, in the CPU's order: the bias, then the function.
@compute @workgroup_size(64)
fn forward_bias(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < settings.len) {
        let biased = z[i] + bias[i % settings.cols];
        z[i] = biased;
        out[i] = activate(biased);
    }
}

// One invocation per column: of x and out (the first cols invocations), then of `other`.
// Each walks down its column in order, as the CPU adds the rows.
@compute @workgroup_size(64)
fn backward_sums(@builtin(global_invocation_id) id: vec3<u32>) {
    let cols = settings.cols;
    let rows = settings.len / max(cols, 1u);
    let j = id.x;
    if (j < cols) {
        var total = 0.0;
        for (var r = 0u; r < rows; r++) {
            let i = r * cols + j;
            let g = out[i] * slope(x[i]);
            out[i] = g;
            total += g;
        }
        d_bias[j] = total;
    } else if (j < cols + settings.cols2) {
        let k = j - cols;
        var total = 0.0;
        for (var r = 0u; r < rows; r++) {
            total += other[r * settings.cols2 + k];
        }
        d_other_bias[k] = total;
    }
}
