//! Generating text with a [`Transformer`]: greedy decoding, sampling, and beam search, with
//! or without a KV cache.
//!
//! A [`Decoder`] holds a growing sequence and the logits for its next token. Without a cache
//! it runs the whole window through the model again at every step; with one it runs only the
//! new token. Both give the same logits (up to rounding), so greedy decoding and seeded
//! sampling produce the same text either way; what differs is the work per step, which the
//! decoder reports as counted multiply-adds (see [`crate::models::transformer::cached_step_multiply_adds`]).
//!
//! The model reads at most `context` tokens. Once a sequence is longer, each step reads the
//! last `context` tokens (a sliding window). A KV cache cannot slide along with it: every
//! cached key was computed with its learned position embedding baked in, and after a slide
//! every token sits at a new position. So when the cache is full the decoder rebuilds it from
//! the window, and from then on each step costs as much as without a cache.

use crate::core::rng::Rng;
use crate::core::tensor::{self, Tensor};
use crate::models::sampling;
use crate::models::transformer::{KvCache, ModelError, Result, Transformer};

/// A sequence being extended one token at a time, with the logits for its next token.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoder {
    tokens: Vec<usize>,
    /// `Some` when decoding with a KV cache.
    cache: Option<KvCache>,
    /// The scores for the token after `tokens`.
    logits: Vec<f32>,
    /// Multiply-adds spent computing `logits`.
    last_step_multiply_adds: u64,
}

impl Decoder {
    /// Starts from `prompt` (at least one token), running it through the model ("prefill").
    pub fn new(model: &Transformer, prompt: &[usize], use_cache: bool) -> Result<Decoder> {
        if prompt.is_empty() {
            return Err(ModelError::invalid(
                "the prompt is empty: give the model at least one character to continue",
            ));
        }
        let mut decoder = Decoder {
            tokens: prompt.to_vec(),
            cache: use_cache.then(|| KvCache::new(&model.config)),
            logits: vec![],
            last_step_multiply_adds: 0,
        };
        decoder.refill(model)?;
        Ok(decoder)
    }

    /// The tokens so far, prompt included.
    pub fn tokens(&self) -> &[usize] {
        &self.tokens
    }

    /// The scores for the next token.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// Multiply-adds of matrix products and attention spent on the latest logits (the
    /// prefill, or the latest [`Decoder::push`]).
    pub fn last_step_multiply_adds(&self) -> u64 {
        self.last_step_multiply_adds
    }

    /// Whether this decoder keeps a KV cache.
    pub fn uses_cache(&self) -> bool {
        self.cache.is_some()
    }

    /// Appends `token` and computes the logits for the one after it.
    pub fn push(&mut self, model: &Transformer, token: usize) -> Result<()> {
        if token >= model.config.vocab {
            return Err(ModelError::invalid(format!(
                "token id {token} is outside the vocabulary of {} tokens",
                model.config.vocab
            )));
        }
        self.tokens.push(token);
        match &mut self.cache {
            Some(cache) if cache.len() < model.config.context => {
                let before = cache.multiply_adds;
                let hidden = model.forward_cached(cache, &[token])?;
                self.logits = model.project_to_vocab(cache, &hidden)?.data;
                self.last_step_multiply_adds = cache.multiply_adds - before;
                Ok(())
            }
            // No cache, or a full one: run the whole window again.
            _ => self.refill(model),
        }
    }

    /// Runs the last `context` tokens through the model from scratch (into a fresh cache, if
    /// this decoder keeps one) and scores the last position.
    fn refill(&mut self, model: &Transformer) -> Result<()> {
        let window = &self.tokens[self.tokens.len().saturating_sub(model.config.context)..];
        let mut cache = KvCache::new(&model.config);
        let hidden = model.forward_cached(&mut cache, window)?;
        let d = model.config.d_model;
        let last = Tensor::from_vec(&[1, d], hidden.data[hidden.len() - d..].to_vec())?;
        self.logits = model.project_to_vocab(&mut cache, &last)?.data;
        self.last_step_multiply_adds = cache.multiply_adds;
        if self.cache.is_some() {
            self.cache = Some(cache);
        }
        Ok(())
    }
}

/// Checks that logits are usable numbers; a model whose weights blew up can produce NaN.
pub fn check_logits(logits: &[f32]) -> Result<()> {
    if logits.is_empty() {
        return Err(ModelError::invalid("there are no logits to choose a token from"));
    }
    match logits.iter().position(|z| !z.is_finite()) {
        Some(i) => Err(ModelError::invalid(format!(
            "the model's score for token {i} is {} rather than a number; its weights may have \
             diverged",
            logits[i]
        ))),
        None => Ok(()),
    }
}

/// The most probable token (the lowest id among equal scores).
pub fn argmax(logits: &[f32]) -> Result<usize> {
    check_logits(logits)?;
    let mut best = 0;
    for (i, &z) in logits.iter().enumerate() {
        if z > logits[best] {
            best = i;
        }
    }
    Ok(best)
}

/// How the next token is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decoding {
    /// Always the most probable token.
    Greedy,
    /// A draw from the distribution after temperature, top-k and top-p
    /// ([`sampling::distribution`]).
    Sample { temperature: f64, top_k: usize, top_p: f64 },
}

impl Decoding {
    /// Checks the sampler's settings, with a message for each bad one.
    pub fn validate(&self) -> Result<()> {
        if let Decoding::Sample { temperature, top_k, top_p } = *self {
            if !(temperature.is_finite() && temperature > 0.0) {
                return Err(ModelError::invalid(format!(
                    "the temperature must be a positive number, not {temperature}"
                )));
            }
            if top_k == 0 {
                return Err(ModelError::invalid("top-k must keep at least 1 token"));
            }
            if !(top_p > 0.0 && top_p <= 1.0) {
                return Err(ModelError::invalid(format!("top-p must be above 0 and at most 1, not {top_p}")));
            }
        }
        Ok(())
    }

    /// Chooses a token from `logits`; returns it with its probability under the distribution
    /// it was drawn from (1 for greedy).
    pub fn choose(&self, logits: &[f32], rng: &mut Rng) -> Result<(usize, f64)> {
        self.validate()?;
        check_logits(logits)?;
        match *self {
            Decoding::Greedy => Ok((argmax(logits)?, 1.0)),
            Decoding::Sample { temperature, top_k, top_p } => {
                let z: Vec<f64> = logits.iter().map(|&v| v as f64).collect();
                let d = sampling::distribution(&z, temperature, top_k, top_p);
                let token = sampling::sample(&d.final_probs, rng);
                Ok((token, d.final_probs[token]))
            }
        }
    }
}

/// One generated token, as a page streams it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeneratedToken {
    pub token: usize,
    /// Its probability under the distribution it was chosen from.
    pub probability: f64,
    /// Multiply-adds spent computing the logits this token was chosen from.
    pub multiply_adds: u64,
}

/// Streams tokens one at a time: the page calls [`Generator::next_token`] per frame and times
/// each call itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Generator {
    pub decoder: Decoder,
    pub decoding: Decoding,
    rng: Rng,
}

impl Generator {
    /// Prefills `prompt`; sampling draws from a generator seeded with `seed`.
    pub fn new(
        model: &Transformer,
        prompt: &[usize],
        decoding: Decoding,
        seed: u64,
        use_cache: bool,
    ) -> Result<Generator> {
        decoding.validate()?;
        Ok(Generator { decoder: Decoder::new(model, prompt, use_cache)?, decoding, rng: Rng::new(seed) })
    }

    /// Chooses the next token and extends the sequence with it.
    pub fn next_token(&mut self, model: &Transformer) -> Result<GeneratedToken> {
        let multiply_adds = self.decoder.last_step_multiply_adds();
        let (token, probability) = self.decoding.choose(self.decoder.logits(), &mut self.rng)?;
        self.decoder.push(model, token)?;
        Ok(GeneratedToken { token, probability, multiply_adds })
    }
}

/// Generates `count` tokens after `prompt`.
pub fn generate(
    model: &Transformer,
    prompt: &[usize],
    count: usize,
    decoding: Decoding,
    seed: u64,
    use_cache: bool,
) -> Result<Vec<GeneratedToken>> {
    let mut generator = Generator::new(model, prompt, decoding, seed, use_cache)?;
    (0..count).map(|_| generator.next_token(model)).collect()
}

// -------------------------------------------------------------------------------------------
// Beam search
// -------------------------------------------------------------------------------------------

/// The widest beam search the book runs: the tree grows by width² nodes per step.
pub const MAX_BEAM_WIDTH: usize = 16;
/// The most steps a beam search may take.
pub const MAX_BEAM_STEPS: usize = 64;

/// One candidate considered by beam search: a beam extended by one token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeamNode {
    /// The token this candidate appends.
    pub token: usize,
    /// The log-probability of the whole continuation so far: its parent's plus
    /// log p(token | everything before).
    pub log_prob: f64,
    /// The node this one extends (an index into [`BeamTree::nodes`]); `None` at step 0,
    /// where candidates extend the prompt itself.
    pub parent: Option<usize>,
    /// Which generated position this candidate fills, from 0.
    pub step: usize,
    /// Whether it was among the `width` best at its step (and so was extended further).
    pub kept: bool,
}

/// Everything beam search looked at, for drawing, and what it chose.
#[derive(Clone, Debug, PartialEq)]
pub struct BeamTree {
    pub width: usize,
    /// Every expanded candidate, step by step; within a step, grouped by parent.
    pub nodes: Vec<BeamNode>,
    /// The highest-scoring continuation after the last step.
    pub best: Vec<usize>,
    /// Its log-probability.
    pub best_log_prob: f64,
}

impl BeamTree {
    /// The tokens from step 0 to `node`, following parents back.
    pub fn path(&self, node: usize) -> Vec<usize> {
        let mut tokens = vec![];
        let mut at = Some(node);
        while let Some(i) = at {
            tokens.push(self.nodes[i].token);
            at = self.nodes[i].parent;
        }
        tokens.reverse();
        tokens
    }

    /// How many candidates survived pruning.
    pub fn kept_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.kept).count()
    }

    /// For every node, whether it lies on the winning path: the best-scoring kept node of
    /// the last step and its ancestors.
    pub fn on_best_path(&self) -> Vec<bool> {
        let mut on_best = vec![false; self.nodes.len()];
        let last = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].kept && self.nodes[i].step + 1 == self.best.len())
            .max_by(|&a, &b| self.nodes[a].log_prob.total_cmp(&self.nodes[b].log_prob));
        let mut at = last;
        while let Some(i) = at {
            on_best[i] = true;
            at = self.nodes[i].parent;
        }
        on_best
    }
}

/// Log-softmax of logits in f64: log p for every token.
fn log_probs(logits: &[f32]) -> Vec<f64> {
    let z = Tensor { shape: vec![logits.len()], data: logits.to_vec() };
    // The stable f32 kernel, widened: the page shows these to a few decimals.
    tensor::log_softmax_rows(&z).data.iter().map(|&v| v as f64).collect()
}

// ANCHOR: beam
/// Beam search: keeps the `width` most probable continuations (by total log-probability) and
/// extends each by every token, `steps` times. Width 1 is greedy decoding.
///
/// Each beam is extended only by its own `width` most probable tokens: a token outside them
/// is beaten by `width` candidates of the same beam, so it could never be among the `width`
/// kept overall. The tree therefore holds at most width² candidates per step and loses
/// nothing. Scores are plain sums of log-probabilities, with no length normalization (all
/// beams have the same length here).
pub fn beam_search(model: &Transformer, prompt: &[usize], width: usize, steps: usize) -> Result<BeamTree> {
    if width == 0 || width > MAX_BEAM_WIDTH {
        return Err(ModelError::invalid(format!(
            "the beam width must be between 1 and {MAX_BEAM_WIDTH}, not {width}"
        )));
    }
    if steps == 0 || steps > MAX_BEAM_STEPS {
        return Err(ModelError::invalid(format!(
            "beam search takes between 1 and {MAX_BEAM_STEPS} steps, not {steps}"
        )));
    }
    // Each live beam: the node it ends at (None for the bare prompt), its decoder, its score.
    let mut beams: Vec<(Option<usize>, Decoder, f64)> = vec![(None, Decoder::new(model, prompt, true)?, 0.0)];
    let mut nodes: Vec<BeamNode> = vec![];
    for step in 0..steps {
        let first = nodes.len();
        for (parent, decoder, score) in &beams {
            check_logits(decoder.logits())?;
            let lp = log_probs(decoder.logits());
            for token in sampling::ranked(&lp).into_iter().take(width) {
                nodes.push(BeamNode {
                    token,
                    log_prob: score + lp[token],
                    parent: *parent,
                    step,
                    kept: false,
                });
            }
        }
        // Keep the best `width` of this step's candidates (earlier candidates win ties).
        let mut order: Vec<usize> = (first..nodes.len()).collect();
        order.sort_by(|&a, &b| nodes[b].log_prob.total_cmp(&nodes[a].log_prob).then(a.cmp(&b)));
        order.truncate(width);
        order.sort_unstable(); // extend in tree order, so parents stay grouped
        let mut next = Vec::with_capacity(order.len());
        for i in order {
            nodes[i].kept = true;
            let parent_beam = beams
                .iter()
                .find(|(end, _, _)| *end == nodes[i].parent)
                .expect("every candidate extends a live beam");
            let mut decoder = parent_beam.1.clone();
            decoder.push(model, nodes[i].token)?;
            next.push((Some(i), decoder, nodes[i].log_prob));
        }
        beams = next;
    }
    let (end, _, best_log_prob) = beams
        .iter()
        .fold(None, |best: Option<&(Option<usize>, Decoder, f64)>, beam| match best {
            Some(b) if b.2 >= beam.2 => Some(b),
            _ => Some(beam),
        })
        .expect("at least one beam survives every step");
    let mut tree = BeamTree { width, nodes, best: vec![], best_log_prob: *best_log_prob };
    tree.best = tree.path(end.expect("after one step every beam ends at a node"));
    Ok(tree)
}

// ANCHOR_END: beam

#[cfg(test)]
mod tests;
