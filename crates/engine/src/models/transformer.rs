//! A small decoder-only transformer (GPT-style), on the autograd tape for training and
//! without it for inference.
//!
//! # The model
//!
//! For a sequence of T token ids t₀ … t_{T−1} (each below `vocab`):
//!
//! ```text
//! x = E[t_i] + P[i]                          token embedding plus learned position embedding
//! repeat n_layers times (pre-norm):          (post-norm instead: x = LN1(x + Attn(x)),
//!     x = x + Attn(LN1(x))                                        x = LN2(x + FFN(x)))
//!     x = x + FFN(LN2(x))
//! h = LN_final(x)                            pre-norm only; post-norm's last LN already ran
//! logits = h·Eᵀ                              the output layer reuses (is "tied to") E
//! loss = mean over every position i of −log softmax(logits_i)[t_{i+1}]
//! ```
//!
//! Attn is multi-head causal self-attention: Q = x·W_Q, K = x·W_K, V = x·W_V (each
//! `[d_model, d_model]`), split into `n_heads` heads of d_head = d_model / n_heads columns;
//! each head computes softmax(Q_h·K_hᵀ/√d_head + causal mask)·V_h; the heads' outputs are
//! put side by side again and multiplied by W_O. The attention projections have no biases
//! (as in many modern models; a bias on K would not change the softmax at all). FFN is
//! act(x·W1 + b1)·W2 + b2 with a hidden width d_ff and act = GELU or ReLU.
//! [`Transformer::forward_on_tape_with`] can drop the causal mask for a BERT-style
//! bidirectional pass over the same parameters (chapter 6's masked-LM loss).
//!
//! # The parameters, in order
//!
//! All parameters live in one ordered list of named tensors, [`TransformerConfig::param_specs`].
//! The order is a contract shared by the optimizer (one state per tensor), the checkpoint
//! format and the GPU version of this model:
//!
//! ```text
//! token_embedding              [vocab, d_model]     E, also the output layer
//! position_embedding           [context, d_model]   P
//! for each layer l = 0, 1, …:
//!   layers.l.ln1.gamma         [d_model]
//!   layers.l.ln1.beta          [d_model]
//!   layers.l.attn.w_q          [d_model, d_model]
//!   layers.l.attn.w_k          [d_model, d_model]
//!   layers.l.attn.w_v          [d_model, d_model]
//!   layers.l.attn.w_o          [d_model, d_model]
//!   layers.l.ln2.gamma         [d_model]
//!   layers.l.ln2.beta          [d_model]
//!   layers.l.ffn.w1            [d_model, d_ff]
//!   layers.l.ffn.b1            [d_ff]
//!   layers.l.ffn.w2            [d_ff, d_model]
//!   layers.l.ffn.b2            [d_model]
//! final_ln.gamma               [d_model]            pre-norm only
//! final_ln.beta                [d_model]            pre-norm only
//! ```
//!
//! Weight matrices are `[in, out]`, so a layer computes x·W for rows x. Within a head split,
//! head h owns columns h·d_head … (h+1)·d_head − 1 of Q, K and V.
//!
//! # Initialization (GPT-2's scheme)
//!
//! Drawn from one seeded [`Rng`] in the order above, each tensor row-major: every matrix and
//! both embeddings from a normal with standard deviation 0.02, except the two projections
//! that write into the residual stream (W_O and W2), whose standard deviation is divided by
//! √(2·n_layers) so that the stream's variance does not grow with depth; biases 0; layer-norm
//! gains 1 and shifts 0.
//!
//! # Two forward passes
//!
//! [`Transformer::forward_on_tape`] records a batch on the autograd tape for training.
//! [`Transformer::forward_cached`] runs without a tape, one or many positions at a time,
//! keeping each layer's keys and values in a [`KvCache`] so that generating the next token
//! costs one position's work instead of the whole sequence's. It also counts its
//! multiply-adds; [`cached_step_multiply_adds`] and [`uncached_step_multiply_adds`] give the
//! same counts as formulas.

use std::fmt;

use crate::core::autograd::{self, gelu, Graph, Var};
use crate::core::rng::Rng;
use crate::core::tensor::{self, causal_mask, ShapeError, Tensor};

/// Which keys each query may attend to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attention {
    /// GPT's: position i sees positions 0 ..= i. Every training and generation path uses it.
    Causal,
    /// BERT's: every position sees every position of its window (chapter 6's masked LM).
    Bidirectional,
    /// A broken causal mask: position i sees positions 0 ..= i + 1, one character of the
    /// answer it is trained to predict (chapter 6's leaky model).
    SeesNext,
}

impl Attention {
    /// The additive mask `[t, t]`: 0 where query i may attend to key j, −∞ where it may not.
    pub fn mask(self, t: usize) -> Tensor {
        match self {
            Attention::Causal => causal_mask(t),
            Attention::Bidirectional => Tensor::zeros(&[t, t]),
            Attention::SeesNext => {
                let mut mask = Tensor::zeros(&[t, t]);
                for i in 0..t {
                    for j in i + 2..t {
                        mask.data[i * t + j] = f32::NEG_INFINITY;
                    }
                }
                mask
            }
        }
    }
}

/// Where layer norm sits relative to the residual connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// x + sublayer(LN(x)), plus one last LN before the output: the modern default, stable
    /// without much warmup.
    Pre,
    /// LN(x + sublayer(x)): the original 2017 transformer. Needs learning-rate warmup.
    Post,
}

/// The feed-forward block's nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// GELU in the tanh approximation (GPT-2, BERT).
    Gelu,
    /// max(x, 0) (the original transformer).
    Relu,
}

/// Every size and switch that defines the model's shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformerConfig {
    /// How many distinct tokens there are.
    pub vocab: usize,
    /// The longest sequence the model can read (one learned position embedding each).
    pub context: usize,
    /// The width of every token's vector in the residual stream.
    pub d_model: usize,
    /// Attention heads per layer; each gets d_model / n_heads dimensions.
    pub n_heads: usize,
    /// Transformer blocks stacked.
    pub n_layers: usize,
    /// The feed-forward block's hidden width (usually 4·d_model).
    pub d_ff: usize,
    pub norm: Norm,
    pub activation: Activation,
    /// Added to the variance inside layer norm to keep the division away from 0.
    pub eps: f32,
}

/// The largest model the book will build: 50 million parameters, 200 MB of f32, which a
/// browser tab can still hold alongside the optimizer's two moments.
pub const MAX_PARAMETERS: usize = 50_000_000;

/// Something went wrong, in words a reader can act on.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelError {
    /// An input, setting or file that cannot be used; the message says which and why.
    Invalid(String),
    /// Training produced a loss or gradient that is not a finite number.
    Diverged { step: u64 },
}

impl ModelError {
    pub fn invalid(message: impl Into<String>) -> ModelError {
        ModelError::Invalid(message.into())
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Invalid(message) => f.write_str(message),
            ModelError::Diverged { step } => {
                write!(f, "diverged at step {step}: the loss or its gradient is no longer a finite number")
            }
        }
    }
}

impl std::error::Error for ModelError {}

impl From<ShapeError> for ModelError {
    fn from(e: ShapeError) -> ModelError {
        ModelError::Invalid(e.message)
    }
}

/// What the model's functions return.
pub type Result<T> = std::result::Result<T, ModelError>;

/// One parameter tensor's name and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

impl TransformerConfig {
    /// The width of one attention head.
    pub fn d_head(&self) -> usize {
        self.d_model / self.n_heads.max(1)
    }

    /// Checks that the sizes make a model, with a message that says what to change.
    pub fn validate(&self) -> Result<()> {
        let sizes = [
            ("vocabulary size", self.vocab),
            ("context length", self.context),
            ("model width d_model", self.d_model),
            ("number of heads", self.n_heads),
            ("number of layers", self.n_layers),
            ("feed-forward width d_ff", self.d_ff),
        ];
        for (what, size) in sizes {
            if size == 0 {
                return Err(ModelError::invalid(format!("the {what} must be at least 1")));
            }
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(ModelError::invalid(format!(
                "d_model ({}) must be divisible by the number of heads ({}): each head gets \
                 d_model / heads dimensions",
                self.d_model, self.n_heads
            )));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(ModelError::invalid(format!(
                "layer norm's eps must be a small positive number, not {}",
                self.eps
            )));
        }
        match self.checked_param_count() {
            Some(n) if n <= MAX_PARAMETERS => Ok(()),
            _ => Err(ModelError::invalid(format!(
                "this model would have more than {MAX_PARAMETERS} parameters, too many for a \
                 browser tab; make it smaller"
            ))),
        }
    }

    /// Every parameter's name and shape, in the order documented at the top of this module.
    pub fn param_specs(&self) -> Vec<ParamSpec> {
        let (d, f) = (self.d_model, self.d_ff);
        let spec = |name: String, shape: &[usize]| ParamSpec { name, shape: shape.to_vec() };
        let mut specs = vec![
            spec("token_embedding".into(), &[self.vocab, d]),
            spec("position_embedding".into(), &[self.context, d]),
        ];
        for l in 0..self.n_layers {
            let layer: [(&str, &[usize]); 12] = [
                ("ln1.gamma", &[d]),
                ("ln1.beta", &[d]),
                ("attn.w_q", &[d, d]),
                ("attn.w_k", &[d, d]),
                ("attn.w_v", &[d, d]),
                ("attn.w_o", &[d, d]),
                ("ln2.gamma", &[d]),
                ("ln2.beta", &[d]),
                ("ffn.w1", &[d, f]),
                ("ffn.b1", &[f]),
                ("ffn.w2", &[f, d]),
                ("ffn.b2", &[d]),
            ];
            for (name, shape) in layer {
                specs.push(spec(format!("layers.{l}.{name}"), shape));
            }
        }
        if self.norm == Norm::Pre {
            specs.push(spec("final_ln.gamma".into(), &[d]));
            specs.push(spec("final_ln.beta".into(), &[d]));
        }
        specs
    }

    /// The total number of parameters (numbers) in the model.
    pub fn param_count(&self) -> usize {
        self.param_specs().iter().map(|s| s.shape.iter().product::<usize>()).sum()
    }

    /// [`TransformerConfig::param_count`] without overflowing on absurd sizes.
    fn checked_param_count(&self) -> Option<usize> {
        let (v, c, d, f) = (self.vocab, self.context, self.d_model, self.d_ff);
        let norms = if self.norm == Norm::Pre { 2 } else { 0 };
        // Per layer: 4 attention matrices, 2 FFN matrices, 2 FFN biases, 2 layer norms.
        let per_layer = d
            .checked_mul(d)?
            .checked_mul(4)?
            .checked_add(d.checked_mul(f)?.checked_mul(2)?)?
            .checked_add(f + d + 4 * d)?;
        v.checked_add(c)?
            .checked_mul(d)?
            .checked_add(per_layer.checked_mul(self.n_layers)?)?
            .checked_add(norms * d)
    }
}

/// The parameters of one transformer block, in layout order.
struct Layer<T> {
    ln1_gamma: T,
    ln1_beta: T,
    w_q: T,
    w_k: T,
    w_v: T,
    w_o: T,
    ln2_gamma: T,
    ln2_beta: T,
    w1: T,
    b1: T,
    w2: T,
    b2: T,
}

/// The whole parameter list, named. `T` is `&Tensor` for inference and `Var` on the tape.
struct Parts<T> {
    token_embedding: T,
    position_embedding: T,
    layers: Vec<Layer<T>>,
    /// (gamma, beta) of the final layer norm; pre-norm only.
    final_ln: Option<(T, T)>,
}

/// Names the items of a flat list laid out as [`TransformerConfig::param_specs`] says.
/// The list's length has been checked against the specs before this is called.
fn parts<T: Copy>(config: &TransformerConfig, flat: &[T]) -> Parts<T> {
    let mut items = flat.iter().copied();
    let mut next = || items.next().expect("the parameter list was checked against the specs");
    let token_embedding = next();
    let position_embedding = next();
    let layers = (0..config.n_layers)
        .map(|_| Layer {
            ln1_gamma: next(),
            ln1_beta: next(),
            w_q: next(),
            w_k: next(),
            w_v: next(),
            w_o: next(),
            ln2_gamma: next(),
            ln2_beta: next(),
            w1: next(),
            b1: next(),
            w2: next(),
            b2: next(),
        })
        .collect();
    let final_ln = (config.norm == Norm::Pre).then(|| (next(), next()));
    Parts { token_embedding, position_embedding, layers, final_ln }
}

/// The standard deviation GPT-2 draws its weights from.
pub const INIT_STD: f32 = 0.02;

/// A batch of training windows: `batch` rows of `len` token ids, and for each position the
/// token that follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub batch: usize,
    pub len: usize,
    /// Row-major `[batch, len]` input ids.
    pub inputs: Vec<usize>,
    /// Row-major `[batch, len]` next-token ids: `targets[i]` is what should follow `inputs[i]`.
    pub targets: Vec<usize>,
}

/// A transformer: its configuration and its parameters, in layout order.
#[derive(Clone, Debug, PartialEq)]
pub struct Transformer {
    pub config: TransformerConfig,
    pub params: Vec<Tensor>,
}

impl Transformer {
    /// A freshly initialized model (GPT-2's scheme, see the module doc) from `seed`.
    pub fn new(config: TransformerConfig, seed: u64) -> Result<Transformer> {
        config.validate()?;
        let mut rng = Rng::new(seed);
        let residual_std = INIT_STD / libm::sqrtf(2.0 * config.n_layers as f32);
        let params = config
            .param_specs()
            .iter()
            .map(|spec| {
                let name = spec.name.as_str();
                if name.ends_with("gamma") {
                    Tensor::filled(&spec.shape, 1.0)
                } else if name.ends_with("beta") || name.ends_with(".b1") || name.ends_with(".b2") {
                    Tensor::zeros(&spec.shape)
                } else if name.ends_with("w_o") || name.ends_with("w2") {
                    crate::core::init::normal(&spec.shape, residual_std, &mut rng)
                } else {
                    crate::core::init::normal(&spec.shape, INIT_STD, &mut rng)
                }
            })
            .collect();
        Ok(Transformer { config, params })
    }

    /// A model from given parameters (a checkpoint, or the GPU's weights read back), checking
    /// that there is one tensor per spec with the right shape.
    pub fn from_params(config: TransformerConfig, params: Vec<Tensor>) -> Result<Transformer> {
        config.validate()?;
        let specs = config.param_specs();
        if params.len() != specs.len() {
            return Err(ModelError::invalid(format!(
                "this configuration has {} parameter tensors but {} were given",
                specs.len(),
                params.len()
            )));
        }
        for (spec, p) in specs.iter().zip(&params) {
            if p.shape != spec.shape {
                return Err(ModelError::invalid(format!(
                    "parameter {} should have shape {} but has {}",
                    spec.name,
                    tensor::shape_str(&spec.shape),
                    tensor::shape_str(&p.shape)
                )));
            }
        }
        Ok(Transformer { config, params })
    }

    /// The parameter called `name` (see [`TransformerConfig::param_specs`]), if there is one.
    pub fn param(&self, name: &str) -> Option<&Tensor> {
        let specs = self.config.param_specs();
        let i = specs.iter().position(|s| s.name == name)?;
        self.params.get(i)
    }

    /// Checks a batch's shape and ids before anything is computed.
    pub fn check_batch(&self, batch: &Batch) -> Result<()> {
        let c = &self.config;
        if batch.batch == 0 || batch.len == 0 {
            return Err(ModelError::invalid("a batch needs at least one window of one token"));
        }
        if batch.len > c.context {
            return Err(ModelError::invalid(format!(
                "windows of {} tokens are longer than the model's context of {}",
                batch.len, c.context
            )));
        }
        let n = batch.batch * batch.len;
        if batch.inputs.len() != n || batch.targets.len() != n {
            return Err(ModelError::invalid(format!(
                "a batch of {} windows of {} tokens needs {n} inputs and {n} targets, \
                 got {} and {}",
                batch.batch,
                batch.len,
                batch.inputs.len(),
                batch.targets.len()
            )));
        }
        check_ids(&batch.inputs, c.vocab)?;
        check_ids(&batch.targets, c.vocab)
    }

    // ANCHOR: forward_on_tape
    /// Records the forward pass of a batch on `graph` and returns the logits,
    /// `[batch·len, vocab]` (row b·len + i is window b, position i). `params` are the
    /// parameters already on the tape, in layout order.
    pub fn forward_on_tape(&self, graph: &mut Graph, params: &[Var], batch: &Batch) -> Result<Var> {
        self.forward_on_tape_with(graph, params, batch, Attention::Causal)
    }

    /// [`Transformer::forward_on_tape`] with a choice of attention mask: causal, or
    /// bidirectional for a BERT-style encoder over the same parameters.
    pub fn forward_on_tape_with(
        &self,
        graph: &mut Graph,
        params: &[Var],
        batch: &Batch,
        attention: Attention,
    ) -> Result<Var> {
        self.check_batch(batch)?;
        self.check_params()?;
        if params.len() != self.params.len() {
            return Err(ModelError::invalid(format!(
                "forward_on_tape: {} parameters on the tape, the model has {}",
                params.len(),
                self.params.len()
            )));
        }
        let c = self.config;
        let p = parts(&c, params);
        let (b, t) = (batch.batch, batch.len);
        let positions: Vec<usize> = (0..b).flat_map(|_| 0..t).collect();
        let tokens = graph.embedding(p.token_embedding, &batch.inputs)?; // [b·t, d]
        let places = graph.embedding(p.position_embedding, &positions)?; // [b·t, d]
        let mut x = graph.add(tokens, places)?;
        // [t, t], broadcast over every head: −∞ above the diagonal, or no mask at all.
        let mask = attention.mask(t);
        for layer in &p.layers {
            x = match c.norm {
                Norm::Pre => {
                    let normed = graph.layer_norm(x, layer.ln1_gamma, layer.ln1_beta, c.eps)?;
                    let attended = self.attention_on_tape(graph, normed, layer, &mask, b, t)?;
                    let x = graph.add(x, attended)?;
                    let normed = graph.layer_norm(x, layer.ln2_gamma, layer.ln2_beta, c.eps)?;
                    let fed = self.ffn_on_tape(graph, normed, layer)?;
                    graph.add(x, fed)?
                }
                Norm::Post => {
                    let attended = self.attention_on_tape(graph, x, layer, &mask, b, t)?;
                    let sum = graph.add(x, attended)?;
                    let x = graph.layer_norm(sum, layer.ln1_gamma, layer.ln1_beta, c.eps)?;
                    let fed = self.ffn_on_tape(graph, x, layer)?;
                    let sum = graph.add(x, fed)?;
                    graph.layer_norm(sum, layer.ln2_gamma, layer.ln2_beta, c.eps)?
                }
            };
        }
        if let Some((gamma, beta)) = p.final_ln {
            x = graph.layer_norm(x, gamma, beta, c.eps)?;
        }
        // Tied output layer: logits = h·Eᵀ, a score for every token of the vocabulary.
        Ok(graph.matmul_transposed(x, false, p.token_embedding, true)?)
    }

    /// Multi-head causal self-attention of `x` (`[b·t, d_model]`) on the tape.
    fn attention_on_tape(
        &self,
        graph: &mut Graph,
        x: Var,
        layer: &Layer<Var>,
        mask: &Tensor,
        b: usize,
        t: usize,
    ) -> Result<Var> {
        let (h, dh) = (self.config.n_heads, self.config.d_head());
        // [b·t, d] → [b, t, h, dh] → [b, h, t, dh] → [b·h, t, dh]: one matrix per head.
        let split_heads = |graph: &mut Graph, m: Var| -> Result<Var> {
            let m = graph.reshape(m, &[b, t, h, dh])?;
            let m = graph.permute(m, &[0, 2, 1, 3])?;
            Ok(graph.reshape(m, &[b * h, t, dh])?)
        };
        let q = graph.matmul(x, layer.w_q)?;
        let q = split_heads(graph, q)?;
        let k = graph.matmul(x, layer.w_k)?;
        let k = split_heads(graph, k)?;
        let v = graph.matmul(x, layer.w_v)?;
        let v = split_heads(graph, v)?;
        let scores = graph.matmul_transposed(q, false, k, true)?; // [b·h, t, t]
                                                                  // softmax(scores/√d_head + mask), one node on the tape.
        let weights = graph.scaled_masked_softmax_rows(scores, 1.0 / libm::sqrtf(dh as f32), mask)?;
        let heads = graph.matmul(weights, v)?; // [b·h, t, dh]
                                               // Back to [b, t, h, dh] and then side by side: [b·t, d].
        let heads = graph.reshape(heads, &[b, h, t, dh])?;
        let heads = graph.permute(heads, &[0, 2, 1, 3])?;
        let merged = graph.reshape(heads, &[b * t, h * dh])?;
        Ok(graph.matmul(merged, layer.w_o)?)
    }

    /// The feed-forward block act(x·W1 + b1)·W2 + b2 on the tape.
    fn ffn_on_tape(&self, graph: &mut Graph, x: Var, layer: &Layer<Var>) -> Result<Var> {
        let z = graph.matmul(x, layer.w1)?;
        let a = match self.config.activation {
            Activation::Gelu => graph.add_gelu(z, layer.b1)?, // GELU(z + b1), one node
            Activation::Relu => {
                let z = graph.add(z, layer.b1)?;
                graph.relu(z)
            }
        };
        let y = graph.matmul(a, layer.w2)?;
        Ok(graph.add(y, layer.b2)?)
    }
    // ANCHOR_END: forward_on_tape

    /// The mean cross-entropy over every position of the batch, and its gradient with
    /// respect to every parameter (in layout order).
    pub fn loss_and_grads(&self, batch: &Batch) -> Result<(f32, Vec<Tensor>)> {
        self.loss_and_grads_on(&mut Graph::new(), batch)
    }

    /// [`Transformer::loss_and_grads`] on a tape kept from step to step, whose buffers the
    /// step reuses (see [`autograd::loss_and_grads_on`]).
    pub fn loss_and_grads_on(&self, graph: &mut Graph, batch: &Batch) -> Result<(f32, Vec<Tensor>)> {
        autograd::loss_and_grads_on(graph, &self.params, |graph, vars| {
            let logits = self.forward_on_tape(graph, vars, batch)?;
            Ok(graph.cross_entropy(logits, &batch.targets, None)?)
        })
    }

    /// The mean cross-entropy of a batch, computed without the tape.
    pub fn loss(&self, batch: &Batch) -> Result<f32> {
        self.check_batch(batch)?;
        let mut total = 0.0f64;
        for row in 0..batch.batch {
            let window = row * batch.len..(row + 1) * batch.len;
            let logits = self.logits_for(&batch.inputs[window.clone()])?;
            let log_probs = tensor::log_softmax_rows(&logits);
            for (i, &target) in batch.targets[window].iter().enumerate() {
                total -= log_probs.data[i * self.config.vocab + target] as f64;
            }
        }
        Ok((total / (batch.batch * batch.len) as f64) as f32)
    }

    // ---------------------------------------------------------------------------------------
    // Inference without the tape
    // ---------------------------------------------------------------------------------------

    /// The logits `[T, vocab]` for every position of one sequence of at most `context`
    /// tokens: row i scores what comes after tokens 0..=i.
    pub fn logits_for(&self, tokens: &[usize]) -> Result<Tensor> {
        let mut cache = KvCache::new(&self.config);
        let hidden = self.forward_cached(&mut cache, tokens)?;
        self.project_to_vocab(&mut cache, &hidden)
    }

    // ANCHOR: forward_cached
    /// Runs `tokens` through the model as the positions after those already in `cache`,
    /// appending their keys and values to it. Returns the final hidden states `[n, d_model]`
    /// (after the final layer norm for pre-norm); [`Transformer::project_to_vocab`] turns
    /// them into logits. With an empty cache this is the ordinary forward pass; with one
    /// token at a time it is incremental decoding.
    pub fn forward_cached(&self, cache: &mut KvCache, tokens: &[usize]) -> Result<Tensor> {
        let c = self.config;
        self.check_params()?;
        check_ids(tokens, c.vocab)?;
        if tokens.is_empty() {
            return Err(ModelError::invalid("there are no tokens to run the model on"));
        }
        if cache.layers.len() != c.n_layers || cache.d_model != c.d_model {
            return Err(ModelError::invalid("this KV cache was made for a different model"));
        }
        let start = cache.len;
        if start + tokens.len() > c.context {
            return Err(ModelError::invalid(format!(
                "{} tokens do not fit in the model's context of {}",
                start + tokens.len(),
                c.context
            )));
        }
        let p = parts(&c, &self.params.iter().collect::<Vec<&Tensor>>());
        let (n, d) = (tokens.len(), c.d_model);
        // x = E[token] + P[position], one row per new token.
        let mut x = Tensor::zeros(&[n, d]);
        for (i, (row, &token)) in x.row_slices_mut().zip(tokens).enumerate() {
            let e = &p.token_embedding.data[token * d..(token + 1) * d];
            let pos = &p.position_embedding.data[(start + i) * d..(start + i + 1) * d];
            for (v, (a, b)) in row.iter_mut().zip(e.iter().zip(pos)) {
                *v = a + b;
            }
        }
        for (l, layer) in p.layers.iter().enumerate() {
            x = match c.norm {
                Norm::Pre => {
                    let normed = layer_norm(&x, layer.ln1_gamma, layer.ln1_beta, c.eps);
                    let attended = cache.attend(l, &normed, layer, &c)?;
                    let x = tensor::add(&x, &attended)?;
                    let normed = layer_norm(&x, layer.ln2_gamma, layer.ln2_beta, c.eps);
                    let fed = cache.ffn(&normed, layer, &c)?;
                    tensor::add(&x, &fed)?
                }
                Norm::Post => {
                    let attended = cache.attend(l, &x, layer, &c)?;
                    let sum = tensor::add(&x, &attended)?;
                    let x = layer_norm(&sum, layer.ln1_gamma, layer.ln1_beta, c.eps);
                    let fed = cache.ffn(&x, layer, &c)?;
                    layer_norm(&tensor::add(&x, &fed)?, layer.ln2_gamma, layer.ln2_beta, c.eps)
                }
            };
        }
        cache.len += n;
        if let Some((gamma, beta)) = p.final_ln {
            x = layer_norm(&x, gamma, beta, c.eps);
        }
        Ok(x)
    }
    // ANCHOR_END: forward_cached

    /// Logits `[rows, vocab]` = hidden·Eᵀ, counting the multiply-adds on `cache`.
    pub fn project_to_vocab(&self, cache: &mut KvCache, hidden: &Tensor) -> Result<Tensor> {
        self.check_params()?;
        let logits = tensor::matmul_transposed(hidden, false, &self.params[0], true)?;
        cache.multiply_adds += (hidden.rows() * hidden.row_len() * self.config.vocab) as u64;
        Ok(logits)
    }

    /// Checks that the parameters still have the shapes of the configuration's specs (the
    /// fields are public, so a caller could have replaced a tensor).
    pub fn check_params(&self) -> Result<()> {
        let specs = self.config.param_specs();
        let shapes_match = specs.len() == self.params.len()
            && specs.iter().zip(&self.params).all(|(s, p)| s.shape == p.shape);
        if shapes_match {
            Ok(())
        } else {
            Transformer::from_params(self.config, self.params.clone()).map(|_| ())
        }
    }
}

/// Checks that every id is a token of a `vocab`-token vocabulary.
fn check_ids(ids: &[usize], vocab: usize) -> Result<()> {
    match ids.iter().position(|&t| t >= vocab) {
        Some(i) => Err(ModelError::invalid(format!(
            "token id {} at position {} is outside the vocabulary of {vocab} tokens",
            ids[i],
            i + 1
        ))),
        None => Ok(()),
    }
}

/// Layer norm of each row without the tape: (x − μ)/√(σ² + eps)·γ + β. The same arithmetic,
/// in the same order, as [`Graph::layer_norm`].
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Tensor {
    let mut y = x.clone();
    let d = y.row_len() as f32;
    for row in y.row_slices_mut() {
        let mean = row.iter().sum::<f32>() / d;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
        let inv_std = 1.0 / libm::sqrtf(var + eps);
        for ((v, g), b) in row.iter_mut().zip(&gamma.data).zip(&beta.data) {
            *v = (*v - mean) * inv_std * g + b;
        }
    }
    y
}

/// The keys and values every layer has computed so far, so that a new token only needs its
/// own: the past tokens' K and V never change (causal attention means a token's vector
/// depends only on itself and what came before).
///
/// Per layer, `keys[l]` and `values[l]` are row-major `[len, d_model]` with all heads side by
/// side. It also counts the multiply-adds the forward passes through it performed.
#[derive(Clone, Debug, PartialEq)]
pub struct KvCache {
    layers: Vec<CachedLayer>,
    d_model: usize,
    /// Positions cached so far.
    len: usize,
    /// Multiply-adds performed by matrix products and attention since the cache was made.
    pub multiply_adds: u64,
}

#[derive(Clone, Debug, PartialEq)]
struct CachedLayer {
    keys: Vec<f32>,
    values: Vec<f32>,
}

impl KvCache {
    /// An empty cache for a model of this configuration.
    pub fn new(config: &TransformerConfig) -> KvCache {
        KvCache {
            layers: vec![CachedLayer { keys: vec![], values: vec![] }; config.n_layers],
            d_model: config.d_model,
            len: 0,
            multiply_adds: 0,
        }
    }

    /// How many positions are cached.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The numbers held: a key and a value vector per position per layer.
    pub fn stored_values(&self) -> usize {
        2 * self.layers.len() * self.len * self.d_model
    }

    /// x·W, counting its multiply-adds.
    fn matmul(&mut self, x: &Tensor, w: &Tensor) -> Result<Tensor> {
        let (rows, inner, cols) = (x.rows(), x.row_len(), w.row_len());
        self.multiply_adds += (rows * inner * cols) as u64;
        Ok(tensor::matmul(x, w)?)
    }

    /// Causal multi-head attention for new rows `x` (positions len, len + 1, …) in layer `l`:
    /// their keys and values join the cache, then each new query attends to every cached
    /// position up to and including its own.
    fn attend(
        &mut self,
        l: usize,
        x: &Tensor,
        layer: &Layer<&Tensor>,
        c: &TransformerConfig,
    ) -> Result<Tensor> {
        let q = self.matmul(x, layer.w_q)?;
        let k = self.matmul(x, layer.w_k)?;
        let v = self.matmul(x, layer.w_v)?;
        let cached = &mut self.layers[l];
        cached.keys.extend_from_slice(&k.data);
        cached.values.extend_from_slice(&v.data);
        let (d, dh) = (c.d_model, c.d_head());
        let scale = 1.0 / libm::sqrtf(dh as f32);
        let mut out = Tensor::zeros(&[x.rows(), d]);
        let mut multiply_adds = 0;
        for (i, out_row) in out.row_slices_mut().enumerate() {
            let visible = self.len + i + 1; // keys 0..=position of query i
            let q_row = &q.data[i * d..(i + 1) * d];
            for h in 0..c.n_heads {
                let cols = h * dh..(h + 1) * dh;
                let q_h = &q_row[cols.clone()];
                // Scores q·k/√dh for every visible key, then a softmax over them.
                let mut weights: Vec<f32> = (0..visible)
                    .map(|j| {
                        let k_h = &cached.keys[j * d + cols.start..j * d + cols.end];
                        scale * q_h.iter().zip(k_h).map(|(a, b)| a * b).sum::<f32>()
                    })
                    .collect();
                let max = weights.iter().fold(f32::NEG_INFINITY, |m, &w| m.max(w));
                let mut total = 0.0;
                for w in weights.iter_mut() {
                    *w = libm::expf(*w - max);
                    total += *w;
                }
                // The head's output: the weighted average of the visible values.
                let o_h = &mut out_row[cols.clone()];
                for (j, w) in weights.iter().enumerate() {
                    let v_h = &cached.values[j * d + cols.start..j * d + cols.end];
                    for (o, vv) in o_h.iter_mut().zip(v_h) {
                        *o += w / total * vv;
                    }
                }
                multiply_adds += 2 * visible * dh;
            }
        }
        self.multiply_adds += multiply_adds as u64;
        self.matmul(&out, layer.w_o)
    }

    /// The feed-forward block act(x·W1 + b1)·W2 + b2, counting its multiply-adds.
    fn ffn(&mut self, x: &Tensor, layer: &Layer<&Tensor>, c: &TransformerConfig) -> Result<Tensor> {
        let z = tensor::add(&self.matmul(x, layer.w1)?, layer.b1)?;
        let a = match c.activation {
            Activation::Gelu => z.map(gelu),
            Activation::Relu => z.map(|v| v.max(0.0)),
        };
        Ok(tensor::add(&self.matmul(&a, layer.w2)?, layer.b2)?)
    }
}

/// Multiply-adds to run one token at position `position` (counting from 0) through every
/// layer when the earlier positions' keys and values are cached, then score it against the
/// vocabulary. Per layer: Q, K, V and W_O are 4·d² (d = d_model), the FFN is 2·d·d_ff, and
/// attention is 2·d·(position + 1) (a score and a weighted value for each of the
/// position + 1 visible keys, d_head per head, all heads together d). The output layer adds
/// d·vocab. Layer norm, softmax and the activation are not counted (they are O(d) per
/// token, not matrix products). FLOPs are twice the multiply-adds.
pub fn cached_step_multiply_adds(config: &TransformerConfig, position: usize) -> u64 {
    let (d, f) = (config.d_model as u64, config.d_ff as u64);
    let per_layer = 4 * d * d + 2 * d * f + 2 * d * (position as u64 + 1);
    config.n_layers as u64 * per_layer + d * config.vocab as u64
}

/// Multiply-adds to score the next token without a cache: all `len` tokens of the window go
/// through every layer again (positions 0..len, attention to 1, 2, …, len keys), and only
/// the last position is scored against the vocabulary:
/// L·(len·(4d² + 2·d·d_ff) + d·len·(len + 1)) + d·vocab. Against
/// [`cached_step_multiply_adds`] (for position len − 1) it repeats the work of the first
/// len − 1 positions, so a step costs O(len²) instead of O(len).
pub fn uncached_step_multiply_adds(config: &TransformerConfig, len: usize) -> u64 {
    let (d, f, n) = (config.d_model as u64, config.d_ff as u64, len as u64);
    let per_layer = n * (4 * d * d + 2 * d * f) + d * n * (n + 1);
    config.n_layers as u64 * per_layer + d * config.vocab as u64
}

#[cfg(test)]
pub(crate) mod tests;
