// Elementwise activations and their gradients: ReLU, tanh and sigmoid.
// CPU reference: engine::autograd::Graph::{relu, tanh, sigmoid}.
//
// Two entry points share the bindings:
//   forward:  out = f(x)
//   backward: out = out · f'(x), in place: out holds dL/dy on entry and dL/dx on exit.
// x is always the activation's input (the pre-activation z of a layer).

struct Settings {
    kind: u32, // RELU, TANH or SIGMOID, in the order of engine::mlp::Activation
    len: u32,
}

const RELU: u32 = 0u;
const TANH: u32 = 1u;
const SIGMOID: u32 = 2u;

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// sigmoid and tanh_safe come from math.wgsl.

fn activate(z: f32) -> f32 {
    switch settings.kind {
        case RELU: { return max(z, 0.0); }
        case TANH: { return tanh_safe(z); }
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
