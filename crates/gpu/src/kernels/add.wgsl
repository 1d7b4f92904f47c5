// out += x, element by element: a residual connection (the stream plus what a sublayer
// computed from it). CPU reference: engine::tensor::add.

struct Dims {
    len: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// One invocation per element.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < dims.len) {
        out[i] += x[i];
    }
}
