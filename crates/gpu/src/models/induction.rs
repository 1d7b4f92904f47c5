//! Chapter 10's attention-only transformer (`engine::labs::induction_heads`) on the GPU,
//! step for step.
//!
//! The model is the engine's: token plus learned position embeddings, then per layer every
//! head's causal attention added to the residual stream, then an unembedding W_U of its
//! own; no MLP, no layer norm; mean cross-entropy of every next token (each sequence's last
//! position has none and is not graded); Adam with the run's constant learning rate.
//!
//! # The layout
//! The engine keeps each head's W_Q, W_K, W_V (`[d_model, d_head]`) and W_O (`[d_head,
//! d_model]`) apart. The GPU keeps each layer's heads side by side instead, as the
//! transformer of chapter 5 does: W_Q, W_K and W_V as `[d_model, d_model]` matrices whose
//! columns h·d_head .. (h + 1)·d_head are head h's, and W_O as `[d_model, d_model]` whose rows
//! h·d_head .. are head h's. Then one batched product gives every head's queries, keys and
//! values, and one launch of `kernels::attention` runs every head of every sequence.
//! [`to_gpu_layout`] and [`from_gpu_layout`] convert; they move numbers, never change them.
//!
//! # A step
//! Forward: the embeddings (one gather); per layer, Q, K, V in one product, attention, the
//! heads' output times W_O, plus the stream (`kernels::add`); the logits. Then the loss and
//! dL/dlogits, the backward pass in reverse, and one Adam update of the whole packed buffer:
//! 26 launches for two layers. [`GpuInduction::train`] records a chunk of steps into one
//! submit, and after every step that ends on a multiple of `EVAL_EVERY` copies the weights
//! aside, so the page can evaluate them on the CPU (with the engine's `Model::evaluate`)
//! without stopping the GPU in between.

use std::future::Future;

use engine::core::optim::Method;
use engine::core::tensor::{Result as ShapeResult, Tensor};
use engine::labs::induction_heads::{Config, Sequence, EVAL_EVERY};
use engine::models::transformer::Attention;

use crate::device::{Gpu, GpuError};
use crate::kernel::Dispatch;
use crate::kernels::add::Add;
use crate::kernels::attention::{self, Attention as AttentionKernels};
use crate::kernels::batched_matmul::{BatchedMatmul, View};
use crate::kernels::cross_entropy::{CrossEntropy, NOT_GRADED};
use crate::kernels::embedding::Embedding;
use crate::kernels::optim::{Optim, OptimizerShared};
use crate::models::transformer::ids_buffer;
use crate::tensor::{read_back, GpuIndices, GpuTensor};

/// The largest number of elements one launch of a 1-D kernel covers (65,535 workgroups of
/// 64).
const MAX_LAUNCH_ELEMENTS: usize = 65_535 * 64;

/// The GPU's parameter shapes, in order: E `[vocab, d]`, P `[context, d]`, per layer W_Q,
/// W_K, W_V and W_O, each `[d, d]` with the heads side by side, then W_U `[d, vocab]`.
pub fn gpu_shapes(c: &Config) -> Vec<Vec<usize>> {
    let d = c.d_model;
    let mut shapes = vec![vec![c.vocab, d], vec![c.context, d]];
    for _ in 0..c.n_layers {
        shapes.extend([vec![d, d], vec![d, d], vec![d, d], vec![d, d]]);
    }
    shapes.push(vec![d, c.vocab]);
    shapes
}

/// Where head `head` of layer `l` keeps its matrix `k` (0 W_Q, 1 W_K, 2 W_V, 3 W_O) in the
/// engine's list (`Config::param_shapes`).
fn engine_index(c: &Config, l: usize, head: usize, k: usize) -> usize {
    2 + 4 * (l * c.n_heads + head) + k
}

/// The engine's parameters (`Config::param_shapes` order) in the GPU's layout: each layer's
/// heads side by side.
pub fn to_gpu_layout(c: &Config, params: &[Tensor]) -> Vec<Tensor> {
    let (d, dh) = (c.d_model, c.d_head());
    let mut out = vec![params[0].clone(), params[1].clone()];
    for l in 0..c.n_layers {
        for k in 0..3 {
            // Head h's column j goes to column h·d_head + j.
            let mut m = vec![0.0; d * d];
            for head in 0..c.n_heads {
                let w = &params[engine_index(c, l, head, k)].data;
                for i in 0..d {
                    m[i * d + head * dh..i * d + (head + 1) * dh].copy_from_slice(&w[i * dh..(i + 1) * dh]);
                }
            }
            out.push(Tensor { shape: vec![d, d], data: m });
        }
        // Head h's rows follow head h − 1's.
        let w_o = (0..c.n_heads).flat_map(|head| params[engine_index(c, l, head, 3)].data.clone()).collect();
        out.push(Tensor { shape: vec![d, d], data: w_o });
    }
    out.push(params[params.len() - 1].clone());
    out
}

/// The GPU's layout back in the engine's order: each head's matrices apart.
pub fn from_gpu_layout(c: &Config, tensors: &[Tensor]) -> Vec<Tensor> {
    let (d, dh) = (c.d_model, c.d_head());
    let mut out = vec![tensors[0].clone(), tensors[1].clone()];
    for l in 0..c.n_layers {
        let layer = &tensors[2 + 4 * l..6 + 4 * l];
        for head in 0..c.n_heads {
            for m in &layer[..3] {
                let data = (0..d).flat_map(|i| m.data[i * d + head * dh..i * d + (head + 1) * dh].to_vec());
                out.push(Tensor { shape: vec![d, dh], data: data.collect() });
            }
            let rows = layer[3].data[head * dh * d..(head + 1) * dh * d].to_vec();
            out.push(Tensor { shape: vec![dh, d], data: rows });
        }
    }
    out.push(tensors[tensors.len() - 1].clone());
    out
}

/// Every pipeline the model uses, compiled once.
struct Kernels {
    matmul: BatchedMatmul,
    embedding: Embedding,
    attention: AttentionKernels,
    add: Add,
    cross_entropy: CrossEntropy,
    optim: Optim,
}

/// One layer's activations, kept for the backward pass.
#[derive(Debug)]
struct Layer {
    /// Queries, keys, values `[3, N, d]`, heads side by side.
    qkv: GpuTensor,
    /// Attention weights `[B·H·T, T]`.
    probs: GpuTensor,
    /// The heads' outputs side by side `[N, d]`.
    heads: GpuTensor,
}

/// The backward pass's scratch buffers, shared by the layers.
#[derive(Debug)]
struct Scratch {
    d_logits: GpuTensor,
    /// dL/d(stream), `[N, d]`.
    g: GpuTensor,
    d_heads: GpuTensor,
    d_probs: GpuTensor,
    dqkv: GpuTensor,
}

/// The attention-only transformer, trained on the GPU.
#[derive(Debug)]
pub struct GpuInduction {
    pub config: Config,
    gpu: Gpu,
    /// Every parameter in one packed buffer, and each as a view ([`gpu_shapes`] order).
    all_params: GpuTensor,
    params: Vec<GpuTensor>,
    grads: Vec<GpuTensor>,
    ids: GpuIndices,
    targets: GpuIndices,
    loss: GpuTensor,
    forward_backward: Vec<Dispatch>,
    tick: Dispatch,
    update: Dispatch,
    /// The ids of the latest chunk: each step's inputs then targets.
    chunk_ids: wgpu::Buffer,
    /// The latest chunk's losses, one per step, and how many.
    losses: GpuTensor,
    losses_len: usize,
    /// The weights after each step of the latest chunk that ended on a multiple of
    /// `EVAL_EVERY`, one whole packed buffer after another, and those steps.
    snapshots: GpuTensor,
    snapshot_steps: Vec<usize>,
    steps: usize,
    /// Buffers only the launches use, kept with them.
    _kept: (Vec<GpuTensor>, Vec<Layer>, Scratch, GpuIndices),
}

impl GpuInduction {
    /// Uploads the engine's `params` (`Config::param_shapes` order) and binds a training
    /// step on batches of `config.batch` sequences. Refuses, with a sentence for the page,
    /// weights that do not fit the configuration or sizes past what one launch covers.
    pub fn new(gpu: &Gpu, config: Config, params: &[Tensor]) -> Result<GpuInduction, String> {
        config.validate()?;
        let shapes = config.param_shapes();
        if params.len() != shapes.len() || params.iter().zip(&shapes).any(|(p, s)| &p.shape != s) {
            return Err("the weights do not fit this configuration".into());
        }
        let n = config.batch * config.context;
        let largest = [n * config.d_model, n * config.vocab, config.batch * config.n_heads * config.context]
            .into_iter()
            .max()
            .unwrap_or(0);
        if largest > MAX_LAUNCH_ELEMENTS {
            return Err(format!(
                "a tensor of {largest} numbers is more than one GPU launch covers ({MAX_LAUNCH_ELEMENTS})"
            ));
        }
        GpuInduction::bind(gpu, config, params).map_err(|e| e.message)
    }

    fn bind(gpu: &Gpu, c: Config, params: &[Tensor]) -> ShapeResult<GpuInduction> {
        let k = Kernels {
            matmul: BatchedMatmul::new(gpu),
            embedding: Embedding::new(gpu),
            attention: AttentionKernels::new(gpu),
            add: Add::new(gpu),
            cross_entropy: CrossEntropy::new(gpu),
            optim: Optim::new(gpu),
        };
        let shapes = gpu_shapes(&c);
        let (all_params, views) = GpuTensor::packed(gpu, "induction parameters", &shapes);
        let (all_grads, grads) = GpuTensor::packed(gpu, "induction gradients", &shapes);
        for (view, value) in views.iter().zip(to_gpu_layout(&c, params)) {
            view.write(gpu, &value)?;
        }
        let (b, t, d, v) = (c.batch, c.context, c.d_model, c.vocab);
        let n = b * t;
        let positions: Vec<usize> = (0..b).flat_map(|_| 0..t).collect();
        let positions = GpuIndices::from_slice(gpu, "positions", &positions);
        let ids = GpuIndices::zeros(gpu, "token ids", n);
        let targets = GpuIndices::zeros(gpu, "targets", n);
        let shape =
            attention::Shape { batch: b, seq_len: t, heads: c.n_heads, d_model: d, mask: Attention::Causal };
        // The residual stream before each layer and after the last: x_0 … x_L, `[N, d]`.
        let streams: Vec<GpuTensor> =
            (0..=c.n_layers).map(|_| GpuTensor::zeros(gpu, "stream", &[n, d])).collect();
        let layers: Vec<Layer> = (0..c.n_layers)
            .map(|_| Layer {
                qkv: AttentionKernels::qkv(gpu, "qkv", &shape),
                probs: GpuTensor::zeros(gpu, "attention weights", &[b * c.n_heads * t, t]),
                heads: GpuTensor::zeros(gpu, "heads", &[n, d]),
            })
            .collect();
        let logits = GpuTensor::zeros(gpu, "logits", &[n, v]);
        let loss = GpuTensor::zeros(gpu, "loss", &[1]);
        let s = Scratch {
            d_logits: GpuTensor::zeros(gpu, "d logits", &[n, v]),
            g: GpuTensor::zeros(gpu, "d stream", &[n, d]),
            d_heads: GpuTensor::zeros(gpu, "d heads", &[n, d]),
            d_probs: GpuTensor::zeros(gpu, "d weights", &[b * c.n_heads * t, t]),
            dqkv: AttentionKernels::qkv(gpu, "d qkv", &shape),
        };
        // W_Q, W_K and W_V of a layer are neighbours of one size in the packed buffer, so one
        // view with a stride between them reads all three.
        let stride = (views[3].offset() - views[2].offset()) as usize / 4;
        let three = |(whole, list): (&GpuTensor, &[GpuTensor]), l: usize| {
            let first = &list[2 + 4 * l];
            whole.range((first.offset() - whole.offset()) as usize / 4, 2 * stride + d * d)
        };
        let (weights, weight_grads) = ((&all_params, views.as_slice()), (&all_grads, grads.as_slice()));
        let rows = |cols| View::matrix(n, cols);
        let qkv_view = View { inner_stride: n * d, ..rows(d) };
        let w_view = View { inner_stride: stride, ..View::matrix(d, d) };
        let (e, p, w_u) = (&views[0], &views[1], &views[views.len() - 1]);
        let mut run = vec![k.embedding.bind_gather_both(gpu, (e, &ids), (p, &positions), &streams[0])?];
        for (l, layer) in layers.iter().enumerate() {
            let (x, next, w_o) = (&streams[l], &streams[l + 1], &views[5 + 4 * l]);
            run.extend([
                // Q, K, V of every head: x·W_Q, x·W_K, x·W_V in one launch.
                k.matmul.bind(
                    gpu,
                    [1, 3],
                    (x, rows(d)),
                    (&three(weights, l)?, w_view),
                    (&layer.qkv, qkv_view),
                    false,
                )?,
                k.attention.bind_forward(gpu, &shape, &layer.qkv, &layer.probs, &layer.heads)?,
                // x_{l+1} = heads·W_O + x_l: every head's output added to the stream.
                k.matmul.bind(
                    gpu,
                    [1, 1],
                    (&layer.heads, rows(d)),
                    (w_o, View::matrix(d, d)),
                    (next, rows(d)),
                    false,
                )?,
                k.add.bind(gpu, x, next)?,
            ]);
        }
        let last = &streams[c.n_layers];
        run.push(k.matmul.bind(
            gpu,
            [1, 1],
            (last, rows(d)),
            (w_u, View::matrix(d, v)),
            (&logits, rows(v)),
            false,
        )?);

        // Backward.
        let dw_u = &grads[grads.len() - 1];
        run.extend([
            k.cross_entropy.bind(gpu, &logits, &targets, &loss, &s.d_logits)?,
            // dW_U = x_Lᵀ·dlogits, and g = dlogits·W_Uᵀ = dL/dx_L.
            k.matmul.bind(
                gpu,
                [1, 1],
                (last, rows(d).t()),
                (&s.d_logits, rows(v)),
                (dw_u, View::matrix(d, v)),
                false,
            )?,
            k.matmul.bind(
                gpu,
                [1, 1],
                (&s.d_logits, rows(v)),
                (w_u, View::matrix(d, v).t()),
                (&s.g, rows(d)),
                false,
            )?,
        ]);
        for (l, layer) in layers.iter().enumerate().rev() {
            // g = dL/dx_{l+1}; it reaches x_l straight through the residual connection, and
            // through the heads, which add onto it.
            let (x, w_o, dw_o) = (&streams[l], &views[5 + 4 * l], &grads[5 + 4 * l]);
            run.push(k.matmul.bind(
                gpu,
                [1, 1],
                (&layer.heads, rows(d).t()),
                (&s.g, rows(d)),
                (dw_o, View::matrix(d, d)),
                false,
            )?);
            run.extend(k.attention.bind_backward(
                gpu,
                &shape,
                (&layer.qkv, &layer.probs),
                (&s.g, w_o),
                &s.d_heads,
                &s.d_probs,
                &s.dqkv,
            )?);
            let d_three = three(weight_grads, l)?;
            run.extend([
                // dW_Q, dW_K, dW_V = x_lᵀ·dQ, x_lᵀ·dK, x_lᵀ·dV in one launch.
                k.matmul.bind(
                    gpu,
                    [1, 3],
                    (x, rows(d).t()),
                    (&s.dqkv, qkv_view),
                    (&d_three, w_view),
                    false,
                )?,
                // g += dQ·W_Qᵀ + dK·W_Kᵀ + dV·W_Vᵀ.
                k.matmul.bind_summed(
                    gpu,
                    [1, 3],
                    (&s.dqkv, qkv_view),
                    (&three(weights, l)?, View { inner_stride: stride, ..View::matrix(d, d).t() }),
                    (&s.g, rows(d)),
                    true,
                )?,
            ]);
        }
        // g = dL/dx_0: the embeddings' gradients.
        run.push(k.embedding.bind_scatter_both(
            gpu,
            &s.g,
            (&ids, &grads[0], false),
            (&positions, &grads[1], false),
        )?);

        let optimizer = OptimizerShared::new(gpu, Method::adam(), c.lr);
        let tick = k.optim.bind_tick(gpu, &optimizer);
        let moments = Optim::moments(gpu, all_params.len());
        let update = k.optim.bind_update(gpu, &optimizer, &all_params, &all_grads, &moments)?;
        let mut kept = streams;
        kept.extend([logits, all_grads, moments]);
        Ok(GpuInduction {
            config: c,
            gpu: gpu.clone(),
            all_params,
            params: views,
            grads,
            ids,
            targets,
            loss,
            forward_backward: run,
            tick,
            update,
            chunk_ids: ids_buffer(gpu, 0),
            losses: GpuTensor::zeros(gpu, "loss history", &[0]),
            losses_len: 0,
            snapshots: GpuTensor::zeros(gpu, "weight snapshots", &[0]),
            snapshot_steps: vec![],
            steps: 0,
            _kept: (kept, layers, s, positions),
        })
    }

    /// Checks a batch: `config.batch` sequences of `config.context` known tokens.
    fn check(&self, batch: &[Sequence]) -> Result<(), String> {
        let c = &self.config;
        if batch.len() != c.batch || batch.iter().any(|s| s.tokens.len() != c.context) {
            return Err(format!(
                "the GPU model trains on batches of {} sequences of {} tokens",
                c.batch, c.context
            ));
        }
        if let Some(id) = batch.iter().flat_map(|s| &s.tokens).find(|&&id| id >= c.vocab) {
            return Err(format!("token id {id} is outside the vocabulary of {} tokens", c.vocab));
        }
        Ok(())
    }

    /// A batch's ids for the GPU: every input token, then every target (the next token, and
    /// `NOT_GRADED` at each sequence's last position).
    fn ids_of(batch: &[Sequence]) -> Vec<u32> {
        let inputs = batch.iter().flat_map(|s| s.tokens.iter().map(|&t| t as u32));
        let targets = batch
            .iter()
            .flat_map(|s| s.tokens[1..].iter().map(|&t| t as u32).chain(std::iter::once(NOT_GRADED)));
        inputs.chain(targets).collect()
    }

    /// Queues one Adam step per batch, all in one submit, and a copy of the weights after
    /// each step that ends on a multiple of `EVAL_EVERY`. Returns at once; read with
    /// [`GpuInduction::read_losses`] and [`GpuInduction::read_snapshots`].
    pub fn train(&mut self, batches: &[Vec<Sequence>]) -> Result<(), String> {
        for batch in batches {
            self.check(batch)?;
        }
        let gpu = &self.gpu;
        let steps = batches.len();
        let n = self.config.batch * self.config.context;
        if self.chunk_ids.size() < (8 * n * steps) as u64 {
            self.chunk_ids = ids_buffer(gpu, 2 * n * steps);
        }
        if self.losses.len() < steps {
            self.losses = GpuTensor::zeros(gpu, "loss history", &[steps]);
        }
        let saved: Vec<usize> =
            (self.steps + 1..=self.steps + steps).filter(|s| s.is_multiple_of(EVAL_EVERY)).collect();
        let whole = self.all_params.len();
        if self.snapshots.len() < saved.len() * whole {
            self.snapshots = GpuTensor::zeros(gpu, "weight snapshots", &[saved.len() * whole]);
        }
        if steps == 0 {
            self.losses_len = 0;
            self.snapshot_steps.clear();
            return Ok(());
        }
        let ids: Vec<u32> = batches.iter().flat_map(|b| GpuInduction::ids_of(b)).collect();
        gpu.queue.write_buffer(&self.chunk_ids, 0, bytemuck::cast_slice(&ids));
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        let bytes = 4 * n as u64;
        let mut copies = 0;
        for i in 0..steps {
            let start = 2 * bytes * i as u64;
            encoder.copy_buffer_to_buffer(&self.chunk_ids, start, self.ids.buffer(), 0, bytes);
            encoder.copy_buffer_to_buffer(&self.chunk_ids, start + bytes, self.targets.buffer(), 0, bytes);
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                for dispatch in self.forward_backward.iter().chain([&self.tick, &self.update]) {
                    dispatch.record(&mut pass);
                }
            }
            encoder.copy_buffer_to_buffer(self.loss.buffer(), 0, self.losses.buffer(), 4 * i as u64, 4);
            if (self.steps + i + 1).is_multiple_of(EVAL_EVERY) {
                let size = 4 * whole as u64;
                encoder.copy_buffer_to_buffer(
                    self.all_params.buffer(),
                    0,
                    self.snapshots.buffer(),
                    copies * size,
                    size,
                );
                copies += 1;
            }
        }
        gpu.queue.submit([encoder.finish()]);
        self.losses_len = steps;
        self.snapshot_steps = saved;
        self.steps += steps;
        Ok(())
    }

    /// The losses of the latest [`GpuInduction::train`] call, one per step, each before its
    /// update.
    pub fn read_losses(&self) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
        read_back(&self.gpu, self.losses.buffer(), self.losses_len)
    }

    /// The weights the latest [`GpuInduction::train`] call copied aside, in the engine's
    /// order: (the step they are after, the parameters) for each step of the chunk that is a
    /// multiple of `EVAL_EVERY`.
    pub fn read_snapshots(
        &self,
    ) -> impl Future<Output = Result<Vec<(usize, Vec<Tensor>)>, GpuError>> + 'static {
        let whole = self.all_params.len();
        let data = read_back(&self.gpu, self.snapshots.buffer(), self.snapshot_steps.len() * whole);
        let unpack = self.unpacker();
        let steps = self.snapshot_steps.clone();
        async move {
            let data = data.await?;
            Ok(steps
                .into_iter()
                .zip(data.chunks(whole.max(1)))
                .map(|(s, chunk)| (s, unpack(chunk)))
                .collect())
        }
    }

    /// The current weights, in the engine's order.
    pub fn read_params(&self) -> impl Future<Output = Result<Vec<Tensor>, GpuError>> + 'static {
        let data = read_back(&self.gpu, self.all_params.buffer(), self.all_params.len());
        let unpack = self.unpacker();
        async move { Ok(unpack(&data.await?)) }
    }

    /// Turns one packed buffer's numbers into the engine's parameters.
    fn unpacker(&self) -> impl Fn(&[f32]) -> Vec<Tensor> + 'static {
        let views: Vec<(usize, Vec<usize>)> =
            self.params.iter().map(|p| (p.offset() as usize / 4, p.shape.clone())).collect();
        let config = self.config;
        move |whole: &[f32]| {
            let tensors: Vec<Tensor> = views
                .iter()
                .map(|(start, shape)| {
                    let len: usize = shape.iter().product();
                    Tensor { shape: shape.clone(), data: whole[*start..start + len].to_vec() }
                })
                .collect();
            from_gpu_layout(&config, &tensors)
        }
    }

    /// The loss and every parameter's gradient (the engine's order) for one batch at the
    /// current weights, with no update: what `Model::loss_and_grads` returns.
    pub fn loss_and_grads(
        &self,
        batch: &[Sequence],
    ) -> Result<impl Future<Output = Result<(f32, Vec<Tensor>), GpuError>> + 'static, String> {
        self.check(batch)?;
        let gpu = &self.gpu;
        let ids = GpuInduction::ids_of(batch);
        gpu.queue.write_buffer(self.ids.buffer(), 0, bytemuck::cast_slice(&ids[..ids.len() / 2]));
        gpu.queue.write_buffer(self.targets.buffer(), 0, bytemuck::cast_slice(&ids[ids.len() / 2..]));
        gpu.run(&self.forward_backward.iter().collect::<Vec<_>>());
        let loss = read_back(gpu, self.loss.buffer(), 1);
        let grads: Vec<_> = self.grads.iter().map(|g| g.read(gpu)).collect();
        let config = self.config;
        Ok(async move {
            let loss = loss.await?[0];
            let mut out = Vec::with_capacity(grads.len());
            for g in grads {
                out.push(g.await?);
            }
            Ok((loss, from_gpu_layout(&config, &out)))
        })
    }

    /// How many launches one training step records.
    pub fn launches_per_step(&self) -> usize {
        self.forward_backward.len() + 2
    }

    /// Training steps queued so far.
    pub fn steps(&self) -> usize {
        self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::labs::induction_heads::Model;

    /// The two layouts hold the same numbers: there and back is the identity, and head h's
    /// query column j is column h·d_head + j of the layer's W_Q.
    #[test]
    fn layouts_convert_both_ways() {
        let config = Config { d_model: 8, n_heads: 2, ..Config::two_layer(3) };
        let model = Model::new(config).unwrap();
        let gpu = to_gpu_layout(&config, &model.params);
        let shapes: Vec<Vec<usize>> = gpu.iter().map(|t| t.shape.clone()).collect();
        assert_eq!(shapes, gpu_shapes(&config));
        assert_eq!(from_gpu_layout(&config, &gpu), model.params);
        // Layer 1, head 1's W_K (engine index 2 + 4·(1·2 + 1) + 1), row 3, column 2.
        let w_k = &model.params[2 + 4 * 3 + 1];
        assert_eq!(gpu[2 + 4 + 1].data[3 * 8 + 4 + 2], w_k.data[3 * 4 + 2]);
        // Its W_O's row 1 is row 4 + 1 of the layer's.
        let w_o = &model.params[2 + 4 * 3 + 3];
        assert_eq!(gpu[2 + 4 + 3].data[5 * 8..6 * 8], w_o.data[8..16]);
    }
}
