// Helpers shared by several kernels. WGSL has no #include, so Rust puts this file in front
// of each shader that needs it (see `Kernel::new`).

// 1 / (1 + e^-z), written so that exp never overflows: for z < 0 use e^z / (1 + e^z).
// CPU reference: engine::autograd::sigmoid.
fn sigmoid(z: f32) -> f32 {
    if (z >= 0.0) {
        return 1.0 / (1.0 + exp(-z));
    }
    let e = exp(z);
    return e / (1.0 + e);
}

// tanh(z). Past |z| = 9, tanh is ±1 to f32 precision, so clamping changes nothing; it
// protects GPUs whose tanh goes through exp(2z), which overflows for large z.
fn tanh_safe(z: f32) -> f32 {
    return tanh(clamp(z, -9.0, 9.0));
}
