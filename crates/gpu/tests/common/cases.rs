//! Every GPU case, written once as an async body that takes the device: each kernel against
//! its CPU reference in crates/engine at ragged sizes, each with a stated tolerance; then the
//! XOR network against `engine::models::mlp::Mlp` and the transformer against
//! `engine::models::transformer`. `harness.rs` turns each into a native test (blocking on
//! the future) and a browser test (awaiting it); the list of cases is `every_gpu_case!`.
//!
//! Every readback is awaited: in the browser the event loop completes it, natively the
//! future polls the device itself. Messages are printed with `log!`, which goes to the
//! console in the browser.

use engine::assert_close;
use engine::core::optim::{clip_grad_norm, Method, Optimizer};
use engine::core::tensor::{self, Tensor};
use engine::core::tolerance::Tolerance;
use engine::models::minilm::{cosine, gelu_erf, MiniLm};
use engine::models::mlp::{Activation, Init, Mlp, XorConfig, XOR_INPUTS, XOR_TARGETS};
use gpu::kernels::activation::{Activations, Function};
use gpu::kernels::add::Add;
use gpu::kernels::add_bias::AddBias;
use gpu::kernels::batched_matmul::{BatchedMatmul, View};
use gpu::kernels::bce::Bce;
use gpu::kernels::causal_softmax::CausalSoftmax;
use gpu::kernels::col_sum::ColSum;
use gpu::kernels::cross_entropy::CrossEntropy;
use gpu::kernels::embedding::Embedding;
use gpu::kernels::layer_norm::LayerNorm;
use gpu::kernels::matmul::Matmul;
use gpu::kernels::optim::{Optim, OptimizerShared, ScheduleTable};
use gpu::tensor::GpuIndices;
use gpu::{Gpu, GpuError, GpuInduction, GpuMiniLm, GpuMlp, GpuTensor, GpuTransformer};

use super::*;

/// Every case below, in the order they run. A test file expands it with its harness:
/// `every_gpu_case!(gpu_tests)`.
macro_rules! every_gpu_case {
    ($harness:ident) => {
        $harness!(
            an_adapter_is_found,
            a_destroyed_device_reports_itself_lost,
            matmul_matches_the_engine_at_ragged_sizes,
            matmul_matches_the_engine_across_tile_edges,
            matmul_explains_a_shape_mismatch,
            add_bias_is_exact,
            col_sum_is_exact,
            activations_match_the_autograd,
            bce_matches_the_autograd,
            optimizers_match_the_engine_for_three_steps,
            gpu_mlp_starts_from_the_engine_weights,
            gpu_mlp_losses_track_the_engine_for_200_steps,
            gpu_mlp_learns_xor_in_10_000_steps,
            predict_grid_matches_predict_many,
            gpu_mlp_trains_on_two_moons_like_the_engine,
            batched_matmul_splits_and_merges_heads,
            batched_matmul_does_plain_matrices,
            batched_matmul_sums_over_the_batch,
            batched_matmul_refuses_views_outside_their_tensor,
            embedding_gather_and_scatter_are_exact,
            layer_norm_matches_the_autograd,
            causal_softmax_matches_the_autograd,
            cross_entropy_matches_the_autograd,
            gelu_matches_the_autograd,
            add_is_exact,
            packed_views_keep_to_their_ranges,
            clipped_scheduled_adamw_matches_the_engine,
            gpu_transformer_loss_and_gradients_match_the_engine,
            gpu_transformer_trains_like_the_engine,
            gpu_transformer_logits_match_the_engine,
            gpu_transformer_refuses_bad_input,
            gpu_transformer_counts_its_launches,
            gpu_masked_lm_loss_and_gradients_match_the_engine,
            gpu_mlm_vs_clm_race_trains_like_the_engine,
            erf_and_exact_gelu_match_libm,
            gpu_minilm_matches_the_engine,
            gpu_minilm_padding_changes_nothing,
            gpu_minilm_refuses_bad_input,
            gpu_minilm_built_step_by_step_is_the_same,
            gpu_skip_gram_trains_like_the_engine_in_minibatches,
            gpu_skip_gram_refuses_pairs_that_do_not_fit,
            gpu_induction_loss_and_gradients_match_the_engine,
            gpu_induction_trains_like_the_engine,
        );
    };
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/// Waits for a readback: awaited here, driven by the browser or by a native poll.
async fn wait<T>(future: impl std::future::Future<Output = Result<T, GpuError>>) -> T {
    future.await.expect("reading back from the GPU")
}

fn upload(gpu: &Gpu, t: &Tensor) -> GpuTensor {
    GpuTensor::from_tensor(gpu, "test input", t)
}

async fn read(gpu: &Gpu, t: &GpuTensor) -> Tensor {
    wait(t.read(gpu)).await
}

// ------------------------------------------------------------------------------------------
// The device
// ------------------------------------------------------------------------------------------

pub async fn an_adapter_is_found(gpu: &Gpu) {
    log!("running on {} (software: {})", gpu.describe(), gpu.is_software());
    if cfg!(target_arch = "wasm32") {
        // In the browser, and through WebGPU (not WebGL, not a native backend). A browser
        // may hide the adapter's name, so that is not asked for here.
        assert_eq!(gpu.adapter_info.backend, wgpu::Backend::BrowserWebGpu);
    } else {
        assert!(!gpu.adapter_info.name.is_empty());
    }
    assert_eq!(gpu.lost(), None);
}

/// A device of the test's own (so the shared one stays usable), destroyed: the page's lost
/// callback runs with the reason, and `Gpu::lost` remembers it.
pub async fn a_destroyed_device_reports_itself_lost(_shared: &Gpu) {
    let own = Gpu::request().await.expect("a second device");
    let (sender, receiver) = futures_channel::oneshot::channel();
    let sender = std::sync::Mutex::new(Some(sender));
    own.on_lost(move |reason| {
        if let Some(sender) = sender.lock().ok().and_then(|mut slot| slot.take()) {
            let _ = sender.send(reason);
        }
    });
    own.device.destroy();
    // Natively the callback runs inside this poll; in the browser the poll does nothing and
    // the event loop runs it while we await.
    let _ = own.device.poll(wgpu::PollType::wait_indefinitely());
    let reason = receiver.await.expect("the lost callback runs");
    assert!(reason.contains("Destroyed"), "{reason}");
    assert_eq!(own.lost(), Some(reason));
    let message = GpuError::Lost { reason: "Destroyed".into() }.to_string();
    assert!(message.contains("continues on the CPU"), "{message}");
}

// ------------------------------------------------------------------------------------------
// Kernels
// ------------------------------------------------------------------------------------------

/// C = op(A)·op(B) on both sides, within the tolerance `common::matmul_case` states. One
/// compiled kernel for all cases: compiling is what is slow on a software adapter.
async fn check_matmul(gpu: &Gpu, kernel: &Matmul, case: (usize, usize, usize, bool, bool)) {
    let (m, k, n, transpose_a, transpose_b) = case;
    let case = matmul_case(m, k, n, transpose_a, transpose_b);
    let c = GpuTensor::zeros(gpu, "c", &[m, n]);
    let (a_gpu, b_gpu) = (upload(gpu, &case.a), upload(gpu, &case.b));
    let dispatch = kernel.bind(gpu, &a_gpu, transpose_a, &b_gpu, transpose_b, &c).unwrap();
    gpu.run(&[&dispatch]);
    let result = read(gpu, &c).await;
    assert_eq!(result.shape, case.cpu.shape, "{}", case.what);
    assert_close!(result.data, case.cpu.data, case.tol, "{}", case.what);
}

pub async fn matmul_matches_the_engine_at_ragged_sizes(gpu: &Gpu) {
    let kernel = Matmul::new(gpu);
    // All four transpose combinations at three ragged sizes, then `MATMUL_CASES`.
    for (m, k, n) in [(7, 13, 5), (1, 1, 1), (33, 17, 21)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            check_matmul(gpu, &kernel, (m, k, n, ta, tb)).await;
        }
    }
    for case in MATMUL_CASES {
        check_matmul(gpu, &kernel, case).await;
    }
}

pub async fn matmul_matches_the_engine_across_tile_edges(gpu: &Gpu) {
    let kernel = Matmul::new(gpu);
    for case in MATMUL_TILE_EDGE_CASES {
        check_matmul(gpu, &kernel, case).await;
    }
}

pub async fn matmul_explains_a_shape_mismatch(gpu: &Gpu) {
    let a = GpuTensor::zeros(gpu, "a", &[2, 3]);
    let b = GpuTensor::zeros(gpu, "b", &[2, 4]);
    let c = GpuTensor::zeros(gpu, "c", &[2, 4]);
    let err = Matmul::new(gpu).bind(gpu, &a, false, &b, false, &c).unwrap_err();
    assert_eq!(err.message, "matmul: [2, 3] x [2, 4] does not give [2, 4] (inner dimensions 3 and 2)");
    let ok = Matmul::new(gpu).bind(gpu, &a, true, &b, false, &GpuTensor::zeros(gpu, "c", &[3, 4]));
    assert!(ok.is_ok());
}

/// x + bias is one f32 addition per element on both sides: EXACT.
pub async fn add_bias_is_exact(gpu: &Gpu) {
    for (rows, cols) in [(7, 13), (1, 1), (33, 17), (4, 1)] {
        let x = random(&[rows, cols], -2.0, 2.0, 5);
        let bias = random(&[cols], -2.0, 2.0, 6);
        let cpu = tensor::add(&x, &bias).unwrap();
        let (x_gpu, bias_gpu) = (upload(gpu, &x), upload(gpu, &bias));
        let dispatch = AddBias::new(gpu).bind(gpu, &x_gpu, &bias_gpu).unwrap();
        gpu.run(&[&dispatch]);
        assert_close!(read(gpu, &x_gpu).await.data, cpu.data, Tolerance::EXACT, "add_bias");
    }
}

/// Column sums add the rows in the same order on both sides: EXACT.
pub async fn col_sum_is_exact(gpu: &Gpu) {
    for (rows, cols) in [(7, 13), (1, 1), (33, 17), (64, 5), (4, 1)] {
        let x = random(&[rows, cols], -2.0, 2.0, 7);
        let cpu = tensor::sum_to_shape(&x, &[cols]).unwrap();
        let (x_gpu, out) = (upload(gpu, &x), GpuTensor::zeros(gpu, "out", &[cols]));
        let dispatch = ColSum::new(gpu).bind(gpu, &x_gpu, &out).unwrap();
        gpu.run(&[&dispatch]);
        assert_close!(read(gpu, &out).await.data, cpu.data, Tolerance::EXACT, "col_sum");
    }
}

/// Forward and backward of each activation against the autograd tape. ReLU is a max and a
/// comparison (EXACT); tanh and sigmoid go through exp (TRANSCENDENTAL).
pub async fn activations_match_the_autograd(gpu: &Gpu) {
    let kernels = Activations::new(gpu);
    let (x, dy) = activation_inputs();
    for kind in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
        let (y_cpu, dx_cpu) = activation_reference(kind, &x, &dy);
        let (x_gpu, y_gpu, grad) = (upload(gpu, &x), GpuTensor::zeros(gpu, "y", &x.shape), upload(gpu, &dy));
        let forward = kernels.bind_forward(gpu, kind, &x_gpu, &y_gpu).unwrap();
        let backward = kernels.bind_backward(gpu, kind, &x_gpu, &grad).unwrap();
        gpu.run(&[&forward, &backward]);

        let tol = activation_tolerance(kind);
        assert_close!(read(gpu, &y_gpu).await.data, y_cpu.data, tol, "{kind:?} forward");
        assert_close!(read(gpu, &grad).await.data, dx_cpu.data, tol, "{kind:?} backward");
    }

    // With a feed-forward layer's neighbours fused in (ReLU, so EXACT): z ← z + bias, then
    // y = f(z); backward, the column sums of dz and of a second gradient.
    let (rows, cols, cols2) = (9, 6, 4);
    let (z, bias) = (random(&[rows, cols], -1.0, 1.0, 80), random(&[cols], -0.5, 0.5, 81));
    let (dy, other) = (random(&[rows, cols], -1.0, 1.0, 82), random(&[rows, cols2], -1.0, 1.0, 83));
    let biased: Vec<f32> = z.data.iter().enumerate().map(|(i, v)| v + bias.data[i % cols]).collect();
    let y_cpu: Vec<f32> = biased.iter().map(|v| v.max(0.0)).collect();
    let dz_cpu: Vec<f32> =
        dy.data.iter().zip(&biased).map(|(g, v)| g * if *v > 0.0 { 1.0 } else { 0.0 }).collect();
    let column_sums = |data: &[f32], width: usize| -> Vec<f32> {
        (0..width).map(|j| (0..rows).fold(0.0, |total, r| total + data[r * width + j])).collect()
    };
    let (z_gpu, bias_gpu, y_gpu) =
        (upload(gpu, &z), upload(gpu, &bias), GpuTensor::zeros(gpu, "y", &[rows, cols]));
    let (dz, other_gpu) = (upload(gpu, &dy), upload(gpu, &other));
    let (d_bias, d_other) = (GpuTensor::zeros(gpu, "db", &[cols]), GpuTensor::zeros(gpu, "db2", &[cols2]));
    let forward = kernels.bind_forward_bias(gpu, Function::Relu, &z_gpu, &bias_gpu, &y_gpu).unwrap();
    let backward = kernels
        .bind_backward_sums(gpu, Function::Relu, &z_gpu, &dz, &d_bias, (&other_gpu, &d_other))
        .unwrap();
    gpu.run(&[&forward, &backward]);
    let exact = Tolerance::EXACT;
    assert_close!(read(gpu, &z_gpu).await.data, &biased, exact, "z + bias");
    assert_close!(read(gpu, &y_gpu).await.data, &y_cpu, exact, "relu(z + bias)");
    assert_close!(read(gpu, &dz).await.data, &dz_cpu, exact, "dz");
    assert_close!(read(gpu, &d_bias).await.data, &column_sums(&dz_cpu, cols), exact, "bias gradient");
    assert_close!(
        read(gpu, &d_other).await.data,
        &column_sums(&other.data, cols2),
        exact,
        "second bias gradient"
    );
}

/// The loss and dL/dz against the autograd's bce_with_logits. TRANSCENDENTAL, and the loss
/// also sums in a different order (a tree on the GPU, left to right on the CPU), which for
/// at most 130 positive terms moves it by far less than 1e-5 relative.
pub async fn bce_matches_the_autograd(gpu: &Gpu) {
    let kernel = Bce::new(gpu);
    // [4, 1] like XOR, ragged [7, 13], and [130, 1]: more elements than the 64 invocations.
    for (shape, seed) in [([4, 1], 10), ([7, 13], 11), ([130, 1], 12)] {
        let (logits, targets) = bce_inputs(&shape, seed);
        let (loss_cpu, grad_cpu) = bce_reference(&logits, &targets);

        let (z_gpu, y_gpu) = (upload(gpu, &logits), upload(gpu, &targets));
        let loss_gpu = GpuTensor::zeros(gpu, "loss", &[1]);
        let grad_gpu = GpuTensor::zeros(gpu, "grad", &logits.shape);
        let dispatch = kernel.bind(gpu, &z_gpu, &y_gpu, &loss_gpu, &grad_gpu).unwrap();
        gpu.run(&[&dispatch]);

        let what = format!("bce {shape:?}");
        let tol = TRANSCENDENTAL;
        assert_close!(read(gpu, &loss_gpu).await.data, loss_cpu.data, tol, "{what}");
        assert_close!(read(gpu, &grad_gpu).await.data, grad_cpu.data, tol, "{what}");
    }
}

/// Three steps of every optimizer against engine::core::optim on the same gradients.
///
/// Tolerance: `OPTIMIZER_PARAMS` (a few roundings per step) for the parameters,
/// `OPTIMIZER_MOMENTS` (1e-5 relative) for the moments.
pub async fn optimizers_match_the_engine_for_three_steps(gpu: &Gpu) {
    let kernels = Optim::new(gpu);
    let len = 13;
    for method in optimizer_methods() {
        let lr = 0.01;
        let start = random(&[len], -1.0, 1.0, 20);
        let mut cpu_params = start.data.clone();
        let mut cpu = Optimizer::new(method, len);

        let shared = OptimizerShared::new(gpu, method, lr);
        let params = upload(gpu, &start);
        let grads = GpuTensor::zeros(gpu, "grads", &[len]);
        let moments = Optim::moments(gpu, len);
        let tick = kernels.bind_tick(gpu, &shared);
        let update = kernels.bind_update(gpu, &shared, &params, &grads, &moments).unwrap();
        for step in 0..3 {
            let g = optimizer_grads(len, step);
            cpu.step(&mut cpu_params, &g.data, lr).unwrap();
            grads.write(gpu, &g).unwrap();
            gpu.run(&[&tick, &update]);
            let what = format!("{method:?} step {}", step + 1);
            let tol = OPTIMIZER_PARAMS;
            assert_close!(read(gpu, &params).await.data, &cpu_params, tol, "{what}");
        }
        let m_and_v = read(gpu, &moments).await.data;
        let tol = OPTIMIZER_MOMENTS;
        let what = format!("{method:?} moments");
        assert_close!(&m_and_v[..len], &cpu.first_moment, tol, "{what}");
        assert_close!(&m_and_v[len..], &cpu.second_moment, tol, "{what}");
    }
}

// ------------------------------------------------------------------------------------------
// The XOR network
// ------------------------------------------------------------------------------------------

pub async fn gpu_mlp_starts_from_the_engine_weights(gpu: &Gpu) {
    for config in
        [XorConfig::default(), XorConfig { hidden: 8, init: Init::Xavier, seed: 5, ..XorConfig::default() }]
    {
        let gpu_mlp = GpuMlp::new(gpu, config);
        let start = wait(gpu_mlp.weights()).await;
        assert_eq!(start, Mlp::new(config), "bit for bit, the same network");
    }
}

/// 200 steps on both sides from the same seed, for each activation and several optimizers
/// (`common::training_configs`), within `TRAINING` (1e-4 absolute, stated and
/// measured there).
pub async fn gpu_mlp_losses_track_the_engine_for_200_steps(gpu: &Gpu) {
    for config in training_configs() {
        let mut cpu = Mlp::new(config);
        let mut gpu_mlp = GpuMlp::new(gpu, config);
        // Two calls, to check that the step count and the loss history carry over.
        let cpu_losses: Vec<f32> = cpu.train(200);
        gpu_mlp.train(150);
        let first = wait(gpu_mlp.read_losses()).await;
        gpu_mlp.train(50);
        let second = wait(gpu_mlp.read_losses()).await;
        let gpu_losses = [first, second].concat();
        let what = format!("{config:?} losses");
        let tol = TRAINING;
        assert_close!(gpu_losses, cpu_losses, tol, "{what}");
        assert_close!(wait(gpu_mlp.read_loss()).await, cpu_losses[199], tol, "{what}");
        let largest = largest_difference(&gpu_losses, &cpu_losses);
        log!("{what}: largest difference {largest:e}");

        assert_eq!(gpu_mlp.steps(), 200);
        let back = wait(gpu_mlp.weights()).await;
        assert_eq!(back.steps, 200);
        let what = format!("{config:?} weights");
        assert_close!(&weights_of(&back), &weights_of(&cpu), tol, "{what}");
        let predictions = wait(gpu_mlp.read_predictions()).await;
        assert_close!(&predictions, &cpu.predict_many(&XOR_INPUTS), tol, "{what}");
    }
}

/// The book's run in full: 10,000 full-batch steps of the default network (2-4-1, ReLU, He,
/// SGD at lr 0.5, seed 0), after which every prediction must be within 0.1 of XOR, as the
/// engine's own test asks; and within 1e-3 of the engine's predictions (measured: 2.5e-11
/// on lavapipe, where the predictions are 0.00024, 0.99993, 0.99993, 0.00003).
///
/// The slowest test here: 170,000 dispatches take about a minute on lavapipe (each costs
/// ~0.3 ms there, whatever its size) and about a second on an NVIDIA H200.
pub async fn gpu_mlp_learns_xor_in_10_000_steps(gpu: &Gpu) {
    let config = XorConfig::default();
    let mut gpu_mlp = GpuMlp::new(gpu, config);
    // As a page would: a batch of steps per submit.
    for _ in 0..10 {
        gpu_mlp.train(1_000);
    }
    let predictions = wait(gpu_mlp.read_predictions()).await;
    for (p, y) in predictions.iter().zip(XOR_TARGETS) {
        assert!((p - y).abs() < 0.1, "predictions {predictions:?}");
    }
    let mut cpu = Mlp::new(config);
    cpu.train(10_000);
    let on_cpu = cpu.predict_many(&XOR_INPUTS);
    let largest = largest_difference(&predictions, &on_cpu);
    log!("after 10,000 steps: gpu {predictions:?}, cpu {on_cpu:?}, largest difference {largest:e}");
    let tol = Tolerance { abs: 1e-3, rel: 0.0 };
    assert_close!(predictions, on_cpu, tol, "after 10,000 steps");
}

/// The decision-surface grid against the engine's predict_many with the same weights, on
/// a first grid, on new points of the same size (buffers reused), and on a different size.
pub async fn predict_grid_matches_predict_many(gpu: &Gpu) {
    let mut gpu_mlp = GpuMlp::new(gpu, grid_config());
    gpu_mlp.train(50);
    let cpu = wait(gpu_mlp.weights()).await;
    for points in grids() {
        let on_gpu = wait(gpu_mlp.predict_grid(&points)).await;
        let on_cpu = cpu.predict_many(&points);
        assert_close!(on_gpu, on_cpu, TRANSCENDENTAL, "grid");
    }
    assert_eq!(wait(gpu_mlp.predict_grid(&[])).await, Vec::<f32>::new());
}

/// Chapter 8's race on the GPU: each optimizer's 2-16-1 tanh network on the 200 two-moons
/// points (`GpuMlp::on_data`) against the engine's `Mlp::step_on` for 200 steps. A target
/// count that does not match is refused.
///
/// The first 50 losses agree within `TRAINING` for every optimizer. Later, RMSProp
/// (no bias correction, β = 0.99, so its early steps are ten times the learning rate) lets
/// ulp-sized differences grow: measured on lavapipe, its largest loss difference over 200
/// steps is 5.2e-4 and its largest prediction difference 8.7e-4, against at most 5.4e-7 and
/// 7.2e-7 for the other four. So the whole run is held to `MOONS` (5e-3), ten times the
/// largest measured.
pub async fn gpu_mlp_trains_on_two_moons_like_the_engine(gpu: &Gpu) {
    const MOONS: Tolerance = Tolerance { abs: 5e-3, rel: 0.0 };
    let data = engine::labs::network_race::race_data();
    for config in moons_configs() {
        let mut cpu = Mlp::new(config);
        let cpu_losses: Vec<f32> =
            (0..200).map(|_| cpu.step_on(&data.points, &data.labels).unwrap()).collect();
        let mut gpu_mlp = GpuMlp::on_data(gpu, config, &data.points, &data.labels).unwrap();
        gpu_mlp.train(200);
        let gpu_losses = wait(gpu_mlp.read_losses()).await;
        let what = format!("{:?} on two moons", config.method);
        let largest = largest_difference(&gpu_losses, &cpu_losses);
        log!("{what}: largest loss difference {largest:e}");
        assert_close!(&gpu_losses[..50], &cpu_losses[..50], TRAINING, "{what}");
        assert_close!(gpu_losses, cpu_losses, MOONS, "{what}");
        let predictions = wait(gpu_mlp.read_predictions()).await;
        let on_cpu = cpu.predict_many(&data.points);
        assert_close!(predictions, on_cpu, MOONS, "{what}");
    }
    let config = moons_configs()[0];
    let err = GpuMlp::on_data(gpu, config, &data.points, &data.labels[..7]).unwrap_err();
    assert!(err.message.contains("bce_with_logits"), "{}", err.message);
}

// ------------------------------------------------------------------------------------------
// The transformer's kernels
// ------------------------------------------------------------------------------------------

/// Attention's products through strided views, per (sequence, head), against the engine's
/// matmul_transposed on heads copied out one by one (`common::head_of`): scores Q·Kᵀ,
/// outputs P·V merged back into `[B·T, D]`, and a gradient Pᵀ·dO added onto what is there.
/// Tolerance: `common::products_tolerance`, as for matmul.
pub async fn batched_matmul_splits_and_merges_heads(gpu: &Gpu) {
    let (b, t, d, h) = (ATTENTION_B, ATTENTION_T, ATTENTION_D, ATTENTION_H);
    let dh = d / h;
    let kernel = BatchedMatmul::new(gpu);
    let q = random(&[b * t, d], -1.0, 1.0, 50);
    let k = random(&[b * t, d], -1.0, 1.0, 51);
    let p = random(&[b * h * t, t], 0.0, 1.0, 52);
    let start = random(&[b * t, d], -1.0, 1.0, 53);
    let (q_gpu, k_gpu, p_gpu) = (upload(gpu, &q), upload(gpu, &k), upload(gpu, &p));
    let scores = GpuTensor::zeros(gpu, "scores", &[b * h * t, t]);
    let merged = GpuTensor::zeros(gpu, "merged", &[b * t, d]);
    let accumulated = upload(gpu, &start);
    let heads = View::heads(t, d, h);
    let square = View::stacked(t, t, h);
    let dispatches = [
        // S = Q·Kᵀ per head
        kernel.bind(gpu, [b, h], (&q_gpu, heads), (&k_gpu, heads.t()), (&scores, square), false).unwrap(),
        // O = P·K per head, merged into [B·T, D] (K stands in for V)
        kernel.bind(gpu, [b, h], (&p_gpu, square), (&k_gpu, heads), (&merged, heads), false).unwrap(),
        // start += Pᵀ·Q per head
        kernel.bind(gpu, [b, h], (&p_gpu, square.t()), (&q_gpu, heads), (&accumulated, heads), true).unwrap(),
    ];
    gpu.run(&dispatches.iter().collect::<Vec<_>>());
    let (scores, merged, accumulated) =
        (read(gpu, &scores).await, read(gpu, &merged).await, read(gpu, &accumulated).await);

    let abs = |t: &Tensor| t.map(f32::abs);
    for bi in 0..b {
        for hi in 0..h {
            let (qh, kh) = (head_of(&q, t, h, bi, hi), head_of(&k, t, h, bi, hi));
            let z = bi * h + hi;
            let ph = Tensor::from_vec(&[t, t], p.data[z * t * t..(z + 1) * t * t].to_vec()).unwrap();
            let what = format!("sequence {bi}, head {hi}");

            let s_cpu = tensor::matmul_transposed(&qh, false, &kh, true).unwrap();
            let s_gpu = &scores.data[z * t * t..(z + 1) * t * t];
            let tol = products_tolerance(
                dh,
                &[tensor::matmul_transposed(&abs(&qh), false, &abs(&kh), true).unwrap()],
            );
            assert_close!(s_gpu, s_cpu.data, tol, "Q·Kᵀ, {what}");

            let o_cpu = tensor::matmul(&ph, &kh).unwrap();
            let o_gpu = head_of(&merged, t, h, bi, hi);
            let tol = products_tolerance(t, &[tensor::matmul(&abs(&ph), &abs(&kh)).unwrap()]);
            assert_close!(o_gpu.data, o_cpu.data, tol, "P·V, {what}");

            let acc_cpu = tensor::add(
                &head_of(&start, t, h, bi, hi),
                &tensor::matmul_transposed(&ph, true, &qh, false).unwrap(),
            )
            .unwrap();
            let acc_gpu = head_of(&accumulated, t, h, bi, hi);
            let tol = products_tolerance(
                t + 1,
                &[tensor::matmul_transposed(&abs(&ph), true, &abs(&qh), false).unwrap()],
            );
            assert_close!(acc_gpu.data, acc_cpu.data, tol, "+= Pᵀ·Q, {what}");
        }
    }
}

/// A batch of one plain matrix is the ordinary matmul, transposes included, at ragged sizes
/// within one block and across several.
pub async fn batched_matmul_does_plain_matrices(gpu: &Gpu) {
    let kernel = BatchedMatmul::new(gpu);
    for (m, k, n, ta, tb) in MATMUL_CASES.into_iter().chain(BLOCK_CASES) {
        let case = matmul_case(m, k, n, ta, tb);
        let view = |rows, cols, transposed: bool| {
            if transposed {
                View::matrix(cols, rows).t()
            } else {
                View::matrix(rows, cols)
            }
        };
        let (a, b) = (upload(gpu, &case.a), upload(gpu, &case.b));
        let c = GpuTensor::zeros(gpu, "c", &[m, n]);
        let dispatch = kernel
            .bind(gpu, [1, 1], (&a, view(m, k, ta)), (&b, view(k, n, tb)), (&c, View::matrix(m, n)), false)
            .unwrap();
        gpu.run(&[&dispatch]);
        assert_close!(read(gpu, &c).await.data, &case.cpu.data, case.tol, "{}", case.what);
    }
}

/// The sum over the batch, C = Σ_z A[z]·B[z] (three [5, 4]·[4, 6] products, B read
/// transposed), written and then added onto: against the sum done in f64 on the CPU, within
/// 1e-5 (twelve products of numbers below 1 per element).
pub async fn batched_matmul_sums_over_the_batch(gpu: &Gpu) {
    let kernel = BatchedMatmul::new(gpu);
    let (m, k, n) = (5, 4, 6);
    let (a, b) = (random(&[3, m, k], -1.0, 1.0, 90), random(&[3, n, k], -1.0, 1.0, 91));
    let cpu: Vec<f32> = (0..m * n)
        .map(|at| {
            let (i, j) = (at / n, at % n);
            let mut total = 0.0f64;
            for z in 0..3 {
                for p in 0..k {
                    total += a.data[z * m * k + i * k + p] as f64 * b.data[z * n * k + j * k + p] as f64;
                }
            }
            total as f32
        })
        .collect();
    let (a_gpu, b_gpu, c) = (upload(gpu, &a), upload(gpu, &b), GpuTensor::zeros(gpu, "c", &[m, n]));
    let a_view = View { inner_stride: m * k, ..View::matrix(m, k) };
    let b_view = View { inner_stride: n * k, ..View::matrix(n, k).t() };
    let write =
        kernel.bind_summed(gpu, [1, 3], (&a_gpu, a_view), (&b_gpu, b_view), (&c, View::matrix(m, n)), false);
    let add =
        kernel.bind_summed(gpu, [1, 3], (&a_gpu, a_view), (&b_gpu, b_view), (&c, View::matrix(m, n)), true);
    gpu.run(&[&write.unwrap(), &add.unwrap()]);
    let twice: Vec<f32> = cpu.iter().map(|v| 2.0 * v).collect();
    assert_close!(read(gpu, &c).await.data, &twice, Tolerance { abs: 1e-5, rel: 0.0 }, "Σ A·B, twice");
}

pub async fn batched_matmul_refuses_views_outside_their_tensor(gpu: &Gpu) {
    let kernel = BatchedMatmul::new(gpu);
    let a = GpuTensor::zeros(gpu, "a", &[14, 12]);
    let c = GpuTensor::zeros(gpu, "c", &[6, 7, 7]);
    // Three sequences of 7 rows do not fit in 14 rows.
    let heads = View::heads(7, 12, 3);
    let err = kernel
        .bind(gpu, [3, 3], (&a, heads), (&a, heads.t()), (&c, View::stacked(7, 7, 3)), false)
        .unwrap_err();
    assert!(err.message.contains("A reads up to element"), "{}", err.message);
    let err =
        kernel.bind(gpu, [2, 3], (&a, heads), (&a, heads), (&c, View::stacked(7, 7, 3)), false).unwrap_err();
    assert_eq!(err.message, "batched matmul: [7, 4] x [7, 4] does not give [7, 7]");
}

/// Gather and scatter-add against the autograd's embedding: both EXACT (a copy; sums in the
/// CPU's order). Then gather with accumulate (token + position embeddings) and scatter with
/// accumulate (a tied embedding's second gradient), also EXACT.
pub async fn embedding_gather_and_scatter_are_exact(gpu: &Gpu) {
    let kernel = Embedding::new(gpu);
    let (vocab, width, n) = (13, 5, EMBEDDING_IDS.len());
    let table = random(&[vocab, width], -1.0, 1.0, 60);
    let dy = random(&[n, width], -1.0, 1.0, 61);
    let (rows_cpu, d_table_cpu) = embedding_reference(&table, &EMBEDDING_IDS, &dy);

    let ids = GpuIndices::from_slice(gpu, "ids", &EMBEDDING_IDS);
    let (table_gpu, dy_gpu) = (upload(gpu, &table), upload(gpu, &dy));
    let rows = GpuTensor::zeros(gpu, "rows", &[n, width]);
    let d_table = GpuTensor::zeros(gpu, "d_table", &[vocab, width]);
    let gather = kernel.bind_gather(gpu, &table_gpu, &ids, &rows, false).unwrap();
    let scatter = kernel.bind_scatter(gpu, &dy_gpu, &ids, &d_table, false).unwrap();
    gpu.run(&[&gather, &scatter]);
    assert_close!(read(gpu, &rows).await.data, rows_cpu.data, Tolerance::EXACT, "gather");
    assert_close!(read(gpu, &d_table).await.data, d_table_cpu.data, Tolerance::EXACT, "scatter");

    // Accumulating: rows += table[ids] again, d_table += the same scatter again.
    let gather = kernel.bind_gather(gpu, &table_gpu, &ids, &rows, true).unwrap();
    let scatter = kernel.bind_scatter(gpu, &dy_gpu, &ids, &d_table, true).unwrap();
    gpu.run(&[&gather, &scatter]);
    let twice = |t: &Tensor| tensor::add(t, t).unwrap();
    assert_close!(read(gpu, &rows).await.data, &twice(&rows_cpu).data, Tolerance::EXACT, "gather +=");
    assert_close!(read(gpu, &d_table).await.data, &twice(&d_table_cpu).data, Tolerance::EXACT, "scatter +=");

    // Two tables in one launch each way (token and position embeddings): rows = table[ids]
    // + table2[ids2]; the first table's gradient added onto what it holds, the second's
    // written. EXACT: the same additions in the same order.
    let table2 = random(&[7, width], -1.0, 1.0, 62);
    let ids2: Vec<usize> = (0..n).map(|r| r % 7).collect();
    let (rows2_cpu, d_table2_cpu) = embedding_reference(&table2, &ids2, &dy);
    let (ids2_gpu, table2_gpu) = (GpuIndices::from_slice(gpu, "ids2", &ids2), upload(gpu, &table2));
    let d_table2 = GpuTensor::zeros(gpu, "d_table2", &[7, width]);
    let gather = kernel.bind_gather_both(gpu, (&table_gpu, &ids), (&table2_gpu, &ids2_gpu), &rows).unwrap();
    let scatter = kernel
        .bind_scatter_both(gpu, &dy_gpu, (&ids, &d_table, true), (&ids2_gpu, &d_table2, false))
        .unwrap();
    gpu.run(&[&gather, &scatter]);
    let sum = tensor::add(&rows_cpu, &rows2_cpu).unwrap();
    assert_close!(read(gpu, &rows).await.data, &sum.data, Tolerance::EXACT, "gather both");
    let thrice = tensor::add(&twice(&d_table_cpu), &d_table_cpu).unwrap();
    assert_close!(read(gpu, &d_table).await.data, &thrice.data, Tolerance::EXACT, "scatter both +=");
    assert_close!(read(gpu, &d_table2).await.data, &d_table2_cpu.data, Tolerance::EXACT, "scatter both");

    let wrong = GpuTensor::zeros(gpu, "wrong", &[n, width + 1]);
    let err = kernel.bind_gather(gpu, &table_gpu, &ids, &wrong, false).unwrap_err();
    assert_eq!(err.message, "embedding: 11 indices into a table [13, 5] give [11, 5], not [11, 6]");
}

/// Layer norm forward and all three gradients against the autograd (`common::LAYER_NORM`),
/// at ragged sizes, with dx written and then added onto a residual gradient.
pub async fn layer_norm_matches_the_autograd(gpu: &Gpu) {
    let kernel = LayerNorm::new(gpu);
    for (rows, d, seed) in [(7, 12, 70), (1, 1, 71), (65, 33, 72), (14, 5, 73)] {
        let eps = 1e-5;
        let x = random(&[rows, d], -3.0, 3.0, seed);
        let gamma = random(&[d], 0.5, 1.5, seed + 1);
        let beta = random(&[d], -0.5, 0.5, seed + 2);
        let dy = random(&[rows, d], -1.0, 1.0, seed + 3);
        let residual = random(&[rows, d], -1.0, 1.0, seed + 4);
        let [y_cpu, dx_cpu, dg_cpu, db_cpu] = layer_norm_reference(&x, &gamma, &beta, &dy, eps);

        let (x_gpu, g_gpu, b_gpu, dy_gpu) =
            (upload(gpu, &x), upload(gpu, &gamma), upload(gpu, &beta), upload(gpu, &dy));
        let saved = LayerNorm::saved(gpu, rows, d);
        let y = GpuTensor::zeros(gpu, "y", &[rows, d]);
        let (dg, db) = (GpuTensor::zeros(gpu, "dg", &[d]), GpuTensor::zeros(gpu, "db", &[d]));
        let dx = GpuTensor::zeros(gpu, "dx", &[rows, d]);
        let dx_acc = upload(gpu, &residual);
        let forward = kernel.bind_forward(gpu, eps, &x_gpu, &g_gpu, &b_gpu, &saved, &y).unwrap();
        let backward = kernel.bind_backward(gpu, &saved, &g_gpu, &dy_gpu, &dg, &db, &dx, false).unwrap();
        let add_dx = kernel.bind_backward(gpu, &saved, &g_gpu, &dy_gpu, &dg, &db, &dx_acc, true).unwrap();
        gpu.run(&[&forward, &backward, &add_dx]);

        let what = format!("layer norm [{rows}, {d}]");
        let tol = LAYER_NORM;
        assert_close!(read(gpu, &y).await.data, y_cpu.data, tol, "{what} y");
        assert_close!(read(gpu, &dx).await.data, dx_cpu.data, tol, "{what} dx");
        assert_close!(read(gpu, &dg).await.data, dg_cpu.data, tol, "{what} dγ");
        assert_close!(read(gpu, &db).await.data, db_cpu.data, tol, "{what} dβ");
        let summed = tensor::add(&residual, &dx_cpu).unwrap();
        assert_close!(read(gpu, &dx_acc).await.data, summed.data, tol, "{what} dx +=");
        log!(
            "{what}: largest differences y {:e}, dx {:e}",
            largest_difference(&read(gpu, &y).await.data, &y_cpu.data),
            largest_difference(&read(gpu, &dx).await.data, &dx_cpu.data)
        );

        // A residual connection finished inside the norm: x ← (x + bias) + residual in the
        // CPU's order (exact), then LN of the sum; with and without the bias.
        for with_bias in [true, false] {
            let bias = random(&[d], -0.5, 0.5, seed + 5);
            let mut sum = x.clone();
            for (i, v) in sum.data.iter_mut().enumerate() {
                let biased = if with_bias { *v + bias.data[i % d] } else { *v };
                *v = biased + residual.data[i];
            }
            let [y_sum, ..] = layer_norm_reference(&sum, &gamma, &beta, &dy, eps);
            let (stream, bias_gpu, residual_gpu) =
                (upload(gpu, &x), upload(gpu, &bias), upload(gpu, &residual));
            let inputs = (&stream, with_bias.then_some(&bias_gpu), &residual_gpu);
            let fused = kernel.bind_forward_residual(gpu, eps, inputs, &g_gpu, &b_gpu, &saved, &y).unwrap();
            gpu.run(&[&fused]);
            assert_close!(read(gpu, &stream).await.data, sum.data, Tolerance::EXACT, "{what} residual sum");
            assert_close!(read(gpu, &y).await.data, y_sum.data, tol, "{what} y of the sum");
        }
    }
}

/// Scale, causal mask and softmax, and the backward pass, against the engine's scale + mask
/// + softmax_rows on the tape: TRANSCENDENTAL (exp). The future gets weight exactly 0.
pub async fn causal_softmax_matches_the_autograd(gpu: &Gpu) {
    let kernel = CausalSoftmax::new(gpu);
    let (t, blocks) = (ATTENTION_T, ATTENTION_B * ATTENTION_H);
    let scale = 1.0 / (4.0f32).sqrt();
    let scores = random(&[blocks * t, t], -6.0, 6.0, 80);
    let d_probs = random(&[blocks * t, t], -1.0, 1.0, 81);
    let (p_cpu, ds_cpu) = causal_softmax_reference(&scores, t, scale, &d_probs);

    let (probs, grad) = (upload(gpu, &scores), upload(gpu, &d_probs));
    let forward = kernel.bind_forward(gpu, &probs, t, scale).unwrap();
    let backward = kernel.bind_backward(gpu, &probs, &grad, t, scale).unwrap();
    gpu.run(&[&forward, &backward]);
    let p_gpu = read(gpu, &probs).await;
    assert_close!(p_gpu.data, p_cpu.data, TRANSCENDENTAL, "causal softmax");
    assert_close!(read(gpu, &grad).await.data, ds_cpu.data, TRANSCENDENTAL, "causal softmax backward");
    for r in 0..blocks * t {
        for j in r % t + 1..t {
            assert_eq!(p_gpu.data[r * t + j], 0.0, "row {r} looks at future position {j}");
        }
    }
}

/// Mean cross-entropy and dL/dlogits against the autograd: TRANSCENDENTAL, and the loss adds
/// rows in a tree (64 partial sums) where the CPU adds them left to right.
pub async fn cross_entropy_matches_the_autograd(gpu: &Gpu) {
    let kernel = CrossEntropy::new(gpu);
    for (rows, classes, seed) in [(14, 13, 90), (1, 2, 91), (130, 29, 92)] {
        let logits = random(&[rows, classes], -6.0, 6.0, seed);
        let targets = class_targets(rows, classes, seed);
        let (loss_cpu, grad_cpu) = cross_entropy_reference(&logits, &targets);
        let z = upload(gpu, &logits);
        let ids = GpuIndices::from_slice(gpu, "targets", &targets);
        let loss = GpuTensor::zeros(gpu, "loss", &[1]);
        let grad = GpuTensor::zeros(gpu, "grad", &[rows, classes]);
        let dispatch = kernel.bind(gpu, &z, &ids, &loss, &grad).unwrap();
        gpu.run(&[&dispatch]);
        let what = format!("cross entropy [{rows}, {classes}]");
        assert_close!(read(gpu, &loss).await.data, loss_cpu.data, TRANSCENDENTAL, "{what}");
        assert_close!(read(gpu, &grad).await.data, grad_cpu.data, TRANSCENDENTAL, "{what}");
    }
}

/// GELU forward and backward against the autograd: TRANSCENDENTAL (tanh).
pub async fn gelu_matches_the_autograd(gpu: &Gpu) {
    let kernels = Activations::new(gpu);
    let (x, dy) = activation_inputs();
    let (y_cpu, dx_cpu) = gelu_reference(&x, &dy);
    let (x_gpu, y_gpu, grad) = (upload(gpu, &x), GpuTensor::zeros(gpu, "y", &x.shape), upload(gpu, &dy));
    let forward = kernels.bind_forward(gpu, Function::Gelu, &x_gpu, &y_gpu).unwrap();
    let backward = kernels.bind_backward(gpu, Function::Gelu, &x_gpu, &grad).unwrap();
    gpu.run(&[&forward, &backward]);
    assert_close!(read(gpu, &y_gpu).await.data, y_cpu.data, TRANSCENDENTAL, "GELU forward");
    assert_close!(read(gpu, &grad).await.data, dx_cpu.data, TRANSCENDENTAL, "GELU backward");
}

/// out += x is one f32 addition per element: EXACT.
pub async fn add_is_exact(gpu: &Gpu) {
    let x = random(&[7, 13], -2.0, 2.0, 100);
    let out = random(&[7, 13], -2.0, 2.0, 101);
    let cpu = tensor::add(&out, &x).unwrap();
    let (x_gpu, out_gpu) = (upload(gpu, &x), upload(gpu, &out));
    let dispatch = Add::new(gpu).bind(gpu, &x_gpu, &out_gpu).unwrap();
    gpu.run(&[&dispatch]);
    assert_close!(read(gpu, &out_gpu).await.data, cpu.data, Tolerance::EXACT, "add");
}

/// Views of one packed buffer start on 256-byte boundaries, read and write only their own
/// range, and leave the padding between them 0.
pub async fn packed_views_keep_to_their_ranges(gpu: &Gpu) {
    let shapes = vec![vec![3, 5], vec![70], vec![1]];
    let (whole, views) = GpuTensor::packed(gpu, "packed", &shapes);
    assert_eq!(whole.shape, [64 + 128 + 64]);
    let offsets: Vec<u64> = views.iter().map(|v| v.offset()).collect();
    assert_eq!(offsets, [0, 256, 768]);
    let values: Vec<Tensor> =
        shapes.iter().enumerate().map(|(i, s)| random(s, 1.0, 2.0, 110 + i as u64)).collect();
    for (view, value) in views.iter().zip(&values) {
        view.write(gpu, value).unwrap();
    }
    // A kernel writing into a view: the middle one doubled.
    let doubled = tensor::add(&values[1], &values[1]).unwrap();
    let copy = upload(gpu, &values[1]);
    let dispatch = Add::new(gpu).bind(gpu, &copy, &views[1]).unwrap();
    gpu.run(&[&dispatch]);
    assert_close!(read(gpu, &views[1]).await.data, doubled.data, Tolerance::EXACT, "view");
    assert_close!(read(gpu, &views[0]).await.data, values[0].data, Tolerance::EXACT, "first view");
    let all = read(gpu, &whole).await.data;
    let nonzero = all.iter().filter(|&&v| v != 0.0).count();
    assert_eq!(nonzero, 15 + 70 + 1, "the padding stays 0");
}

/// AdamW with global-norm clipping at 1 and a warmup-cosine learning rate, five steps on two
/// tensors packed into one buffer, against engine::core::optim: clip_grad_norm, then
/// Optimizer::step at Schedule::lr_at(step). Steps 0, 2 and 3 are clipped, 1 and 4 are not.
/// Tolerance: `OPTIMIZER_PARAMS`; the norm and the learning rate 1e-6 relative
/// (an f32 tree against an f64 sum; the rates are the engine's own numbers, uploaded).
pub async fn clipped_scheduled_adamw_matches_the_engine(gpu: &Gpu) {
    let kernels = Optim::new(gpu);
    let method = Method::adamw(0.1);
    let schedule = clip_schedule();
    let shapes: Vec<Vec<usize>> = CLIP_SIZES.iter().map(|&n| vec![n]).collect();
    let (all_params, params) = GpuTensor::packed(gpu, "params", &shapes);
    let (all_grads, grads) = GpuTensor::packed(gpu, "grads", &shapes);
    let starts: Vec<Tensor> =
        shapes.iter().enumerate().map(|(i, s)| random(s, -1.0, 1.0, 120 + i as u64)).collect();
    for (p, start) in params.iter().zip(&starts) {
        p.write(gpu, start).unwrap();
    }
    let mut cpu_params: Vec<Vec<f32>> = starts.iter().map(|t| t.data.clone()).collect();
    let mut cpu: Vec<Optimizer> = CLIP_SIZES.iter().map(|&n| Optimizer::new(method, n)).collect();

    let shared = OptimizerShared::new(gpu, method, 0.0);
    let table = ScheduleTable::new(gpu, 5);
    let lrs: Vec<f32> = (0..5).map(|s| schedule.lr_at(s)).collect();
    table.write(gpu, 0, &lrs).unwrap();
    let moments = Optim::moments(gpu, all_params.len());
    let step = [
        kernels.bind_clip(gpu, &shared, &all_grads, CLIP_MAX_NORM),
        kernels.bind_tick_scheduled(gpu, &shared, &table),
        kernels.bind_update(gpu, &shared, &all_params, &all_grads, &moments).unwrap(),
    ];
    for s in 0..5u64 {
        let g = clip_grads(s);
        for (view, value) in grads.iter().zip(&g) {
            view.write(gpu, value).unwrap();
        }
        gpu.run(&step.iter().collect::<Vec<_>>());

        let mut g_cpu: Vec<Vec<f32>> = g.iter().map(|t| t.data.clone()).collect();
        let mut g_refs: Vec<&mut [f32]> = g_cpu.iter_mut().map(|g| g.as_mut_slice()).collect();
        let norm = clip_grad_norm(&mut g_refs, CLIP_MAX_NORM);
        let lr = schedule.lr_at(s);
        for ((p, g), opt) in cpu_params.iter_mut().zip(&g_cpu).zip(&mut cpu) {
            opt.step(p, g, lr).unwrap();
        }
        let state = wait(shared.read(gpu)).await;
        let what = format!("step {s}");
        assert_eq!(state.t, s as u32 + 1, "{what}");
        assert_close!(state.lr, lr, Tolerance { abs: 0.0, rel: 1e-6 }, "{what} lr");
        assert_close!(state.grad_norm, norm, Tolerance { abs: 0.0, rel: 1e-6 }, "{what} norm");
        assert_eq!(state.grad_scale < 1.0, norm > CLIP_MAX_NORM, "{what}: clipped iff the norm is over 1");
        for (i, (view, p)) in params.iter().zip(&cpu_params).enumerate() {
            assert_close!(read(gpu, view).await.data, p, OPTIMIZER_PARAMS, "{what} tensor {i}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// The transformer
// ------------------------------------------------------------------------------------------

/// On the same weights and the same batch, the GPU's loss and every parameter's gradient
/// against `Transformer::loss_and_grads`, pre-norm (GELU) and post-norm (ReLU), at ragged
/// sizes (`common::transformer_config`). Tolerances: `TRANSFORMER_LOSS` and
/// `TRANSFORMER_GRAD_RELATIVE`, stated there.
pub async fn gpu_transformer_loss_and_gradients_match_the_engine(gpu: &Gpu) {
    for (norm, activation) in transformer_variants() {
        let config = transformer_config(norm, activation);
        let model = transformer_model(config, 5);
        let batch = transformer_batch(config.vocab, TRANSFORMER_BATCH, TRANSFORMER_LEN, 6);
        let (loss_cpu, grads_cpu) = model.loss_and_grads(&batch).unwrap();
        let on_gpu = GpuTransformer::new(gpu, &model, transformer_settings()).unwrap();
        let (loss_gpu, grads_gpu) = wait(on_gpu.loss_and_grads(&batch).unwrap()).await;
        let what = format!("{norm:?}/{activation:?}");
        assert_close!(loss_gpu, loss_cpu, TRANSFORMER_LOSS, "{what} loss");
        let mut worst = (0.0f32, String::new());
        for ((spec, g), c) in config.param_specs().iter().zip(&grads_gpu).zip(&grads_cpu) {
            assert_eq!(g.shape, c.shape, "{}", spec.name);
            let err = relative_to_largest(&g.data, &c.data);
            assert!(
                err <= TRANSFORMER_GRAD_RELATIVE,
                "{what} gradient of {}: largest difference {err:e} of its largest element",
                spec.name
            );
            assert!(c.data.iter().any(|&v| v != 0.0), "{} has a gradient", spec.name);
            if err > worst.0 {
                worst = (err, spec.name.clone());
            }
        }
        log!(
            "{what}: loss gpu {loss_gpu} cpu {loss_cpu}; worst gradient {} at {:e} of its largest",
            worst.1,
            worst.0
        );
    }
}

/// Ten steps against the engine's own trainer (`engine::models::train::Trainer`, what the page runs
/// on the CPU): the same model, the batches the trainer draws, its AdamW with weight decay
/// on the matrices only, its warmup-cosine rates and its clipping
/// (`common::transformer_train_config`), on the GPU in two `train` calls. Every loss, the
/// final gradient norm and learning rate, and every weight at the end, within
/// `TRANSFORMER_TRAINING`.
pub async fn gpu_transformer_trains_like_the_engine(gpu: &Gpu) {
    for (norm, activation) in transformer_variants() {
        let config = transformer_config(norm, activation);
        let settings = transformer_settings();
        let (mut trainer, batches) = trainer_and_batches(transformer_model(config, 7), 10);
        let mut on_gpu = GpuTransformer::new(gpu, &trainer.model, settings).unwrap();
        let (losses_cpu, lrs_cpu, norms_cpu) = train_on_cpu(&mut trainer, 10);

        on_gpu.train(&batches[..6]).unwrap();
        let first = wait(on_gpu.read_losses()).await;
        on_gpu.train(&batches[6..]).unwrap();
        let second = wait(on_gpu.read_losses()).await;
        let losses_gpu = [first, second].concat();
        let what = format!("{norm:?}/{activation:?}");
        assert_close!(losses_gpu, losses_cpu, TRANSFORMER_TRAINING, "{what} losses");
        assert!(losses_gpu[9] < losses_gpu[0], "{what}: the loss falls: {losses_gpu:?}");

        let state = wait(on_gpu.read_step_state()).await;
        assert_eq!((state.t, on_gpu.steps()), (10, 10));
        assert_close!(state.lr, lrs_cpu[9], Tolerance::EXACT, "{what} lr");
        assert_close!(state.grad_norm, norms_cpu[9], Tolerance { abs: 0.0, rel: 1e-4 }, "{what} norm");
        assert!(norms_cpu.iter().filter(|&&n| n > 0.5).count() >= 5, "clipping is exercised: {norms_cpu:?}");

        let back = wait(on_gpu.read_model()).await;
        let mut largest = 0.0f32;
        for ((spec, g), c) in config.param_specs().iter().zip(&back.params).zip(&trainer.model.params) {
            assert_close!(g.data, c.data, TRANSFORMER_TRAINING, "{what} {}", spec.name);
            largest = largest.max(largest_difference(&g.data, &c.data));
        }
        log!(
            "{what}: losses {:.4} → {:.4}; largest loss difference {:e}, weight difference {largest:e}",
            losses_gpu[0],
            losses_gpu[9],
            largest_difference(&losses_gpu, &losses_cpu)
        );
    }
}

/// Logits for a sequence (the page's generation) against `Transformer::logits_for`, at
/// lengths 1, 5 and the full context: the padding after the sequence changes nothing.
/// TRANSCENDENTAL-sized differences, through two layers: 1e-4 absolute on logits of size ~5.
pub async fn gpu_transformer_logits_match_the_engine(gpu: &Gpu) {
    for (norm, activation) in transformer_variants() {
        let config = transformer_config(norm, activation);
        let model = transformer_model(config, 9);
        let on_gpu = GpuTransformer::new(gpu, &model, transformer_settings()).unwrap();
        let tokens = [4, 0, 12, 7, 7, 1, 3, 9];
        for len in [1, 5, 8] {
            let cpu = model.logits_for(&tokens[..len]).unwrap();
            let gpu_logits = wait(on_gpu.logits(&tokens[..len]).unwrap()).await;
            assert_eq!(gpu_logits.shape, cpu.shape);
            let tol = Tolerance { abs: 1e-4, rel: 0.0 };
            assert_close!(gpu_logits.data, cpu.data, tol, "{norm:?} logits of {len} tokens");
        }
    }
}

/// What the page could get wrong is refused with a message, never a panic.
pub async fn gpu_transformer_refuses_bad_input(gpu: &Gpu) {
    let config = transformer_config(
        engine::models::transformer::Norm::Pre,
        engine::models::transformer::Activation::Gelu,
    );
    let model = transformer_model(config, 1);
    let mut on_gpu = GpuTransformer::new(gpu, &model, transformer_settings()).unwrap();
    let message = |r: Result<(), engine::models::transformer::ModelError>| r.unwrap_err().to_string();
    let mut bad = transformer_batch(13, 2, 7, 1);
    bad.inputs[3] = 13;
    assert_eq!(message(on_gpu.train(&[bad])), "token id 13 is outside the vocabulary of 13 tokens");
    let short = transformer_batch(13, 2, 6, 1);
    assert!(message(on_gpu.train(&[short])).contains("batches of 2 windows of 7 tokens"));
    assert!(on_gpu.logits(&[]).is_err());
    assert!(on_gpu.logits(&[0; 9]).is_err());
    assert!(on_gpu.logits(&[13]).is_err());
    let too_long = gpu::TrainSettings { len: 9, ..transformer_settings() };
    assert!(GpuTransformer::new(gpu, &model, too_long).is_err());
    assert_eq!(on_gpu.steps(), 0, "nothing was queued");
}

/// Launches per training step of chapter 5's small model (`Size::Small`: 2 layers, pre-norm,
/// GELU; the bench's batches of 8 windows of 64 tokens, clipped AdamW), per kernel. The count
/// depends only on the model's shape, so it is pinned exactly. Before the fused kernels a
/// step was 100 launches (96 post-norm): per layer 18 forward and 24 backward, then the
/// embeddings, the final layer norm, the output layer, the loss, and 4 for the optimizer
/// (clip, tick, two updates). Now 50 (48): per layer 8 forward and 12 backward, and 2 for
/// the optimizer.
pub async fn gpu_transformer_counts_its_launches(gpu: &Gpu) {
    use engine::models::gpt_recipe::Size;
    use engine::models::transformer::Transformer;
    let model = Transformer::new(Size::Small.config(65), 1).unwrap();
    let settings = gpu::TrainSettings { batch: 8, len: 64, ..transformer_settings() };
    let on_gpu = GpuTransformer::new(gpu, &model, settings).unwrap();
    let per_kernel = on_gpu.launches_per_step();
    let total: usize = per_kernel.iter().map(|(_, n)| n).sum();
    log!("launches per step: {total}: {per_kernel:?}");
    assert_eq!(total, on_gpu.step_launches().len());
    assert_eq!(total, LAUNCHES_PER_STEP, "{per_kernel:?}");
    // Chapter 5's tiny preset, one layer: 58 launches before, 30 now (10 + 20 per layer).
    let tiny = Transformer::new(Size::Tiny.config(65), 1).unwrap();
    let tiny = GpuTransformer::new(gpu, &tiny, settings).unwrap();
    assert_eq!(tiny.step_launches().len(), 30, "{:?}", tiny.launches_per_step());
    // Post-norm (ReLU) has no final layer norm.
    let post = Transformer::new(
        transformer_config(
            engine::models::transformer::Norm::Post,
            engine::models::transformer::Activation::Relu,
        ),
        1,
    )
    .unwrap();
    let post = GpuTransformer::new(gpu, &post, transformer_settings()).unwrap();
    log!("post-norm, 2 layers: {:?}", post.launches_per_step());
    assert_eq!(post.step_launches().len(), LAUNCHES_PER_STEP_POST_NORM);
}

/// Launches per training step of a 2-layer pre-norm model with clipping, and of a post-norm
/// one (see `gpu_transformer_counts_its_launches`).
const LAUNCHES_PER_STEP: usize = 50;
const LAUNCHES_PER_STEP_POST_NORM: usize = 48;

// Chapter 6: the masked LM and the causal LM of `engine::labs::mlm_vs_clm`
// ------------------------------------------------------------------------------------------

/// The play text the chapter trains on, as the page downloads it.
fn race_text() -> &'static str {
    include_str!("../../../../assets/shakespeare/tragedies.txt")
}

/// The chapter's model (`mlm_vs_clm::model_config`, 1 layer, width 32, 2 heads, context
/// 32) on one of the race's batches of 8 windows, through each mask: the MLM batch (the
/// chosen 15%, targets NOT_A_TARGET elsewhere) bidirectionally, the CLM batch causally and
/// through the leaky mask. The loss and every gradient against
/// `mlm_vs_clm::loss_and_grads` (the engine's, itself checked against finite differences in
/// `engine::labs::masked_lm`), within `TRANSFORMER_LOSS` and `TRANSFORMER_GRAD_RELATIVE`.
/// A batch with nothing graded, which the engine refuses, gives loss 0 and no gradient.
pub async fn gpu_masked_lm_loss_and_gradients_match_the_engine(gpu: &Gpu) {
    use engine::labs::masked_lm::NOT_A_TARGET;
    use engine::labs::mlm_vs_clm::{loss_and_grads, Corpus, Objective, Race, Settings};
    let corpus = std::sync::Arc::new(Corpus::from_text(race_text()).unwrap());
    let mut race = Race::new(corpus, Settings { total_steps: 10, ..Settings::default() }).unwrap();
    let model = race.mlm.model.clone();
    let (clm, mlm) = race.draw_batches();
    let graded = mlm.targets.iter().filter(|&&t| t != NOT_A_TARGET).count();
    assert_eq!(graded, 40, "5 chosen of every 32 positions");
    for (objective, batch) in [(Objective::Mlm, &mlm), (Objective::Clm, &clm), (Objective::Leaky, &clm)] {
        let attention = objective.attention();
        let (loss_cpu, grads_cpu) = loss_and_grads(&model, batch, attention).unwrap();
        let on_gpu =
            GpuTransformer::new(gpu, &model, gpu::TrainSettings::for_race(&race, objective)).unwrap();
        let (loss_gpu, grads_gpu) = wait(on_gpu.loss_and_grads(batch).unwrap()).await;
        assert_close!(loss_gpu, loss_cpu, TRANSFORMER_LOSS, "{attention:?} loss");
        let mut worst = (0.0f32, String::new());
        for ((spec, g), c) in model.config.param_specs().iter().zip(&grads_gpu).zip(&grads_cpu) {
            let err = relative_to_largest(&g.data, &c.data);
            assert!(
                err <= TRANSFORMER_GRAD_RELATIVE,
                "{attention:?} gradient of {}: largest difference {err:e} of its largest element",
                spec.name
            );
            if err > worst.0 {
                worst = (err, spec.name.clone());
            }
        }
        log!(
            "{attention:?}: loss gpu {loss_gpu} cpu {loss_cpu}; worst gradient {} at {:e}",
            worst.1,
            worst.0
        );
    }
    let none =
        engine::models::transformer::Batch { targets: vec![NOT_A_TARGET; mlm.targets.len()], ..mlm.clone() };
    assert!(loss_and_grads(&model, &none, Objective::Mlm.attention()).is_err());
    let on_gpu =
        GpuTransformer::new(gpu, &model, gpu::TrainSettings::for_race(&race, Objective::Mlm)).unwrap();
    let (loss, grads) = wait(on_gpu.loss_and_grads(&none).unwrap()).await;
    assert_eq!(loss, 0.0, "nothing graded, no loss");
    assert!(grads.iter().all(|g| g.data.iter().all(|&v| v == 0.0)), "and no gradient");
    // A bidirectional model reads whole windows only: padding would change every row.
    assert!(on_gpu.logits(&[1, 2, 3]).is_err());
}

/// Ten steps of the chapter's race (seed 1, on the play text) on the GPU against the
/// engine's `Race::step`: the MLM,
/// CLM and leaky models, each a `GpuTransformer` from the race's shared initial weights,
/// trained on the batches `Race::upcoming` gives, in two chunks. Every loss, and the
/// held-out losses after `Race::record_steps` takes in the weights read back, within
/// `RACE_TRAINING`.
pub async fn gpu_mlm_vs_clm_race_trains_like_the_engine(gpu: &Gpu) {
    use engine::labs::mlm_vs_clm::{Corpus, Objective, Race, Settings, Trained};
    let corpus = std::sync::Arc::new(Corpus::from_text(race_text()).unwrap());
    let settings = Settings { total_steps: 10, leaky: true, ..Settings::default() };
    let mut on_cpu = Race::new(corpus.clone(), settings).unwrap();
    let mut race = on_cpu.clone();
    let models = [
        (Objective::Mlm, &race.mlm.model),
        (Objective::Clm, &race.clm.model),
        (Objective::Leaky, &race.leaky.as_ref().unwrap().model),
    ];
    let mut nets: Vec<GpuTransformer> = models
        .into_iter()
        .map(|(o, m)| GpuTransformer::new(gpu, m, gpu::TrainSettings::for_race(&race, o)).unwrap())
        .collect();
    let mut clock = || 0.0;
    for chunk in [4, 6] {
        let batches = race.upcoming(chunk);
        assert_eq!(batches.len() as u64, chunk);
        let (clm, mlm): (Vec<_>, Vec<_>) = batches.into_iter().unzip();
        nets[0].train(&mlm).unwrap();
        nets[1].train(&clm).unwrap();
        nets[2].train(&clm).unwrap();
        let done = Trained {
            mlm_losses: wait(nets[0].read_losses()).await,
            clm_losses: wait(nets[1].read_losses()).await,
            leaky_losses: Some(wait(nets[2].read_losses()).await),
            mlm: wait(nets[0].read_model()).await,
            clm: wait(nets[1].read_model()).await,
            leaky: Some(wait(nets[2].read_model()).await),
        };
        race.record_steps(done).unwrap();
        on_cpu.train_for(1e9, chunk, &mut clock).unwrap();
    }
    let losses = |r: &Race| -> Vec<f32> {
        r.records.iter().flat_map(|s| [s.mlm_loss, s.clm_loss, s.leaky_loss.unwrap()]).collect()
    };
    let (gpu_losses, cpu_losses) = (losses(&race), losses(&on_cpu));
    assert_close!(gpu_losses, cpu_losses, RACE_TRAINING, "losses of the three models");
    let held = |r: &Race| -> Vec<f32> {
        let h = r.checks.last().unwrap();
        vec![h.mlm, h.clm, h.leaky.unwrap(), h.leaky_hidden.unwrap()]
    };
    assert_eq!((race.checks.last().unwrap().step, on_cpu.checks.last().unwrap().step), (10, 10));
    assert_close!(held(&race), held(&on_cpu), RACE_TRAINING, "held-out losses");
    let signals = |r: &Race| r.records.iter().map(|s| (s.mlm_signals, s.clm_signals)).collect::<Vec<_>>();
    assert_eq!(signals(&race), signals(&on_cpu));
    log!(
        "race: MLM {:.4} → {:.4}, CLM {:.4} → {:.4}; largest loss difference {:e}",
        gpu_losses[0],
        gpu_losses[27],
        gpu_losses[1],
        gpu_losses[28],
        largest_difference(&gpu_losses, &cpu_losses)
    );
}

// ------------------------------------------------------------------------------------------
// Chapter 9's MiniLM encoder
// ------------------------------------------------------------------------------------------

/// erf (WGSL has none: `math.wgsl` ports libm's) against `libm::erff` over −7..7 in steps of
/// 1/256, through every branch (|x| = 0.84375, 1.25, 1/0.35 and 6 are its edges): ERF. Its
/// slope 2/√π·e^(−x²): TRANSCENDENTAL. The exact GELU over −10..10 against the engine's
/// `gelu_erf`: GELU_ERF; its slope Φ(x) + x·φ(x): TRANSCENDENTAL.
pub async fn erf_and_exact_gelu_match_libm(gpu: &Gpu) {
    let kernels = Activations::new(gpu);
    let xs: Vec<f32> = (-1792..=1792).map(|i| i as f32 / 256.0).collect();
    let x = Tensor::from_vec(&[xs.len()], xs.clone()).unwrap();
    let (x_gpu, y_gpu, grad) =
        (upload(gpu, &x), GpuTensor::zeros(gpu, "erf", &x.shape), upload(gpu, &x.map(|_| 1.0)));
    let forward = kernels.bind_forward(gpu, Function::Erf, &x_gpu, &y_gpu).unwrap();
    let backward = kernels.bind_backward(gpu, Function::Erf, &x_gpu, &grad).unwrap();
    gpu.run(&[&forward, &backward]);
    let erf_cpu: Vec<f32> = xs.iter().map(|&x| libm::erff(x)).collect();
    let erf_gpu = read(gpu, &y_gpu).await.data;
    log!("erf: largest difference from libm::erff {:e}", largest_difference(&erf_gpu, &erf_cpu));
    assert_close!(erf_gpu, erf_cpu, ERF, "erf");
    let slope_cpu: Vec<f32> =
        xs.iter().map(|&x| std::f32::consts::FRAC_2_SQRT_PI * libm::expf(-x * x)).collect();
    assert_close!(read(gpu, &grad).await.data, slope_cpu, TRANSCENDENTAL, "erf's slope");

    let xs: Vec<f32> = (-1280..=1280).map(|i| i as f32 / 128.0).collect();
    let x = Tensor::from_vec(&[xs.len()], xs.clone()).unwrap();
    let (x_gpu, y_gpu, grad) =
        (upload(gpu, &x), GpuTensor::zeros(gpu, "gelu", &x.shape), upload(gpu, &x.map(|_| 1.0)));
    let forward = kernels.bind_forward(gpu, Function::GeluErf, &x_gpu, &y_gpu).unwrap();
    let backward = kernels.bind_backward(gpu, Function::GeluErf, &x_gpu, &grad).unwrap();
    gpu.run(&[&forward, &backward]);
    let gelu_cpu: Vec<f32> = xs.iter().map(|&x| gelu_erf(x)).collect();
    let gelu_gpu = read(gpu, &y_gpu).await.data;
    log!("exact GELU: largest difference from the engine {:e}", largest_difference(&gelu_gpu, &gelu_cpu));
    assert_close!(gelu_gpu, gelu_cpu, GELU_ERF, "exact GELU");
    let slope_cpu: Vec<f32> = xs
        .iter()
        .map(|&x| {
            let density = libm::expf(-0.5 * x * x) / libm::sqrtf(2.0 * std::f32::consts::PI);
            0.5 * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2)) + x * density
        })
        .collect();
    assert_close!(read(gpu, &grad).await.data, slope_cpu, TRANSCENDENTAL, "exact GELU's slope");
}

/// `GpuMiniLm` on a padded batch of three sequences against `MiniLm::forward` on each alone:
/// every layer's hidden states (embeddings included) within MINILM_STATES, the sentence
/// vectors to cosine > 0.9999, and `sentence_vectors` equal to pooling what `forward` read.
pub async fn gpu_minilm_matches_the_engine(gpu: &Gpu) {
    let model = MiniLm::random(SMALL_MINILM, 5).unwrap();
    let encoder = GpuMiniLm::new(gpu, &model);
    let states = wait(encoder.forward(&SMALL_MINILM_BATCH).unwrap()).await;
    assert_eq!(states.len(), SMALL_MINILM_BATCH.len());
    let mut largest = 0.0f32;
    for (ids, on_gpu) in SMALL_MINILM_BATCH.iter().zip(&states) {
        let on_cpu = model.forward(ids).unwrap();
        assert_eq!((on_gpu.tokens, on_gpu.hidden), (ids.len(), SMALL_MINILM.hidden));
        assert_eq!(on_gpu.states.len(), SMALL_MINILM.layers + 1);
        for (l, (g, c)) in on_gpu.states.iter().zip(&on_cpu.states).enumerate() {
            largest = largest.max(largest_difference(g, c));
            assert_close!(g, c, MINILM_STATES, "{} tokens, layer {l}", ids.len());
        }
        let c = cosine(&on_gpu.sentence_vector(), &on_cpu.sentence_vector());
        assert!(c > 0.9999, "{} tokens: sentence vectors' cosine {c}", ids.len());
    }
    log!("MiniLM hidden states: largest difference from the engine {largest:e}");
    let vectors = wait(encoder.sentence_vectors(&SMALL_MINILM_BATCH).unwrap()).await;
    for (v, s) in vectors.iter().zip(&states) {
        assert_close!(v, s.sentence_vector(), Tolerance::EXACT, "pooled on read-back");
    }
}

/// A sequence's real rows are the same whether it runs alone or padded beside longer ones:
/// the padding is hidden from attention and no launch mixes rows. EXACT.
pub async fn gpu_minilm_padding_changes_nothing(gpu: &Gpu) {
    let model = MiniLm::random(SMALL_MINILM, 6).unwrap();
    let encoder = GpuMiniLm::new(gpu, &model);
    let batch = wait(encoder.forward(&SMALL_MINILM_BATCH).unwrap()).await;
    for (ids, padded) in SMALL_MINILM_BATCH.iter().zip(&batch) {
        let alone = wait(encoder.forward(&[*ids]).unwrap()).await;
        for (l, (a, p)) in alone[0].states.iter().zip(&padded.states).enumerate() {
            assert_close!(a, p, Tolerance::EXACT, "{} tokens, layer {l}", ids.len());
        }
    }
}

/// No sequences, an empty one, one longer than the positions, or an id outside the
/// vocabulary: each refused with a sentence, nothing run.
pub async fn gpu_minilm_refuses_bad_input(gpu: &Gpu) {
    let model = MiniLm::random(SMALL_MINILM, 7).unwrap();
    let encoder = GpuMiniLm::new(gpu, &model);
    let too_long = [1u32; SMALL_MINILM.positions + 1];
    for (batch, what) in [
        (vec![], "no sequences"),
        (vec![&[1u32, 2][..], &[][..]], "an empty sequence"),
        (vec![&too_long[..]], "too long"),
        (vec![&[1u32, 50][..]], "an id outside the vocabulary"),
    ] {
        let error = encoder.forward(&batch).err().unwrap_or_else(|| panic!("{what} was accepted"));
        log!("{what}: {error}");
    }
}

/// `GpuMiniLm::builder`, a step at a time (the word table 16 rows a step: 4 steps for 50
/// rows, then a step per layer, then the pipelines), counts its steps, will not finish early,
/// and gives the same encoder as `GpuMiniLm::new`: every hidden state EXACT.
pub async fn gpu_minilm_built_step_by_step_is_the_same(gpu: &Gpu) {
    let model = MiniLm::random(SMALL_MINILM, 8).unwrap();
    let mut early = GpuMiniLm::builder(gpu, &model).word_rows_per_step(16);
    early.step();
    assert!(early.finish().is_none(), "finished after 1 of 7 steps");
    let mut builder = GpuMiniLm::builder(gpu, &model).word_rows_per_step(16);
    assert_eq!(builder.steps(), 4 + SMALL_MINILM.layers + 1);
    let mut done = vec![builder.steps_done()];
    while builder.step() {
        done.push(builder.steps_done());
    }
    done.push(builder.steps_done());
    assert_eq!(done, [0, 1, 2, 3, 4, 5, 6, 7]);
    let stepped = builder.finish().expect("every step was taken");
    let whole = GpuMiniLm::new(gpu, &model);
    let a = wait(stepped.forward(&SMALL_MINILM_BATCH).unwrap()).await;
    let b = wait(whole.forward(&SMALL_MINILM_BATCH).unwrap()).await;
    for (s, w) in a.iter().zip(&b) {
        assert_close!(s.states.concat(), w.states.concat(), Tolerance::EXACT, "stepped against whole");
    }
    let on_cpu = model.forward(SMALL_MINILM_BATCH[1]).unwrap();
    assert_close!(a[1].states.concat(), on_cpu.states.concat(), MINILM_STATES, "stepped against the engine");
}

// ------------------------------------------------------------------------------------------
// Chapter 9: skip-gram word vectors
// ------------------------------------------------------------------------------------------

/// A small skip-gram run: the first 60,000 characters of the play text, 300 words kept,
/// 16 dimensions, window 3, 4 noise words; minibatches of 64 pairs, chunks of 300 positions.
fn small_skip_gram() -> (engine::models::skip_gram::Corpus, engine::models::skip_gram::SkipGram) {
    use engine::models::skip_gram::{Corpus, SkipGram, SkipGramConfig};
    let text: String = race_text().chars().take(60_000).collect();
    let corpus = Corpus::new(&text, 300).unwrap();
    // A larger learning rate than the chapter's 0.025, so that the loss falls within a few chunks.
    let config = SkipGramConfig {
        dim: 16,
        window: 3,
        negatives: 4,
        learning_rate: 0.1,
        passes: 2,
        ..SkipGramConfig::default()
    };
    let model = SkipGram::new(&corpus, config).unwrap();
    (corpus, model)
}

/// Eight chunks of chapter 9's skip-gram on the GPU against the engine's
/// `SkipGram::apply_batched` on the same pairs (drawn once by the engine's sampler): each
/// chunk's mean loss within `SKIP_GRAM_LOSS`, and both weight tables at the end within
/// `SKIP_GRAM_WEIGHTS`. The first chunk starts at 5·log 2 (zero context vectors) and the loss
/// falls (with a learning rate of 0.1; at 0.5 minibatches of 64 diverge).
pub async fn gpu_skip_gram_trains_like_the_engine_in_minibatches(gpu: &Gpu) {
    let (corpus, mut cpu) = small_skip_gram();
    let positions = 300;
    let capacity = 2 * cpu.config.window * positions;
    let mut net = gpu::GpuSkipGram::new(gpu, &cpu, 64, capacity).unwrap();
    let (mut gpu_losses, mut cpu_losses) = (Vec::new(), Vec::new());
    for _ in 0..8 {
        let samples = cpu.sampler.draw(&corpus, positions);
        net.train(&samples).unwrap();
        gpu_losses.push(wait(net.read_loss()).await);
        cpu_losses.push(cpu.apply_batched(&samples, 64));
    }
    assert_close!(gpu_losses, cpu_losses, SKIP_GRAM_LOSS, "each chunk's mean loss");
    let (centre, context) = wait(net.read_weights()).await;
    assert_close!(centre, cpu.centre, SKIP_GRAM_WEIGHTS, "centre vectors");
    assert_close!(context, cpu.context, SKIP_GRAM_WEIGHTS, "context vectors");
    assert!(cpu_losses[0] < 5.0 * core::f32::consts::LN_2 && cpu_losses[0] > 3.0);
    assert!(gpu_losses[7] < gpu_losses[0] - 0.5, "the loss falls: {gpu_losses:?}");
    assert_eq!(net.pairs, cpu.sampler.pairs_seen);
    log!(
        "skip-gram: loss {:.4} → {:.4} over {} pairs; largest differences: loss {:e}, centre {:e}, context {:e}",
        gpu_losses[0],
        gpu_losses[7],
        net.pairs,
        largest_difference(&gpu_losses, &cpu_losses),
        largest_difference(&centre, &cpu.centre),
        largest_difference(&context, &cpu.context)
    );
}

/// Pairs with the wrong number of targets, more pairs than a chunk holds, or a word outside
/// the vocabulary are refused with a sentence, and nothing is queued.
pub async fn gpu_skip_gram_refuses_pairs_that_do_not_fit(gpu: &Gpu) {
    let (corpus, mut cpu) = small_skip_gram();
    let mut net = gpu::GpuSkipGram::new(gpu, &cpu, 64, 100).unwrap();
    let mut samples = cpu.sampler.draw(&corpus, 200);
    assert!(samples.pairs() > 100);
    let err = net.train(&samples).unwrap_err().to_string();
    assert!(err.contains("at most 100 pairs"), "{err}");
    samples.centres.truncate(10);
    samples.rates.truncate(10);
    samples.targets.truncate(50);
    samples.targets[7] = 300;
    let err = net.train(&samples).unwrap_err().to_string();
    assert!(err.contains("word id 300"), "{err}");
    samples.slots = 4;
    assert!(net.train(&samples).is_err());
    assert_eq!(net.pairs, 0);
    let (centre, _) = wait(net.read_weights()).await;
    assert_eq!(centre, cpu.centre, "nothing was trained");
}

/// Chapter 10's attention-only transformer: the loss and every gradient for one batch,
/// against `engine::labs::induction_heads::Model::loss_and_grads`, for the chapter's
/// two-layer model and its one-layer twin at their initial weights (each sequence's last
/// position is not graded).
pub async fn gpu_induction_loss_and_gradients_match_the_engine(gpu: &Gpu) {
    use engine::labs::induction_heads::{Batches, Config, Model};
    for config in [Config::two_layer(1), Config::one_layer(2)] {
        let model = Model::new(config).unwrap();
        let batch = Batches::new(config).next_batch();
        let (loss_cpu, grads_cpu) = model.loss_and_grads(&batch).unwrap();
        let on_gpu = GpuInduction::new(gpu, config, &model.params).unwrap();
        let (loss_gpu, grads_gpu) = wait(on_gpu.loss_and_grads(&batch).unwrap()).await;
        assert_close!(loss_gpu, loss_cpu, TRANSFORMER_LOSS, "{} layers: loss", config.n_layers);
        assert_eq!(grads_gpu.len(), grads_cpu.len());
        let mut worst = (0.0f32, 0);
        for (i, (g, c)) in grads_gpu.iter().zip(&grads_cpu).enumerate() {
            assert_eq!(g.shape, c.shape, "tensor {i}");
            assert!(c.data.iter().any(|&v| v != 0.0), "tensor {i} has a gradient");
            let err = relative_to_largest(&g.data, &c.data);
            assert!(
                err <= INDUCTION_GRAD_RELATIVE,
                "{} layers: gradient of tensor {i}: {err:e}",
                config.n_layers
            );
            if err > worst.0 {
                worst = (err, i);
            }
        }
        log!(
            "induction, {} layers: loss gpu {loss_gpu} cpu {loss_cpu}; worst gradient tensor {} at {:e} of its largest; {} launches a step",
            config.n_layers,
            worst.1,
            worst.0,
            on_gpu.launches_per_step()
        );
    }
}

/// Thirty Adam steps of the chapter's two-layer model against the engine's own trainer
/// (`Trainer::step`, what the page runs on the CPU), on the batches the trainer draws, in
/// two chunks (20 + 10 steps): every loss, then the weights copied aside at steps 10, 20 and
/// 30, taken into a second trainer with `Trainer::adopt`, give the evaluation history of the
/// CPU run (losses on first and repeated tokens, every head's scores).
pub async fn gpu_induction_trains_like_the_engine(gpu: &Gpu) {
    use engine::labs::induction_heads::{Config, Trainer};
    let config = Config::two_layer(1);
    let mut on_cpu = Trainer::new(config).unwrap();
    let mut fed = on_cpu.clone();
    let mut stream = on_cpu.batches();
    let mut on_gpu = GpuInduction::new(gpu, config, &on_cpu.model.params).unwrap();
    let losses_cpu: Vec<f32> = (0..30).map(|_| on_cpu.step().unwrap()).collect();
    let mut losses_gpu = vec![];
    for chunk in [20, 10] {
        let batches: Vec<_> = (0..chunk).map(|_| stream.next_batch()).collect();
        on_gpu.train(&batches).unwrap();
        losses_gpu.extend(wait(on_gpu.read_losses()).await);
        for (step, params) in wait(on_gpu.read_snapshots()).await {
            fed.adopt(step, params).unwrap();
        }
    }
    assert_eq!(on_gpu.steps(), 30);
    assert_close!(losses_gpu, losses_cpu, INDUCTION_TRAINING, "losses");
    assert!(losses_gpu[29] < losses_gpu[0] - 1.0, "the loss falls: {losses_gpu:?}");
    assert_eq!(fed.history.len(), 4);
    let numbers = |t: &Trainer| -> Vec<f32> {
        t.history
            .iter()
            .flat_map(|e| {
                [vec![e.first_loss, e.repeated_loss], e.previous_token.clone(), e.induction.clone()].concat()
            })
            .collect()
    };
    assert_eq!(fed.history.iter().map(|e| e.step).collect::<Vec<_>>(), [0, 10, 20, 30]);
    assert_close!(numbers(&fed), numbers(&on_cpu), INDUCTION_TRAINING, "evaluations");
    let back = wait(on_gpu.read_params()).await;
    let mut largest = 0.0f32;
    for (i, (g, c)) in back.iter().zip(&on_cpu.model.params).enumerate() {
        assert_close!(g.data, c.data, INDUCTION_TRAINING, "tensor {i}");
        largest = largest.max(largest_difference(&g.data, &c.data));
    }
    log!(
        "induction: losses {:.4} → {:.4}; largest loss difference {:e}, evaluation {:e}, weight {largest:e}",
        losses_gpu[0],
        losses_gpu[29],
        largest_difference(&losses_gpu, &losses_cpu),
        largest_difference(&numbers(&fed), &numbers(&on_cpu))
    );
}
