//! Chapter 10: induction heads forming in a small attention-only transformer.
//!
//! # The model
//!
//! Attention only, as in Elhage et al. (2021): no MLPs and no layer norm. For T token ids
//! t₀ … t_{T−1}:
//!
//! ```text
//! x = E[t_i] + P[i]                            token plus learned position embedding
//! repeat n_layers times:
//!     x = x + Σ_h Attn_h(x)·W_O                each head's output added to the stream
//! logits = x·W_U                               an unembedding of its own (not tied to E)
//! ```
//!
//! Each head has its own W_Q, W_K, W_V (`[d_model, d_head]`) and W_O (`[d_head, d_model]`)
//! and computes softmax(x·W_Q·(x·W_K)ᵀ/√d_head + causal mask)·x·W_V·W_O; every head of a
//! layer reads the same stream and their outputs are added to it together. Ablating a head
//! leaves its output out, so it writes nothing into the stream. Everything runs on the
//! autograd tape
//! ([`crate::core::autograd`]) and the tests check the gradients against finite differences.
//!
//! # The data
//!
//! Each sequence is `context` uniformly random tokens over a `vocab`-token vocabulary, except
//! that a segment of L tokens (L drawn from `min_segment ..= max_segment`) starting at a
//! random position is copied right after itself. Both L and the start vary, so no fixed
//! position or fixed distance back finds the earlier copy: only the content can. Every
//! position is trained to predict the next token; the loss is reported apart on
//!
//! - *repeated* tokens: the 2nd … L-th tokens of the copy, which follow a token that was
//!   already seen with its successor, so an induction circuit can predict them;
//! - *first* occurrences: every other token, which nothing can predict (chance is ln vocab).
//!
//! # The scores (averaged over a fixed evaluation set)
//!
//! - previous-token score of a head: its mean attention from position i to i − 1;
//! - induction score: its mean attention from a token of the copy to the token after that
//!   token's earlier occurrence (from position s + L + j to s + j + 1).

use crate::core::autograd::{self, Graph, Var};
use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::core::tensor::{self, causal_mask, Tensor};

/// Every size and setting of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Distinct tokens.
    pub vocab: usize,
    /// Tokens per sequence.
    pub context: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Heads per layer (each d_model / n_heads wide).
    pub n_heads: usize,
    /// Attention layers.
    pub n_layers: usize,
    /// The shortest and longest repeated segment.
    pub min_segment: usize,
    pub max_segment: usize,
    /// Sequences per training step.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Standard deviation of the initial weights and embeddings.
    pub init_std: f32,
    /// Seeds the weights, the training batches and the evaluation set.
    pub seed: u64,
}

/// Sequences in the fixed evaluation set every score and loss is measured on.
pub const EVAL_SEQUENCES: usize = 48;
/// Steps between two evaluations (each one point on the curves).
pub const EVAL_EVERY: usize = 10;

impl Config {
    /// The chapter's run: 2 layers of 2 heads, 32 wide, 20 tokens, windows of 20 with a
    /// segment of 6 to 10 tokens repeated.
    pub fn two_layer(seed: u64) -> Config {
        Config {
            vocab: 20,
            context: 20,
            d_model: 32,
            n_heads: 2,
            n_layers: 2,
            min_segment: 6,
            max_segment: 10,
            batch: 16,
            lr: 0.02,
            init_std: 0.3,
            seed,
        }
    }

    /// The same run with one layer.
    pub fn one_layer(seed: u64) -> Config {
        Config { n_layers: 1, ..Config::two_layer(seed) }
    }

    pub fn d_head(&self) -> usize {
        self.d_model / self.n_heads.max(1)
    }

    /// Checks the settings, with a message that says what to change.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=1000).contains(&self.vocab) {
            return Err("The vocabulary must have from 2 to 1,000 tokens.".into());
        }
        if !(1..=4).contains(&self.n_layers) || !(1..=8).contains(&self.n_heads) {
            return Err("The model needs 1 to 4 layers of 1 to 8 heads.".into());
        }
        if self.d_model == 0 || self.d_model > 256 || !self.d_model.is_multiple_of(self.n_heads) {
            return Err("The width must be at most 256 and divisible by the number of heads.".into());
        }
        if self.min_segment < 2 || self.min_segment > self.max_segment || 2 * self.max_segment > self.context
        {
            return Err(
                "Segments need at least 2 tokens, and twice the longest must fit in the context.".into()
            );
        }
        if self.context > 128 || self.batch == 0 || self.batch > 256 {
            return Err("The context must be at most 128 tokens and the batch from 1 to 256.".into());
        }
        if !(self.init_std > 0.0 && self.init_std <= 10.0) {
            return Err("The initial weights' standard deviation must be above 0 and at most 10.".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err("The learning rate must be a number above 0.".into());
        }
        Ok(())
    }

    /// Every parameter's shape, in order: E, P, then per layer and per head W_Q, W_K, W_V
    /// (`[d_model, d_head]`) and W_O (`[d_head, d_model]`), then W_U.
    pub fn param_shapes(&self) -> Vec<Vec<usize>> {
        let (d, dh) = (self.d_model, self.d_head());
        let mut shapes = vec![vec![self.vocab, d], vec![self.context, d]];
        for _ in 0..self.n_layers * self.n_heads {
            shapes.extend([vec![d, dh], vec![d, dh], vec![d, dh], vec![dh, d]]);
        }
        shapes.push(vec![d, self.vocab]);
        shapes
    }
}

/// One sequence with its repeated segment: tokens `start .. start + len` reappear at
/// `start + len .. start + 2·len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub tokens: Vec<usize>,
    pub start: usize,
    pub len: usize,
}

impl Sequence {
    /// Draws a sequence: random tokens, a segment length and a start, then the copy.
    pub fn draw(config: &Config, rng: &mut Rng) -> Sequence {
        let mut tokens: Vec<usize> = (0..config.context).map(|_| rng.below(config.vocab)).collect();
        let len = config.min_segment + rng.below(config.max_segment - config.min_segment + 1);
        let start = rng.below(config.context - 2 * len + 1);
        for j in 0..len {
            tokens[start + len + j] = tokens[start + j];
        }
        Sequence { tokens, start, len }
    }

    /// Whether the token at position p is a repeated one an induction head can predict: the
    /// 2nd … L-th tokens of the copy.
    pub fn is_repeated(&self, p: usize) -> bool {
        p > self.start + self.len && p < self.start + 2 * self.len
    }
}

/// Losses and per-head scores at one moment of training.
#[derive(Clone, Debug, PartialEq)]
pub struct Eval {
    pub step: usize,
    /// Mean cross-entropy on first occurrences and on repeated tokens.
    pub first_loss: f32,
    pub repeated_loss: f32,
    /// Per head, layer by layer (index layer·n_heads + head).
    pub previous_token: Vec<f32>,
    pub induction: Vec<f32>,
}

/// What a forward pass leaves on the tape: the logits and each layer's attention weights.
struct Forward {
    logits: Var,
    /// Per head (layer·n_heads + head), `[batch, T, T]`.
    attention: Vec<Var>,
}

/// An attention-only transformer with its parameters in [`Config::param_shapes`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub config: Config,
    pub params: Vec<Tensor>,
}

impl Model {
    /// Fresh weights: every tensor from a normal with standard deviation `init_std`.
    pub fn new(config: Config) -> Result<Model, String> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let params = config
            .param_shapes()
            .iter()
            .map(|shape| crate::core::init::normal(shape, config.init_std, &mut rng))
            .collect();
        Ok(Model { config, params })
    }

    /// Records the forward pass of `sequences` on the tape. `ablate` names a head (by its
    /// index layer·n_heads + head) whose output is zeroed.
    fn forward(
        &self,
        graph: &mut Graph,
        vars: &[Var],
        sequences: &[Sequence],
        ablate: Option<usize>,
    ) -> tensor::Result<Forward> {
        let c = &self.config;
        let (b, t, h, dh) = (sequences.len(), c.context, c.n_heads, c.d_head());
        let ids: Vec<usize> = sequences.iter().flat_map(|s| s.tokens.iter().copied()).collect();
        let positions: Vec<usize> = (0..b).flat_map(|_| 0..t).collect();
        let tokens = graph.embedding(vars[0], &ids)?;
        let places = graph.embedding(vars[1], &positions)?;
        let mut x = graph.add(tokens, places)?; // [b·t, d]
        let mask = graph.input(causal_mask(t));
        let mut attention = Vec::with_capacity(c.n_layers * h);
        for l in 0..c.n_layers {
            // Every head reads the same stream x; their outputs are added to it together.
            let mut update: Option<Var> = None;
            for head in 0..h {
                let w = &vars[2 + 4 * (l * h + head)..6 + 4 * (l * h + head)];
                let q = graph.matmul(x, w[0])?;
                let q = graph.reshape(q, &[b, t, dh])?;
                let k = graph.matmul(x, w[1])?;
                let k = graph.reshape(k, &[b, t, dh])?;
                let v = graph.matmul(x, w[2])?;
                let v = graph.reshape(v, &[b, t, dh])?;
                let scores = graph.matmul_transposed(q, false, k, true)?; // [b, t, t]
                let scaled = graph.scale(scores, 1.0 / libm::sqrtf(dh as f32));
                let masked = graph.add(scaled, mask)?;
                let weights = graph.softmax_rows(masked);
                attention.push(weights);
                if ablate == Some(l * h + head) {
                    continue; // an ablated head writes nothing into the stream
                }
                let mixed = graph.matmul(weights, v)?; // [b, t, dh]
                let mixed = graph.reshape(mixed, &[b * t, dh])?;
                let out = graph.matmul(mixed, w[3])?; // [b·t, d]
                update = Some(match update {
                    None => out,
                    Some(sum) => graph.add(sum, out)?,
                });
            }
            if let Some(update) = update {
                x = graph.add(x, update)?;
            }
        }
        let logits = graph.matmul(x, vars[vars.len() - 1])?; // [b·t, vocab]
        Ok(Forward { logits, attention })
    }

    /// The training loss on `sequences` (mean cross-entropy of every next token) and its
    /// gradient for every parameter.
    pub fn loss_and_grads(&self, sequences: &[Sequence]) -> tensor::Result<(f32, Vec<Tensor>)> {
        autograd::loss_and_grads(&self.params, |graph, vars| {
            let forward = self.forward(graph, vars, sequences, None)?;
            graph.cross_entropy(forward.logits, &next_tokens(sequences), Some(NO_TARGET))
        })
    }

    /// Losses and head scores on `sequences`, with one head ablated or none.
    pub fn evaluate(&self, sequences: &[Sequence], ablate: Option<usize>) -> tensor::Result<Eval> {
        let c = &self.config;
        let (t, v) = (c.context, c.vocab);
        let mut graph = Graph::new();
        let vars: Vec<Var> = self.params.iter().map(|p| graph.input(p.clone())).collect();
        let forward = self.forward(&mut graph, &vars, sequences, ablate)?;
        let log_probs = tensor::log_softmax_rows(graph.value(forward.logits));
        let (mut first, mut repeated) = ((0.0f64, 0usize), (0.0f64, 0usize));
        for (s, seq) in sequences.iter().enumerate() {
            for p in 0..t - 1 {
                let nll = -log_probs.data[(s * t + p) * v + seq.tokens[p + 1]] as f64;
                let bucket = if seq.is_repeated(p + 1) { &mut repeated } else { &mut first };
                bucket.0 += nll;
                bucket.1 += 1;
            }
        }
        let mean = |(sum, n): (f64, usize)| if n == 0 { 0.0 } else { (sum / n as f64) as f32 };
        let mut previous_token = vec![];
        let mut induction = vec![];
        for weights in &forward.attention {
            let a = graph.value(*weights);
            {
                let (mut prev, mut prev_n, mut ind, mut ind_n) = (0.0f64, 0usize, 0.0f64, 0usize);
                for (s, seq) in sequences.iter().enumerate() {
                    let at = |i: usize, j: usize| a.data[(s * t + i) * t + j] as f64;
                    for i in 1..t {
                        prev += at(i, i - 1);
                        prev_n += 1;
                    }
                    for j in 0..seq.len {
                        ind += at(seq.start + seq.len + j, seq.start + j + 1);
                        ind_n += 1;
                    }
                }
                previous_token.push(mean((prev, prev_n)));
                induction.push(mean((ind, ind_n)));
            }
        }
        Ok(Eval {
            step: 0,
            first_loss: mean(first),
            repeated_loss: mean(repeated),
            previous_token,
            induction,
        })
    }

    /// Every head's attention pattern on one sequence: per head (layer·n_heads + head) a
    /// row-major T × T matrix, row i the weights position i gives positions 0 ..= i.
    pub fn attention_patterns(&self, sequence: &Sequence) -> tensor::Result<Vec<Vec<f32>>> {
        let mut graph = Graph::new();
        let vars: Vec<Var> = self.params.iter().map(|p| graph.input(p.clone())).collect();
        let forward = self.forward(&mut graph, &vars, std::slice::from_ref(sequence), None)?;
        Ok(forward.attention.iter().map(|&w| graph.value(w).data.clone()).collect())
    }
}

/// The target ignored at each sequence's last position, which has no next token.
const NO_TARGET: usize = usize::MAX;

/// For every position of every sequence, the token that follows it.
fn next_tokens(sequences: &[Sequence]) -> Vec<usize> {
    sequences.iter().flat_map(|s| s.tokens[1..].iter().copied().chain(std::iter::once(NO_TARGET))).collect()
}

/// The stream of training batches a run draws, one batch of `config.batch` fresh sequences
/// per step. A run trained elsewhere (chapter 10's GPU path) draws from a copy of its
/// trainer's stream ([`Trainer::batches`]), so both see the same batches.
#[derive(Clone, Debug, PartialEq)]
pub struct Batches {
    config: Config,
    rng: Rng,
}

impl Batches {
    /// The stream a fresh run of `config` draws from.
    pub fn new(config: Config) -> Batches {
        Batches { config, rng: Rng::new(config.seed ^ 0xDA7A) }
    }

    /// The next step's batch.
    pub fn next_batch(&mut self) -> Vec<Sequence> {
        (0..self.config.batch).map(|_| Sequence::draw(&self.config, &mut self.rng)).collect()
    }
}

/// A model, its optimizer, its batches and its history.
#[derive(Clone, Debug)]
pub struct Trainer {
    pub model: Model,
    optimizers: Vec<Optimizer>,
    data: Batches,
    pub eval_set: Vec<Sequence>,
    pub step: usize,
    /// One evaluation every [`EVAL_EVERY`] steps, starting at step 0.
    pub history: Vec<Eval>,
    /// Set when training stopped because the numbers stopped being finite.
    pub diverged: Option<usize>,
}

impl Trainer {
    /// A fresh model, evaluated once at step 0.
    pub fn new(config: Config) -> Result<Trainer, String> {
        let model = Model::new(config)?;
        let optimizers = model.params.iter().map(|p| Optimizer::new(Method::adam(), p.len())).collect();
        let mut eval_rng = Rng::new(config.seed ^ 0xE7A1_5E75);
        let eval_set = (0..EVAL_SEQUENCES).map(|_| Sequence::draw(&config, &mut eval_rng)).collect();
        let mut trainer = Trainer {
            model,
            optimizers,
            data: Batches::new(config),
            eval_set,
            step: 0,
            history: vec![],
            diverged: None,
        };
        trainer.record()?;
        Ok(trainer)
    }

    fn record(&mut self) -> Result<(), String> {
        let mut eval = self.model.evaluate(&self.eval_set, None).map_err(|e| e.message)?;
        eval.step = self.step;
        self.history.push(eval);
        Ok(())
    }

    /// One Adam step on a fresh batch; returns the batch's loss before the update.
    pub fn step(&mut self) -> Result<f32, String> {
        if let Some(step) = self.diverged {
            return Err(format!("Training diverged at step {step}; reset to start again."));
        }
        let c = self.model.config;
        let batch = self.data.next_batch();
        let (loss, grads) = self.model.loss_and_grads(&batch).map_err(|e| e.message)?;
        if !loss.is_finite() || grads.iter().any(|g| g.data.iter().any(|v| !v.is_finite())) {
            self.diverged = Some(self.step);
            return Err(format!(
                "Training diverged at step {}: the loss is no longer a finite number.",
                self.step
            ));
        }
        for ((p, g), opt) in self.model.params.iter_mut().zip(&grads).zip(&mut self.optimizers) {
            opt.step(&mut p.data, &g.data, c.lr).map_err(|e| e.message)?;
        }
        self.step += 1;
        if self.step.is_multiple_of(EVAL_EVERY) {
            self.record()?;
        }
        Ok(loss)
    }

    /// The batches the next steps will train on, from where this trainer is now.
    pub fn batches(&self) -> Batches {
        self.data.clone()
    }

    /// Takes in weights trained elsewhere (on the GPU) on this trainer's own batches: `params`
    /// are the weights after `step` steps. The batches of the steps in between are drawn and
    /// dropped, so the stream stays where [`Trainer::step`] would have left it, and `step` is
    /// evaluated when it is a multiple of [`EVAL_EVERY`]. The optimizer's moments stay as they
    /// were: a run that goes on here after a GPU run starts them afresh.
    pub fn adopt(&mut self, step: usize, params: Vec<Tensor>) -> Result<(), String> {
        if step < self.step {
            return Err(format!("Weights from step {step} cannot follow step {}.", self.step));
        }
        let shapes = self.model.config.param_shapes();
        if params.len() != shapes.len() || params.iter().zip(&shapes).any(|(p, s)| &p.shape != s) {
            return Err("The weights read back do not fit this model.".into());
        }
        for _ in self.step..step {
            self.data.next_batch();
        }
        self.model.params = params;
        self.step = step;
        if step.is_multiple_of(EVAL_EVERY) {
            self.record()?;
        }
        Ok(())
    }

    /// `steps` steps.
    pub fn train(&mut self, steps: usize) -> Result<(), String> {
        for _ in 0..steps {
            self.step()?;
        }
        Ok(())
    }

    /// The latest evaluation.
    pub fn latest(&self) -> &Eval {
        self.history.last().expect("a trainer is evaluated when it is made")
    }

    /// The losses and scores with one head ablated (or none), on the evaluation set.
    pub fn ablated(&self, head: Option<usize>) -> Result<Eval, String> {
        let mut eval = self.model.evaluate(&self.eval_set, head).map_err(|e| e.message)?;
        eval.step = self.step;
        Ok(eval)
    }

    /// The first evaluated step at which the repeated-token loss is below `threshold`.
    pub fn first_step_below(&self, threshold: f32) -> Option<usize> {
        self.history.iter().find(|e| e.repeated_loss < threshold).map(|e| e.step)
    }

    /// The head with the highest induction score now (index layer·n_heads + head).
    pub fn best_induction_head(&self) -> usize {
        best(&self.latest().induction)
    }

    /// The head with the highest previous-token score now.
    pub fn best_previous_token_head(&self) -> usize {
        best(&self.latest().previous_token)
    }
}

/// The index of the largest score (the first, if several tie).
fn best(scores: &[f32]) -> usize {
    (0..scores.len()).fold(0, |best, i| if scores[i] > scores[best] { i } else { best })
}

/// The chance-level loss ln(vocab): a uniform guess over the vocabulary.
pub fn chance_loss(vocab: usize) -> f32 {
    libm::logf(vocab as f32)
}

/// The name of head `index` as the page prints it: layer and head, counting from 1.
pub fn head_name(config: &Config, index: usize) -> String {
    format!("L{}H{}", index / config.n_heads.max(1) + 1, index % config.n_heads.max(1) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;
    use crate::core::autograd::tests::check_gradients;
    use crate::core::tolerance::Tolerance;

    /// Small enough for finite differences: 2 layers of 2 heads of width 2, 5 tokens.
    fn tiny() -> Config {
        Config {
            vocab: 5,
            context: 6,
            d_model: 4,
            n_heads: 2,
            n_layers: 2,
            min_segment: 2,
            max_segment: 3,
            batch: 2,
            lr: 0.01,
            init_std: 0.5,
            seed: 4,
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let config = tiny();
        let model = Model::new(config).unwrap();
        let mut rng = Rng::new(9);
        let sequences: Vec<Sequence> = (0..2).map(|_| Sequence::draw(&config, &mut rng)).collect();
        let targets = next_tokens(&sequences);
        for ablate in [None, Some(1), Some(2)] {
            check_gradients(&model.params, 5, |g, vars| {
                let forward = model.forward(g, vars, &sequences, ablate).unwrap();
                g.cross_entropy(forward.logits, &targets, Some(NO_TARGET)).unwrap()
            })
            .unwrap_or_else(|e| panic!("ablating {ablate:?}: {e}"));
        }
        // The tape's loss is the evaluation's, over all scored positions together.
        let (loss, grads) = model.loss_and_grads(&sequences).unwrap();
        assert_eq!(grads.len(), config.param_shapes().len());
        let eval = model.evaluate(&sequences, None).unwrap();
        let repeated: usize = sequences.iter().map(|s| s.len - 1).sum();
        let first = sequences.len() * (config.context - 1) - repeated;
        let mixed = (eval.first_loss * first as f32 + eval.repeated_loss * repeated as f32)
            / (first + repeated) as f32;
        assert_close!(loss, mixed, Tolerance { abs: 1e-5, rel: 1e-5 });
    }

    /// Weights trained elsewhere on the trainer's own batches, taken in every 10 steps, give
    /// the history the trainer gives by itself, and leave its batch stream in the same place.
    #[test]
    fn adopted_weights_give_the_same_history() {
        let config = tiny();
        let mut alone = Trainer::new(config).unwrap();
        let mut fed = Trainer::new(config).unwrap();
        let mut stream = fed.batches();
        let mut elsewhere = fed.clone();
        for step in 1..=EVAL_EVERY * 2 {
            assert_eq!(stream.next_batch(), elsewhere.batches().next_batch(), "step {step}");
            elsewhere.step().unwrap();
            alone.step().unwrap();
            if step % EVAL_EVERY == 0 {
                fed.adopt(step, elsewhere.model.params.clone()).unwrap();
            }
        }
        assert_eq!(fed.history, alone.history);
        assert_eq!(fed.history.len(), 3);
        assert_eq!((fed.step, fed.model.params.clone()), (alone.step, alone.model.params.clone()));
        assert_eq!(fed.batches(), alone.batches());
        assert_eq!(fed.batches(), stream);
        // Weights from the past, or of another shape, are refused.
        assert!(fed.adopt(5, alone.model.params.clone()).is_err());
        assert!(fed.adopt(30, alone.model.params[1..].to_vec()).is_err());
        assert_eq!(fed.step, 20);
    }

    #[test]
    fn sequences_repeat_a_segment_at_a_varying_place() {
        let config = Config::two_layer(1);
        let mut rng = Rng::new(2);
        let (mut lens, mut starts) = (vec![], vec![]);
        for _ in 0..200 {
            let s = Sequence::draw(&config, &mut rng);
            assert_eq!(s.tokens.len(), config.context);
            assert!((config.min_segment..=config.max_segment).contains(&s.len));
            assert!(s.start + 2 * s.len <= config.context);
            assert_eq!(s.tokens[s.start..s.start + s.len], s.tokens[s.start + s.len..s.start + 2 * s.len]);
            assert!(s.tokens.iter().all(|&t| t < config.vocab));
            let repeated = (0..config.context).filter(|&p| s.is_repeated(p)).count();
            assert_eq!(repeated, s.len - 1);
            lens.push(s.len);
            starts.push(s.start);
        }
        // Every length and several starts occur, so no fixed offset finds the copy.
        for len in config.min_segment..=config.max_segment {
            assert!(lens.contains(&len), "no segment of {len}");
        }
        assert!(starts.iter().max() > Some(&4) && starts.contains(&0));
    }

    #[test]
    fn bad_settings_and_diverging_runs_are_errors() {
        let ok = Config::two_layer(1);
        let bad = [
            Config { vocab: 1, ..ok },
            Config { n_heads: 3, ..ok },
            Config { max_segment: 11, ..ok },
            Config { min_segment: 1, ..ok },
            Config { lr: f32::NAN, ..ok },
            Config { lr: 0.0, ..ok },
            Config { batch: 0, ..ok },
            Config { n_layers: 0, ..ok },
        ];
        for config in bad {
            assert!(Trainer::new(config).is_err(), "{config:?} was accepted");
        }
        let mut trainer = Trainer::new(ok).unwrap();
        trainer.model.params[0].data[0] = f32::NAN;
        let err = trainer.step().unwrap_err();
        assert!(err.contains("diverged"), "{err}");
        assert_eq!(trainer.diverged, Some(0));
        assert!(trainer.step().is_err());
        // The largest learning rate the page takes does not panic, whatever it does.
        let mut wild = Trainer::new(Config { lr: 100.0, ..ok }).unwrap();
        match wild.train(40) {
            Ok(()) => assert_eq!(wild.step, 40),
            Err(message) => assert!(message.contains("diverged"), "{message}"),
        }
    }

    /// The chapter's numbers, seed 1: the two-layer model's repeated-token loss sits on a
    /// plateau, then drops within about 100 steps as a previous-token head in layer 1 and
    /// induction heads in layer 2 form; the one-layer model stays on its plateau; ablating the
    /// previous-token head sends the repeated loss back up.
    #[test]
    fn induction_heads_form_in_two_layers_and_not_in_one() {
        let config = Config::two_layer(1);
        let mut two = Trainer::new(config).unwrap();
        two.train(600).unwrap();
        let at = |step: usize| two.history.iter().find(|e| e.step == step).unwrap().clone();
        assert_eq!(two.history.len(), 61);
        assert_close!(chance_loss(20), 2.9957, Tolerance::absolute(1e-4));
        let start = at(0);
        assert_close!(start.first_loss, 8.3301, Tolerance::absolute(2e-3));
        assert_close!(start.repeated_loss, 6.0939, Tolerance::absolute(2e-3));
        // The plateau: first occurrences at chance, repeated tokens only a little better.
        let plateau = at(300);
        assert_close!(plateau.first_loss, 3.0561, Tolerance::absolute(2e-3));
        assert_close!(plateau.repeated_loss, 2.5181, Tolerance::absolute(2e-3));
        // The drop.
        assert_eq!(two.first_step_below(2.0), Some(460));
        assert_eq!(two.first_step_below(1.2), Some(550));
        let end = two.latest().clone();
        assert_close!(end.repeated_loss, 0.9178, Tolerance::absolute(2e-3));
        assert_close!(end.first_loss, 3.3526, Tolerance::absolute(2e-3));
        // The heads: L1H1 attends to the previous token, L2H1 and L2H2 are induction heads.
        assert_eq!(two.best_previous_token_head(), 0);
        assert_eq!(two.best_induction_head(), 2);
        assert_close!(end.previous_token[0], 0.5831, Tolerance::absolute(2e-3));
        assert_close!(end.induction[2], 0.7199, Tolerance::absolute(2e-3));
        assert_close!(end.induction[3], 0.7030, Tolerance::absolute(2e-3));
        assert_close!(plateau.previous_token[0], 0.1583, Tolerance::absolute(2e-3));
        assert_close!(plateau.induction[2], 0.1837, Tolerance::absolute(2e-3));
        assert_eq!(head_name(&config, 2), "L2H1");
        // Ablations: without the previous-token head the induction heads find nothing.
        let ablated: Vec<Eval> = (0..4).map(|h| two.ablated(Some(h)).unwrap()).collect();
        assert_close!(ablated[0].repeated_loss, 2.4615, Tolerance::absolute(2e-3));
        assert_close!(ablated[1].repeated_loss, 0.9111, Tolerance::absolute(2e-3));
        assert_close!(ablated[2].repeated_loss, 1.9280, Tolerance::absolute(2e-3));
        assert_close!(ablated[3].repeated_loss, 1.7618, Tolerance::absolute(2e-3));
        assert_eq!(two.ablated(None).unwrap(), Eval { step: 600, ..end });
        // Every head's pattern on a sample is a causal attention matrix.
        let patterns = two.model.attention_patterns(&two.eval_set[0]).unwrap();
        assert_eq!(patterns.len(), 4);
        for pattern in &patterns {
            for (i, row) in pattern.chunks(config.context).enumerate() {
                assert_close!(row.iter().sum::<f32>(), 1.0, Tolerance::absolute(1e-5));
                assert!(row[i + 1..].iter().all(|&w| w == 0.0));
            }
        }

        // The one-layer model trained the same way stays on the plateau.
        let mut one = Trainer::new(Config::one_layer(1)).unwrap();
        one.train(600).unwrap();
        assert_eq!(one.first_step_below(2.0), None);
        assert_close!(one.latest().repeated_loss, 2.3033, Tolerance::absolute(2e-3));
        assert_close!(one.latest().first_loss, 3.0932, Tolerance::absolute(2e-3));
    }
}
