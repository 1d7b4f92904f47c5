//! Chapter 9's sentence encoder, all-MiniLM-L6-v2, on the GPU: `engine::models::minilm`'s
//! post-norm BERT encoder, forward only, for a batch of sentences at once.
//!
//! The weights are the engine's, uploaded once ([`GpuMiniLm::new`], or a step at a time with
//! [`GpuMiniLm::builder`] so that a page stays responsive meanwhile): the int8 word table
//! expanded to f32 as the engine expands it row by row, the token-type embedding added into
//! every position embedding (every token of a single sentence has type 0), and each layer's
//! W_Q, W_K and W_V side by side so that one batched product computes Q, K and V.
//!
//! A batch of sentences of different lengths is padded to the longest one. The padding's
//! token ids are 0 and its rows are computed like any other, but attention hides them from
//! every query ([`crate::kernels::attention::Attention::bind_forward_padded`], BERT's attention
//! mask), so each sentence's real rows are those it would have alone, and the readback leaves
//! the padding out.
//!
//! One forward pass is one submit of 2 + 11 launches a layer:
//!
//! ```text
//! x = LN(E_word[ids] + (E_position + E_type)[positions])          gather, layer norm
//! per layer:  Q, K, V = x·W_Q, x·W_K, x·W_V (one launch), + biases  batched matmul, 3 bias adds
//!             y = LN(x + softmax(Q·Kᵀ/√d_head + mask)·V·W_O + b_O)   attention, matmul, norm
//!             x = LN(y + GELU(y·W_up + b_up)·W_down + b_down)       matmul, exact GELU, matmul, norm
//! ```
//!
//! Every layer's output goes to its own slice of one buffer, so the hidden states of all
//! layers come back in one readback ([`GpuMiniLm::forward`]); or only the last layer's, mean
//! pooled over each sentence's tokens and scaled to unit length on the CPU
//! ([`GpuMiniLm::sentence_vectors`]: 384 numbers a token to add up, less than copying them).

use std::cell::RefCell;
use std::future::Future;

use engine::core::tensor::{ShapeError, Tensor};
use engine::models::minilm::{
    masked_mean, unit, Config, HiddenStates, LinearWeights, MiniLm, NormWeights, EPS,
};
use engine::models::transformer::{self, ModelError};

use crate::device::{Gpu, GpuError};
use crate::kernel::Dispatch;
use crate::kernels::activation::{Activations, Function};
use crate::kernels::add_bias::AddBias;
use crate::kernels::attention::{self, Attention};
use crate::kernels::batched_matmul::{BatchedMatmul, View};
use crate::kernels::embedding::Embedding;
use crate::kernels::layer_norm::LayerNorm;
use crate::tensor::{read_back_from, GpuIndices, GpuTensor};

/// The pipelines the encoder uses, compiled once.
struct Kernels {
    embedding: Embedding,
    layer_norm: LayerNorm,
    matmul: BatchedMatmul,
    add_bias: AddBias,
    attention: Attention,
    activations: Activations,
}

/// A layer norm's γ and β on the GPU.
struct GpuNorm {
    gamma: GpuTensor,
    beta: GpuTensor,
}

/// One encoder layer's weights on the GPU.
struct GpuLayer {
    /// W_Q, W_K and W_V, each `[d, d]`, one after another: `[3·d, d]`.
    qkv: GpuTensor,
    /// The biases of Q, K and V, each `[d]`.
    qkv_bias: [GpuTensor; 3],
    attention_out: (GpuTensor, GpuTensor),
    attention_norm: GpuNorm,
    up: (GpuTensor, GpuTensor),
    down: (GpuTensor, GpuTensor),
    output_norm: GpuNorm,
}

/// The buffers and recorded launches for one batch shape: `batch` sequences padded to
/// `seq_len` tokens. Built on the first call with that shape and kept for the next.
struct Plan {
    batch: usize,
    seq_len: usize,
    ids: GpuIndices,
    lengths: GpuIndices,
    /// Every layer's output, `[(layers + 1)·B·T, d]`: the embeddings' first, then each layer's.
    states: GpuTensor,
    forward: Vec<Dispatch>,
}

/// The encoder on the GPU, from the engine's weights.
pub struct GpuMiniLm {
    gpu: Gpu,
    config: Config,
    kernels: Kernels,
    /// The word embedding table `[vocab, d]`, expanded to f32.
    word: GpuTensor,
    /// Position embeddings with the token-type embedding added, `[positions, d]`.
    position_and_type: GpuTensor,
    embedding_norm: GpuNorm,
    layers: Vec<GpuLayer>,
    plan: RefCell<Option<Plan>>,
}

/// The length a batch is padded to: its longest sequence's.
fn padded_length(lengths: &[usize]) -> usize {
    lengths.iter().copied().max().unwrap_or(0)
}

fn upload(gpu: &Gpu, label: &str, shape: &[usize], data: &[f32]) -> GpuTensor {
    let tensor = Tensor::from_vec(shape, data.to_vec()).expect("the engine's weights have these sizes");
    GpuTensor::from_tensor(gpu, label, &tensor)
}

fn upload_linear(
    gpu: &Gpu,
    label: &str,
    inputs: usize,
    outputs: usize,
    l: LinearWeights<'_>,
) -> (GpuTensor, GpuTensor) {
    (upload(gpu, label, &[inputs, outputs], l.w), upload(gpu, label, &[outputs], l.b))
}

fn upload_norm(gpu: &Gpu, d: usize, n: NormWeights<'_>) -> GpuNorm {
    GpuNorm {
        gamma: upload(gpu, "minilm norm γ", &[d], n.gamma),
        beta: upload(gpu, "minilm norm β", &[d], n.beta),
    }
}

/// Rows of the word table a building step copies: 2,048 rows of 384 floats are 3 MB, a slice
/// the page copies between two frames.
pub const WORD_ROWS_PER_STEP: usize = 2048;

/// A [`GpuMiniLm`] being built a step at a time, so that a page can go back to its event
/// loop between steps instead of freezing while 90 MB are expanded and copied.
/// [`GpuMiniLm::builder`] copies the position embeddings and the first layer norm; each
/// [`GpuMiniLmBuilder::step`] then copies a slice of the word table's rows, or, once the table
/// is all there, one encoder layer; the last step compiles the pipelines.
/// [`GpuMiniLm::new`] takes every step at once.
pub struct GpuMiniLmBuilder<'m> {
    gpu: Gpu,
    model: &'m MiniLm,
    word_rows_per_step: usize,
    /// The whole table (zeros at first) and how many of its rows are copied.
    word: GpuTensor,
    word_rows: usize,
    position_and_type: GpuTensor,
    embedding_norm: GpuNorm,
    layers: Vec<GpuLayer>,
    kernels: Option<Kernels>,
}

impl GpuMiniLmBuilder<'_> {
    /// Copies the word table `rows` rows per step instead of [`WORD_ROWS_PER_STEP`] (at least
    /// one): a small model in a test takes several steps too.
    pub fn word_rows_per_step(mut self, rows: usize) -> Self {
        self.word_rows_per_step = rows.max(1);
        self
    }

    /// How many steps building takes in all.
    pub fn steps(&self) -> usize {
        let c = self.model.config;
        c.vocab.div_ceil(self.word_rows_per_step) + c.layers + 1
    }

    /// How many steps are done.
    pub fn steps_done(&self) -> usize {
        self.word_rows.div_ceil(self.word_rows_per_step)
            + self.layers.len()
            + usize::from(self.kernels.is_some())
    }

    /// Takes the next step; returns whether steps remain.
    pub fn step(&mut self) -> bool {
        let (gpu, model) = (&self.gpu, self.model);
        let Config { vocab, hidden: d, intermediate, layers, .. } = model.config;
        if self.word_rows < vocab {
            let end = (self.word_rows + self.word_rows_per_step).min(vocab);
            self.word
                .write_at(gpu, self.word_rows * d, &model.word_embedding_rows(self.word_rows..end))
                .expect("the rows lie inside the table");
            self.word_rows = end;
        } else if self.layers.len() < layers {
            let w = model.layer(self.layers.len());
            let qkv: Vec<f32> = [w.query.w, w.key.w, w.value.w].concat();
            self.layers.push(GpuLayer {
                qkv: upload(gpu, "minilm W_QKV", &[3 * d, d], &qkv),
                qkv_bias: [w.query.b, w.key.b, w.value.b].map(|b| upload(gpu, "minilm QKV bias", &[d], b)),
                attention_out: upload_linear(gpu, "minilm W_O", d, d, w.attention_out),
                attention_norm: upload_norm(gpu, d, w.attention_norm),
                up: upload_linear(gpu, "minilm W_up", d, intermediate, w.up),
                down: upload_linear(gpu, "minilm W_down", intermediate, d, w.down),
                output_norm: upload_norm(gpu, d, w.output_norm),
            });
        } else if self.kernels.is_none() {
            self.kernels = Some(Kernels {
                embedding: Embedding::new(gpu),
                layer_norm: LayerNorm::new(gpu),
                matmul: BatchedMatmul::new(gpu),
                add_bias: AddBias::new(gpu),
                attention: Attention::new(gpu),
                activations: Activations::new(gpu),
            });
        }
        self.steps_done() < self.steps()
    }

    /// The encoder, once every step is taken; until then `None`.
    pub fn finish(self) -> Option<GpuMiniLm> {
        if self.steps_done() < self.steps() {
            return None;
        }
        Some(GpuMiniLm {
            gpu: self.gpu,
            config: self.model.config,
            kernels: self.kernels?,
            word: self.word,
            position_and_type: self.position_and_type,
            embedding_norm: self.embedding_norm,
            layers: self.layers,
            plan: RefCell::new(None),
        })
    }
}

impl GpuMiniLm {
    /// Copies the position embeddings and the first layer norm; the word table, the layers
    /// and the pipelines follow a step at a time ([`GpuMiniLmBuilder`]).
    pub fn builder<'m>(gpu: &Gpu, model: &'m MiniLm) -> GpuMiniLmBuilder<'m> {
        let Config { vocab, hidden: d, positions, layers, .. } = model.config;
        let type_embedding = model.token_type_embedding();
        let position_and_type: Vec<f32> = model
            .position_embeddings()
            .chunks_exact(d)
            .flat_map(|row| row.iter().zip(type_embedding).map(|(p, t)| p + t))
            .collect();
        GpuMiniLmBuilder {
            gpu: gpu.clone(),
            model,
            word_rows_per_step: WORD_ROWS_PER_STEP,
            word: GpuTensor::zeros(gpu, "minilm word embeddings", &[vocab, d]),
            word_rows: 0,
            position_and_type: upload(gpu, "minilm position embeddings", &[positions, d], &position_and_type),
            embedding_norm: upload_norm(gpu, d, model.embedding_norm()),
            layers: Vec::with_capacity(layers),
            kernels: None,
        }
    }

    /// Uploads the engine's model (about 90 MB of f32 for the shipped one) in one go.
    pub fn new(gpu: &Gpu, model: &MiniLm) -> GpuMiniLm {
        let mut builder = GpuMiniLm::builder(gpu, model);
        while builder.step() {}
        builder.finish().expect("every step is taken")
    }

    pub fn config(&self) -> Config {
        self.config
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Runs the encoder on a batch of token-id sequences (`[CLS]` … `[SEP]`, as the engine's
    /// `MiniLm::forward` takes them) and reads back every layer's hidden states, one
    /// `HiddenStates` per sequence with its own tokens only.
    pub fn forward(
        &self,
        batch: &[&[u32]],
    ) -> Result<impl Future<Output = Result<Vec<HiddenStates>, GpuError>> + 'static, ModelError> {
        let lengths = self.run(batch)?;
        let (b, t, d) = (lengths.len(), padded_length(&lengths), self.config.hidden);
        let layers = self.config.layers + 1;
        let data = self.read_states(0, layers)?;
        Ok(async move {
            let data = data.await?;
            let n = b * t;
            Ok(lengths
                .iter()
                .enumerate()
                .map(|(s, &len)| HiddenStates {
                    tokens: len,
                    hidden: d,
                    states: (0..layers)
                        .map(|l| {
                            let start = (l * n + s * t) * d;
                            data[start..start + len * d].to_vec()
                        })
                        .collect(),
                })
                .collect())
        })
    }

    /// The sentence vectors of a batch of token-id sequences: each sequence's last-layer
    /// vectors, averaged over its tokens and scaled to unit length, as
    /// `HiddenStates::sentence_vector` computes them. Only the last layer is read back.
    pub fn sentence_vectors(
        &self,
        batch: &[&[u32]],
    ) -> Result<impl Future<Output = Result<Vec<Vec<f32>>, GpuError>> + 'static, ModelError> {
        let lengths = self.run(batch)?;
        let (t, d) = (padded_length(&lengths), self.config.hidden);
        let data = self.read_states(self.config.layers, 1)?;
        Ok(async move {
            let data = data.await?;
            Ok(lengths
                .iter()
                .enumerate()
                .map(|(s, &len)| {
                    let rows = &data[s * t * d..(s * t + len) * d];
                    unit(&masked_mean(rows, d, &vec![true; len]))
                })
                .collect())
        })
    }

    /// Checks the batch, writes its ids into a plan for its shape and submits the forward
    /// pass. Returns each sequence's length.
    fn run(&self, batch: &[&[u32]]) -> Result<Vec<usize>, ModelError> {
        let c = self.config;
        let lengths: Vec<usize> = batch.iter().map(|ids| ids.len()).collect();
        let seq_len = padded_length(&lengths);
        if batch.is_empty() || lengths.contains(&0) || seq_len > c.positions {
            return Err(ModelError::invalid(format!(
                "MiniLM takes one or more sequences of 1 to {} tokens, got lengths {lengths:?}",
                c.positions
            )));
        }
        if let Some(&id) = batch.iter().flat_map(|ids| ids.iter()).find(|&&id| id as usize >= c.vocab) {
            return Err(ModelError::invalid(format!("token id {id} is outside the vocabulary")));
        }
        let fits =
            self.plan.borrow().as_ref().is_some_and(|p| p.batch == batch.len() && p.seq_len == seq_len);
        if !fits {
            *self.plan.borrow_mut() = Some(self.plan_for(batch.len(), seq_len)?);
        }
        let plan = self.plan.borrow();
        let plan = plan.as_ref().expect("built above");
        let mut ids = vec![0usize; batch.len() * seq_len];
        for (row, sequence) in ids.chunks_exact_mut(seq_len).zip(batch) {
            for (slot, &id) in row.iter_mut().zip(sequence.iter()) {
                *slot = id as usize;
            }
        }
        plan.ids.write(&self.gpu, &ids)?;
        plan.lengths.write(&self.gpu, &lengths)?;
        self.gpu.run(&plan.forward.iter().collect::<Vec<_>>());
        Ok(lengths)
    }

    /// Reads `count` layers' outputs starting at layer `first` (0 = the embeddings) of the
    /// plan last run.
    fn read_states(
        &self,
        first: usize,
        count: usize,
    ) -> Result<impl Future<Output = Result<Vec<f32>, GpuError>> + 'static, ModelError> {
        let plan = self.plan.borrow();
        let plan = plan.as_ref().ok_or_else(|| ModelError::invalid("nothing has been run"))?;
        let layer_len = plan.batch * plan.seq_len * self.config.hidden;
        let states = &plan.states;
        Ok(read_back_from(
            &self.gpu,
            states.buffer(),
            states.offset() + 4 * (first * layer_len) as u64,
            count * layer_len,
        ))
    }

    /// Allocates the buffers for `batch` sequences of `seq_len` tokens and records the
    /// forward pass over them.
    fn plan_for(&self, batch: usize, seq_len: usize) -> Result<Plan, ShapeError> {
        let (gpu, k, c) = (&self.gpu, &self.kernels, self.config);
        let (n, d, inner) = (batch * seq_len, c.hidden, c.intermediate);
        let zeros = |label, shape: &[usize]| GpuTensor::zeros(gpu, label, shape);
        let positions: Vec<usize> = (0..n).map(|r| r % seq_len).collect();
        let plan_ids = GpuIndices::zeros(gpu, "minilm ids", n);
        let plan_positions = GpuIndices::from_slice(gpu, "minilm positions", &positions);
        let lengths = GpuIndices::zeros(gpu, "minilm lengths", batch);
        let states = zeros("minilm hidden states", &[(c.layers + 1) * n, d]);
        // Layer l's output: rows l·n .. (l + 1)·n of `states` (n·d is a multiple of 64, as a
        // view's start must be, because d is).
        let layer_out = |l: usize| -> Result<GpuTensor, ShapeError> {
            let mut view = states.range(l * n * d, n * d)?;
            view.shape = vec![n, d];
            Ok(view)
        };
        let x0 = zeros("minilm embeddings", &[n, d]);
        let saved = LayerNorm::saved(gpu, n, d);
        let shape = attention::Shape {
            batch,
            seq_len,
            heads: c.heads,
            d_model: d,
            mask: transformer::Attention::Bidirectional,
        };
        let qkv = Attention::qkv(gpu, "minilm qkv", &shape);
        let probs = zeros("minilm attention weights", &[batch * c.heads * seq_len, seq_len]);
        let heads = zeros("minilm heads", &[n, d]);
        let sum1 = zeros("minilm attention sum", &[n, d]);
        let y1 = zeros("minilm attention normed", &[n, d]);
        let z = zeros("minilm ffn z", &[n, inner]);
        let a = zeros("minilm ffn a", &[n, inner]);
        let sum2 = zeros("minilm ffn sum", &[n, d]);
        // y = x·W for rows x [n, in] and a weight W [in, out].
        let linear = |x: &GpuTensor, w: &GpuTensor, y: &GpuTensor| {
            let (inputs, outputs) = (w.shape[0], w.shape[1]);
            k.matmul.bind(
                gpu,
                [1, 1],
                (x, View::matrix(n, inputs)),
                (w, View::matrix(inputs, outputs)),
                (y, View::matrix(n, outputs)),
                false,
            )
        };
        let norm =
            |(x, bias, residual): (&GpuTensor, &GpuTensor, &GpuTensor), weights: &GpuNorm, y: &GpuTensor| {
                k.layer_norm.bind_forward_residual(
                    gpu,
                    EPS,
                    (x, Some(bias), residual),
                    &weights.gamma,
                    &weights.beta,
                    &saved,
                    y,
                )
            };
        let mut forward = vec![
            k.embedding.bind_gather_both(
                gpu,
                (&self.word, &plan_ids),
                (&self.position_and_type, &plan_positions),
                &x0,
            )?,
            k.layer_norm.bind_forward(
                gpu,
                EPS,
                &x0,
                &self.embedding_norm.gamma,
                &self.embedding_norm.beta,
                &saved,
                &layer_out(0)?,
            )?,
        ];
        for (l, w) in self.layers.iter().enumerate() {
            let (x, out) = (layer_out(l)?, layer_out(l + 1)?);
            forward.push(k.matmul.bind(
                gpu,
                [1, 3],
                (&x, View::matrix(n, d)),
                (&w.qkv, View { inner_stride: d * d, ..View::matrix(d, d) }),
                (&qkv, View { inner_stride: n * d, ..View::matrix(n, d) }),
                false,
            )?);
            for (part, bias) in w.qkv_bias.iter().enumerate() {
                let mut rows = qkv.range(part * n * d, n * d)?;
                rows.shape = vec![n, d];
                forward.push(k.add_bias.bind(gpu, &rows, bias)?);
            }
            forward.extend([
                k.attention.bind_forward_padded(gpu, &shape, &lengths, (&qkv, &probs, &heads))?,
                linear(&heads, &w.attention_out.0, &sum1)?,
                norm((&sum1, &w.attention_out.1, &x), &w.attention_norm, &y1)?,
                linear(&y1, &w.up.0, &z)?,
                k.activations.bind_forward_bias(gpu, Function::GeluErf, &z, &w.up.1, &a)?,
                linear(&a, &w.down.0, &sum2)?,
                norm((&sum2, &w.down.1, &y1), &w.output_norm, &out)?,
            ]);
        }
        // The positions' buffer stays alive in the gather's bind group.
        Ok(Plan { batch, seq_len, ids: plan_ids, lengths, states, forward })
    }
}
