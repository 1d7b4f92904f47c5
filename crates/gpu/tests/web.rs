//! The kernel checks of `match_engine.rs`, in the browser: every kernel against the CPU
//! reference in crates/engine, on WebGPU in headless Chromium (SwiftShader when there is no
//! GPU), with the same inputs, references and tolerances (`common/mod.rs`).
//!
//! Run by `cargo xtask test`, or by hand from crates/gpu (where `webdriver.json` is):
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$HOME/.cache/mlbook-tools/bin/wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p gpu --target wasm32-unknown-unknown --test web
//! ```
//! Nothing blocks here: every readback is awaited. Sizes are the small, ragged ones (a
//! software adapter is slow), and the network trains 100 steps rather than 200.
//!
//! A browser without a WebGPU adapter FAILS these tests with a message; it never skips them.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::future::Future;

use common::*;
use common::{
    activation_inputs, activation_reference, activation_tolerance, assert_close, bce_inputs, bce_reference,
    grid_config, grids, largest_difference, matmul_case, moons_configs, optimizer_grads, optimizer_methods,
    random, training_configs, weights_of, Tolerance, MATMUL_CASES, MATMUL_TILE_EDGE_CASES,
};
use engine::core::optim::Optimizer;
use engine::core::tensor::{self, Tensor};
use engine::models::mlp::{Activation, Init, Mlp, XorConfig};
use gpu::kernels::activation::Activations;
use gpu::kernels::add_bias::AddBias;
use gpu::kernels::bce::Bce;
use gpu::kernels::col_sum::ColSum;
use gpu::kernels::matmul::Matmul;
use gpu::kernels::optim::{Optim, OptimizerShared};
use gpu::{Gpu, GpuError, GpuMlp, GpuTensor, GpuTransformer};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

thread_local! {
    /// One device for the whole page (the tests run one after another on its one thread).
    static GPU: RefCell<Option<Gpu>> = const { RefCell::new(None) };
}

/// The page's device, requested on first use. No adapter is a failure, not a skip.
async fn gpu() -> Gpu {
    if let Some(gpu) = GPU.with(|slot| slot.borrow().clone()) {
        return gpu;
    }
    let gpu = match Gpu::request().await {
        Ok(gpu) => gpu,
        Err(err) => panic!("the browser GPU tests need a WebGPU adapter and none was found: {err}"),
    };
    GPU.with(|slot| *slot.borrow_mut() = Some(gpu.clone()));
    gpu
}

/// Awaits a readback (the browser's event loop completes it).
async fn wait<T>(future: impl Future<Output = Result<T, GpuError>>) -> T {
    future.await.expect("reading back from the GPU")
}

fn upload(gpu: &Gpu, t: &Tensor) -> GpuTensor {
    GpuTensor::from_tensor(gpu, "test input", t)
}

async fn read(gpu: &Gpu, t: &GpuTensor) -> Tensor {
    wait(t.read(gpu)).await
}

/// Logs how long a test took (shown with `-- --nocapture`, or when the test fails).
struct Timer {
    what: &'static str,
    start: f64,
}

impl Timer {
    fn start(what: &'static str) -> Timer {
        Timer { what, start: js_sys::Date::now() }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let ms = js_sys::Date::now() - self.start;
        console_log!("{}: {ms:.0} ms", self.what);
    }
}

// ------------------------------------------------------------------------------------------
// The device
// ------------------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn an_adapter_is_found() {
    let _timer = Timer::start("an_adapter_is_found");
    let gpu = gpu().await;
    console_log!("running on {} (software: {})", gpu.describe(), gpu.is_software());
    // In the browser, and through WebGPU (not WebGL, not a native backend).
    assert_eq!(gpu.adapter_info.backend, wgpu::Backend::BrowserWebGpu);
    assert_eq!(gpu.lost(), None);
}

// ------------------------------------------------------------------------------------------
// Kernels
// ------------------------------------------------------------------------------------------

/// C = op(A)·op(B) on both sides, within the tolerance `common::matmul_case` states.
/// (One compiled kernel for all cases: compiling is what is slow on SwiftShader.)
async fn check_matmul(gpu: &Gpu, kernel: &Matmul, case: (usize, usize, usize, bool, bool)) {
    let (m, k, n, transpose_a, transpose_b) = case;
    let case = matmul_case(m, k, n, transpose_a, transpose_b);
    let c = GpuTensor::zeros(gpu, "c", &[m, n]);
    let (a_gpu, b_gpu) = (upload(gpu, &case.a), upload(gpu, &case.b));
    let dispatch = kernel.bind(gpu, &a_gpu, transpose_a, &b_gpu, transpose_b, &c).unwrap();
    gpu.run(&[&dispatch]);
    let result = read(gpu, &c).await;
    assert_eq!(result.shape, case.cpu.shape, "{}", case.what);
    assert_close(&case.what, &result.data, &case.cpu.data, case.tol);
}

#[wasm_bindgen_test]
async fn matmul_matches_the_engine_at_ragged_sizes() {
    let _timer = Timer::start("matmul_matches_the_engine_at_ragged_sizes");
    let gpu = gpu().await;
    let kernel = Matmul::new(&gpu);
    // All four transpose combinations at three ragged sizes, then the native test's cases.
    for (m, k, n) in [(7, 13, 5), (1, 1, 1), (33, 17, 21)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            check_matmul(&gpu, &kernel, (m, k, n, ta, tb)).await;
        }
    }
    for case in MATMUL_CASES {
        check_matmul(&gpu, &kernel, case).await;
    }
}

#[wasm_bindgen_test]
async fn matmul_matches_the_engine_across_tile_edges() {
    let _timer = Timer::start("matmul_matches_the_engine_across_tile_edges");
    let gpu = gpu().await;
    let kernel = Matmul::new(&gpu);
    for case in MATMUL_TILE_EDGE_CASES {
        check_matmul(&gpu, &kernel, case).await;
    }
}

#[wasm_bindgen_test]
async fn matmul_explains_a_shape_mismatch() {
    let _timer = Timer::start("matmul_explains_a_shape_mismatch");
    let gpu = gpu().await;
    let a = GpuTensor::zeros(&gpu, "a", &[2, 3]);
    let b = GpuTensor::zeros(&gpu, "b", &[2, 4]);
    let c = GpuTensor::zeros(&gpu, "c", &[2, 4]);
    let err = Matmul::new(&gpu).bind(&gpu, &a, false, &b, false, &c).unwrap_err();
    assert_eq!(err.message, "matmul: [2, 3] x [2, 4] does not give [2, 4] (inner dimensions 3 and 2)");
}

/// x + bias is one f32 addition per element on both sides: EXACT.
#[wasm_bindgen_test]
async fn add_bias_is_exact() {
    let _timer = Timer::start("add_bias_is_exact");
    let gpu = gpu().await;
    for (rows, cols) in [(7, 13), (1, 1), (33, 17), (4, 1)] {
        let x = random(&[rows, cols], -2.0, 2.0, 5);
        let bias = random(&[cols], -2.0, 2.0, 6);
        let cpu = tensor::add(&x, &bias).unwrap();
        let (x_gpu, bias_gpu) = (upload(&gpu, &x), upload(&gpu, &bias));
        let dispatch = AddBias::new(&gpu).bind(&gpu, &x_gpu, &bias_gpu).unwrap();
        gpu.run(&[&dispatch]);
        let result = read(&gpu, &x_gpu).await;
        assert_close("add_bias", &result.data, &cpu.data, Tolerance::EXACT);
    }
}

/// Column sums add the rows in the same order on both sides: EXACT.
#[wasm_bindgen_test]
async fn col_sum_is_exact() {
    let _timer = Timer::start("col_sum_is_exact");
    let gpu = gpu().await;
    for (rows, cols) in [(7, 13), (1, 1), (33, 17), (64, 5), (4, 1)] {
        let x = random(&[rows, cols], -2.0, 2.0, 7);
        let cpu = tensor::sum_to_shape(&x, &[cols]).unwrap();
        let (x_gpu, out) = (upload(&gpu, &x), GpuTensor::zeros(&gpu, "out", &[cols]));
        let dispatch = ColSum::new(&gpu).bind(&gpu, &x_gpu, &out).unwrap();
        gpu.run(&[&dispatch]);
        let result = read(&gpu, &out).await;
        assert_close("col_sum", &result.data, &cpu.data, Tolerance::EXACT);
    }
}

/// Forward and backward of each activation against the autograd tape: ReLU EXACT, tanh and
/// sigmoid TRANSCENDENTAL.
#[wasm_bindgen_test]
async fn activations_match_the_autograd() {
    let _timer = Timer::start("activations_match_the_autograd");
    let gpu = gpu().await;
    let kernels = Activations::new(&gpu);
    let (x, dy) = activation_inputs();
    for kind in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
        let (y_cpu, dx_cpu) = activation_reference(kind, &x, &dy);
        let (x_gpu, y_gpu, grad) =
            (upload(&gpu, &x), GpuTensor::zeros(&gpu, "y", &x.shape), upload(&gpu, &dy));
        let forward = kernels.bind_forward(&gpu, kind, &x_gpu, &y_gpu).unwrap();
        let backward = kernels.bind_backward(&gpu, kind, &x_gpu, &grad).unwrap();
        gpu.run(&[&forward, &backward]);

        let tol = activation_tolerance(kind);
        let (y, dx) = (read(&gpu, &y_gpu).await, read(&gpu, &grad).await);
        assert_close(&format!("{kind:?} forward"), &y.data, &y_cpu.data, tol);
        assert_close(&format!("{kind:?} backward"), &dx.data, &dx_cpu.data, tol);
    }
}

/// The loss and dL/dz against the autograd's bce_with_logits: TRANSCENDENTAL.
#[wasm_bindgen_test]
async fn bce_matches_the_autograd() {
    let _timer = Timer::start("bce_matches_the_autograd");
    let gpu = gpu().await;
    let kernel = Bce::new(&gpu);
    // [4, 1] like XOR, ragged [7, 13], and [130, 1]: more elements than the 64 invocations.
    for (shape, seed) in [([4, 1], 10), ([7, 13], 11), ([130, 1], 12)] {
        let (logits, targets) = bce_inputs(&shape, seed);
        let (loss_cpu, grad_cpu) = bce_reference(&logits, &targets);

        let (z_gpu, y_gpu) = (upload(&gpu, &logits), upload(&gpu, &targets));
        let loss_gpu = GpuTensor::zeros(&gpu, "loss", &[1]);
        let grad_gpu = GpuTensor::zeros(&gpu, "grad", &logits.shape);
        let dispatch = kernel.bind(&gpu, &z_gpu, &y_gpu, &loss_gpu, &grad_gpu).unwrap();
        gpu.run(&[&dispatch]);

        let what = format!("bce {shape:?}");
        let tol = Tolerance::TRANSCENDENTAL;
        let (loss, grad) = (read(&gpu, &loss_gpu).await, read(&gpu, &grad_gpu).await);
        assert_close(&what, &loss.data, &loss_cpu.data, tol);
        assert_close(&what, &grad.data, &grad_cpu.data, tol);
    }
}

/// Three steps of every optimizer (SGD, momentum, RMSProp, Adam, Adam+L2, AdamW) against
/// engine::core::optim on the same gradients: `Tolerance::OPTIMIZER_PARAMS` for the parameters,
/// `Tolerance::OPTIMIZER_MOMENTS` for the moments.
#[wasm_bindgen_test]
async fn optimizers_match_the_engine_for_three_steps() {
    let _timer = Timer::start("optimizers_match_the_engine_for_three_steps");
    let gpu = gpu().await;
    let kernels = Optim::new(&gpu);
    let len = 13;
    for method in optimizer_methods() {
        let lr = 0.01;
        let start = random(&[len], -1.0, 1.0, 20);
        let mut cpu_params = start.data.clone();
        let mut cpu = Optimizer::new(method, len);

        let shared = OptimizerShared::new(&gpu, method, lr);
        let params = upload(&gpu, &start);
        let grads = GpuTensor::zeros(&gpu, "grads", &[len]);
        let moments = Optim::moments(&gpu, len);
        let tick = kernels.bind_tick(&gpu, &shared);
        let update = kernels.bind_update(&gpu, &shared, &params, &grads, &moments).unwrap();
        for step in 0..3 {
            let g = optimizer_grads(len, step);
            cpu.step(&mut cpu_params, &g.data, lr).unwrap();
            grads.write(&gpu, &g).unwrap();
            gpu.run(&[&tick, &update]);
            let what = format!("{method:?} step {}", step + 1);
            let on_gpu = read(&gpu, &params).await;
            assert_close(&what, &on_gpu.data, &cpu_params, Tolerance::OPTIMIZER_PARAMS);
        }
        let m_and_v = read(&gpu, &moments).await.data;
        let tol = Tolerance::OPTIMIZER_MOMENTS;
        let what = format!("{method:?} moments");
        assert_close(&what, &m_and_v[..len], &cpu.first_moment, tol);
        assert_close(&what, &m_and_v[len..], &cpu.second_moment, tol);
    }
}

// ------------------------------------------------------------------------------------------
// The XOR network
// ------------------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn gpu_mlp_starts_from_the_engine_weights() {
    let _timer = Timer::start("gpu_mlp_starts_from_the_engine_weights");
    let gpu = gpu().await;
    for config in
        [XorConfig::default(), XorConfig { hidden: 8, init: Init::Xavier, seed: 5, ..XorConfig::default() }]
    {
        let gpu_mlp = GpuMlp::new(&gpu, config);
        let start = wait(gpu_mlp.weights()).await;
        assert_eq!(start, Mlp::new(config), "bit for bit, the same network");
    }
}

/// 100 steps on both sides from the same seed, for each activation and several optimizers
/// (ReLU+SGD, tanh+Adam, sigmoid+momentum, ReLU+AdamW), within `Tolerance::TRAINING`.
#[wasm_bindgen_test]
async fn gpu_mlp_losses_track_the_engine_for_100_steps() {
    let _timer = Timer::start("gpu_mlp_losses_track_the_engine_for_100_steps");
    let gpu = gpu().await;
    let tol = Tolerance::TRAINING;
    for config in training_configs() {
        let mut cpu = Mlp::new(config);
        let mut gpu_mlp = GpuMlp::new(&gpu, config);
        // Two calls, to check that the step count and the loss history carry over.
        let cpu_losses: Vec<f32> = cpu.train(100);
        gpu_mlp.train(60);
        let first = wait(gpu_mlp.read_losses()).await;
        gpu_mlp.train(40);
        let second = wait(gpu_mlp.read_losses()).await;
        let gpu_losses = [first, second].concat();
        let what = format!("{config:?} losses");
        assert_close(&what, &gpu_losses, &cpu_losses, tol);
        let last = wait(gpu_mlp.read_loss()).await;
        assert_close(&what, &[last], &[cpu_losses[99]], tol);
        let largest = largest_difference(&gpu_losses, &cpu_losses);
        console_log!("{what}: largest difference {largest:e}");

        assert_eq!(gpu_mlp.steps(), 100);
        let back = wait(gpu_mlp.weights()).await;
        assert_eq!(back.steps, 100);
        let what = format!("{config:?} weights");
        assert_close(&what, &weights_of(&back), &weights_of(&cpu), tol);
        let predictions = wait(gpu_mlp.read_predictions()).await;
        let on_cpu = cpu.predict_many(&engine::models::mlp::XOR_INPUTS);
        assert_close(&what, &predictions, &on_cpu, tol);
    }
}

/// The decision-surface grid against the engine's predict_many with the same weights, on
/// a first grid, on new points of the same size (buffers reused), and on a different size.
#[wasm_bindgen_test]
async fn predict_grid_matches_predict_many() {
    let _timer = Timer::start("predict_grid_matches_predict_many");
    let gpu = gpu().await;
    let mut gpu_mlp = GpuMlp::new(&gpu, grid_config());
    gpu_mlp.train(50);
    let cpu = wait(gpu_mlp.weights()).await;
    for points in grids() {
        let on_gpu = wait(gpu_mlp.predict_grid(&points)).await;
        let on_cpu = cpu.predict_many(&points);
        assert_close("grid", &on_gpu, &on_cpu, Tolerance::TRANSCENDENTAL);
    }
    assert_eq!(wait(gpu_mlp.predict_grid(&[])).await, Vec::<f32>::new());
}

/// Chapter 8's race on WebGPU: each optimizer's network on the 200 two-moons points, 50
/// steps against the engine's `Mlp::step_on`, within `Tolerance::TRAINING` (the first 50
/// steps are where every optimizer still agrees that closely; see `match_engine.rs`).
#[wasm_bindgen_test]
async fn gpu_mlp_trains_on_two_moons_like_the_engine() {
    let _timer = Timer::start("gpu_mlp_trains_on_two_moons_like_the_engine");
    let gpu = gpu().await;
    let data = engine::labs::network_race::race_data();
    for config in moons_configs() {
        let mut cpu = Mlp::new(config);
        let cpu_losses: Vec<f32> =
            (0..50).map(|_| cpu.step_on(&data.points, &data.labels).unwrap()).collect();
        let mut gpu_mlp = GpuMlp::on_data(&gpu, config, &data.points, &data.labels).unwrap();
        gpu_mlp.train(50);
        let gpu_losses = wait(gpu_mlp.read_losses()).await;
        let what = format!("{:?} on two moons", config.method);
        console_log!("{what}: largest difference {:e}", largest_difference(&gpu_losses, &cpu_losses));
        assert_close(&what, &gpu_losses, &cpu_losses, Tolerance::TRAINING);
        let predictions = wait(gpu_mlp.read_predictions()).await;
        assert_close(&what, &predictions, &cpu.predict_many(&data.points), Tolerance::TRAINING);
    }
}

// ------------------------------------------------------------------------------------------
// The transformer's kernels and the whole model
// ------------------------------------------------------------------------------------------

/// Attention's per-head products through strided views against heads copied out on the CPU
/// (`common::head_of`): scores Q·Kᵀ and outputs P·V merged into `[B·T, D]`.
#[wasm_bindgen_test]
async fn batched_matmul_splits_and_merges_heads() {
    let _timer = Timer::start("batched_matmul_splits_and_merges_heads");
    let gpu = gpu().await;
    let (b, t, d, h) = (ATTENTION_B, ATTENTION_T, ATTENTION_D, ATTENTION_H);
    let kernel = gpu::kernels::batched_matmul::BatchedMatmul::new(&gpu);
    let q = random(&[b * t, d], -1.0, 1.0, 50);
    let k = random(&[b * t, d], -1.0, 1.0, 51);
    let p = random(&[b * h * t, t], 0.0, 1.0, 52);
    let (q_gpu, k_gpu, p_gpu) = (upload(&gpu, &q), upload(&gpu, &k), upload(&gpu, &p));
    let scores = GpuTensor::zeros(&gpu, "scores", &[b * h * t, t]);
    let merged = GpuTensor::zeros(&gpu, "merged", &[b * t, d]);
    let heads = gpu::kernels::batched_matmul::View::heads(t, d, h);
    let square = gpu::kernels::batched_matmul::View::stacked(t, t, h);
    let qk =
        kernel.bind(&gpu, [b, h], (&q_gpu, heads), (&k_gpu, heads.t()), (&scores, square), false).unwrap();
    let pv = kernel.bind(&gpu, [b, h], (&p_gpu, square), (&k_gpu, heads), (&merged, heads), false).unwrap();
    gpu.run(&[&qk, &pv]);
    let (scores, merged) = (read(&gpu, &scores).await, read(&gpu, &merged).await);
    let abs = |t: &Tensor| t.map(f32::abs);
    for bi in 0..b {
        for hi in 0..h {
            let (qh, kh) = (head_of(&q, t, h, bi, hi), head_of(&k, t, h, bi, hi));
            let z = bi * h + hi;
            let block = z * t * t..(z + 1) * t * t;
            let ph = Tensor::from_vec(&[t, t], p.data[block.clone()].to_vec()).unwrap();
            let s_cpu = tensor::matmul_transposed(&qh, false, &kh, true).unwrap();
            let sum_abs = tensor::matmul_transposed(&abs(&qh), false, &abs(&kh), true).unwrap();
            let tol = products_tolerance(d / h, &[sum_abs]);
            assert_close("Q·Kᵀ", &scores.data[block], &s_cpu.data, tol);
            let o_cpu = tensor::matmul(&ph, &kh).unwrap();
            let tol = products_tolerance(t, &[tensor::matmul(&abs(&ph), &abs(&kh)).unwrap()]);
            assert_close("P·V", &head_of(&merged, t, h, bi, hi).data, &o_cpu.data, tol);
        }
    }
}

/// Gather and scatter-add against the autograd's embedding: EXACT.
#[wasm_bindgen_test]
async fn embedding_gather_and_scatter_are_exact() {
    let _timer = Timer::start("embedding_gather_and_scatter_are_exact");
    let gpu = gpu().await;
    let kernel = gpu::kernels::embedding::Embedding::new(&gpu);
    let (vocab, width, n) = (13, 5, EMBEDDING_IDS.len());
    let table = random(&[vocab, width], -1.0, 1.0, 60);
    let dy = random(&[n, width], -1.0, 1.0, 61);
    let (rows_cpu, d_table_cpu) = embedding_reference(&table, &EMBEDDING_IDS, &dy);
    let ids = gpu::tensor::GpuIndices::from_slice(&gpu, "ids", &EMBEDDING_IDS);
    let (table_gpu, dy_gpu) = (upload(&gpu, &table), upload(&gpu, &dy));
    let rows = GpuTensor::zeros(&gpu, "rows", &[n, width]);
    let d_table = GpuTensor::zeros(&gpu, "d_table", &[vocab, width]);
    let gather = kernel.bind_gather(&gpu, &table_gpu, &ids, &rows, false).unwrap();
    let scatter = kernel.bind_scatter(&gpu, &dy_gpu, &ids, &d_table, false).unwrap();
    gpu.run(&[&gather, &scatter]);
    assert_close("gather", &read(&gpu, &rows).await.data, &rows_cpu.data, Tolerance::EXACT);
    let d_table = read(&gpu, &d_table).await;
    assert_close("scatter", &d_table.data, &d_table_cpu.data, Tolerance::EXACT);
}

/// Layer norm forward and its three gradients against the autograd: `common::LAYER_NORM`.
#[wasm_bindgen_test]
async fn layer_norm_matches_the_autograd() {
    let _timer = Timer::start("layer_norm_matches_the_autograd");
    let gpu = gpu().await;
    let kernel = gpu::kernels::layer_norm::LayerNorm::new(&gpu);
    let (rows, d, eps) = (7, 12, 1e-5);
    let x = random(&[rows, d], -3.0, 3.0, 70);
    let gamma = random(&[d], 0.5, 1.5, 71);
    let beta = random(&[d], -0.5, 0.5, 72);
    let dy = random(&[rows, d], -1.0, 1.0, 73);
    let [y_cpu, dx_cpu, dg_cpu, db_cpu] = layer_norm_reference(&x, &gamma, &beta, &dy, eps);
    let (x_gpu, g_gpu) = (upload(&gpu, &x), upload(&gpu, &gamma));
    let (b_gpu, dy_gpu) = (upload(&gpu, &beta), upload(&gpu, &dy));
    let saved = gpu::kernels::layer_norm::LayerNorm::saved(&gpu, rows, d);
    let y = GpuTensor::zeros(&gpu, "y", &[rows, d]);
    let (dg, db) = (GpuTensor::zeros(&gpu, "dg", &[d]), GpuTensor::zeros(&gpu, "db", &[d]));
    let dx = GpuTensor::zeros(&gpu, "dx", &[rows, d]);
    let forward = kernel.bind_forward(&gpu, eps, &x_gpu, &g_gpu, &b_gpu, &saved, &y).unwrap();
    let backward = kernel.bind_backward(&gpu, &saved, &g_gpu, &dy_gpu, &dg, &db, &dx, false).unwrap();
    gpu.run(&forward.iter().chain(&backward).collect::<Vec<_>>());
    assert_close("layer norm y", &read(&gpu, &y).await.data, &y_cpu.data, LAYER_NORM);
    assert_close("layer norm dx", &read(&gpu, &dx).await.data, &dx_cpu.data, LAYER_NORM);
    assert_close("layer norm dγ", &read(&gpu, &dg).await.data, &dg_cpu.data, LAYER_NORM);
    assert_close("layer norm dβ", &read(&gpu, &db).await.data, &db_cpu.data, LAYER_NORM);
}

/// Causal softmax and its backward pass, and cross-entropy with its gradient, against the
/// autograd: TRANSCENDENTAL.
#[wasm_bindgen_test]
async fn causal_softmax_and_cross_entropy_match_the_autograd() {
    let _timer = Timer::start("causal_softmax_and_cross_entropy_match_the_autograd");
    let gpu = gpu().await;
    let (t, blocks) = (ATTENTION_T, ATTENTION_B * ATTENTION_H);
    let scale = 0.5;
    let scores = random(&[blocks * t, t], -6.0, 6.0, 80);
    let d_probs = random(&[blocks * t, t], -1.0, 1.0, 81);
    let (p_cpu, ds_cpu) = causal_softmax_reference(&scores, t, scale, &d_probs);
    let softmax = gpu::kernels::causal_softmax::CausalSoftmax::new(&gpu);
    let (probs, grad) = (upload(&gpu, &scores), upload(&gpu, &d_probs));
    let forward = softmax.bind_forward(&gpu, &probs, t, scale).unwrap();
    let backward = softmax.bind_backward(&gpu, &probs, &grad, t, scale).unwrap();
    gpu.run(&[&forward, &backward]);
    let tol = Tolerance::TRANSCENDENTAL;
    assert_close("causal softmax", &read(&gpu, &probs).await.data, &p_cpu.data, tol);
    assert_close("causal softmax backward", &read(&gpu, &grad).await.data, &ds_cpu.data, tol);

    let (rows, classes) = (130, 29);
    let logits = random(&[rows, classes], -6.0, 6.0, 92);
    let targets = class_targets(rows, classes, 92);
    let (loss_cpu, grad_cpu) = cross_entropy_reference(&logits, &targets);
    let kernel = gpu::kernels::cross_entropy::CrossEntropy::new(&gpu);
    let z = upload(&gpu, &logits);
    let ids = gpu::tensor::GpuIndices::from_slice(&gpu, "targets", &targets);
    let loss = GpuTensor::zeros(&gpu, "loss", &[1]);
    let d_logits = GpuTensor::zeros(&gpu, "grad", &[rows, classes]);
    let dispatch = kernel.bind(&gpu, &z, &ids, &loss, &d_logits).unwrap();
    gpu.run(&[&dispatch]);
    assert_close("cross entropy", &read(&gpu, &loss).await.data, &loss_cpu.data, tol);
    assert_close("cross entropy grad", &read(&gpu, &d_logits).await.data, &grad_cpu.data, tol);
}

/// The whole model in the browser: on the same weights and batch, the loss and every
/// gradient against `Transformer::loss_and_grads`; logits for a sequence; then 10 clipped,
/// scheduled AdamW steps against the engine's own trainer (`engine::models::train::Trainer`, weight
/// decay on the matrices only). Pre-norm (GELU) and post-norm (ReLU); the tolerances of
/// `match_engine.rs`.
#[wasm_bindgen_test]
async fn gpu_transformer_matches_the_engine() {
    let _timer = Timer::start("gpu_transformer_matches_the_engine");
    let gpu = gpu().await;
    for (norm, activation) in transformer_variants() {
        let what = format!("{norm:?}/{activation:?}");
        let config = transformer_config(norm, activation);
        let settings = transformer_settings();
        let (mut trainer, batches) = trainer_and_batches(transformer_model(config, 7), 10);
        let cpu = trainer.model.clone();
        let mut on_gpu = GpuTransformer::new(&gpu, &cpu, settings).unwrap();

        let batch = transformer_batch(config.vocab, settings.batch, settings.len, 6);
        let (loss_cpu, grads_cpu) = cpu.loss_and_grads(&batch).unwrap();
        let (loss_gpu, grads_gpu) = wait(on_gpu.loss_and_grads(&batch).unwrap()).await;
        assert_close(&format!("{what} loss"), &[loss_gpu], &[loss_cpu], TRANSFORMER_LOSS);
        for ((spec, g), c) in config.param_specs().iter().zip(&grads_gpu).zip(&grads_cpu) {
            let err = relative_to_largest(&g.data, &c.data);
            assert!(err <= TRANSFORMER_GRAD_RELATIVE, "{what} gradient of {}: {err:e}", spec.name);
        }

        let tokens = [4, 0, 12, 7, 7];
        let logits_cpu = cpu.logits_for(&tokens).unwrap();
        let logits_gpu = wait(on_gpu.logits(&tokens).unwrap()).await;
        let tol = Tolerance { abs: 1e-4, rel: 0.0 };
        assert_close(&format!("{what} logits"), &logits_gpu.data, &logits_cpu.data, tol);

        let (losses_cpu, _, _) = train_on_cpu(&mut trainer, 10);
        on_gpu.train(&batches).unwrap();
        let losses_gpu = wait(on_gpu.read_losses()).await;
        assert_close(&format!("{what} losses"), &losses_gpu, &losses_cpu, TRANSFORMER_TRAINING);
        let back = wait(on_gpu.read_model()).await;
        let mut largest = 0.0f32;
        for ((spec, g), c) in config.param_specs().iter().zip(&back.params).zip(&trainer.model.params) {
            assert_close(&format!("{what} {}", spec.name), &g.data, &c.data, TRANSFORMER_TRAINING);
            largest = largest.max(largest_difference(&g.data, &c.data));
        }
        console_log!(
            "{what}: loss difference {:e}, after 10 steps weights within {largest:e}",
            (loss_gpu - loss_cpu).abs()
        );
    }
}
