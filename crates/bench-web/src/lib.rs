//! The in-browser half of `cargo xtask bench`: what we time beside TensorFlow.js.
//!
//! The bench page (`tests/bench/`) loads this crate compiled to wasm (release, simd128, the
//! same profile as the book) next to TensorFlow.js, and calls these functions in turn with
//! TensorFlow.js's own matmuls, alternating round by round so both see the same machine load:
//!
//! - [`cpu_matmul_gflops`]: `engine::core::tensor::matmul_into` in WebAssembly, against
//!   tfjs-backend-wasm.
//! - [`gpu_matmul_gflops`]: the WGSL matmul of `crates/gpu` on WebGPU, against
//!   tfjs-backend-webgpu on the same adapter.
//! - [`cpu_xor`] and [`gpu_xor`]: chapter 3's 10,000 XOR epochs on each backend.
//! - [`cpu_gpt`] and [`gpu_gpt`]: chapter 5's tiny GPT trained for a few steps on each
//!   backend, on the same weights and batches, with every step's loss returned so the page
//!   can check that the two computed the same run.
//!
//! Every timed function returns a rate or a duration measured with `performance.now()`; the
//! runner takes the median of several rounds. [`bench_matrix`] and [`cpu_matmul`] give both
//! sides the same inputs and a reference answer, so the page can check that every
//! implementation computed the same product before it trusts the speed.

use engine::core::rng::Rng;
use engine::core::tensor::{matmul_into, Tensor};
use engine::models::gpt_recipe::{Settings, Size};
use engine::models::mlp::{Mlp, XorConfig, XOR_INPUTS};
use engine::models::train::Trainer;
use engine::models::transformer::{Batch, Transformer};
use gpu::kernels::matmul::Matmul;
use gpu::{Gpu, GpuError, GpuMlp, GpuTensor, GpuTransformer, TrainSettings};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// Floating-point operations in one product of two n x n matrices: n² entries, each a dot
/// product of length n (n multiplies and n adds).
pub fn matmul_flops(n: usize) -> f64 {
    2.0 * (n as f64).powi(3)
}

/// The rate, in GFLOP/s, of `count` n x n products done in `ms` milliseconds.
pub fn gflops(n: usize, count: usize, ms: f64) -> f64 {
    matmul_flops(n) * count as f64 / (ms * 1e-3) / 1e9
}

/// Runs `body` again and again until at least `min_ms` have passed on `clock` (milliseconds),
/// and returns how many times it ran and the time that took. Timing many runs as one keeps
/// the clock's coarse resolution (0.1 ms in a browser) from mattering.
pub fn repeat_for(min_ms: f64, mut clock: impl FnMut() -> f64, mut body: impl FnMut()) -> (usize, f64) {
    let start = clock();
    let mut count = 0;
    loop {
        body();
        count += 1;
        let elapsed = clock() - start;
        if elapsed >= min_ms {
            return (count, elapsed);
        }
    }
}

/// The page's clock: `performance.now()`, in milliseconds.
fn now() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map_or_else(js_sys::Date::now, |performance| performance.now())
}

/// An n x n matrix of standard normal values from the engine's seeded generator, row-major.
/// The page hands the same matrices to TensorFlow.js.
#[wasm_bindgen]
pub fn bench_matrix(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = Rng::new(u64::from(seed));
    (0..n * n).map(|_| rng.normal()).collect()
}

/// The reference product A·B of two n x n matrices, by the engine on the CPU.
#[wasm_bindgen]
pub fn cpu_matmul(a: &[f32], b: &[f32], n: usize) -> Result<Vec<f32>, JsError> {
    check_square(a, b, n)?;
    let mut c = vec![0.0; n * n];
    matmul_into(a, b, &mut c, n, n, n);
    Ok(c)
}

/// One timed round of the engine's matmul in WebAssembly: products of the two
/// [`bench_matrix`] inputs (seeds 1 and 2) one after another until `min_ms` have passed.
/// Returns GFLOP/s. Only the products are timed, not making the inputs.
#[wasm_bindgen]
pub fn cpu_matmul_gflops(n: usize, min_ms: f64) -> f64 {
    let (a, b) = (bench_matrix(n, 1), bench_matrix(n, 2));
    let mut c = vec![0.0; n * n];
    let (count, ms) = repeat_for(min_ms, now, || matmul_into(&a, &b, &mut c, n, n, n));
    gflops(n, count, ms)
}

thread_local! {
    /// The page's GPU and the compiled matmul pipeline, made on first use.
    static GPU: RefCell<Option<(Gpu, Matmul)>> = const { RefCell::new(None) };
}

/// The page's device and matmul pipeline, requested once.
async fn gpu_and_matmul() -> Result<(Gpu, Matmul), GpuError> {
    if let Some(ready) = GPU.with(|slot| slot.borrow().clone()) {
        return Ok(ready);
    }
    let gpu = Gpu::request().await?;
    let ready = (gpu.clone(), Matmul::new(&gpu));
    GPU.with(|slot| *slot.borrow_mut() = Some(ready.clone()));
    Ok(ready)
}

/// The adapter our WGSL runs on, in words, and whether it is a software rasterizer.
#[wasm_bindgen]
pub async fn gpu_adapter() -> Result<String, JsError> {
    let (gpu, _) = gpu_and_matmul().await?;
    let kind = if gpu.is_software() { "software" } else { "hardware" };
    Ok(format!("{} [{kind}]", gpu.describe()))
}

/// A·B by the WGSL matmul, read back: checked by the page against [`cpu_matmul`].
#[wasm_bindgen]
pub async fn gpu_matmul(a: Vec<f32>, b: Vec<f32>, n: usize) -> Result<Vec<f32>, JsError> {
    check_square(&a, &b, n)?;
    let (gpu, matmul) = gpu_and_matmul().await?;
    let (ga, gb) = (upload(&gpu, a, n)?, upload(&gpu, b, n)?);
    let gc = GpuTensor::zeros(&gpu, "c", &[n, n]);
    gpu.run(&[&matmul.bind(&gpu, &ga, false, &gb, false, &gc)?]);
    Ok(gc.read(&gpu).await?.data)
}

/// One timed round of the WGSL matmul: batches of `batch` products, each batch recorded into
/// one compute pass and submitted, then C read back to the CPU and awaited (which is when we
/// know the GPU has finished), until `min_ms` have passed. Returns GFLOP/s.
///
/// Uploading the inputs and binding the buffers happen before the clock starts; the
/// pipeline is compiled once per page, so the runner's unmeasured warm-up round pays for it.
#[wasm_bindgen]
pub async fn gpu_matmul_gflops(n: usize, batch: usize, min_ms: f64) -> Result<f64, JsError> {
    let (gpu, matmul) = gpu_and_matmul().await?;
    let (ga, gb) = (upload(&gpu, bench_matrix(n, 1), n)?, upload(&gpu, bench_matrix(n, 2), n)?);
    let gc = GpuTensor::zeros(&gpu, "c", &[n, n]);
    let dispatch = matmul.bind(&gpu, &ga, false, &gb, false, &gc)?;
    let products = vec![&dispatch; batch.max(1)];
    // An async loop, so `repeat_for` (which takes a plain closure) does not fit here.
    let start = now();
    let mut count = 0;
    loop {
        gpu.run(&products);
        gc.read(&gpu).await?;
        count += products.len();
        let ms = now() - start;
        if ms >= min_ms {
            return Ok(gflops(n, count, ms));
        }
    }
}

/// A finished XOR run: how long it took and where it ended.
#[wasm_bindgen(getter_with_clone)]
pub struct XorRun {
    /// Wall time of the training, milliseconds.
    pub ms: f64,
    /// The loss of the last epoch.
    pub loss: f32,
    /// Predicted P(XOR = 1) on the four inputs, in the order of `XOR_INPUTS`.
    pub predictions: Vec<f32>,
}

/// Chapter 3's network (the default settings: 2-4-1, ReLU, He, SGD at 0.5) trained `epochs`
/// full-batch epochs by the engine in WebAssembly. Building the network is not timed.
#[wasm_bindgen]
pub fn cpu_xor(epochs: usize) -> XorRun {
    let mut net = Mlp::new(XorConfig::default());
    let start = now();
    let losses = net.train(epochs);
    let ms = now() - start;
    XorRun {
        ms,
        loss: losses.last().copied().unwrap_or(f32::NAN),
        predictions: net.predict_many(&XOR_INPUTS),
    }
}

/// The same network trained on WebGPU the way the chapter 3 widget drives it: `chunk`
/// epochs queued in one submit, then that chunk's losses read back and awaited, until
/// `epochs` are done. Building the network (buffers, bind groups) is not timed; the
/// pipelines are compiled when it is built.
#[wasm_bindgen]
pub async fn gpu_xor(epochs: usize, chunk: usize) -> Result<XorRun, JsError> {
    let (gpu, _) = gpu_and_matmul().await?;
    let mut net = GpuMlp::new(&gpu, XorConfig::default());
    let chunk = chunk.max(1);
    let start = now();
    let mut loss = f32::NAN;
    let mut done = 0;
    while done < epochs {
        let steps = chunk.min(epochs - done);
        net.train(steps);
        loss = net.read_losses().await?.last().copied().unwrap_or(f32::NAN);
        done += steps;
    }
    let ms = now() - start;
    Ok(XorRun { ms, loss, predictions: net.read_predictions().await? })
}

/// A finished tiny-GPT run: how long its steps took, how many tokens they trained on, and
/// each step's loss.
#[wasm_bindgen(getter_with_clone)]
pub struct GptRun {
    /// Wall time of the steps, milliseconds (building the model is not timed).
    pub ms: f64,
    /// Tokens trained on: steps × 8 windows × 64 characters.
    pub tokens: f64,
    /// Each step's loss, in order.
    pub losses: Vec<f32>,
}

/// The training panel's recipe for preset `size` ("tiny", "small" or "large") on a seeded
/// stream of 100,000 random characters from its 73-character vocabulary (the speed of a step
/// does not depend on the text), and the first `steps` batches the trainer will draw.
pub fn gpt_setup(size: &str, steps: usize) -> Result<(Trainer, Vec<Batch>), String> {
    let settings = Settings { size: Size::from_value(size), total_steps: 1_000, ..Settings::default() };
    let config = settings.size.config(73);
    let mut rng = Rng::new(5);
    let text: Vec<usize> = (0..100_000).map(|_| rng.below(config.vocab)).collect();
    let model = Transformer::new(config, settings.seed).map_err(|e| e.to_string())?;
    let trainer = Trainer::new(model, text, settings.train_config()).map_err(|e| e.to_string())?;
    let mut drawer = trainer.clone();
    let batches = (0..steps).map(|_| drawer.draw_batch()).collect();
    Ok((trainer, batches))
}

/// `steps` steps of the panel's CPU path (`engine::models::train::Trainer`) in WebAssembly.
#[wasm_bindgen]
pub fn cpu_gpt(size: &str, steps: usize) -> Result<GptRun, JsError> {
    let (mut trainer, _) = gpt_setup(size, 0).map_err(|e| JsError::new(&e))?;
    let tokens = (steps * trainer.config.batch * trainer.config.len) as f64;
    let start = now();
    let losses = (0..steps)
        .map(|_| trainer.step().map(|r| r.loss))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(GptRun { ms: now() - start, tokens, losses })
}

/// The same steps on WebGPU (`gpu::GpuTransformer`), as the panel drives it: `chunk` steps
/// queued in one submit, then their losses read back and awaited.
#[wasm_bindgen]
pub async fn gpu_gpt(size: &str, steps: usize, chunk: usize) -> Result<GptRun, JsError> {
    let (gpu, _) = gpu_and_matmul().await?;
    let (trainer, batches) = gpt_setup(size, steps).map_err(|e| JsError::new(&e))?;
    let mut model = GpuTransformer::new(&gpu, &trainer.model, TrainSettings::from_config(&trainer.config))
        .map_err(|e| JsError::new(&e.to_string()))?;
    let tokens = (steps * trainer.config.batch * trainer.config.len) as f64;
    let start = now();
    let mut losses = vec![];
    for part in batches.chunks(chunk.max(1)) {
        model.train(part).map_err(|e| JsError::new(&e.to_string()))?;
        losses.extend(model.read_losses().await?);
    }
    Ok(GptRun { ms: now() - start, tokens, losses })
}

fn check_square(a: &[f32], b: &[f32], n: usize) -> Result<(), JsError> {
    if a.len() != n * n || b.len() != n * n {
        return Err(JsError::new(&format!(
            "expected two {n} x {n} matrices ({} values each), got {} and {}",
            n * n,
            a.len(),
            b.len()
        )));
    }
    Ok(())
}

fn upload(gpu: &Gpu, values: Vec<f32>, n: usize) -> Result<GpuTensor, JsError> {
    let tensor = Tensor::from_vec(&[n, n], values).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(GpuTensor::from_tensor(gpu, "bench input", &tensor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_of_n_by_n_matrices_costs_2n_cubed_flops() {
        // n = 2 by hand: 4 entries, each 2 multiplies and 2 adds.
        assert_eq!(matmul_flops(2), 16.0);
        assert_eq!(matmul_flops(512), 268_435_456.0);
        // 10 products at n = 100 (2e6 flops each) in 4 ms: 2e7 / 4e-3 s = 5 GFLOP/s.
        assert!((gflops(100, 10, 4.0) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn repeat_for_runs_until_the_time_is_up_and_reports_it() {
        // A fake clock that advances 0.3 ms per reading: start, then one reading per run.
        let mut t = 0.0;
        let clock = || {
            t += 0.3;
            t
        };
        let mut runs = 0;
        let (count, ms) = repeat_for(1.0, clock, || runs += 1);
        // Readings 0.3 (start), 0.6, 0.9, 1.2, 1.5: elapsed 0.3, 0.6, 0.9, 1.2 after runs 1-4.
        assert_eq!((count, runs), (4, 4));
        assert!((ms - 1.2).abs() < 1e-9);
    }

    #[test]
    fn the_gpt_bench_uses_the_panels_presets_and_batches() {
        let (trainer, batches) = gpt_setup("small", 3).unwrap();
        assert_eq!(trainer.model.config.param_count(), 108_352, "the shipped shape");
        assert_eq!((trainer.config.batch, trainer.config.len), (8, 64));
        assert_eq!(batches.len(), 3);
        // The batches are the ones the CPU trainer draws next.
        let mut cpu = trainer.clone();
        assert_eq!(cpu.draw_batch(), batches[0]);
        assert_eq!(gpt_setup("tiny", 0).unwrap().0.model.config.d_model, 32);
    }

    #[test]
    fn repeat_for_runs_at_least_once() {
        let (count, _) = repeat_for(0.0, || 0.0, || {});
        assert_eq!(count, 1);
    }

    #[test]
    fn bench_matrices_are_seeded_and_the_reference_product_is_checked() {
        assert_eq!(bench_matrix(3, 1), bench_matrix(3, 1));
        assert_ne!(bench_matrix(3, 1), bench_matrix(3, 2));
        let c = cpu_matmul(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0], 2).ok();
        // [[1, 2], [3, 4]]·[[5, 6], [7, 8]] = [[19, 22], [43, 50]].
        assert_eq!(c, Some(vec![19.0, 22.0, 43.0, 50.0]));
    }
}
