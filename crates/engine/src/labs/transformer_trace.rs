//! Chapter 2: one transformer layer, traced number by number.
//!
//! The model is a decoder with one layer and one attention head, small enough that every
//! matrix fits on a page: five words, width d = 4, a feed-forward hidden width of 8, and a
//! learned position table with rows for three positions. [`trace`] runs the forward pass on a
//! sentence and keeps every intermediate, in the order it is computed, so the page can show
//! each one beside the prose that explains it. Vectors are rows: a sentence of n words is an
//! `[n, 4]` matrix with one row per word.
//!
//! Post-norm, the original transformer's arrangement and the chapter's:
//!
//!   X' = X + P                   each word's embedding plus its position's vector   [n, 4]
//!   Attn = attention(X')         Q, K, V = X'·Wq, X'·Wk, X'·Wv, then softmax(Q·Kᵀ/√4 + M)·V
//!   H' = LN(X' + Attn)           residual, then layer norm                          [n, 4]
//!   FFN = ReLU(H'·W1)·W2         a two-layer network applied to each row             [n, 4]
//!   H'' = LN(H' + FFN)           residual, then layer norm                          [n, 4]
//!   logits = H''·Eᵀ              tied output layer: a score per vocabulary word      [n, 5]
//!
//! Pre-norm, used by most recent large models, normalizes the *input* of each sublayer and
//! leaves the residual stream itself unnormalized, so one last norm comes before the logits:
//!
//!   R1 = X' + attention(LN(X'))  the attention reads a normalized copy of X'
//!   R2 = R1 + FFN(LN(R1))        the FFN reads a normalized copy of R1
//!   H'' = LN(R2)                 the final norm
//!
//! Written out this way, the two arrangements differ in exactly two places: what attention
//! reads (X' or LN(X')), and what the second residual adds the FFN's output to (the
//! normalized H' = LN(R1), or the raw stream R1). The FFN reads LN(R1) and the logits read
//! LN(R2) in both, so [`Trace`] names its matrices by what they are in both, and
//! [`Trace::steps`] labels them in the notation of whichever arrangement ran.
//!
//! Layer norm uses γ = 1 and β = 0 (their usual starting values) and ε = 10⁻⁵; both FFN
//! biases are 0, and there is no output projection W^O. These are the chapter's choices, so
//! none of them appear as parameters here.

use crate::core::autograd::{Graph, Var};
use crate::core::tensor::{self, matmul, matmul_transposed, Result, ShapeError, Tensor};
use crate::labs::attention_lab::{self_attention, self_attention_graph, AttentionOptions, AttentionTrace};

/// The five words the model knows, in id order.
pub const VOCABULARY: [&str; 5] = ["the", "cat", "sat", "on", "mat"];
/// How many words the model knows.
pub const VOCAB_SIZE: usize = VOCABULARY.len();
/// The width of every token vector, d (and the head width d_k: one head uses all of it).
pub const D_MODEL: usize = 4;
/// The feed-forward network's hidden width, d_ff.
pub const D_FF: usize = 8;
/// The rows in the position table: the longest sentence the model can read.
pub const MAX_POSITIONS: usize = 3;
/// Layer norm's ε, added to the variance so a constant row does not divide by zero.
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// Token embeddings E `[5, 4]`: row i is the vector for word i. The same matrix, transposed,
/// is the output layer (weight tying).
pub const EMBEDDINGS: [[f32; D_MODEL]; VOCAB_SIZE] = [
    [0.2, 0.1, -0.3, 0.5],  // the
    [-0.1, 0.4, 0.2, -0.2], // cat
    [0.3, -0.2, 0.1, 0.4],  // sat
    [0.1, 0.3, -0.1, 0.2],  // on
    [-0.3, 0.2, 0.4, -0.1], // mat
];

/// The learned position table P `[3, 4]`: row t is added to the word at position t.
pub const POSITIONS: [[f32; D_MODEL]; MAX_POSITIONS] =
    [[0.0, 0.0, 0.1, 0.0], [0.0, 0.1, 0.0, 0.0], [0.1, 0.0, 0.0, 0.0]];

/// The query projection Wq `[4, 4]`: the identity plus the sparsest small perturbation (in
/// steps of 0.01) for which X'·Wq rounds to the source's printed Q.
pub const W_Q: [[f32; D_MODEL]; D_MODEL] =
    [[1.0, 0.0, 0.0, 0.0], [0.06, 1.0, -0.02, -0.06], [-0.05, 0.02, 1.0, 0.05], [0.0, 0.04, 0.04, 1.0]];

/// The key projection Wk `[4, 4]`: the identity plus 0.1 just right of the diagonal (wrapping).
pub const W_K: [[f32; D_MODEL]; D_MODEL] =
    [[1.0, 0.1, 0.0, 0.0], [0.0, 1.0, 0.1, 0.0], [0.0, 0.0, 1.0, 0.1], [0.1, 0.0, 0.0, 1.0]];

/// The value projection Wv `[4, 4]`: the identity minus 0.1 just below the diagonal.
pub const W_V: [[f32; D_MODEL]; D_MODEL] =
    [[1.0, 0.0, 0.0, 0.0], [-0.1, 1.0, 0.0, 0.0], [0.0, -0.1, 1.0, 0.0], [0.0, 0.0, -0.1, 1.0]];

/// The FFN's expansion W1 `[4, 8]`.
pub const W_1: [[f32; D_FF]; D_MODEL] = [
    [0.5, -0.5, 0.3, 0.0, 0.0, 0.2, -0.3, 0.1],
    [0.0, 0.4, -0.4, 0.5, -0.2, 0.0, 0.3, 0.0],
    [-0.3, 0.0, 0.5, -0.5, 0.4, 0.1, 0.0, 0.2],
    [0.2, 0.3, 0.0, 0.0, -0.5, -0.4, 0.5, -0.3],
];

/// The FFN's projection back down, W2 `[8, 4]`.
pub const W_2: [[f32; D_MODEL]; D_FF] = [
    [0.4, 0.0, -0.2, 0.1],
    [-0.3, 0.5, 0.0, 0.0],
    [0.0, -0.2, 0.4, 0.3],
    [0.2, 0.3, 0.0, -0.4],
    [0.0, 0.1, 0.3, -0.2],
    [-0.2, 0.0, 0.2, 0.5],
    [0.3, -0.4, 0.0, 0.2],
    [0.1, 0.2, -0.3, 0.0],
];

/// A constant table as a `[rows, cols]` tensor.
fn matrix<const COLS: usize>(rows: &[[f32; COLS]]) -> Tensor {
    Tensor { shape: vec![rows.len(), COLS], data: rows.concat() }
}

/// Every trainable matrix of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// E `[5, 4]`, used for the input lookup and, transposed, for the logits.
    pub embeddings: Tensor,
    /// P `[3, 4]`.
    pub positions: Tensor,
    pub w_q: Tensor,
    pub w_k: Tensor,
    pub w_v: Tensor,
    pub w_1: Tensor,
    pub w_2: Tensor,
}

impl Weights {
    /// The chapter's weights.
    pub fn chapter() -> Weights {
        Weights {
            embeddings: matrix(&EMBEDDINGS),
            positions: matrix(&POSITIONS),
            w_q: matrix(&W_Q),
            w_k: matrix(&W_K),
            w_v: matrix(&W_V),
            w_1: matrix(&W_1),
            w_2: matrix(&W_2),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading a sentence
// ---------------------------------------------------------------------------------------

/// The list of known words, for messages: "the, cat, sat, on or mat".
fn known_words() -> String {
    let (last, rest) = VOCABULARY.split_last().unwrap_or((&"", &[]));
    format!("{} or {last}", rest.join(", "))
}

/// The id of one word, ignoring case and surrounding spaces.
pub fn word_id(word: &str) -> std::result::Result<usize, String> {
    let word = word.trim();
    VOCABULARY
        .iter()
        .position(|known| known.eq_ignore_ascii_case(word))
        .ok_or_else(|| format!("“{word}” is not in the vocabulary; the model knows {}.", known_words()))
}

/// The ids of the words of a sentence, split at any run of spaces. Refuses an empty sentence,
/// an unknown word (naming it), and more words than the position table has rows.
pub fn parse_sentence(text: &str) -> std::result::Result<Vec<usize>, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Err(format!("Type a sentence: up to {MAX_POSITIONS} of the words {}.", known_words()));
    }
    let ids = words.iter().map(|w| word_id(w)).collect::<std::result::Result<Vec<_>, _>>()?;
    if ids.len() > MAX_POSITIONS {
        return Err(format!(
            "“{}” has {} words, but the position table P has rows for only {MAX_POSITIONS} positions.",
            words.join(" "),
            ids.len()
        ));
    }
    Ok(ids)
}

/// What each position must predict: the next word of the sentence, and for the last position
/// `last_target` if one is given (the word that follows the sentence; none if it is unknown).
pub fn next_word_targets(tokens: &[usize], last_target: Option<usize>) -> Vec<Option<usize>> {
    let mut targets: Vec<Option<usize>> = tokens.iter().skip(1).map(|&t| Some(t)).collect();
    if !tokens.is_empty() {
        targets.push(last_target);
    }
    targets
}

// ---------------------------------------------------------------------------------------
// The forward pass
// ---------------------------------------------------------------------------------------

/// Where layer norm sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormPlacement {
    /// After each residual addition: H' = LN(X' + Attn(X')). The original transformer.
    Post,
    /// Before each sublayer, with a final norm before the logits: X' + Attn(LN(X')).
    Pre,
}

/// The switches the page can flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceOptions {
    /// Each position may attend only to itself and earlier positions.
    pub causal: bool,
    /// Divide the scores by √d_k = 2.
    pub scale: bool,
    pub norm: NormPlacement,
}

impl Default for TraceOptions {
    /// The chapter's model: causal, scaled, post-norm.
    fn default() -> TraceOptions {
        TraceOptions { causal: true, scale: true, norm: NormPlacement::Post }
    }
}

/// Every intermediate of one forward pass, in order. Matrices have one row per position.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub options: TraceOptions,
    /// The word ids read.
    pub tokens: Vec<usize>,
    /// What each position must predict (see [`next_word_targets`]).
    pub targets: Vec<Option<usize>>,
    /// X: the embedding rows of the words `[n, 4]`.
    pub x: Tensor,
    /// The position vectors used, rows 0..n of P `[n, 4]`.
    pub p: Tensor,
    /// X' = X + P.
    pub x_pos: Tensor,
    /// What the attention projections read: X' (post-norm) or LN(X') (pre-norm).
    pub attention_input: Tensor,
    /// Q, K, V, the raw, scaled and masked scores, the mask, the weights α, and the
    /// attention output α·V (see [`crate::labs::attention_lab`]).
    pub attention: AttentionTrace,
    /// R1 = X' + Attn, the first residual sum.
    pub residual_1: Tensor,
    /// LN(R1), what the FFN reads: H' in post-norm, a normalized copy of the stream in pre-norm.
    pub ffn_input: Tensor,
    /// The FFN's expansion before ReLU, LN(R1)·W1 `[n, 8]`.
    pub ffn_hidden: Tensor,
    /// After ReLU: negative entries set to 0 `[n, 8]`.
    pub ffn_relu: Tensor,
    /// The FFN's output, ReLU(…)·W2 `[n, 4]`.
    pub ffn_out: Tensor,
    /// R2, the second residual sum: H' + FFN (post-norm) or R1 + FFN (pre-norm).
    pub residual_2: Tensor,
    /// H'' = LN(R2), the layer's output.
    pub output: Tensor,
    /// H''·Eᵀ `[n, 5]`: a score for every word at every position.
    pub logits: Tensor,
    /// The softmax of each row of the logits: the predicted next-word distribution.
    pub probs: Tensor,
    /// −ln p(target) at each position that has a target.
    pub losses: Vec<Option<f32>>,
    /// The mean of the losses that exist; `None` if no position has a target.
    pub mean_loss: Option<f32>,
}

/// Layer norm with γ = 1 and β = 0: each row shifted to mean 0 and scaled to variance 1,
/// x̂ = (x − μ) / √(σ² + ε), where σ² divides by the row length.
pub fn layer_norm(x: &Tensor) -> Tensor {
    let mut out = x.clone();
    for row in out.row_slices_mut() {
        let d = row.len() as f32;
        let mean = row.iter().sum::<f32>() / d;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
        let inv_std = 1.0 / libm::sqrtf(var + LAYER_NORM_EPS);
        for v in row.iter_mut() {
            *v = (*v - mean) * inv_std;
        }
    }
    out
}

/// Checks that every id is a word and that there are rows of P for every position.
fn check_tokens(tokens: &[usize], last_target: Option<usize>, positions: usize) -> Result<()> {
    if tokens.is_empty() {
        return Err(ShapeError::new("trace: the sentence has no words"));
    }
    if tokens.len() > positions {
        return Err(ShapeError::new(format!(
            "trace: {} words, but the position table has only {positions} rows",
            tokens.len()
        )));
    }
    if let Some(&bad) = tokens.iter().chain(&last_target).find(|&&id| id >= VOCAB_SIZE) {
        return Err(ShapeError::new(format!(
            "trace: word id {bad} is outside the vocabulary of {VOCAB_SIZE}"
        )));
    }
    Ok(())
}

/// The chapter's forward pass on a sentence of word ids, with every intermediate.
pub fn trace(tokens: &[usize], last_target: Option<usize>, options: &TraceOptions) -> Result<Trace> {
    trace_with(&Weights::chapter(), tokens, last_target, options)
}

// ANCHOR: trace
/// The forward pass with the given weights, keeping every intermediate.
pub fn trace_with(
    w: &Weights,
    tokens: &[usize],
    last_target: Option<usize>,
    options: &TraceOptions,
) -> Result<Trace> {
    check_tokens(tokens, last_target, w.positions.rows())?;
    let n = tokens.len();
    // Embedding is indexing: copy out one row of E per word, and rows 0..n of P.
    let rows_of = |table: &Tensor, ids: &mut dyn Iterator<Item = usize>| {
        let width = table.row_len();
        let data: Vec<f32> = ids.flat_map(|i| table.data[i * width..(i + 1) * width].to_vec()).collect();
        Tensor::from_vec(&[n, width], data)
    };
    let x = rows_of(&w.embeddings, &mut tokens.iter().copied())?;
    let p = rows_of(&w.positions, &mut (0..n))?;
    let x_pos = tensor::add(&x, &p)?;

    // Sublayer 1: attention, reading X' itself (post-norm) or a normalized copy (pre-norm).
    let attention_input = match options.norm {
        NormPlacement::Post => x_pos.clone(),
        NormPlacement::Pre => layer_norm(&x_pos),
    };
    let attention_options =
        AttentionOptions { causal: options.causal, scale: options.scale, key_is_padding: vec![] };
    let attention = self_attention(&attention_input, &w.w_q, &w.w_k, &w.w_v, &attention_options)?;
    let residual_1 = tensor::add(&x_pos, &attention.output)?;

    // Sublayer 2: the position-wise FFN, reading LN(R1) in both arrangements.
    let ffn_input = layer_norm(&residual_1);
    let ffn_hidden = matmul(&ffn_input, &w.w_1)?;
    let ffn_relu = ffn_hidden.map(|v| v.max(0.0));
    let ffn_out = matmul(&ffn_relu, &w.w_2)?;
    // Post-norm adds to the normalized H' = LN(R1); pre-norm adds to the raw stream R1.
    let residual_2 = match options.norm {
        NormPlacement::Post => tensor::add(&ffn_input, &ffn_out)?,
        NormPlacement::Pre => tensor::add(&residual_1, &ffn_out)?,
    };
    let output = layer_norm(&residual_2);

    // Tied output layer, then the next-word distribution and the loss at each position.
    let logits = matmul_transposed(&output, false, &w.embeddings, true)?;
    let probs = tensor::softmax_rows(&logits);
    let log_probs = tensor::log_softmax_rows(&logits);
    let targets = next_word_targets(tokens, last_target);
    let losses: Vec<Option<f32>> =
        targets.iter().enumerate().map(|(t, target)| target.map(|y| -log_probs.at(t, y))).collect();
    let counted: Vec<f32> = losses.iter().flatten().copied().collect();
    let mean_loss = (!counted.is_empty()).then(|| counted.iter().sum::<f32>() / counted.len() as f32);

    Ok(Trace {
        options: *options,
        tokens: tokens.to_vec(),
        targets,
        x,
        p,
        x_pos,
        attention_input,
        attention,
        residual_1,
        ffn_input,
        ffn_hidden,
        ffn_relu,
        ffn_out,
        residual_2,
        output,
        logits,
        probs,
        losses,
        mean_loss,
    })
}
// ANCHOR_END: trace

// ---------------------------------------------------------------------------------------
// The trace as a list of labelled steps, for the page
// ---------------------------------------------------------------------------------------

/// What a matrix's columns stand for, so a page can label them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// Features of a vector (4 for the model width, 8 for the FFN's hidden layer).
    Features,
    /// Positions of the sentence: the keys of a query-by-key matrix.
    Positions,
    /// Words of the vocabulary.
    Vocabulary,
}

/// One matrix of the trace, with its name and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Step<'a> {
    /// A stable name for the step, e.g. `"weights"`.
    pub key: &'static str,
    /// The matrix in the chapter's notation, e.g. `"α = softmax(S + M)"`.
    pub symbol: &'static str,
    /// One line on what it is.
    pub what: &'static str,
    pub columns: Columns,
    pub matrix: &'a Tensor,
}

impl Trace {
    /// Every matrix in the order it was computed, named in the notation of the arrangement
    /// that ran. In pre-norm, LN(X') appears as an extra step; the residual sums are the
    /// unnormalized stream R1 and R2; the FFN reads LN(R1) rather than H'; and the last norm
    /// is a separate final norm rather than part of the second sublayer.
    pub fn steps(&self) -> Vec<Step<'_>> {
        use Columns::{Features, Positions, Vocabulary};
        let pre = self.options.norm == NormPlacement::Pre;
        let a = &self.attention;
        let step = |key, symbol, what, columns, matrix| Step { key, symbol, what, columns, matrix };
        let mut steps = vec![
            step("x", "X", "token embeddings: the row of E for each word", Features, &self.x),
            step("p", "P", "position vectors: row t of the learned table for position t", Features, &self.p),
            step("x_pos", "X′ = X + P", "each word's vector at its position", Features, &self.x_pos),
        ];
        if pre {
            steps.push(step(
                "attention_input",
                "LN(X′)",
                "pre-norm: the normalized copy of X′ that attention reads; X′ itself goes on unchanged",
                Features,
                &self.attention_input,
            ));
        }
        let (q, k, v) = if pre {
            ("Q = LN(X′)·Wᵠ", "K = LN(X′)·Wᴷ", "V = LN(X′)·Wⱽ")
        } else {
            ("Q = X′·Wᵠ", "K = X′·Wᴷ", "V = X′·Wⱽ")
        };
        steps.extend([
            step("q", q, "queries: what each position is looking for", Features, &a.q),
            step("k", k, "keys: what each position offers to a query", Features, &a.k),
            step("v", v, "values: what each position hands over when attended to", Features, &a.v),
            step("scores", "Q·Kᵀ", "raw scores: query i dotted with key j", Positions, &a.scores),
        ]);
        steps.push(if self.options.scale {
            step("scaled", "S = Q·Kᵀ / √4", "scores divided by √dₖ = 2", Positions, &a.scaled_scores)
        } else {
            step(
                "scaled",
                "S = Q·Kᵀ (not scaled)",
                "scaling is off: the raw scores go straight on",
                Positions,
                &a.scaled_scores,
            )
        });
        steps.push(if self.options.causal {
            step(
                "mask",
                "M",
                "causal mask: 0 where position i may see j ≤ i, −∞ for the future",
                Positions,
                &a.mask,
            )
        } else {
            step("mask", "M", "no mask: all zeros, every position sees every other", Positions, &a.mask)
        });
        steps.extend([
            step(
                "masked",
                "S + M",
                "masked scores; exp(−∞) = 0 removes the future",
                Positions,
                &a.masked_scores,
            ),
            step(
                "weights",
                "α = softmax(S + M)",
                "attention weights: softmax of each row, so each row sums to 1",
                Positions,
                &a.weights,
            ),
            step(
                "attention",
                "Attn = α·V",
                "each position's weighted average of the values",
                Features,
                &a.output,
            ),
        ]);
        if pre {
            steps.extend([
                step(
                    "residual_1",
                    "R₁ = X′ + Attn",
                    "the residual stream after attention, not normalized",
                    Features,
                    &self.residual_1,
                ),
                step(
                    "ffn_input",
                    "LN(R₁)",
                    "pre-norm: the normalized copy of R₁ that the FFN reads",
                    Features,
                    &self.ffn_input,
                ),
                step(
                    "ffn_hidden",
                    "LN(R₁)·W₁",
                    "FFN expansion to 8 hidden units, before ReLU",
                    Features,
                    &self.ffn_hidden,
                ),
            ]);
        } else {
            steps.extend([
                step(
                    "residual_1",
                    "X′ + Attn",
                    "first residual: attention's output added to its input",
                    Features,
                    &self.residual_1,
                ),
                step(
                    "ffn_input",
                    "H′ = LN(X′ + Attn)",
                    "first layer norm: each row to mean 0, variance 1",
                    Features,
                    &self.ffn_input,
                ),
                step(
                    "ffn_hidden",
                    "H′·W₁",
                    "FFN expansion to 8 hidden units, before ReLU",
                    Features,
                    &self.ffn_hidden,
                ),
            ]);
        }
        steps.extend([
            step(
                "ffn_relu",
                "ReLU(·)",
                "the hidden units with every negative entry set to 0",
                Features,
                &self.ffn_relu,
            ),
            step(
                "ffn_out",
                "FFN = ReLU(·)·W₂",
                "FFN output, projected back to width 4",
                Features,
                &self.ffn_out,
            ),
        ]);
        if pre {
            steps.extend([
                step(
                    "residual_2",
                    "R₂ = R₁ + FFN",
                    "the residual stream after the FFN, not normalized",
                    Features,
                    &self.residual_2,
                ),
                step(
                    "output",
                    "H″ = LN(R₂)",
                    "pre-norm's final layer norm, before the output layer",
                    Features,
                    &self.output,
                ),
            ]);
        } else {
            steps.extend([
                step(
                    "residual_2",
                    "H′ + FFN",
                    "second residual: the FFN's output added to its input",
                    Features,
                    &self.residual_2,
                ),
                step(
                    "output",
                    "H″ = LN(H′ + FFN)",
                    "second layer norm: the layer's output",
                    Features,
                    &self.output,
                ),
            ]);
        }
        steps.extend([
            step(
                "logits",
                "logits = H″·Eᵀ",
                "each row dotted with every word's embedding (tied weights)",
                Vocabulary,
                &self.logits,
            ),
            step(
                "probs",
                "softmax(logits)",
                "next-word probabilities; each row sums to 1",
                Vocabulary,
                &self.probs,
            ),
        ]);
        steps
    }
}

// ---------------------------------------------------------------------------------------
// The same computation on the autograd tape
// ---------------------------------------------------------------------------------------

/// The model's matrices as nodes on a tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightVars {
    pub embeddings: Var,
    pub positions: Var,
    pub w_q: Var,
    pub w_k: Var,
    pub w_v: Var,
    pub w_1: Var,
    pub w_2: Var,
}

impl WeightVars {
    /// Puts every matrix of `w` on the tape as a parameter.
    pub fn new(graph: &mut Graph, w: &Weights) -> WeightVars {
        WeightVars {
            embeddings: graph.param(w.embeddings.clone()),
            positions: graph.param(w.positions.clone()),
            w_q: graph.param(w.w_q.clone()),
            w_k: graph.param(w.w_k.clone()),
            w_v: graph.param(w.w_v.clone()),
            w_1: graph.param(w.w_1.clone()),
            w_2: graph.param(w.w_2.clone()),
        }
    }
}

/// [`trace_with`]'s mean loss recorded on the tape, so its gradient with respect to every
/// weight can be taken. Positions without a target are left out of the mean; if none has one
/// the loss is 0.
pub fn mean_loss_graph(
    graph: &mut Graph,
    w: &WeightVars,
    tokens: &[usize],
    last_target: Option<usize>,
    options: &TraceOptions,
) -> Result<Var> {
    check_tokens(tokens, last_target, graph.value(w.positions).rows())?;
    let positions: Vec<usize> = (0..tokens.len()).collect();
    let x = graph.embedding(w.embeddings, tokens)?;
    let p = graph.embedding(w.positions, &positions)?;
    let x_pos = graph.add(x, p)?;
    let attention_input = match options.norm {
        NormPlacement::Post => x_pos,
        NormPlacement::Pre => graph.normalize_rows(x_pos, LAYER_NORM_EPS),
    };
    let attention_options =
        AttentionOptions { causal: options.causal, scale: options.scale, key_is_padding: vec![] };
    let attn = self_attention_graph(graph, attention_input, w.w_q, w.w_k, w.w_v, &attention_options)?;
    let residual_1 = graph.add(x_pos, attn)?;
    let ffn_input = graph.normalize_rows(residual_1, LAYER_NORM_EPS);
    let hidden = graph.matmul(ffn_input, w.w_1)?;
    let relu = graph.relu(hidden);
    let ffn_out = graph.matmul(relu, w.w_2)?;
    let residual_2 = match options.norm {
        NormPlacement::Post => graph.add(ffn_input, ffn_out)?,
        NormPlacement::Pre => graph.add(residual_1, ffn_out)?,
    };
    let output = graph.normalize_rows(residual_2, LAYER_NORM_EPS);
    let logits = graph.matmul_transposed(output, false, w.embeddings, true)?;
    // A position without a target gets the out-of-range class VOCAB_SIZE, which is ignored.
    let targets: Vec<usize> =
        next_word_targets(tokens, last_target).into_iter().map(|t| t.unwrap_or(VOCAB_SIZE)).collect();
    graph.cross_entropy(logits, &targets, Some(VOCAB_SIZE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_read_forgivingly_and_refused_clearly() {
        assert_eq!(parse_sentence("the cat sat"), Ok(vec![0, 1, 2]));
        assert_eq!(parse_sentence("  The\tCAT   sat \n"), Ok(vec![0, 1, 2]));
        assert_eq!(parse_sentence("mat"), Ok(vec![4]));
        assert_eq!(
            parse_sentence("the dog sat").unwrap_err(),
            "“dog” is not in the vocabulary; the model knows the, cat, sat, on or mat."
        );
        assert!(parse_sentence("   ").unwrap_err().starts_with("Type a sentence"));
        assert_eq!(
            parse_sentence("the cat sat on").unwrap_err(),
            "“the cat sat on” has 4 words, but the position table P has rows for only 3 positions."
        );
        assert_eq!(word_id(" On "), Ok(3));
        assert!(word_id("").is_err());
    }

    #[test]
    fn targets_are_the_next_words() {
        assert_eq!(next_word_targets(&[0, 1, 2], Some(3)), vec![Some(1), Some(2), Some(3)]);
        assert_eq!(next_word_targets(&[0, 1, 2], None), vec![Some(1), Some(2), None]);
        assert_eq!(next_word_targets(&[4], None), vec![None]);
        assert_eq!(next_word_targets(&[], Some(1)), Vec::<Option<usize>>::new());
    }

    #[test]
    fn bad_ids_are_errors_not_panics() {
        let o = TraceOptions::default();
        assert!(trace(&[], None, &o).unwrap_err().message.contains("no words"));
        assert!(trace(&[0, 1, 2, 3], None, &o).unwrap_err().message.contains("only 3 rows"));
        assert!(trace(&[0, 5], None, &o).unwrap_err().message.contains("word id 5"));
        assert!(trace(&[0], Some(9), &o).unwrap_err().message.contains("word id 9"));
    }

    #[test]
    fn layer_norm_by_hand() {
        // The chapter's row 0 of X' + Attn: mean 0.29, variance 0.26665, σ = 0.51640.
        let x = Tensor::from_rows(&[vec![0.39, 0.22, -0.45, 1.0]]).unwrap();
        let want = [0.1937, -0.1356, -1.4330, 1.3749];
        for (got, want) in layer_norm(&x).data.iter().zip(want) {
            assert!((got - want).abs() < 5e-5, "{got} vs {want}");
        }
        // A constant row has no spread: ε keeps it at 0 instead of 0/0.
        assert_eq!(layer_norm(&Tensor::filled(&[1, 4], 3.0)).data, vec![0.0; 4]);
    }

    #[test]
    fn steps_are_in_order_and_named_for_the_arrangement() {
        let post = trace(&[0, 1, 2], Some(3), &TraceOptions::default()).unwrap();
        let keys: Vec<&str> = post.steps().iter().map(|s| s.key).collect();
        assert_eq!(keys.first(), Some(&"x"));
        assert_eq!(keys.last(), Some(&"probs"));
        assert!(!keys.contains(&"attention_input"), "post-norm attention reads X′ itself");
        let pre_options = TraceOptions { norm: NormPlacement::Pre, ..TraceOptions::default() };
        let pre = trace(&[0, 1, 2], Some(3), &pre_options).unwrap();
        let steps = pre.steps();
        assert_eq!(steps.len(), post.steps().len() + 1, "pre-norm shows LN(X′) as well");
        assert_eq!(steps[3].symbol, "LN(X′)");
        assert!(steps.iter().any(|s| s.symbol == "H″ = LN(R₂)"));
        // The pre-norm stream R1 is not normalized; its FFN input is.
        assert_eq!(pre.ffn_input, layer_norm(&pre.residual_1));
        assert_ne!(pre.residual_2, tensor::add(&pre.ffn_input, &pre.ffn_out).unwrap());
    }

    #[test]
    fn the_tape_computes_the_same_loss() {
        for norm in [NormPlacement::Post, NormPlacement::Pre] {
            let options = TraceOptions { norm, ..TraceOptions::default() };
            let direct = trace(&[0, 1, 2], Some(3), &options).unwrap();
            let mut graph = Graph::new();
            let w = WeightVars::new(&mut graph, &Weights::chapter());
            let loss = mean_loss_graph(&mut graph, &w, &[0, 1, 2], Some(3), &options).unwrap();
            let taped = graph.value(loss).data[0];
            let direct = direct.mean_loss.unwrap();
            assert!((taped - direct).abs() < 1e-6, "{norm:?}: {taped} vs {direct}");
        }
    }
}
