//! Chapter 3's XOR network on the GPU: `engine::models::mlp::Mlp`, step for step.
//!
//! The network is the engine's 2-H-1 (hidden activation ReLU, tanh or sigmoid; sigmoid
//! output with binary cross-entropy; full batch of the four XOR points, or of any labelled
//! 2-D points through [`GpuMlp::on_data`] (chapter 8 uses two moons); any optimizer of
//! `engine::core::optim`). It starts from the engine's own initial weights: [`GpuMlp::new`] builds
//! `engine::models::mlp::Mlp::new(config)` and uploads its parameters, so a seed means the same
//! network on both sides.
//!
//! Everything is built once in [`GpuMlp::new`]: buffers, pipelines and the 17 dispatches of
//! one training step. [`GpuMlp::train`] then records n steps into one command encoder and
//! submits them, reading nothing back. The page reads only what it shows, when it shows it:
//! [`GpuMlp::read_losses`], [`GpuMlp::read_predictions`], [`GpuMlp::predict_grid`].

use std::future::Future;

use engine::core::tensor::{Result as ShapeResult, Tensor};
use engine::models::mlp::{Activation, Mlp, XorConfig, XOR_INPUTS, XOR_TARGETS};

use crate::device::{Gpu, GpuError};
use crate::kernel::Dispatch;
use crate::kernels::activation::Activations;
use crate::kernels::add_bias::AddBias;
use crate::kernels::bce::Bce;
use crate::kernels::col_sum::ColSum;
use crate::kernels::matmul::Matmul;
use crate::kernels::optim::{Optim, OptimizerShared};
use crate::tensor::{read_back, GpuTensor};

/// Every pipeline the network uses, compiled once.
#[derive(Debug)]
struct Kernels {
    matmul: Matmul,
    add_bias: AddBias,
    activations: Activations,
    bce: Bce,
    col_sum: ColSum,
    optim: Optim,
}

/// The four parameter tensors (or their gradients), in the engine's order.
#[derive(Debug)]
struct Params {
    /// `[2, hidden]`
    w1: GpuTensor,
    /// `[hidden]`
    b1: GpuTensor,
    /// `[hidden, 1]`
    w2: GpuTensor,
    /// `[1]`
    b2: GpuTensor,
}

impl Params {
    fn all(&self) -> [&GpuTensor; 4] {
        [&self.w1, &self.b1, &self.w2, &self.b2]
    }
}

/// A batch of n points and the forward pass over it: x `[n, 2]` → logits `[n, 1]` →
/// probabilities `[n, 1]`. The training batch keeps z1 and a1 for the backward pass.
#[derive(Debug)]
struct Batch {
    x: GpuTensor,
    /// Hidden pre-activations x·W1 + b1, `[n, hidden]`.
    z1: GpuTensor,
    /// Hidden activations f(z1), `[n, hidden]`.
    a1: GpuTensor,
    /// Output logits a1·W2 + b2, `[n, 1]`.
    logits: GpuTensor,
    /// σ(logits), `[n, 1]`.
    probs: GpuTensor,
    /// x → logits.
    forward: Vec<Dispatch>,
    /// logits → probs.
    to_probs: Dispatch,
}

impl Batch {
    fn new(
        gpu: &Gpu,
        k: &Kernels,
        activation: Activation,
        p: &Params,
        points: &[[f32; 2]],
    ) -> ShapeResult<Batch> {
        let (n, h) = (points.len(), p.b1.len());
        let x = Tensor::from_vec(&[n, 2], points.concat())?;
        let x = GpuTensor::from_tensor(gpu, "x", &x);
        let z1 = GpuTensor::zeros(gpu, "z1", &[n, h]);
        let a1 = GpuTensor::zeros(gpu, "a1", &[n, h]);
        let logits = GpuTensor::zeros(gpu, "logits", &[n, 1]);
        let probs = GpuTensor::zeros(gpu, "probs", &[n, 1]);
        let forward = vec![
            // z1 = x·W1 + b1
            k.matmul.bind(gpu, &x, false, &p.w1, false, &z1)?,
            k.add_bias.bind(gpu, &z1, &p.b1)?,
            // a1 = f(z1)
            k.activations.bind_forward(gpu, activation, &z1, &a1)?,
            // logits = a1·W2 + b2
            k.matmul.bind(gpu, &a1, false, &p.w2, false, &logits)?,
            k.add_bias.bind(gpu, &logits, &p.b2)?,
        ];
        let to_probs = k.activations.bind_forward(gpu, Activation::Sigmoid, &logits, &probs)?;
        Ok(Batch { x, z1, a1, logits, probs, forward, to_probs })
    }

    /// The forward pass and the sigmoid, then a copy of the probabilities to the CPU.
    fn predict(&self, gpu: &Gpu) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
        let dispatches: Vec<&Dispatch> = self.forward.iter().chain([&self.to_probs]).collect();
        gpu.run(&dispatches);
        read_back(gpu, self.probs.buffer(), self.probs.len())
    }
}

/// The XOR network, trained on the GPU.
#[derive(Debug)]
pub struct GpuMlp {
    pub config: XorConfig,
    gpu: Gpu,
    kernels: Kernels,
    params: Params,
    /// The training points (the four XOR points unless built with [`GpuMlp::on_data`]).
    train_batch: Batch,
    /// One training step, in order: forward, loss, backward, update.
    step: Vec<Dispatch>,
    /// The loss computed by the latest step, `[1]`.
    loss: GpuTensor,
    /// The losses of the latest [`GpuMlp::train`], one per step (grown as needed).
    history: GpuTensor,
    /// How many losses the latest [`GpuMlp::train`] wrote into `history`.
    history_len: usize,
    /// The decision-surface grid, kept while its size stays the same.
    grid: Option<Batch>,
    /// Steps queued so far.
    steps: u32,
}

impl GpuMlp {
    /// The network for `config`, starting from exactly the weights of
    /// `engine::models::mlp::Mlp::new(config)`.
    pub fn new(gpu: &Gpu, config: XorConfig) -> GpuMlp {
        GpuMlp::on_data(gpu, config, &XOR_INPUTS, &XOR_TARGETS)
            .expect("the XOR network's shapes are fixed when it is built")
    }

    /// The same network trained on other labelled 2-D points (one target, 0 or 1, per point),
    /// as `engine::models::mlp::Mlp::step_on` does: chapter 8 trains it on two moons. An error if
    /// the counts differ. [`GpuMlp::read_predictions`] then reads the predictions on these
    /// points.
    pub fn on_data(
        gpu: &Gpu,
        config: XorConfig,
        points: &[[f32; 2]],
        targets: &[f32],
    ) -> ShapeResult<GpuMlp> {
        let kernels = Kernels {
            matmul: Matmul::new(gpu),
            add_bias: AddBias::new(gpu),
            activations: Activations::new(gpu),
            bce: Bce::new(gpu),
            col_sum: ColSum::new(gpu),
            optim: Optim::new(gpu),
        };
        let k = &kernels;
        // The engine draws the initial weights; we copy them.
        let cpu = Mlp::new(config);
        let params = Params {
            w1: GpuTensor::from_tensor(gpu, "w1", &cpu.w1),
            b1: GpuTensor::from_tensor(gpu, "b1", &cpu.b1),
            w2: GpuTensor::from_tensor(gpu, "w2", &cpu.w2),
            b2: GpuTensor::from_tensor(gpu, "b2", &cpu.b2),
        };
        let grads = Params {
            w1: GpuTensor::zeros(gpu, "dw1", &params.w1.shape),
            b1: GpuTensor::zeros(gpu, "db1", &params.b1.shape),
            w2: GpuTensor::zeros(gpu, "dw2", &params.w2.shape),
            b2: GpuTensor::zeros(gpu, "db2", &params.b2.shape),
        };
        let b = Batch::new(gpu, k, config.activation, &params, points)?;
        let targets = Tensor::from_vec(&[targets.len(), 1], targets.to_vec())?;
        let targets = GpuTensor::from_tensor(gpu, "targets", &targets);
        let loss = GpuTensor::zeros(gpu, "loss", &[1]);
        // dL/dlogits, [n, 1]; and dL/da1, turned in place into dL/dz1, [n, hidden].
        let d_logits = GpuTensor::zeros(gpu, "d_logits", &b.logits.shape);
        let d_hidden = GpuTensor::zeros(gpu, "d_hidden", &b.z1.shape);

        let (p, g) = (&params, &grads);
        let mut step = b.forward.clone();
        step.extend([
            // Loss and dL/dlogits, from the sigmoid and BCE fused.
            k.bce.bind(gpu, &b.logits, &targets, &loss, &d_logits)?,
            // Output layer: dW2 = a1ᵀ·dlogits, db2 = column sums of dlogits.
            k.matmul.bind(gpu, &b.a1, true, &d_logits, false, &g.w2)?,
            k.col_sum.bind(gpu, &d_logits, &g.b2)?,
            // Back into the hidden layer: da1 = dlogits·W2ᵀ, then dz1 = da1 · f'(z1).
            k.matmul.bind(gpu, &d_logits, false, &p.w2, true, &d_hidden)?,
            k.activations.bind_backward(gpu, config.activation, &b.z1, &d_hidden)?,
            // Hidden layer: dW1 = xᵀ·dz1, db1 = column sums of dz1.
            k.matmul.bind(gpu, &b.x, true, &d_hidden, false, &g.w1)?,
            k.col_sum.bind(gpu, &d_hidden, &g.b1)?,
        ]);
        // Only now, with every gradient computed, update: t ← t + 1, then each tensor.
        let optimizer = OptimizerShared::new(gpu, config.method, config.lr);
        step.push(k.optim.bind_tick(gpu, &optimizer));
        for (param, grad) in p.all().into_iter().zip(g.all()) {
            let moments = Optim::moments(gpu, param.len());
            step.push(k.optim.bind_update(gpu, &optimizer, param, grad, &moments)?);
        }

        Ok(GpuMlp {
            config,
            gpu: gpu.clone(),
            history: GpuTensor::zeros(gpu, "loss history", &[0]),
            history_len: 0,
            kernels,
            params,
            train_batch: b,
            step,
            loss,
            grid: None,
            steps: 0,
        })
    }

    /// Queues one training step. The loss it computes (before its update, as
    /// `engine::models::mlp::Mlp::step` returns) is read with [`GpuMlp::read_loss`].
    pub fn step(&mut self) {
        self.train(1);
    }

    /// Queues `steps` training steps in one command encoder and one submit; nothing is read
    /// back. Returns at once: the GPU works while the page goes on.
    pub fn train(&mut self, steps: usize) {
        let gpu = &self.gpu;
        if self.history.len() < steps {
            self.history = GpuTensor::zeros(gpu, "loss history", &[steps]);
        }
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        for i in 0..steps {
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                for dispatch in &self.step {
                    dispatch.record(&mut pass);
                }
            }
            // Keep this step's loss in slot i; the copy runs after the pass above.
            let slot = 4 * i as wgpu::BufferAddress;
            encoder.copy_buffer_to_buffer(self.loss.buffer(), 0, self.history.buffer(), slot, 4);
        }
        gpu.queue.submit([encoder.finish()]);
        self.history_len = steps;
        self.steps += steps as u32;
    }

    /// Training steps queued so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The GPU this network runs on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The loss computed by the latest step, before its update (0 before the first step).
    pub fn read_loss(&self) -> impl Future<Output = Result<f32, GpuError>> + 'static {
        let loss = read_back(&self.gpu, self.loss.buffer(), 1);
        async move { Ok(loss.await?[0]) }
    }

    /// The losses of the latest [`GpuMlp::train`] call, one per step, each before its
    /// update: what `engine::models::mlp::Mlp::train` returns.
    pub fn read_losses(&self) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
        read_back(&self.gpu, self.history.buffer(), self.history_len)
    }

    /// The current predicted probabilities for the training points, in their order (for
    /// XOR, the order of `XOR_INPUTS`).
    pub fn read_predictions(&self) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
        self.train_batch.predict(&self.gpu)
    }

    /// Predicted probabilities at arbitrary points, e.g. a grid for the decision surface.
    /// The grid's buffers are built on the first call and reused while the number of points
    /// stays the same (new coordinates are just uploaded).
    pub fn predict_grid(
        &mut self,
        points: &[[f32; 2]],
    ) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
        let gpu = &self.gpu;
        let x = Tensor::from_vec(&[points.len(), 2], points.concat())
            .expect("a list of 2-D points is an [n, 2] matrix");
        let grid = match self.grid.take() {
            Some(grid) if grid.x.shape == x.shape => {
                grid.x.write(gpu, &x).expect("the shapes were just compared");
                grid
            }
            _ => Batch::new(gpu, &self.kernels, self.config.activation, &self.params, points)
                .expect("the grid's shapes follow from the network's"),
        };
        let probs = grid.predict(gpu);
        self.grid = Some(grid);
        probs
    }

    /// The current weights as the engine's network, so the page can continue on the CPU.
    ///
    /// Read this as a checkpoint while the GPU works (a lost device cannot be read). The
    /// CPU network gets the weights and the step count; its optimizer state starts fresh,
    /// which changes nothing for SGD and restarts Adam's moments.
    pub fn weights(&self) -> impl Future<Output = Result<Mlp, GpuError>> + 'static {
        let reads = self.params.all().map(|p| p.read(&self.gpu));
        let (config, steps) = (self.config, self.steps);
        async move {
            let mut mlp = Mlp::new(config);
            let [w1, b1, w2, b2] = reads;
            (mlp.w1, mlp.b1, mlp.w2, mlp.b2) = (w1.await?, b1.await?, w2.await?, b2.await?);
            mlp.steps = steps;
            Ok(mlp)
        }
    }
}
