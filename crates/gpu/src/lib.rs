//! The book's GPU layer: WGSL compute kernels run through wgpu (WebGPU in the browser,
//! Vulkan, Metal or DX12 natively), each checked against the CPU reference in crates/engine.
//!
//! # Layers
//! The crate is in three layers, each using only the ones above it:
//! - the device and the shared machinery: [`device`] (acquiring a GPU, noticing its loss),
//!   [`kernel`] (a compiled pipeline and a dispatch bound to its buffers) and [`tensor`]
//!   (buffers shaped like the engine's tensors, and reading them back);
//! - [`kernels`]: one operation per pair of files, `op.rs` (shapes, settings, launch size)
//!   beside `op.wgsl` (the arithmetic), with `math.wgsl` and `reduce.wgsl` as shared WGSL
//!   helpers;
//! - [`models`]: the networks the chapters train, built from those kernels.
//!
//! # What is on the GPU
//! The kernels, each with the engine function it is checked against:
//!
//! | kernel | computes | CPU reference |
//! |---|---|---|
//! | [`matmul`](kernels::matmul) | C = op(A)·op(B), transposes as flags; 32x32 tiles in workgroup memory, a 4x4 block per invocation | `tensor::matmul_transposed` |
//! | [`add_bias`](kernels::add_bias) | x += bias, the row added to every row | `tensor::add` |
//! | [`activation`](kernels::activation) | ReLU, tanh, sigmoid: y = f(x) and dx = dy·f'(x) | `autograd::Graph::{relu, tanh, sigmoid}` |
//! | [`bce`](kernels::bce) | mean binary cross-entropy of logits, and dL/dz | `autograd::Graph::bce_with_logits` |
//! | [`col_sum`](kernels::col_sum) | column sums (bias gradients) | `tensor::sum_to_shape` |
//! | [`optim`](kernels::optim) | SGD, momentum, RMSProp, Adam, Adam+L2, AdamW (decay on a leading range); global-norm clipping, alone or with the step count; a learning rate per step | `optim::Optimizer::step`, `optim::clip_grad_norm`, `optim::Schedule` |
//! | [`batched_matmul`](kernels::batched_matmul) | `C[z] (+)= A[z]·B[z]` through strided views (Q, K, V from three weights at once), or the sum of the products; 8x8 blocks per invocation | `tensor::matmul_transposed` |
//! | [`embedding`](kernels::embedding) | gather of table rows (of one table, or the sum of two); its gradient as a scatter-add without atomics | `autograd::Graph::embedding` |
//! | [`layer_norm`](kernels::layer_norm) | y = x̂·γ + β per row, optionally after x ← x + bias + residual; dx, dγ, dβ in one launch | `autograd::Graph::layer_norm` |
//! | [`attention`](kernels::attention) | every head's scores, mask, softmax and weighted sum in one launch; the gradients (through W_O too) in two | `transformer::Transformer::loss_and_grads` |
//! | [`causal_softmax`](kernels::causal_softmax) | scale, mask (causal, bidirectional or sees-next), row softmax; and back | `tensor::softmax_rows`, `transformer::Attention::mask` |
//! | [`cross_entropy`](kernels::cross_entropy) | mean cross-entropy over the graded rows (targets not `NOT_A_TARGET`), and dL/dlogits | `autograd::Graph::cross_entropy` |
//! | [`add`](kernels::add) | out += x (residual connections) | `tensor::add` |
//! | [`skip_gram`](kernels::skip_gram) | a minibatch of skip-gram pairs: scores, each touched row's summed gradient (from per-row lists, no atomics), the updates; the chunk's mean loss | `skip_gram::SkipGram::apply_batched` |
//!
//! ([`kernels::activation`] also has GELU, `autograd::Graph::gelu`, the exact GELU with erf,
//! `minilm::gelu_erf` and `libm::erff`, and variants that add a bias first, and sum bias
//! gradients in the backward pass. [`kernels::attention`] also hides each padded sequence's
//! padding, BERT's attention mask.)
//!
//! [`models::mlp::GpuMlp`] puts them together into chapter 3's XOR network, and through
//! [`models::mlp::GpuMlp::on_data`] into the network of chapter 8's two-moons race;
//! [`models::transformer::GpuTransformer`] into the engine's decoder-only transformer
//! (`engine::models::transformer`): the same parameters in one packed buffer
//! ([`tensor::GpuTensor::packed`]), trained in chunks of steps with one submit each; with
//! bidirectional attention and ungraded targets it is also chapter 6's masked LM
//! ([`models::transformer::TrainSettings::for_race`]); [`models::minilm::GpuMiniLm`] into
//! chapter 9's sentence encoder (`engine::models::minilm`), a batch of padded sentences per
//! forward pass.
//! [`models::skip_gram::GpuSkipGram`] trains chapter 9's skip-gram word vectors on pairs the
//! engine draws (`engine::models::skip_gram::Sampler`), a chunk per submit, in minibatches
//! whose gradients are summed per row, as the engine's `SkipGram::apply_batched` does.
//!
//! # State is built once
//! A [`device::Gpu`] is acquired once ([`device::Gpu::request`], async). Pipelines are
//! compiled once per kernel ([`kernel::Kernel`]); buffers and their bind groups are built
//! once into [`kernel::Dispatch`]es. A training step is then only recorded and submitted:
//! [`models::mlp::GpuMlp::train`] records n steps into one command encoder, one submit, with no
//! readback.
//!
//! # What is read back, when
//! Only what the page shows, when it asks: the losses of the latest `train` call, the
//! predictions on the four XOR points, a decision-surface grid, or the weights as a
//! checkpoint. Each read copies into a staging buffer and awaits `map_async` through a
//! oneshot channel ([`tensor::read_back`]): the browser is never blocked. Natively the same
//! future polls the device until the copy is done.
//!
//! # Training XOR from a page
//! Everything that waits is async, and nothing blocks the browser:
//! ```no_run
//! # async fn page() -> Result<(), gpu::GpuError> {
//! use engine::models::mlp::{XorConfig, XOR_INPUTS};
//! // Once. An Err says why in words; the page then stays on the CPU (crates/engine).
//! let gpu = gpu::Gpu::request().await?;
//! gpu.on_lost(|reason| { /* switch the widget to the CPU */ });
//! let mut net = gpu::GpuMlp::new(&gpu, XorConfig::default());
//! // Each animation frame: queue some steps, then read what the page shows.
//! net.train(50);
//! let losses = net.read_losses().await?; // the 50 losses, each before its update
//! let probs = net.read_predictions().await?; // on the four XOR points
//! let surface = net.predict_grid(&XOR_INPUTS).await?; // any points, e.g. a grid
//! let checkpoint = net.weights().await?; // an engine::models::mlp::Mlp, to go on on the CPU
//! # Ok(()) }
//! ```
//!
//! # Tolerance policy
//! A GPU result is compared with the engine's result for the same inputs, element by
//! element: |gpu − cpu| ≤ abs + rel·|cpu| (`engine::assert_close!`), with a bound that
//! follows from the arithmetic, stated beside each test:
//! - Exact (0) where both sides do the same f32 operations in the same order: bias add,
//!   column sums, ReLU.
//! - Sums of products (matmul): same order on both sides, but a GPU may fuse a multiply
//!   and an add into one rounding. Either side is within k·ε·Σ|a·b| of the exact sum, so we
//!   allow twice that.
//! - exp, log, tanh and sqrt: WGSL allows a few ulps more error than libm (exp is within
//!   3 + 2|x| ulp), so these get a relative tolerance of a few 1e-6.
//! - Training runs: the differences above feed back through every step, so losses are
//!   compared with a tolerance measured and stated in the test, and the end result is
//!   checked the way the book checks it (predictions within 0.1 of XOR).
//!
//! Each test case is written once, as an async body in `tests/common/cases.rs`, and run on
//! both targets: natively (`tests/match_engine.rs`) on any Vulkan device, including Mesa's
//! software lavapipe, and in headless Chromium on WebGPU (`tests/web.rs`), through
//! wasm-bindgen-test-runner with this crate's `webdriver.json` (`cargo xtask test` runs
//! both). A machine or browser without an adapter fails them with a message; it never
//! skips them.

pub mod device;
pub mod kernel;
pub mod kernels;
pub mod models;
pub mod tensor;

pub use device::{Gpu, GpuError};
pub use models::induction::GpuInduction;
pub use models::minilm::{GpuMiniLm, GpuMiniLmBuilder};
pub use models::mlp::GpuMlp;
pub use models::skip_gram::GpuSkipGram;
pub use models::transformer::{GpuTransformer, TrainSettings};
pub use tensor::GpuTensor;
