//! Multi-head attention with every head of every sequence in one launch (`attention.wgsl`):
//! the scores, the masked softmax and the weighted sum of the values in one launch forward,
//! and the whole gradient (through W_O, the values, the softmax, the queries and the keys)
//! in two. One invocation owns one query (or, for the keys' gradients, one key) of one head.
//!
//! The queries, keys and values are one `[3, B·T, d_model]` tensor ([`Attention::qkv`]),
//! which one batched product fills from the three weight matrices.

use engine::core::tensor::{shape_str, ShapeError};
use engine::models::transformer;

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::{GpuIndices, GpuTensor};

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Dims` in attention.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    seq_len: u32,
    heads: u32,
    d_model: u32,
    d_head: u32,
    rows: u32,
    count: u32,
    scale: f32,
    reach: u32,
}

/// The attention's sizes: `batch` sequences of `seq_len` tokens, `heads` heads over
/// `d_model` features, and which keys each query sees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub batch: usize,
    pub seq_len: usize,
    pub heads: usize,
    pub d_model: usize,
    pub mask: transformer::Attention,
}

impl Shape {
    fn dims(&self) -> Result<Dims, ShapeError> {
        let Shape { batch, seq_len, heads, d_model, mask } = *self;
        if seq_len == 0 || heads == 0 || d_model % heads != 0 {
            return Err(ShapeError::new(format!(
                "attention: {heads} heads must divide d_model {d_model}, over sequences of 1 or more \
                 tokens (not {seq_len})"
            )));
        }
        let d_head = d_model / heads;
        Ok(Dims {
            seq_len: seq_len as u32,
            heads: heads as u32,
            d_model: d_model as u32,
            d_head: d_head as u32,
            rows: (batch * seq_len) as u32,
            count: (batch * heads * seq_len) as u32,
            scale: 1.0 / (d_head as f32).sqrt(),
            reach: match mask {
                transformer::Attention::Causal => 0,
                transformer::Attention::SeesNext => 1,
                transformer::Attention::Bidirectional => seq_len as u32 - 1,
            },
        })
    }

    /// Checks each tensor's shape against what the shader reads.
    fn check(&self, tensors: &[(&str, &GpuTensor, Vec<usize>)]) -> Result<(), ShapeError> {
        for (name, tensor, shape) in tensors {
            if tensor.shape != *shape {
                return Err(ShapeError::new(format!(
                    "attention: {name} must be {}, got {}",
                    shape_str(shape),
                    shape_str(&tensor.shape)
                )));
            }
        }
        Ok(())
    }

    fn qkv_shape(&self) -> Vec<usize> {
        vec![3, self.batch * self.seq_len, self.d_model]
    }

    fn rows_shape(&self) -> Vec<usize> {
        vec![self.batch * self.seq_len, self.d_model]
    }

    fn weights_shape(&self) -> Vec<usize> {
        vec![self.batch * self.heads * self.seq_len, self.seq_len]
    }
}

/// The three attention pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct Attention {
    forward: Kernel,
    forward_padded: Kernel,
    backward_queries: Kernel,
    backward_keys: Kernel,
}

impl Attention {
    pub fn new(gpu: &Gpu) -> Attention {
        let source = [include_str!("attention.wgsl")];
        let kernel = |label, entry| Kernel::new(gpu, label, &source, entry);
        Attention {
            forward: kernel("attention forward", "forward"),
            forward_padded: kernel("attention forward padded", "forward_padded"),
            backward_queries: kernel("attention backward queries", "backward_queries"),
            backward_keys: kernel("attention backward keys", "backward_keys"),
        }
    }

    /// A `[3, B·T, d_model]` tensor for the queries, keys and values (or their gradients).
    pub fn qkv(gpu: &Gpu, label: &str, shape: &Shape) -> GpuTensor {
        GpuTensor::zeros(gpu, label, &shape.qkv_shape())
    }

    /// Binds the forward pass: from `qkv`, the weights `probs` `[B·H·T, T]` (kept for the
    /// backward pass) and the heads' outputs side by side, `heads` `[B·T, d_model]`.
    pub fn bind_forward(
        &self,
        gpu: &Gpu,
        shape: &Shape,
        qkv: &GpuTensor,
        probs: &GpuTensor,
        heads: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        self.bind_attend(gpu, shape, None, (qkv, probs, heads))
    }

    /// Binds the forward pass of [`Attention::bind_forward`] for sequences padded to
    /// `shape.seq_len` tokens: `lengths` holds each sequence's number of real tokens (1 to
    /// seq_len), and no query sees a key past them, as BERT's attention mask hides padding.
    /// Each sequence's real rows then come out as if it had been run alone.
    pub fn bind_forward_padded(
        &self,
        gpu: &Gpu,
        shape: &Shape,
        lengths: &GpuIndices,
        (qkv, probs, heads): (&GpuTensor, &GpuTensor, &GpuTensor),
    ) -> Result<Dispatch, ShapeError> {
        self.bind_attend(gpu, shape, Some(lengths), (qkv, probs, heads))
    }

    /// Both forward passes: checks the tensors (and the `lengths`, if the sequences are
    /// padded), then binds `forward` or `forward_padded` with one invocation per query.
    fn bind_attend(
        &self,
        gpu: &Gpu,
        shape: &Shape,
        lengths: Option<&GpuIndices>,
        (qkv, probs, heads): (&GpuTensor, &GpuTensor, &GpuTensor),
    ) -> Result<Dispatch, ShapeError> {
        let dims = shape.dims()?;
        shape.check(&[
            ("qkv", qkv, shape.qkv_shape()),
            ("the weights", probs, shape.weights_shape()),
            ("the heads' outputs", heads, shape.rows_shape()),
        ])?;
        if let Some(lengths) = lengths.filter(|lengths| lengths.len() != shape.batch) {
            return Err(ShapeError::new(format!(
                "attention: {} lengths for {} sequences",
                lengths.len(),
                shape.batch
            )));
        }
        let groups = [groups_for(dims.count as usize, GROUP), 1, 1];
        let dims = uniform(gpu, "attention dims", &dims);
        Ok(match lengths {
            None => self.forward.bind(gpu, &[&dims, qkv, probs, heads], groups),
            Some(lengths) => self.forward_padded.bind(gpu, &[&dims, qkv, probs, heads, lengths], groups),
        })
    }

    /// Binds the backward pass from `d_out` = dL/d(heads·W_O) `[B·T, d_model]` and `w_o`:
    /// writes dL/dheads into `d_heads`, dL/dscores into `d_scores` (like `probs`), and the
    /// queries', keys' and values' gradients into `d_qkv` (like `qkv`). Two launches.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_backward(
        &self,
        gpu: &Gpu,
        shape: &Shape,
        (qkv, probs): (&GpuTensor, &GpuTensor),
        (d_out, w_o): (&GpuTensor, &GpuTensor),
        d_heads: &GpuTensor,
        d_scores: &GpuTensor,
        d_qkv: &GpuTensor,
    ) -> Result<[Dispatch; 2], ShapeError> {
        let dims = shape.dims()?;
        shape.check(&[
            ("qkv", qkv, shape.qkv_shape()),
            ("the weights", probs, shape.weights_shape()),
            ("the output's gradient", d_out, shape.rows_shape()),
            ("W_O", w_o, vec![shape.d_model, shape.d_model]),
            ("the heads' gradient", d_heads, shape.rows_shape()),
            ("the scores' gradient", d_scores, shape.weights_shape()),
            ("qkv's gradient", d_qkv, shape.qkv_shape()),
        ])?;
        let groups = [groups_for(dims.count as usize, GROUP), 1, 1];
        let dims = uniform(gpu, "attention dims", &dims);
        Ok([
            self.backward_queries.bind(
                gpu,
                &[&dims, qkv, probs, d_heads, d_scores, d_qkv, d_out, w_o],
                groups,
            ),
            self.backward_keys.bind(gpu, &[&dims, qkv, probs, d_heads, d_scores, d_qkv], groups),
        ])
    }
}
