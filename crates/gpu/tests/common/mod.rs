//! What the native tests (`match_engine.rs`, blocking with pollster) and the browser tests
//! (`web.rs`, awaiting in headless Chromium) share: the inputs, the CPU references from
//! crates/engine and the tolerances. Nothing here touches a GPU or blocks, so both can use it.
//!
//! Each test file uses only part of this module, hence the `dead_code` allowance.
#![allow(dead_code)]

use engine::autograd::Graph;
use engine::mlp::{Activation, Init, Mlp, XorConfig};
use engine::optim::Method;
use engine::rng::Rng;
use engine::tensor::{self, Tensor};

/// A tensor of uniform numbers in [low, high), seeded.
pub fn random(shape: &[usize], low: f32, high: f32, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    Tensor::zeros(shape).map(|_| rng.uniform_in(low, high))
}

/// |gpu − cpu| ≤ abs + rel·|cpu|, element by element.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub abs: f32,
    pub rel: f32,
}

impl Tolerance {
    /// The same f32 operations in the same order give the same bits.
    pub const EXACT: Tolerance = Tolerance { abs: 0.0, rel: 0.0 };
    /// exp, log and tanh: WGSL allows exp an error of 3 + 2|x| ulp where libm is within 1,
    /// which for the |x| ≤ 20 used here is at most 43 ulp ≈ 5e-6 relative; sigmoid, tanh and
    /// the BCE terms inherit it. 1e-5 relative covers that twice over; 1e-6 absolute covers
    /// results near 0 (tanh(0.001), a slope of 1e-9) where relative error means nothing.
    pub const TRANSCENDENTAL: Tolerance = Tolerance {
        abs: 1e-6,
        rel: 1e-5,
    };
    /// Optimizer parameters after each of three steps (|θ| < 1, lr 0.01): a few roundings
    /// per step (fused multiply-adds, WGSL's sqrt and division within 2.5 ulp, β^t kept by
    /// repeated multiplication where the engine calls powf: equal for t ≤ 2, within an ulp
    /// at t = 3, which after bias correction is ~2e-5 relative in v̂, so ~1e-7 in θ).
    /// 1e-6 absolute is about 8 ulp at 1.0.
    pub const OPTIMIZER_PARAMS: Tolerance = Tolerance {
        abs: 1e-6,
        rel: 0.0,
    };
    /// The optimizer's moments after three steps.
    pub const OPTIMIZER_MOMENTS: Tolerance = Tolerance {
        abs: 1e-9,
        rel: 1e-5,
    };
    /// Training runs: each step's arithmetic differs by a few ulps (see the kernel tests),
    /// and those differences are fed back through every later step. Measured, the largest
    /// loss difference over 200 steps is 5.1e-7 on lavapipe and 6.3e-7 on an NVIDIA H200
    /// (Vulkan); 1e-4 absolute is a margin of over 100 that still catches any real mistake
    /// (a wrong gradient changes the loss by 1e-2 within a few steps).
    pub const TRAINING: Tolerance = Tolerance {
        abs: 1e-4,
        rel: 0.0,
    };
}

pub fn assert_close(what: &str, gpu: &[f32], cpu: &[f32], tol: Tolerance) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: lengths differ");
    for (i, (&g, &c)) in gpu.iter().zip(cpu).enumerate() {
        let bound = tol.abs + tol.rel * c.abs();
        assert!(
            (g - c).abs() <= bound,
            "{what}: element {i}: gpu {g}, cpu {c}, |difference| {} > {bound} ({tol:?})",
            (g - c).abs()
        );
    }
}

/// The largest |gpu − cpu|, for the tests to print.
pub fn largest_difference(gpu: &[f32], cpu: &[f32]) -> f32 {
    gpu.iter()
        .zip(cpu)
        .fold(0.0f32, |d, (g, c)| d.max((g - c).abs()))
}

// ------------------------------------------------------------------------------------------
// matmul
// ------------------------------------------------------------------------------------------

/// One matmul check: C = op(A)·op(B) with A, B seeded from the sizes, the engine's answer,
/// and the tolerance for it.
pub struct MatmulCase {
    pub what: String,
    pub a: Tensor,
    pub b: Tensor,
    pub cpu: Tensor,
    pub tol: Tolerance,
}

/// Tolerance: both sides add the k products in the same order, but the GPU may fuse each
/// multiply-add into one rounding. Each side is within k·ε·Σ_p|a_ip·b_pj| of the exact sum
/// (the standard bound for a sum of k terms), so they are within twice that of each other;
/// we use the largest Σ|a·b| of the whole product.
pub fn matmul_case(
    m: usize,
    k: usize,
    n: usize,
    transpose_a: bool,
    transpose_b: bool,
) -> MatmulCase {
    let what = format!("matmul {m}x{k} · {k}x{n}, transposes {transpose_a}/{transpose_b}");
    let a_shape = if transpose_a { [k, m] } else { [m, k] };
    let b_shape = if transpose_b { [n, k] } else { [k, n] };
    let a = random(&a_shape, -1.0, 1.0, (m * 1000 + k) as u64);
    let b = random(&b_shape, -1.0, 1.0, (k * 1000 + n) as u64);
    let cpu = tensor::matmul_transposed(&a, transpose_a, &b, transpose_b).unwrap();
    let abs = |t: &Tensor| t.map(f32::abs);
    let sum_abs = tensor::matmul_transposed(&abs(&a), transpose_a, &abs(&b), transpose_b).unwrap();
    let largest = sum_abs.data.iter().fold(0.0f32, |x, &y| x.max(y));
    let tol = Tolerance {
        abs: 2.0 * k as f32 * f32::EPSILON * largest,
        rel: 0.0,
    };
    MatmulCase {
        what,
        a,
        b,
        cpu,
        tol,
    }
}

/// Small and ragged sizes, in all four transpose combinations:
/// (m, k, n, transpose A, transpose B).
pub const MATMUL_CASES: [(usize, usize, usize, bool, bool); 10] = [
    (7, 13, 5, false, false),
    (1, 1, 1, false, false),
    (16, 16, 16, false, false),
    (33, 17, 21, false, false),
    (33, 17, 21, true, false),
    (33, 17, 21, false, true),
    (33, 17, 21, true, true),
    (4, 2, 3, true, false), // the XOR network's Xᵀ·dZ1 shape
    (64, 64, 1, false, false),
    (1, 50, 64, true, true),
];

/// Sizes that straddle the kernel's edges: 32 × 32 tiles of C per workgroup, 4 × 4 blocks per
/// invocation, k in slices of 32. (m, k, n, transpose A, transpose B).
pub const MATMUL_TILE_EDGE_CASES: [(usize, usize, usize, bool, bool); 7] = [
    // One row and one column past a tile, one step past two slices: every edge at once.
    (33, 65, 31, false, false),
    (33, 65, 31, true, false),
    (33, 65, 31, false, true),
    (33, 65, 31, true, true),
    // Nothing ragged: exactly one tile and slice, then 2 × 2 tiles and three slices.
    (32, 32, 32, false, false),
    (64, 96, 64, false, false),
    // Blocks cut inside: 3 rows of a 4-row block, 2 columns of a 4-column block.
    (35, 33, 66, true, true),
];

// ------------------------------------------------------------------------------------------
// Element-wise kernels
// ------------------------------------------------------------------------------------------

/// The activation test's input: ragged [7, 13], values in [-8, 8), plus the special points
/// 0 and ±20; and the upstream gradient dy.
pub fn activation_inputs() -> (Tensor, Tensor) {
    let mut x = random(&[7, 13], -8.0, 8.0, 8);
    x.data[..3].copy_from_slice(&[0.0, 20.0, -20.0]);
    let dy = random(&[7, 13], -1.0, 1.0, 9);
    (x, dy)
}

/// y = f(x) and dx = dy·f'(x) from the autograd tape.
pub fn activation_reference(kind: Activation, x: &Tensor, dy: &Tensor) -> (Tensor, Tensor) {
    let mut graph = Graph::new();
    let x_var = graph.input(x.clone());
    let y_var = match kind {
        Activation::Relu => graph.relu(x_var),
        Activation::Tanh => graph.tanh(x_var),
        Activation::Sigmoid => graph.sigmoid(x_var),
    };
    graph.backward_from(y_var, dy.clone()).unwrap();
    (
        graph.value(y_var).clone(),
        graph.grad(x_var).unwrap().clone(),
    )
}

/// ReLU is a max and a comparison (EXACT); tanh and sigmoid go through exp (TRANSCENDENTAL).
pub fn activation_tolerance(kind: Activation) -> Tolerance {
    match kind {
        Activation::Relu => Tolerance::EXACT,
        _ => Tolerance::TRANSCENDENTAL,
    }
}

/// Logits in [-6, 6) and targets 0 and 1, and some in between (BCE allows soft targets).
pub fn bce_inputs(shape: &[usize], seed: u64) -> (Tensor, Tensor) {
    let logits = random(shape, -6.0, 6.0, seed);
    let targets = random(shape, 0.0, 1.0, seed + 100).map(|y| {
        if y < 0.4 {
            0.0
        } else if y > 0.6 {
            1.0
        } else {
            y
        }
    });
    (logits, targets)
}

/// The mean loss ([1]) and dL/dz from the autograd's bce_with_logits.
pub fn bce_reference(logits: &Tensor, targets: &Tensor) -> (Tensor, Tensor) {
    let mut graph = Graph::new();
    let z = graph.input(logits.clone());
    let loss = graph.bce_with_logits(z, targets).unwrap();
    graph.backward(loss).unwrap();
    (graph.value(loss).clone(), graph.grad(z).unwrap().clone())
}

// ------------------------------------------------------------------------------------------
// Optimizers
// ------------------------------------------------------------------------------------------

/// Every optimizer the GPU layer has.
pub fn optimizer_methods() -> [Method; 6] {
    [
        Method::Sgd,
        Method::momentum(),
        Method::rmsprop(),
        Method::adam(),
        Method::adam_l2(0.1),
        Method::adamw(0.1),
    ]
}

/// The gradients for optimizer step `step` (0, 1, 2): of mixed sizes, including tiny and
/// large, new each step.
pub fn optimizer_grads(len: usize, step: u64) -> Tensor {
    random(&[len], -1.0, 1.0, 30 + step).map(|g| g * 10f32.powi(step as i32 - 1))
}

// ------------------------------------------------------------------------------------------
// The XOR network
// ------------------------------------------------------------------------------------------

pub fn weights_of(mlp: &Mlp) -> Vec<f32> {
    [&mlp.w1, &mlp.b1, &mlp.w2, &mlp.b2]
        .iter()
        .flat_map(|t| t.data.clone())
        .collect()
}

/// Each activation with several optimizers.
pub fn training_configs() -> [XorConfig; 4] {
    [
        XorConfig::default(),
        XorConfig {
            activation: Activation::Tanh,
            init: Init::Xavier,
            method: Method::adam(),
            lr: 0.05,
            seed: 3,
            hidden: 8,
        },
        XorConfig {
            activation: Activation::Sigmoid,
            init: Init::Xavier,
            method: Method::momentum(),
            lr: 0.5,
            seed: 4,
            hidden: 5,
        },
        XorConfig {
            method: Method::adamw(0.01),
            lr: 0.05,
            seed: 7,
            ..XorConfig::default()
        },
    ]
}

/// A side x side grid of points spaced `scale` apart, from (0, 0).
pub fn grid(side: usize, scale: f32) -> Vec<[f32; 2]> {
    (0..side * side)
        .map(|i| [(i / side) as f32 * scale, (i % side) as f32 * scale])
        .collect()
}

/// The predict_grid test's network: seed 9, trained 50 steps on the GPU first.
pub fn grid_config() -> XorConfig {
    XorConfig {
        seed: 9,
        ..XorConfig::default()
    }
}

/// A first grid, new points of the same size (buffers reused), a different size, one point.
pub fn grids() -> [Vec<[f32; 2]>; 4] {
    [grid(5, 0.25), grid(5, 0.3), grid(7, 0.2), grid(1, 0.0)]
}

// ------------------------------------------------------------------------------------------
// Chapter 8's network race: the same network on two moons
// ------------------------------------------------------------------------------------------

/// Each default racer's network, on the race's data (200 points, not 4).
pub fn moons_configs() -> Vec<XorConfig> {
    engine::two_moons::default_racers()
        .into_iter()
        .map(engine::two_moons::race_config)
        .collect()
}
