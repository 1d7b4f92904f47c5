//! What the GPU tests share: the cases themselves (`cases.rs`, each an async body written
//! once), the harness that runs them natively and in the browser (`harness.rs`), and here the
//! inputs, the CPU references from crates/engine and the tolerances. Nothing in this file
//! touches a GPU or blocks.
//!
//! Every comparison is `engine::assert_close!`: |gpu − cpu| ≤ abs + rel·|cpu|, element by
//! element, with the tolerance stated beside each constant or case.
//!
//! Each target uses only part of this module, hence the `dead_code` allowance.
#![allow(dead_code)]

#[macro_use]
mod harness;
#[macro_use]
pub mod cases;

pub use harness::*;

use engine::core::autograd::Graph;
use engine::core::optim::Method;
use engine::core::rng::Rng;
use engine::core::tensor::{self, Tensor};
use engine::core::tolerance::Tolerance;
use engine::models::mlp::{Activation, Init, Mlp, XorConfig};

/// A tensor of uniform numbers in [low, high), seeded.
pub fn random(shape: &[usize], low: f32, high: f32, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    Tensor::zeros(shape).map(|_| rng.uniform_in(low, high))
}

/// exp, log and tanh: WGSL allows exp an error of 3 + 2|x| ulp where libm is within 1,
/// which for the |x| ≤ 20 used here is at most 43 ulp ≈ 5e-6 relative; sigmoid, tanh and
/// the BCE terms inherit it. 1e-5 relative covers that twice over; 1e-6 absolute covers
/// results near 0 (tanh(0.001), a slope of 1e-9) where relative error means nothing.
pub const TRANSCENDENTAL: Tolerance = Tolerance { abs: 1e-6, rel: 1e-5 };

/// Optimizer parameters after each of three steps (|θ| < 1, lr 0.01): a few roundings
/// per step (fused multiply-adds, WGSL's sqrt and division within 2.5 ulp, β^t kept by
/// repeated multiplication where the engine calls powf: equal for t ≤ 2, within an ulp
/// at t = 3, which after bias correction is ~2e-5 relative in v̂, so ~1e-7 in θ).
/// 1e-6 absolute is about 8 ulp at 1.0.
pub const OPTIMIZER_PARAMS: Tolerance = Tolerance { abs: 1e-6, rel: 0.0 };

/// The optimizer's moments after three steps.
pub const OPTIMIZER_MOMENTS: Tolerance = Tolerance { abs: 1e-9, rel: 1e-5 };

/// Training runs: each step's arithmetic differs by a few ulps (see the kernel tests),
/// and those differences are fed back through every later step. Measured, the largest
/// loss difference over 200 steps is 5.1e-7 on lavapipe and 6.3e-7 on an NVIDIA H200
/// (Vulkan); 1e-4 absolute is a margin of over 100 that still catches any real mistake
/// (a wrong gradient changes the loss by 1e-2 within a few steps).
pub const TRAINING: Tolerance = Tolerance { abs: 1e-4, rel: 0.0 };

/// erf: `math.wgsl` follows libm's erff formula by formula, but with WGSL's exp and division
/// (a few ulps each where libm's are within one). Measured over −7..7 in steps of 1/256,
/// the largest difference is 6.0e-8 on lavapipe (one ulp of a value just below 1); 1e-7
/// absolute plus 2e-7 relative is about 3 ulps of the values near ±1 where erf spends most
/// of its range.
pub const ERF: Tolerance = Tolerance { abs: 1e-7, rel: 2e-7 };

/// The exact GELU ½x(1 + erf(x/√2)): erf's error times ½|x| (|x| ≤ 10 here), and near 0
/// and for negative x, where 1 + erf cancels, absolute rather than relative. Measured: 1.2e-7
/// on lavapipe.
pub const GELU_ERF: Tolerance = Tolerance { abs: 1e-6, rel: 1e-6 };

/// A MiniLM-shaped model with seeded random weights, small enough for every target: 2 layers
/// of width 64 with 4 heads, a 128-wide feed-forward block, 50 token ids, 16 positions.
pub const SMALL_MINILM: engine::models::minilm::Config = engine::models::minilm::Config {
    vocab: 50,
    hidden: 64,
    layers: 2,
    heads: 4,
    intermediate: 128,
    positions: 16,
};

/// Three sequences of different lengths ([CLS]-like 1 … [SEP]-like 2), padded into one batch.
pub const SMALL_MINILM_BATCH: [&[u32]; 3] = [&[1, 7, 3, 22, 2], &[1, 40, 41, 9, 9, 9, 17, 30, 2], &[1]];

/// Every hidden state of the encoder, GPU against CPU. Each layer ends in a layer norm, so
/// the values are O(1); the differences are the matmuls' fused multiply-adds, WGSL's exp,
/// erf and inverse square root, a few ulps each, carried through the layers. Measured:
/// 7.2e-7 on the small random model on lavapipe. 1e-4 absolute is a margin of over 100 that
/// still catches any real mistake (a missing bias or a wrong mask moves values by 1e-2 or
/// more).
pub const MINILM_STATES: Tolerance = Tolerance { abs: 1e-4, rel: 0.0 };

/// The same for the shipped model (6 layers of width 384 with 1,536-wide feed-forward blocks,
/// so longer sums): measured 2.4e-6 on lavapipe on chapter 9's four "bank" sentences, with
/// the sentence vectors at cosine 0.99999994. 2e-4 is a margin of over 80.
pub const MINILM_SHIPPED: Tolerance = Tolerance { abs: 2e-4, rel: 0.0 };

/// The largest |gpu − cpu|, for the tests to print.
pub fn largest_difference(gpu: &[f32], cpu: &[f32]) -> f32 {
    gpu.iter().zip(cpu).fold(0.0f32, |d, (g, c)| d.max((g - c).abs()))
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
pub fn matmul_case(m: usize, k: usize, n: usize, transpose_a: bool, transpose_b: bool) -> MatmulCase {
    let what = format!("matmul {m}x{k} · {k}x{n}, transposes {transpose_a}/{transpose_b}");
    let a_shape = if transpose_a { [k, m] } else { [m, k] };
    let b_shape = if transpose_b { [n, k] } else { [k, n] };
    let a = random(&a_shape, -1.0, 1.0, (m * 1000 + k) as u64);
    let b = random(&b_shape, -1.0, 1.0, (k * 1000 + n) as u64);
    let cpu = tensor::matmul_transposed(&a, transpose_a, &b, transpose_b).unwrap();
    let abs = |t: &Tensor| t.map(f32::abs);
    let sum_abs = tensor::matmul_transposed(&abs(&a), transpose_a, &abs(&b), transpose_b).unwrap();
    let largest = sum_abs.data.iter().fold(0.0f32, |x, &y| x.max(y));
    let tol = Tolerance { abs: 2.0 * k as f32 * f32::EPSILON * largest, rel: 0.0 };
    MatmulCase { what, a, b, cpu, tol }
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

/// Sizes that cross the batched matmul's 64x64 workgroup blocks and its 8x8 invocation
/// blocks raggedly, and an inner dimension longer than a block (as weight gradients have).
pub const BLOCK_CASES: [(usize, usize, usize, bool, bool); 3] =
    [(70, 130, 67, false, false), (70, 130, 67, true, true), (129, 3, 9, true, false)];

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
    (graph.value(y_var).clone(), graph.grad(x_var).unwrap().clone())
}

/// ReLU is a max and a comparison (EXACT); tanh and sigmoid go through exp (TRANSCENDENTAL).
pub fn activation_tolerance(kind: Activation) -> Tolerance {
    match kind {
        Activation::Relu => Tolerance::EXACT,
        _ => TRANSCENDENTAL,
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
    [&mlp.w1, &mlp.b1, &mlp.w2, &mlp.b2].iter().flat_map(|t| t.data.clone()).collect()
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
        XorConfig { method: Method::adamw(0.01), lr: 0.05, seed: 7, ..XorConfig::default() },
    ]
}

/// A side x side grid of points spaced `scale` apart, from (0, 0).
pub fn grid(side: usize, scale: f32) -> Vec<[f32; 2]> {
    (0..side * side).map(|i| [(i / side) as f32 * scale, (i % side) as f32 * scale]).collect()
}

/// The predict_grid test's network: seed 9, trained 50 steps on the GPU first.
pub fn grid_config() -> XorConfig {
    XorConfig { seed: 9, ..XorConfig::default() }
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
    engine::labs::network_race::default_racers()
        .into_iter()
        .map(engine::labs::network_race::race_config)
        .collect()
}

// ------------------------------------------------------------------------------------------
// The transformer's kernels
// ------------------------------------------------------------------------------------------

/// The attention tests' sizes, ragged on purpose: B sequences of T positions, d_model split
/// into H heads of d_head.
pub const ATTENTION_B: usize = 2;
pub const ATTENTION_T: usize = 7;
pub const ATTENTION_D: usize = 12;
pub const ATTENTION_H: usize = 3;

/// Head h of sequence b of a `[B·T, D]` matrix, copied out as a `[T, d_head]` matrix: the
/// engine's way to split heads, a second computation beside the GPU's strided views.
pub fn head_of(x: &Tensor, seq_len: usize, heads: usize, b: usize, h: usize) -> Tensor {
    let d_model = x.row_len();
    let d_head = d_model / heads;
    let mut out = Tensor::zeros(&[seq_len, d_head]);
    for i in 0..seq_len {
        for c in 0..d_head {
            out.data[i * d_head + c] = x.data[(b * seq_len + i) * d_model + h * d_head + c];
        }
    }
    out
}

/// The tolerance for a batch of products with inner dimension k (see `matmul_case`):
/// 2·k·ε·max Σ|a·b|.
pub fn products_tolerance(k: usize, sum_abs: &[Tensor]) -> Tolerance {
    let largest = sum_abs.iter().flat_map(|t| t.data.iter()).fold(0.0f32, |x, &y| x.max(y));
    Tolerance { abs: 2.0 * k as f32 * f32::EPSILON * largest, rel: 0.0 }
}

/// Token ids for the embedding tests: 11 positions into a vocabulary of 13 rows, with
/// repeats (row 3 three times) and rows never used (which must get a zero gradient).
pub const EMBEDDING_IDS: [usize; 11] = [3, 0, 12, 3, 7, 7, 1, 3, 9, 0, 5];

/// The table's rows looked up, and the table's gradient for an upstream `dy`, from the
/// autograd's embedding.
pub fn embedding_reference(table: &Tensor, ids: &[usize], dy: &Tensor) -> (Tensor, Tensor) {
    let mut graph = Graph::new();
    let t = graph.param(table.clone());
    let rows = graph.embedding(t, ids).unwrap();
    graph.backward_from(rows, dy.clone()).unwrap();
    (graph.value(rows).clone(), graph.grad(t).unwrap().clone())
}

/// y, dx, dγ and dβ of the autograd's layer_norm for an upstream dy.
pub fn layer_norm_reference(x: &Tensor, gamma: &Tensor, beta: &Tensor, dy: &Tensor, eps: f32) -> [Tensor; 4] {
    let mut graph = Graph::new();
    let (xv, g, b) = (graph.input(x.clone()), graph.param(gamma.clone()), graph.param(beta.clone()));
    let y = graph.layer_norm(xv, g, b, eps).unwrap();
    graph.backward_from(y, dy.clone()).unwrap();
    [
        graph.value(y).clone(),
        graph.grad(xv).unwrap().clone(),
        graph.grad(g).unwrap().clone(),
        graph.grad(b).unwrap().clone(),
    ]
}

/// Layer norm: x̂ is a mean, a variance and a square root away from x; each side rounds
/// those a little differently (WGSL's sqrt and division are within 2.5 ulp, and a GPU may
/// fuse multiply-adds). Values are O(1): 1e-5 absolute is ~100 ulp, measured largest
/// difference ~1e-6.
pub const LAYER_NORM: Tolerance = Tolerance { abs: 1e-5, rel: 1e-5 };

/// Scores `[B·H·T, T]` → causal softmax(scores·scale) and dL/dscores for an upstream
/// gradient, from the engine: scale, add `tensor::causal_mask`, `softmax_rows` on the tape.
pub fn causal_softmax_reference(
    scores: &Tensor,
    seq_len: usize,
    scale: f32,
    d_probs: &Tensor,
) -> (Tensor, Tensor) {
    let blocks = scores.len() / (seq_len * seq_len);
    let mask = tensor::causal_mask(seq_len);
    let mut graph = Graph::new();
    let s = graph.input(scores.reshape(&[blocks, seq_len, seq_len]).unwrap());
    let scaled = graph.scale(s, scale);
    let m = graph.input(mask);
    let masked = graph.add(scaled, m).unwrap();
    let p = graph.softmax_rows(masked);
    let upstream = d_probs.reshape(&[blocks, seq_len, seq_len]).unwrap();
    graph.backward_from(p, upstream).unwrap();
    let shape = &scores.shape;
    (graph.value(p).reshape(shape).unwrap(), graph.grad(s).unwrap().reshape(shape).unwrap())
}

/// Targets for the cross-entropy test: `rows` classes below `classes`, seeded.
pub fn class_targets(rows: usize, classes: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    (0..rows).map(|_| rng.below(classes)).collect()
}

/// The mean loss ([1]) and dL/dlogits from the autograd's cross_entropy.
pub fn cross_entropy_reference(logits: &Tensor, targets: &[usize]) -> (Tensor, Tensor) {
    let mut graph = Graph::new();
    let z = graph.input(logits.clone());
    let loss = graph.cross_entropy(z, targets, None).unwrap();
    graph.backward(loss).unwrap();
    (graph.value(loss).clone(), graph.grad(z).unwrap().clone())
}

/// GELU's forward and backward from the autograd, for an upstream dy.
pub fn gelu_reference(x: &Tensor, dy: &Tensor) -> (Tensor, Tensor) {
    let mut graph = Graph::new();
    let x_var = graph.input(x.clone());
    let y_var = graph.gelu(x_var);
    graph.backward_from(y_var, dy.clone()).unwrap();
    (graph.value(y_var).clone(), graph.grad(x_var).unwrap().clone())
}

/// The clipped, scheduled AdamW test: two parameter tensors of ragged sizes trained as one,
/// their gradients for each step (large enough at steps 0 and 2 to be clipped at norm 1,
/// small at step 1 so it is not), and the schedule.
pub const CLIP_SIZES: [usize; 2] = [13, 70];
pub const CLIP_MAX_NORM: f32 = 1.0;

pub fn clip_grads(step: u64) -> Vec<Tensor> {
    let scale = [3.0, 0.05, 10.0][step as usize % 3];
    CLIP_SIZES
        .iter()
        .enumerate()
        .map(|(i, &len)| random(&[len], -1.0, 1.0, 40 + 10 * step + i as u64).map(|g| g * scale))
        .collect()
}

pub fn clip_schedule() -> engine::core::optim::Schedule {
    engine::core::optim::Schedule::WarmupCosine {
        max_lr: 0.01,
        min_lr: 0.001,
        warmup_steps: 2,
        total_steps: 5,
    }
}

// ------------------------------------------------------------------------------------------
// The transformer
// ------------------------------------------------------------------------------------------

/// The whole-model tests' sizes, ragged on purpose: vocabulary 13, context 8, d_model 12 in
/// 3 heads of 4, two layers, d_ff 20; batches of 2 windows of 7 tokens.
pub fn transformer_config(
    norm: engine::models::transformer::Norm,
    activation: engine::models::transformer::Activation,
) -> engine::models::transformer::TransformerConfig {
    engine::models::transformer::TransformerConfig {
        vocab: 13,
        context: 8,
        d_model: 12,
        n_heads: 3,
        n_layers: 2,
        d_ff: 20,
        norm,
        activation,
        eps: 1e-5,
    }
}

/// Every norm with each activation.
pub fn transformer_variants(
) -> [(engine::models::transformer::Norm, engine::models::transformer::Activation); 2] {
    use engine::models::transformer::{Activation, Norm};
    [(Norm::Pre, Activation::Gelu), (Norm::Post, Activation::Relu)]
}

/// A model whose parameters are uniform in [-0.5, 0.5) (layer-norm gains in [0.5, 1.5))
/// instead of GPT-2's small normals, so attention is far from uniform and every
/// nonlinearity works away from its linear part.
pub fn transformer_model(
    config: engine::models::transformer::TransformerConfig,
    seed: u64,
) -> engine::models::transformer::Transformer {
    let mut model = engine::models::transformer::Transformer::new(config, seed).unwrap();
    let mut rng = Rng::new(seed + 1000);
    let specs = config.param_specs();
    for (p, spec) in model.params.iter_mut().zip(specs) {
        let gain = spec.name.ends_with("gamma");
        *p = p.map(|_| rng.uniform_in(-0.5, 0.5) + if gain { 1.0 } else { 0.0 });
    }
    model
}

/// A batch of `batch` windows of `len` seeded tokens, each target the next token of a
/// longer seeded stream (as a language model is trained).
pub fn transformer_batch(
    vocab: usize,
    batch: usize,
    len: usize,
    seed: u64,
) -> engine::models::transformer::Batch {
    let mut rng = Rng::new(seed);
    let (mut inputs, mut targets) = (vec![], vec![]);
    for _ in 0..batch {
        let window: Vec<usize> = (0..=len).map(|_| rng.below(vocab)).collect();
        inputs.extend_from_slice(&window[..len]);
        targets.extend_from_slice(&window[1..]);
    }
    engine::models::transformer::Batch { batch, len, inputs, targets }
}

pub const TRANSFORMER_BATCH: usize = 2;
pub const TRANSFORMER_LEN: usize = 7;

/// The engine trainer's recipe for the whole-model tests: batches of 2 windows of 7
/// tokens; AdamW with weight decay 0.1 (on the matrices only); warmup over 3 steps to 0.01,
/// then a cosine to 0.001 at step 10; gradients clipped to norm 0.5 (the scrambled model's
/// gradients are larger, so most steps clip).
pub fn transformer_train_config() -> engine::models::train::TrainConfig {
    engine::models::train::TrainConfig {
        batch: TRANSFORMER_BATCH,
        len: TRANSFORMER_LEN,
        max_lr: 0.01,
        min_lr: 0.001,
        warmup_steps: 3,
        total_steps: 10,
        weight_decay: 0.1,
        clip_norm: 0.5,
        seed: 11,
    }
}

/// The same recipe for the GPU.
pub fn transformer_settings() -> gpu::TrainSettings {
    gpu::TrainSettings::from_config(&transformer_train_config())
}

/// The engine's own trainer (`engine::models::train::Trainer`, the page's CPU path) on `model`, and
/// the batches its next `steps` steps will draw: a copy of the trainer, whose sampler is in
/// the same state, draws them first. The text is 200 tokens that count up in fives, modulo
/// the vocabulary (0, 5, 10, 2, 7, …), so each token predicts the next and the loss falls
/// within a few steps.
pub fn trainer_and_batches(
    model: engine::models::transformer::Transformer,
    steps: usize,
) -> (engine::models::train::Trainer, Vec<engine::models::transformer::Batch>) {
    let tokens: Vec<usize> = (0..200).map(|i| i * 5 % model.config.vocab).collect();
    let trainer = engine::models::train::Trainer::new(model, tokens, transformer_train_config()).unwrap();
    let mut drawer = trainer.clone();
    let batches = (0..steps).map(|_| drawer.draw_batch()).collect();
    (trainer, batches)
}

/// Steps `trainer` `steps` times: the losses (each before its update), the learning rates
/// and the gradient norms (before clipping) it reports.
pub fn train_on_cpu(
    trainer: &mut engine::models::train::Trainer,
    steps: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let reports: Vec<_> = (0..steps).map(|_| trainer.step().unwrap()).collect();
    (
        reports.iter().map(|r| r.loss).collect(),
        reports.iter().map(|r| r.lr).collect(),
        reports.iter().map(|r| r.grad_norm).collect(),
    )
}

/// The largest |gpu − cpu| of a tensor relative to the largest |cpu| in it: how gradients
/// are compared, since a gradient element near 0 has no meaningful relative error.
pub fn relative_to_largest(gpu: &[f32], cpu: &[f32]) -> f32 {
    let largest = cpu.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    largest_difference(gpu, cpu) / largest.max(f32::MIN_POSITIVE)
}

/// Loss on the same weights and batch: the GPU and engine differ only by rounding (a
/// tree sum against a left-to-right one, WGSL's exp/log, fused multiply-adds). Measured on
/// lavapipe: 2e-7 relative. 1e-5 relative.
pub const TRANSFORMER_LOSS: Tolerance = Tolerance { abs: 0.0, rel: 1e-5 };

/// Each gradient tensor: the largest difference at most this fraction of the tensor's
/// largest element. Measured on lavapipe: 9.3e-7 (pre-norm, W_K of layer 0; 8.6e-7 before the
/// fused kernels) and 5.4e-7 (post-norm); a wrong rule anywhere moves a gradient by far more than 1e-5.
pub const TRANSFORMER_GRAD_RELATIVE: f32 = 1e-5;

/// After 10 clipped AdamW steps: the parameters (|θ| ≲ 1.5) and the losses. Adam divides
/// by √v̂, which magnifies rounding in small gradients, and each step feeds the last one's
/// differences forward. Measured on lavapipe against `engine::models::train::Trainer`: losses
/// within 1.2e-6, weights within 3.0e-7 (2.7e-7 before the fused kernels). 1e-5 absolute (decaying the layer-norm gains too,
/// which the trainer does not, moves a loss by 1.2e-4 by step 3).
pub const TRANSFORMER_TRAINING: Tolerance = Tolerance { abs: 1e-5, rel: 0.0 };

/// Chapter 9's skip-gram, eight chunks of minibatched SGD against the engine's
/// `apply_batched` on the same pairs. Each score is a dot product of 16 terms and each row's
/// gradient a sum over its pairs, in the engine's order; the GPU may fuse multiply-adds, and
/// its exp and log are a few ulps from libm's, so every chunk starts a few ulps apart and SGD
/// carries that forward. Measured on lavapipe: losses (2.5 to 3.5) within 2.4e-7, centre
/// vectors within 2.4e-7 and context vectors within 4.8e-7. 1e-5 is a margin of 20 over
/// that and still catches a wrong gradient or a lost update, which moves the loss by 1e-2
/// within a chunk.
pub const SKIP_GRAM_LOSS: Tolerance = Tolerance { abs: 1e-5, rel: 0.0 };
pub const SKIP_GRAM_WEIGHTS: Tolerance = Tolerance { abs: 1e-5, rel: 0.0 };

/// Chapter 6's race, ten AdamW steps of three models on the GPU against the engine: the
/// losses and the held-out losses. As `TRANSFORMER_TRAINING`, rounding feeds forward
/// through the steps. Measured on lavapipe: losses within 2.4e-6 (of losses 3.3 to 4.3; 2.2e-6
/// before the fused kernels). 1e-5
/// absolute, as for chapter 5's model.
pub const RACE_TRAINING: Tolerance = Tolerance { abs: 1e-5, rel: 0.0 };

/// Chapter 10's attention-only transformer, each gradient tensor: the largest difference at
/// most this fraction of the tensor's largest element, as `TRANSFORMER_GRAD_RELATIVE`.
/// Measured on lavapipe: 1.3e-6 (two layers, a W_O) and 3.8e-7 (one layer).
pub const INDUCTION_GRAD_RELATIVE: f32 = 1e-5;

/// Chapter 10's model after 30 Adam steps (lr 0.02): the losses, the evaluations of the
/// weights at steps 10, 20 and 30, and the weights. As `TRANSFORMER_TRAINING`, rounding feeds
/// forward through the steps. Measured on lavapipe: losses (7.6 down to 3.1) within 2.4e-6,
/// evaluations within 2.4e-7, weights within 1.8e-6. 1e-5 absolute.
pub const INDUCTION_TRAINING: Tolerance = Tolerance { abs: 1e-5, rel: 0.0 };
