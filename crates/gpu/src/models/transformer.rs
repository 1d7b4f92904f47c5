//! The engine's decoder-only transformer (`engine::models::transformer`) on the GPU, step for step.
//!
//! The model is the engine's, with the same parameter list in the same order
//! (`TransformerConfig::param_specs`): token and learned position embeddings; layers of
//! multi-head causal attention and a feed-forward block, pre-norm or post-norm; a final
//! layer norm for pre-norm; output tied to the token embedding; mean cross-entropy at every
//! position. With `TrainSettings::attention` and targets set to
//! `engine::labs::masked_lm::NOT_A_TARGET` where a position is not graded, it is chapter 6's
//! masked LM as well: bidirectional attention, the loss averaged over the graded positions
//! only (`engine::labs::mlm_vs_clm::loss_and_grads`). [`GpuTransformer::new`] uploads an `engine::models::transformer::Transformer`, so the
//! same weights are on both sides, and [`GpuTransformer::read_model`] brings them back.
//!
//! # Memory layout
//! Every parameter lives in one packed buffer (`GpuTensor::packed`), each tensor a view of
//! it (matrices first, then the vectors), and every gradient in a second buffer laid out
//! the same way. The optimizer then updates the whole model in one launch, and gradient
//! clipping measures one flat buffer.
//! Activations are ordinary tensors, one per intermediate per layer, kept for the backward
//! pass. Each layer's W_Q, W_K and W_V are neighbours in the packed buffer, so one batched
//! product (`batched_matmul::View`, strides, no copies) computes Q, K and V into one
//! `[3, B·T, d_model]` tensor, and every head of the attention runs in one launch
//! (`kernels::attention`).
//!
//! # Fewer, larger launches
//! A step of chapter 5's small model (2 layers, pre-norm) is 48 launches
//! ([`GpuTransformer::launches_per_step`]); with one kernel per operation it was 100. Fused:
//! each residual connection (and the feed-forward output's bias) into the layer norm that
//! reads the sum; the layer norm's two forward and two backward launches into one each; the
//! feed-forward bias into its activation, and both bias gradients into the activation's
//! backward; the scores, mask, softmax and weighted sum of every head into one launch, and
//! their gradients (with the one through W_O) into two; Q, K and V, their weights'
//! gradients, and the input's gradient, one batched product each; the token and position
//! embeddings into one gather and one scatter; clipping into the step count's launch.
//!
//! # A training step
//! All launches are bound once in [`GpuTransformer::new`]. A step is: the forward pass, the
//! loss and dL/dlogits, the backward pass through every layer into the packed gradients,
//! then (optionally) clipping with the step counter and this step's learning rate, and one
//! AdamW (or any `engine::core::optim::Method`) update. [`GpuTransformer::train`] takes one batch
//! of token ids per step, uploads them all at once, and records every step into one command
//! encoder, one submit; each step's ids are copied into place on the GPU between steps.
//! Nothing is read back until the page asks.
//!
//! # The training recipe
//! The learning rate of step s (counting from 0) is `TrainSettings::schedule.lr_at(s)`,
//! computed by the engine on the CPU and uploaded with the batches. With
//! `max_grad_norm = Some(c)`, the gradients of all tensors together are scaled to norm c
//! when their norm is above c (`engine::core::optim::clip_grad_norm`). Every element has its own
//! moments, as with one `engine::core::optim::Optimizer` per tensor. Weight decay (AdamW's or
//! Adam+L2's) applies to the matrices only, not to biases or layer-norm gains and shifts,
//! exactly as `engine::models::train::Trainer` does: the packed buffers hold the matrices first and
//! the rest after them, and the update decays only the numbers before the boundary. [`TrainSettings::from_config`] turns the engine trainer's `TrainConfig` into
//! these settings, so the two train alike step for step.
//!
//! # From a page
//! ```no_run
//! # use engine::models::transformer::{Batch, Transformer};
//! # async fn page(
//! #     gpu: &gpu::Gpu,
//! #     model: &Transformer,
//! #     settings: gpu::TrainSettings,
//! #     batches: Vec<Batch>,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! // Once: upload the engine's model (an Err says why in words).
//! let mut on_gpu = gpu::GpuTransformer::new(gpu, model, settings)?;
//! // Each animation frame: queue a few steps, one batch each, then read what the page shows.
//! on_gpu.train(&batches)?;
//! let losses = on_gpu.read_losses().await?; // one per step, each before its update
//! let logits = on_gpu.logits(&[1, 4, 2])?.await?; // [3, vocab]: sample what follows
//! let checkpoint = on_gpu.read_model().await?; // the engine's Transformer, for the CPU
//! # Ok(()) }
//! ```

use std::future::Future;

use engine::core::optim::{Method, Schedule};
use engine::core::tensor::{Result as ShapeResult, Tensor};
use engine::labs::masked_lm::NOT_A_TARGET;
use engine::labs::mlm_vs_clm::{self, Objective, Race};
use engine::models::train::TrainConfig;
use engine::models::transformer::{
    Activation, Attention, Batch, ModelError, Norm, Transformer, TransformerConfig,
};

use crate::device::{Gpu, GpuError};
use crate::kernel::Dispatch;
use crate::kernels::activation::{Activations, Function};
use crate::kernels::attention::{self, Attention as AttentionKernels};
use crate::kernels::batched_matmul::{BatchedMatmul, View};
use crate::kernels::cross_entropy::CrossEntropy;
use crate::kernels::embedding::Embedding;
use crate::kernels::layer_norm::LayerNorm;
use crate::kernels::optim::{Optim, OptimizerShared, ScheduleTable, StepState};
use crate::tensor::{read_back, read_back_from, GpuIndices, GpuTensor};

/// How the model is trained: the batch shape, the optimizer, the learning-rate schedule and
/// gradient clipping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainSettings {
    /// Windows per step.
    pub batch: usize,
    /// Tokens per window (at most the model's context).
    pub len: usize,
    /// The update rule, for every parameter tensor (e.g. `Method::adamw(0.1)`); its weight
    /// decay, if any, applies to the matrices only.
    pub method: Method,
    /// The learning rate of each step.
    pub schedule: Schedule,
    /// Clip the global gradient norm to this, if set.
    pub max_grad_norm: Option<f32>,
    /// Which keys each query sees: `Attention::Causal` for a GPT (chapter 5),
    /// `Attention::Bidirectional` for a masked LM, `Attention::SeesNext` for chapter 6's
    /// leaky mask.
    pub attention: Attention,
}

impl TrainSettings {
    /// The recipe of the engine's trainer (`engine::models::train::Trainer`): its batch shape, AdamW
    /// with its weight decay, its warmup + cosine schedule and its clipping norm.
    pub fn from_config(config: &TrainConfig) -> TrainSettings {
        TrainSettings {
            batch: config.batch,
            len: config.len,
            method: Method::adamw(config.weight_decay),
            schedule: config.schedule(),
            max_grad_norm: Some(config.clip_norm),
            attention: Attention::Causal,
        }
    }

    /// Chapter 6's recipe for one model of `race` (`engine::labs::mlm_vs_clm`): its batch
    /// shape, AdamW with its weight decay, the race's schedule, its clipping, and the
    /// objective's mask.
    pub fn for_race(race: &Race, objective: Objective) -> TrainSettings {
        TrainSettings {
            batch: mlm_vs_clm::BATCH,
            len: mlm_vs_clm::CONTEXT,
            method: Method::adamw(mlm_vs_clm::WEIGHT_DECAY),
            schedule: race.schedule(),
            max_grad_norm: Some(mlm_vs_clm::CLIP_NORM),
            attention: objective.attention(),
        }
    }
}

/// Every pipeline the model uses, compiled once.
#[derive(Debug)]
struct Kernels {
    matmul: BatchedMatmul,
    embedding: Embedding,
    layer_norm: LayerNorm,
    attention: AttentionKernels,
    activations: Activations,
    cross_entropy: CrossEntropy,
    optim: Optim,
}

/// The twelve tensors of one layer, in `param_specs` order, as views of a packed buffer
/// (the parameters, or their gradients).
struct LayerParams<'a> {
    ln1_gamma: &'a GpuTensor,
    ln1_beta: &'a GpuTensor,
    w_q: &'a GpuTensor,
    w_k: &'a GpuTensor,
    w_v: &'a GpuTensor,
    w_o: &'a GpuTensor,
    ln2_gamma: &'a GpuTensor,
    ln2_beta: &'a GpuTensor,
    w1: &'a GpuTensor,
    b1: &'a GpuTensor,
    w2: &'a GpuTensor,
    b2: &'a GpuTensor,
}

/// Parameters per layer in `param_specs`, after the two embeddings.
const PER_LAYER: usize = 12;

/// Layer `l`'s tensors in a list laid out as `param_specs`.
fn layer_params(list: &[GpuTensor], l: usize) -> LayerParams<'_> {
    let p = &list[2 + PER_LAYER * l..2 + PER_LAYER * (l + 1)];
    LayerParams {
        ln1_gamma: &p[0],
        ln1_beta: &p[1],
        w_q: &p[2],
        w_k: &p[3],
        w_v: &p[4],
        w_o: &p[5],
        ln2_gamma: &p[6],
        ln2_beta: &p[7],
        w1: &p[8],
        b1: &p[9],
        w2: &p[10],
        b2: &p[11],
    }
}

/// Where the final layer norm's (γ, β) are in a list laid out as `param_specs` (pre-norm
/// only).
fn final_ln(config: &TransformerConfig) -> Option<(usize, usize)> {
    let start = 2 + PER_LAYER * config.n_layers;
    (config.norm == Norm::Pre).then_some((start, start + 1))
}

/// One layer's W_Q, W_K and W_V as one view of a packed buffer, and how many numbers apart
/// they start (see `qkv_weights`).
type QkvWeights = (GpuTensor, usize);

/// Each layer's W_Q, W_K and W_V as one view of the packed buffer `whole` (the parameters or
/// their gradients) and how many numbers apart they start: they are neighbours there (the
/// matrices in `param_specs` order), so one batched product uses all three.
fn qkv_weights(whole: &GpuTensor, list: &[GpuTensor], layers: usize) -> ShapeResult<Vec<QkvWeights>> {
    (0..layers)
        .map(|l| {
            let p = layer_params(list, l);
            let at = |t: &GpuTensor| (t.offset() - whole.offset()) as usize / 4;
            let (q, k, v) = (at(p.w_q), at(p.w_k), at(p.w_v));
            let stride = k.saturating_sub(q);
            if k <= q || v != k + stride {
                return Err(engine::core::tensor::ShapeError::new(format!(
                    "layer {l}: W_Q, W_K and W_V must be evenly spaced in the packed buffer, \
                     at {q}, {k} and {v}"
                )));
            }
            Ok((whole.range(q, 2 * stride + p.w_v.len())?, stride))
        })
        .collect()
}

/// One layer's activations for a batch of N = B·T rows, kept for the backward pass.
///
/// Pre-norm:  normed1 = LN1(x), sum1 = x + Attn(normed1),
///            normed2 = LN2(sum1), sum2 = sum1 + FFN(normed2); the output is sum2.
/// Post-norm: sum1 = x + Attn(x), normed1 = LN1(sum1),
///            sum2 = normed1 + FFN(normed1), normed2 = LN2(sum2); the output is normed2.
///
/// Each residual sum is finished by the layer norm that reads it (one launch for both): the
/// output projection writes only its product into sum1 (or sum2), and the norm adds the bias
/// (for sum2) and the residual in place before normalizing. In pre-norm, sum2 is finished by
/// the next layer's first norm, or by the final norm.
#[derive(Debug)]
struct LayerActivations {
    ln1_saved: GpuTensor,
    normed1: GpuTensor,
    /// Queries, keys, values, `[3, N, d_model]`, each with all heads side by side.
    qkv: GpuTensor,
    /// Attention weights, `[B·H·T, T]`: B·H square matrices.
    probs: GpuTensor,
    /// The heads' outputs side by side, `[N, d_model]`.
    heads: GpuTensor,
    sum1: GpuTensor,
    ln2_saved: GpuTensor,
    normed2: GpuTensor,
    /// The feed-forward pre-activation x·W1 + b1 and its activation, `[N, d_ff]`.
    z: GpuTensor,
    a: GpuTensor,
    sum2: GpuTensor,
}

impl LayerActivations {
    fn new(gpu: &Gpu, c: &TransformerConfig, b: usize, t: usize) -> LayerActivations {
        let (n, d) = (b * t, c.d_model);
        let rows = |label| GpuTensor::zeros(gpu, label, &[n, d]);
        LayerActivations {
            ln1_saved: LayerNorm::saved(gpu, n, d),
            normed1: rows("normed1"),
            qkv: GpuTensor::zeros(gpu, "qkv", &[3, n, d]),
            probs: GpuTensor::zeros(gpu, "attention weights", &[b * c.n_heads * t, t]),
            heads: rows("heads"),
            sum1: rows("sum1"),
            ln2_saved: LayerNorm::saved(gpu, n, d),
            normed2: rows("normed2"),
            z: GpuTensor::zeros(gpu, "ffn z", &[n, c.d_ff]),
            a: GpuTensor::zeros(gpu, "ffn a", &[n, c.d_ff]),
            sum2: rows("sum2"),
        }
    }

    /// What attention reads: the normalized stream (pre-norm) or the stream itself.
    fn attention_input<'a>(&'a self, norm: Norm, x: &'a GpuTensor) -> &'a GpuTensor {
        match norm {
            Norm::Pre => &self.normed1,
            Norm::Post => x,
        }
    }

    /// What the feed-forward block reads.
    fn ffn_input(&self, norm: Norm) -> &GpuTensor {
        match norm {
            Norm::Pre => &self.normed2,
            Norm::Post => &self.normed1,
        }
    }

    /// The layer's output, the next layer's input.
    fn output(&self, norm: Norm) -> &GpuTensor {
        match norm {
            Norm::Pre => &self.sum2,
            Norm::Post => &self.normed2,
        }
    }
}

/// The forward pass over B windows of T tokens: buffers and launches, bound once.
#[derive(Debug)]
struct Pass {
    b: usize,
    t: usize,
    attention: Attention,
    /// Token ids `[B·T]`, written before each run.
    ids: GpuIndices,
    /// Each row's position, 0..T for every window (fixed).
    positions: GpuIndices,
    /// Token plus position embeddings, `[N, d_model]`: the first layer's input.
    x0: GpuTensor,
    layers: Vec<LayerActivations>,
    /// The final layer norm (pre-norm): what it saved, and its output.
    final_saved: GpuTensor,
    final_out: GpuTensor,
    /// `[N, vocab]`.
    logits: GpuTensor,
    forward: Vec<Dispatch>,
}

impl Pass {
    #[allow(clippy::too_many_arguments)]
    fn new(
        gpu: &Gpu,
        k: &Kernels,
        c: &TransformerConfig,
        (params, qkv_w): (&[GpuTensor], &[QkvWeights]),
        b: usize,
        t: usize,
        attention: Attention,
    ) -> ShapeResult<Pass> {
        let (n, d) = (b * t, c.d_model);
        let positions: Vec<usize> = (0..b).flat_map(|_| 0..t).collect();
        let mut pass = Pass {
            b,
            t,
            attention,
            ids: GpuIndices::zeros(gpu, "token ids", n),
            positions: GpuIndices::from_slice(gpu, "positions", &positions),
            x0: GpuTensor::zeros(gpu, "embeddings", &[n, d]),
            layers: (0..c.n_layers).map(|_| LayerActivations::new(gpu, c, b, t)).collect(),
            final_saved: LayerNorm::saved(gpu, n, d),
            final_out: GpuTensor::zeros(gpu, "final layer norm", &[n, d]),
            logits: GpuTensor::zeros(gpu, "logits", &[n, c.vocab]),
            forward: vec![],
        };
        pass.forward = pass.bind_forward(gpu, k, c, params, qkv_w)?;
        Ok(pass)
    }

    /// The input of layer `l`: the embeddings, or the previous layer's output.
    fn layer_input(&self, norm: Norm, l: usize) -> &GpuTensor {
        match l {
            0 => &self.x0,
            _ => self.layers[l - 1].output(norm),
        }
    }

    /// What the output layer reads: the final layer norm's output (pre-norm) or the last
    /// layer's.
    fn hidden(&self, norm: Norm) -> &GpuTensor {
        match norm {
            Norm::Pre => &self.final_out,
            Norm::Post => self.layer_input(norm, self.layers.len()),
        }
    }

    /// The attention's shape for this batch.
    fn attention_shape(&self, c: &TransformerConfig) -> attention::Shape {
        attention::Shape {
            batch: self.b,
            seq_len: self.t,
            heads: c.n_heads,
            d_model: c.d_model,
            mask: self.attention,
        }
    }

    fn bind_forward(
        &self,
        gpu: &Gpu,
        k: &Kernels,
        c: &TransformerConfig,
        params: &[GpuTensor],
        qkv_w: &[QkvWeights],
    ) -> ShapeResult<Vec<Dispatch>> {
        let (n, d) = (self.b * self.t, c.d_model);
        let shape = self.attention_shape(c);
        // x·W for rows x [N, in] and a weight W [in, out], into y [N, out].
        let linear = |x: &GpuTensor, w: &GpuTensor, y: &GpuTensor| {
            let (inner, out) = (w.shape[0], w.shape[1]);
            k.matmul.bind(
                gpu,
                [1, 1],
                (x, View::matrix(n, inner)),
                (w, View::matrix(inner, out)),
                (y, View::matrix(n, out)),
                false,
            )
        };
        // y = LN(x) with a norm's γ and β, saving its statistics for the backward pass; with
        // `sum` = (bias, residual), x is a sublayer's output and first becomes
        // x + bias + residual.
        let norm = |x: &GpuTensor,
                    sum: Option<(Option<&GpuTensor>, &GpuTensor)>,
                    (gamma, beta, saved): (&GpuTensor, &GpuTensor, &GpuTensor),
                    y: &GpuTensor| match sum {
            None => k.layer_norm.bind_forward(gpu, c.eps, x, gamma, beta, saved, y),
            Some((bias, residual)) => {
                k.layer_norm.bind_forward_residual(gpu, c.eps, (x, bias, residual), gamma, beta, saved, y)
            }
        };
        let (token_embedding, position_embedding) = (&params[0], &params[1]);
        // x0 = E[ids] + P[positions]
        let mut run = vec![k.embedding.bind_gather_both(
            gpu,
            (token_embedding, &self.ids),
            (position_embedding, &self.positions),
            &self.x0,
        )?];
        // In pre-norm, the previous layer's sum2 still lacks its bias and residual: the first
        // norm of the next layer (or the final norm) adds them.
        let unfinished = |l: usize| -> Option<(Option<&GpuTensor>, &GpuTensor)> {
            (c.norm == Norm::Pre && l > 0).then(|| {
                let (prev, p) = (&self.layers[l - 1], layer_params(params, l - 1));
                (Some(p.b2), &prev.sum1)
            })
        };
        for (l, acts) in self.layers.iter().enumerate() {
            let p = layer_params(params, l);
            let x = self.layer_input(c.norm, l);
            let ln1 = (p.ln1_gamma, p.ln1_beta, &acts.ln1_saved);
            let ln2 = (p.ln2_gamma, p.ln2_beta, &acts.ln2_saved);
            if c.norm == Norm::Pre {
                run.push(norm(x, unfinished(l), ln1, &acts.normed1)?);
            }
            // Attention: Q, K and V in one product (the three weights side by side in the
            // packed buffer), all heads' softmax(Q·Kᵀ/√d_head + mask)·V in one launch, W_O.
            let attn_in = acts.attention_input(c.norm, x);
            let (w_qkv, stride) = &qkv_w[l];
            run.extend([
                k.matmul.bind(
                    gpu,
                    [1, 3],
                    (attn_in, View::matrix(n, d)),
                    (w_qkv, View { inner_stride: *stride, ..View::matrix(d, d) }),
                    (&acts.qkv, View { inner_stride: n * d, ..View::matrix(n, d) }),
                    false,
                )?,
                k.attention.bind_forward(gpu, &shape, &acts.qkv, &acts.probs, &acts.heads)?,
                // sum1 = heads·W_O; the next norm adds x, the residual connection.
                linear(&acts.heads, p.w_o, &acts.sum1)?,
            ]);
            // Pre-norm: the stream is sum1 = x + attention. Post-norm: normed1 = LN1(sum1).
            run.push(match c.norm {
                Norm::Pre => norm(&acts.sum1, Some((None, x)), ln2, &acts.normed2)?,
                Norm::Post => norm(&acts.sum1, Some((None, x)), ln1, &acts.normed1)?,
            });
            // FFN: a = act(x·W1 + b1); sum2 = a·W2, to which a norm adds b2 and the stream.
            let ffn_in = acts.ffn_input(c.norm);
            run.extend([
                linear(ffn_in, p.w1, &acts.z)?,
                k.activations.bind_forward_bias(gpu, function(c.activation), &acts.z, p.b1, &acts.a)?,
                linear(&acts.a, p.w2, &acts.sum2)?,
            ]);
            if c.norm == Norm::Post {
                run.push(norm(&acts.sum2, Some((Some(p.b2), &acts.normed1)), ln2, &acts.normed2)?);
            }
        }
        if let Some((gamma, beta)) = final_ln(c) {
            let last = self.layer_input(c.norm, c.n_layers);
            let saved = (&params[gamma], &params[beta], &self.final_saved);
            run.push(norm(last, unfinished(c.n_layers), saved, &self.final_out)?);
        }
        // Tied output layer: logits = h·Eᵀ.
        run.push(k.matmul.bind(
            gpu,
            [1, 1],
            (self.hidden(c.norm), View::matrix(n, d)),
            (token_embedding, View::matrix(c.vocab, d).t()),
            (&self.logits, View::matrix(n, c.vocab)),
            false,
        )?);
        Ok(run)
    }
}

/// The shader's activation for the engine's.
fn function(activation: Activation) -> Function {
    match activation {
        Activation::Gelu => Function::Gelu,
        Activation::Relu => Function::Relu,
    }
}

/// The backward pass's scratch buffers, shared by every layer (they are visited one at a
/// time).
#[derive(Debug)]
struct Scratch {
    /// dL/dlogits `[N, vocab]` and the mean loss `[1]`.
    d_logits: GpuTensor,
    loss: GpuTensor,
    /// The gradient of the residual stream `[N, d_model]`, and a second one.
    g: GpuTensor,
    tmp: GpuTensor,
    d_heads: GpuTensor,
    /// The gradients of the queries, keys and values, `[3, N, d_model]`.
    dqkv: GpuTensor,
    d_probs: GpuTensor,
    /// dL/da, turned in place into dL/dz, `[N, d_ff]`.
    dz: GpuTensor,
}

/// Binds the loss and the backward pass of `pass` into the gradients `grads` (views laid
/// out as `params`; `qkv` holds each layer's W_Q, W_K, W_V as one view of the parameters,
/// and of the gradients, as `qkv_weights` makes them).
#[allow(clippy::too_many_arguments)]
fn bind_backward(
    gpu: &Gpu,
    k: &Kernels,
    c: &TransformerConfig,
    pass: &Pass,
    targets: &GpuIndices,
    (params, grads): (&[GpuTensor], &[GpuTensor]),
    qkv: (&[QkvWeights], &[QkvWeights]),
    s: &Scratch,
) -> ShapeResult<Vec<Dispatch>> {
    let (n, d) = (pass.b * pass.t, c.d_model);
    let shape = pass.attention_shape(c);
    let rows = |cols| View::matrix(n, cols);
    // dW = xᵀ·dy for rows x [N, in] and dy [N, out].
    let weight_grad = |x: &GpuTensor, dy: &GpuTensor, dw: &GpuTensor| {
        let (inner, out) = (dw.shape[0], dw.shape[1]);
        k.matmul.bind(
            gpu,
            [1, 1],
            (x, rows(inner).t()),
            (dy, rows(out)),
            (dw, View::matrix(inner, out)),
            false,
        )
    };
    // dx (+)= dy·Wᵀ.
    let input_grad = |dy: &GpuTensor, w: &GpuTensor, dx: &GpuTensor, accumulate: bool| {
        let (inner, out) = (w.shape[0], w.shape[1]);
        k.matmul.bind(
            gpu,
            [1, 1],
            (dy, rows(out)),
            (w, View::matrix(inner, out).t()),
            (dx, rows(inner)),
            accumulate,
        )
    };
    // dx (+)= the gradient through a norm, from its saved statistics and γ; its dγ and dβ
    // are written.
    let norm = |(saved, gamma, d_gamma, d_beta): (&GpuTensor, &GpuTensor, &GpuTensor, &GpuTensor),
                dy: &GpuTensor,
                dx: &GpuTensor,
                accumulate: bool| {
        k.layer_norm.bind_backward(gpu, saved, gamma, dy, d_gamma, d_beta, dx, accumulate)
    };
    let (token_embedding, d_token_embedding) = (&params[0], &grads[0]);
    let mut run = vec![k.cross_entropy.bind(gpu, &pass.logits, targets, &s.loss, &s.d_logits)?];
    // The tied output layer: dE = dlogitsᵀ·h (the first share of E's gradient), dh = dlogits·E.
    run.push(k.matmul.bind(
        gpu,
        [1, 1],
        (&s.d_logits, rows(c.vocab).t()),
        (pass.hidden(c.norm), rows(d)),
        (d_token_embedding, View::matrix(c.vocab, d)),
        false,
    )?);
    let dh = if final_ln(c).is_some() { &s.tmp } else { &s.g };
    run.push(k.matmul.bind(
        gpu,
        [1, 1],
        (&s.d_logits, rows(c.vocab)),
        (token_embedding, View::matrix(c.vocab, d)),
        (dh, rows(d)),
        false,
    )?);
    if let Some((gamma, beta)) = final_ln(c) {
        run.push(norm(
            (&pass.final_saved, &params[gamma], &grads[gamma], &grads[beta]),
            &s.tmp,
            &s.g,
            false,
        )?);
    }
    // Now g = dL/d(last layer's output). Walk the layers backward; each leaves
    // g = dL/d(its input).
    for l in (0..c.n_layers).rev() {
        let (acts, p, dp) = (&pass.layers[l], layer_params(params, l), layer_params(grads, l));
        let x = pass.layer_input(c.norm, l);
        let ln1 = (&acts.ln1_saved, p.ln1_gamma, dp.ln1_gamma, dp.ln1_beta);
        let ln2 = (&acts.ln2_saved, p.ln2_gamma, dp.ln2_gamma, dp.ln2_beta);
        // The gradient arriving at the FFN's output (sum2) and where dL/d(FFN input) goes.
        let (d_sum2, d_ffn_in) = match c.norm {
            // sum2 is the output: g. The FFN input normed2 = LN2(sum1) is new: tmp.
            Norm::Pre => (&s.g, &s.tmp),
            // normed2 = LN2(sum2) is the output; sum2 = normed1 + FFN(normed1), so tmp holds
            // d sum2 and then collects d normed1 on top of it.
            Norm::Post => (&s.tmp, &s.tmp),
        };
        if c.norm == Norm::Post {
            run.push(norm(ln2, &s.g, &s.tmp, false)?);
        }
        // FFN backward; the activation's backward also sums both biases' gradients.
        let ffn_in = acts.ffn_input(c.norm);
        let activation = function(c.activation);
        run.extend([
            weight_grad(&acts.a, d_sum2, dp.w2)?,
            input_grad(d_sum2, p.w2, &s.dz, false)?,
            k.activations.bind_backward_sums(gpu, activation, &acts.z, &s.dz, dp.b1, (d_sum2, dp.b2))?,
            weight_grad(ffn_in, &s.dz, dp.w1)?,
            // Post-norm adds onto the residual's share already in tmp.
            input_grad(&s.dz, p.w1, d_ffn_in, c.norm == Norm::Post)?,
        ]);
        // Into the attention block's output, sum1: pre-norm adds LN2's share onto the
        // residual's in g; post-norm writes LN1's backward into g.
        run.push(match c.norm {
            Norm::Pre => norm(ln2, &s.tmp, &s.g, true)?,
            Norm::Post => norm(ln1, &s.tmp, &s.g, false)?,
        });
        // Attention backward, from g = dL/dsum1: W_O's gradient; then every head's
        // gradients through W_O, the values, the softmax, the queries and the keys (two
        // launches); then W_Q, W_K, W_V's gradients in one product.
        let attn_in = acts.attention_input(c.norm, x);
        let ((w_qkv, stride), (dw_qkv, d_stride)) = (&qkv.0[l], &qkv.1[l]);
        let three = |stride: usize, view: View| View { inner_stride: stride, ..view };
        run.push(weight_grad(&acts.heads, &s.g, dp.w_o)?);
        run.extend(k.attention.bind_backward(
            gpu,
            &shape,
            (&acts.qkv, &acts.probs),
            (&s.g, p.w_o),
            &s.d_heads,
            &s.d_probs,
            &s.dqkv,
        )?);
        run.push(k.matmul.bind(
            gpu,
            [1, 3],
            (attn_in, rows(d).t()),
            (&s.dqkv, three(n * d, rows(d))),
            (dw_qkv, three(*d_stride, View::matrix(d, d))),
            false,
        )?);
        // dL/d(attention input) = dQ·W_Qᵀ + dK·W_Kᵀ + dV·W_Vᵀ, one product over the three.
        // Pre-norm: into tmp, then through LN1 onto the residual's share in g. Post-norm:
        // straight onto the residual's share in g.
        let (d_attn_in, accumulate) = match c.norm {
            Norm::Pre => (&s.tmp, false),
            Norm::Post => (&s.g, true),
        };
        run.push(k.matmul.bind_summed(
            gpu,
            [1, 3],
            (&s.dqkv, three(n * d, rows(d))),
            (w_qkv, three(*stride, View::matrix(d, d).t())),
            (d_attn_in, rows(d)),
            accumulate,
        )?);
        if c.norm == Norm::Pre {
            run.push(norm(ln1, &s.tmp, &s.g, true)?);
        }
    }
    // g = dL/dx0. The embeddings: E's second share, and P's only one.
    run.push(k.embedding.bind_scatter_both(
        gpu,
        &s.g,
        (&pass.ids, d_token_embedding, true),
        (&pass.positions, &grads[1], false),
    )?);
    Ok(run)
}

/// Whether AdamW decays a parameter of this shape: the matrices (both embeddings, the
/// attention and feed-forward weights) but not biases or layer-norm gains and shifts, as
/// `engine::models::train::Trainer` decides.
fn is_decayed(shape: &[usize]) -> bool {
    shape.len() == 2
}

/// One packed buffer for tensors of `shapes` (`GpuTensor::packed`), with the decayed ones
/// placed first: returns the whole buffer, a view per shape in the order given, and where
/// the decayed group ends (the rest of the buffer is the other group). Each group is then
/// one contiguous range, which one optimizer launch covers with its own weight decay.
fn pack_matrices_first(gpu: &Gpu, label: &str, shapes: &[Vec<usize>]) -> (GpuTensor, Vec<GpuTensor>, usize) {
    let (decayed, others): (Vec<usize>, Vec<usize>) =
        (0..shapes.len()).partition(|&i| is_decayed(&shapes[i]));
    let order: Vec<usize> = decayed.iter().chain(&others).copied().collect();
    let in_buffer: Vec<Vec<usize>> = order.iter().map(|&i| shapes[i].clone()).collect();
    let (whole, packed) = GpuTensor::packed(gpu, label, &in_buffer);
    // Where the first tensor of the other group starts, in f32.
    let boundary =
        packed.get(decayed.len()).map_or(whole.len(), |first_other| first_other.offset() as usize / 4);
    let mut views: Vec<Option<GpuTensor>> = (0..shapes.len()).map(|_| None).collect();
    for (&i, view) in order.iter().zip(packed) {
        views[i] = Some(view);
    }
    (whole, views.into_iter().flatten().collect(), boundary)
}

/// The largest number of elements one launch of a 1-D kernel can cover (65,535 workgroups
/// of 64).
const MAX_LAUNCH_ELEMENTS: usize = 65_535 * 64;

/// The transformer, trained on the GPU.
#[derive(Debug)]
pub struct GpuTransformer {
    pub config: TransformerConfig,
    pub settings: TrainSettings,
    gpu: Gpu,
    /// Every parameter in one buffer, and each as a view, in `param_specs` order.
    all_params: GpuTensor,
    params: Vec<GpuTensor>,
    /// The gradients, laid out the same way.
    grads: Vec<GpuTensor>,
    train_pass: Pass,
    targets: GpuIndices,
    scratch: Scratch,
    /// Forward, loss and backward: everything but the update.
    forward_backward: Vec<Dispatch>,
    /// The step counter with this step's learning rate, after clipping (if set) in the same
    /// launch; then the update of the whole packed buffer.
    tick: Dispatch,
    update: Dispatch,
    /// Every gradient in one buffer, laid out as `all_params` (what clipping measures).
    all_grads: GpuTensor,
    optimizer: OptimizerShared,
    /// The optimizer's pipelines, kept to rebind the step counter when the schedule grows.
    optim: Optim,
    schedule: ScheduleTable,
    /// The ids of the latest `train` call: inputs then targets, step after step.
    chunk_ids: wgpu::Buffer,
    /// One window of the context length, for [`GpuTransformer::logits`].
    inference: Pass,
    history: GpuTensor,
    history_len: usize,
    steps: u64,
}

impl GpuTransformer {
    /// Uploads `model` and binds everything training needs, for batches of
    /// `settings.batch` windows of `settings.len` tokens. Refuses (with a message for the
    /// page) a batch shape that does not fit the model, or sizes past what one launch covers.
    pub fn new(
        gpu: &Gpu,
        model: &Transformer,
        settings: TrainSettings,
    ) -> Result<GpuTransformer, ModelError> {
        let c = model.config;
        c.validate()?;
        if model.params.len() != c.param_specs().len() {
            return Err(ModelError::invalid(format!(
                "this configuration has {} parameter tensors but the model has {}",
                c.param_specs().len(),
                model.params.len()
            )));
        }
        if settings.batch == 0 || settings.len == 0 || settings.len > c.context {
            return Err(ModelError::invalid(format!(
                "the GPU trains on batches of at least one window of 1 to {} tokens, not {} of {}",
                c.context, settings.batch, settings.len
            )));
        }
        let n = settings.batch * settings.len;
        let largest = [
            c.param_count() + 64 * model.params.len(),
            n * c.d_ff,
            n * c.vocab,
            c.vocab * c.d_model,
            c.context * c.d_ff,
            c.context * c.vocab,
            // Attention: one invocation per query (or key) of each head.
            n * c.n_heads,
            // The embeddings' gradients in one launch.
            (c.vocab + c.context) * c.d_model,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        if largest > MAX_LAUNCH_ELEMENTS {
            return Err(ModelError::invalid(format!(
                "this model and batch are too large for the GPU version (a tensor of {largest} \
                 numbers; at most {MAX_LAUNCH_ELEMENTS}); make them smaller"
            )));
        }
        Ok(GpuTransformer::bind(gpu, model, settings)?)
    }

    fn bind(gpu: &Gpu, model: &Transformer, settings: TrainSettings) -> ShapeResult<GpuTransformer> {
        let c = model.config;
        let kernels = Kernels {
            matmul: BatchedMatmul::new(gpu),
            embedding: Embedding::new(gpu),
            layer_norm: LayerNorm::new(gpu),
            attention: AttentionKernels::new(gpu),
            activations: Activations::new(gpu),
            cross_entropy: CrossEntropy::new(gpu),
            optim: Optim::new(gpu),
        };
        let k = &kernels;
        let shapes: Vec<Vec<usize>> = c.param_specs().into_iter().map(|s| s.shape).collect();
        let (all_params, params, matrices) = pack_matrices_first(gpu, "parameters", &shapes);
        let (all_grads, grads, _) = pack_matrices_first(gpu, "gradients", &shapes);
        for (view, value) in params.iter().zip(&model.params) {
            view.write(gpu, value)?;
        }
        let (b, t) = (settings.batch, settings.len);
        let n = b * t;
        let qkv_w = qkv_weights(&all_params, &params, c.n_layers)?;
        let qkv_dw = qkv_weights(&all_grads, &grads, c.n_layers)?;
        let train_pass = Pass::new(gpu, k, &c, (&params, &qkv_w), b, t, settings.attention)?;
        let inference = Pass::new(gpu, k, &c, (&params, &qkv_w), 1, c.context, settings.attention)?;
        let targets = GpuIndices::zeros(gpu, "targets", n);
        let rows = |label| GpuTensor::zeros(gpu, label, &[n, c.d_model]);
        let scratch = Scratch {
            d_logits: GpuTensor::zeros(gpu, "d logits", &[n, c.vocab]),
            loss: GpuTensor::zeros(gpu, "loss", &[1]),
            g: rows("d stream"),
            tmp: rows("d tmp"),
            d_heads: rows("d heads"),
            dqkv: GpuTensor::zeros(gpu, "d qkv", &[3, n, c.d_model]),
            d_probs: GpuTensor::zeros(gpu, "d weights", &train_pass.layers[0].probs.shape),
            dz: GpuTensor::zeros(gpu, "dz", &[n, c.d_ff]),
        };
        let mut forward_backward = train_pass.forward.clone();
        forward_backward.extend(bind_backward(
            gpu,
            k,
            &c,
            &train_pass,
            &targets,
            (&params, &grads),
            (&qkv_w, &qkv_dw),
            &scratch,
        )?);

        let first_lr = settings.schedule.lr_at(0);
        let optimizer = OptimizerShared::new(gpu, settings.method, first_lr);
        let schedule = ScheduleTable::new(gpu, 1);
        let tick = bind_tick(&kernels.optim, gpu, &optimizer, &schedule, &all_grads, settings.max_grad_norm);
        // One update over the packed buffer, sharing the step count: the matrices (first in
        // the buffer) with the method's weight decay, the rest (biases, layer-norm gains and
        // shifts) with none.
        let decay = match settings.method {
            Method::AdamL2 { weight_decay, .. } | Method::AdamW { weight_decay, .. } => weight_decay,
            _ => 0.0,
        };
        let moments = Optim::moments(gpu, all_params.len());
        let update = k.optim.bind_update_decaying_first(
            gpu,
            &optimizer,
            decay,
            matrices,
            &all_params,
            &all_grads,
            &moments,
        )?;
        Ok(GpuTransformer {
            config: c,
            settings,
            gpu: gpu.clone(),
            all_params,
            params,
            grads,
            train_pass,
            targets,
            scratch,
            forward_backward,
            tick,
            update,
            all_grads,
            optimizer,
            optim: kernels.optim.clone(),
            schedule,
            chunk_ids: ids_buffer(gpu, 0),
            inference,
            history: GpuTensor::zeros(gpu, "loss history", &[0]),
            history_len: 0,
            steps: 0,
        })
    }

    /// Checks that a batch has the shape this model was bound for and only known tokens (a
    /// target may also be `NOT_A_TARGET`: that position is not graded).
    fn check(&self, batch: &Batch) -> Result<(), ModelError> {
        let s = &self.settings;
        if batch.batch != s.batch || batch.len != s.len {
            return Err(ModelError::invalid(format!(
                "the GPU model trains on batches of {} windows of {} tokens, not {} of {}",
                s.batch, s.len, batch.batch, batch.len
            )));
        }
        let n = s.batch * s.len;
        if batch.inputs.len() != n || batch.targets.len() != n {
            return Err(ModelError::invalid(format!(
                "a batch of {} windows of {} tokens needs {n} inputs and {n} targets",
                s.batch, s.len
            )));
        }
        let vocab = self.config.vocab;
        let graded = batch.targets.iter().filter(|&&t| t != NOT_A_TARGET);
        if let Some(id) = batch.inputs.iter().chain(graded).find(|&&id| id >= vocab) {
            return Err(ModelError::invalid(format!(
                "token id {id} is outside the vocabulary of {vocab} tokens"
            )));
        }
        Ok(())
    }

    /// Queues one training step per batch: one upload of all their token ids and learning
    /// rates, then one command encoder and one submit. Returns at once; read the losses
    /// with [`GpuTransformer::read_losses`].
    pub fn train(&mut self, batches: &[Batch]) -> Result<(), ModelError> {
        for batch in batches {
            self.check(batch)?;
        }
        let steps = batches.len();
        if steps == 0 {
            return Ok(());
        }
        let gpu = &self.gpu;
        let n = self.settings.batch * self.settings.len;
        // Room for this many steps' ids, rates and losses.
        if self.chunk_ids.size() < (8 * n * steps) as u64 {
            self.chunk_ids = ids_buffer(gpu, 2 * n * steps);
        }
        if self.schedule.capacity() < steps {
            self.schedule = ScheduleTable::new(gpu, steps);
            let max_norm = self.settings.max_grad_norm;
            self.tick =
                bind_tick(&self.optim, gpu, &self.optimizer, &self.schedule, &self.all_grads, max_norm);
        }
        if self.history.len() < steps {
            self.history = GpuTensor::zeros(gpu, "loss history", &[steps]);
        }
        let ids: Vec<u32> = batches
            .iter()
            .flat_map(|batch| batch.inputs.iter().chain(&batch.targets))
            .map(|&id| id as u32)
            .collect();
        gpu.queue.write_buffer(&self.chunk_ids, 0, bytemuck::cast_slice(&ids));
        let lrs: Vec<f32> = (0..steps as u64).map(|i| self.settings.schedule.lr_at(self.steps + i)).collect();
        self.schedule.write(gpu, self.steps as u32, &lrs)?;

        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        let bytes = 4 * n as u64;
        for i in 0..steps {
            // This step's inputs and targets into the buffers the launches read.
            let start = 2 * bytes * i as u64;
            encoder.copy_buffer_to_buffer(&self.chunk_ids, start, self.train_pass.ids.buffer(), 0, bytes);
            encoder.copy_buffer_to_buffer(&self.chunk_ids, start + bytes, self.targets.buffer(), 0, bytes);
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                for dispatch in self.step_dispatches() {
                    dispatch.record(&mut pass);
                }
            }
            let slot = 4 * i as wgpu::BufferAddress;
            encoder.copy_buffer_to_buffer(self.scratch.loss.buffer(), 0, self.history.buffer(), slot, 4);
        }
        gpu.queue.submit([encoder.finish()]);
        self.history_len = steps;
        self.steps += steps as u64;
        Ok(())
    }

    /// Everything one training step records, in order.
    fn step_dispatches(&self) -> impl Iterator<Item = &Dispatch> {
        self.forward_backward.iter().chain([&self.tick, &self.update])
    }

    /// Every launch one training step records, in order (the token ids are copied in
    /// before them): for profiling, e.g. `examples/profile_gpu_transformer.rs` times each
    /// one alone. Recording them changes the model like a training step would.
    pub fn step_launches(&self) -> Vec<Dispatch> {
        self.step_dispatches().cloned().collect()
    }

    /// How many launches one training step records, per kernel (its label, e.g. "batched
    /// matmul"), in the order of the labels; their sum is `step_launches().len()`. Fixed by
    /// the model's shape and settings, never by the data.
    pub fn launches_per_step(&self) -> Vec<(&'static str, usize)> {
        let mut per_kernel = std::collections::BTreeMap::new();
        for dispatch in self.step_dispatches() {
            *per_kernel.entry(dispatch.label()).or_insert(0) += 1;
        }
        per_kernel.into_iter().collect()
    }

    /// The loss and every parameter's gradient for one batch at the current weights, with
    /// no update: what `Transformer::loss_and_grads` returns, computed on the GPU.
    pub fn loss_and_grads(
        &self,
        batch: &Batch,
    ) -> Result<impl Future<Output = Result<(f32, Vec<Tensor>), GpuError>> + 'static, ModelError> {
        self.check(batch)?;
        let gpu = &self.gpu;
        self.train_pass.ids.write(gpu, &batch.inputs)?;
        self.targets.write(gpu, &batch.targets)?;
        gpu.run(&self.forward_backward.iter().collect::<Vec<_>>());
        let loss = read_back(gpu, self.scratch.loss.buffer(), 1);
        let grads: Vec<_> = self.grads.iter().map(|g| g.read(gpu)).collect();
        Ok(async move {
            let loss = loss.await?[0];
            let mut out = Vec::with_capacity(grads.len());
            for g in grads {
                out.push(g.await?);
            }
            Ok((loss, out))
        })
    }

    /// The losses of the latest [`GpuTransformer::train`] call, one per step, each before
    /// its update.
    pub fn read_losses(&self) -> impl Future<Output = Result<Vec<f32>, GpuError>> + 'static {
        read_back(&self.gpu, self.history.buffer(), self.history_len)
    }

    /// The step count, the latest learning rate and gradient norm (before clipping; 0 when
    /// nothing is clipped).
    pub fn read_step_state(&self) -> impl Future<Output = Result<StepState, GpuError>> + 'static {
        self.optimizer.read(&self.gpu)
    }

    /// Training steps queued so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The GPU this model runs on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The current weights as the engine's model, to go on on the CPU or to compare.
    pub fn read_model(&self) -> impl Future<Output = Result<Transformer, GpuError>> + 'static {
        let whole = self.all_params.read(&self.gpu);
        let views: Vec<(u64, Vec<usize>)> =
            self.params.iter().map(|p| (p.offset() / 4, p.shape.clone())).collect();
        let config = self.config;
        async move {
            let whole = whole.await?;
            let mut params = Vec::with_capacity(views.len());
            for (start, shape) in views {
                let len: usize = shape.iter().product();
                let start = start as usize;
                params.push(Tensor::from_vec(&shape, whole.data[start..start + len].to_vec())?);
            }
            Transformer::from_params(config, params)
                .map_err(|err| GpuError::Readback { detail: err.to_string() })
        }
    }

    /// The logits `[tokens.len(), vocab]` for one sequence of at most `context` tokens, as
    /// `Transformer::logits_for` computes them: row i scores what follows tokens 0..=i.
    ///
    /// The sequence is padded to the context length and run as one window; causal attention
    /// means the padding after position i cannot change row i. Any other attention would see
    /// the padding, so it takes exactly `context` tokens.
    pub fn logits(
        &self,
        tokens: &[usize],
    ) -> Result<impl Future<Output = Result<Tensor, GpuError>> + 'static, ModelError> {
        let c = &self.config;
        if tokens.is_empty() || tokens.len() > c.context {
            return Err(ModelError::invalid(format!(
                "the model reads 1 to {} tokens, not {}",
                c.context,
                tokens.len()
            )));
        }
        if let Some(&id) = tokens.iter().find(|&&id| id >= c.vocab) {
            return Err(ModelError::invalid(format!(
                "token id {id} is outside the vocabulary of {} tokens",
                c.vocab
            )));
        }
        if self.settings.attention != Attention::Causal && tokens.len() != c.context {
            return Err(ModelError::invalid(format!(
                "with {:?} attention the model reads whole windows of {} tokens, not {}",
                self.settings.attention,
                c.context,
                tokens.len()
            )));
        }
        let mut padded = tokens.to_vec();
        padded.resize(c.context, 0);
        let gpu = &self.gpu;
        self.inference.ids.write(gpu, &padded)?;
        gpu.run(&self.inference.forward.iter().collect::<Vec<_>>());
        let (rows, vocab) = (tokens.len(), c.vocab);
        let logits = self.inference.logits.buffer();
        let data = read_back_from(gpu, logits, self.inference.logits.offset(), rows * vocab);
        Ok(async move { Ok(Tensor::from_vec(&[rows, vocab], data.await?)?) })
    }
}

/// The launch that starts the optimizer's step: t ← t + 1 with the step's learning rate from
/// `schedule`, after measuring the gradient norm and setting the clipping factor when
/// `max_norm` is set (one launch either way).
fn bind_tick(
    optim: &Optim,
    gpu: &Gpu,
    optimizer: &OptimizerShared,
    schedule: &ScheduleTable,
    all_grads: &GpuTensor,
    max_norm: Option<f32>,
) -> Dispatch {
    match max_norm {
        Some(max_norm) => optim.bind_clip_tick_scheduled(gpu, optimizer, all_grads, max_norm, schedule),
        None => optim.bind_tick_scheduled(gpu, optimizer, schedule),
    }
}

/// A buffer for `len` token ids that copies can read from and the CPU can write (chapter 10's
/// attention-only model uses it too).
pub(crate) fn ids_buffer(gpu: &Gpu, len: usize) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("chunk token ids"),
        size: 4 * len.max(1) as u64,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}
