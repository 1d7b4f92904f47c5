//! Word vectors learned from raw text, two ways (chapter 9). Skip-gram with negative sampling
//! (Mikolov et al., 2013) reads the text one (centre, context) pair at a time and nudges two
//! vectors per word by SGD. Levy and Goldberg (2014) showed what it converges toward: a
//! factorization of the shifted positive PMI matrix of the same co-occurrences. Here that
//! matrix is built directly and reduced by a truncated SVD, so the two can be compared.

use nalgebra::DMatrix;

use crate::core::rng::Rng;
use crate::core::tensor::matmul_into;
use crate::models::word_vectors::WordVectors;

/// A text as word ids: the `vocab` most frequent lowercase words are kept (ties go to the word
/// met first); every other word is dropped, as word2vec drops rare words.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub words: Vec<String>,
    /// How often each kept word occurs.
    pub counts: Vec<u64>,
    pub tokens: Vec<u32>,
    /// Running words before the rare ones were dropped.
    pub words_in_text: usize,
}

/// The lowercase words of a text: runs of letters, with apostrophes inside a word kept
/// ("o'er", "ne'er") and those at its ends dropped.
pub fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphabetic() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
}

impl Corpus {
    pub fn new(text: &str, vocab: usize) -> Result<Corpus, String> {
        let mut order: Vec<String> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut running = Vec::new();
        for word in words_of(text) {
            let id = *index.entry(word.clone()).or_insert_with(|| {
                order.push(word);
                counts.push(0);
                order.len() - 1
            });
            counts[id] += 1;
            running.push(id);
        }
        if order.len() < 2 || vocab < 2 {
            return Err("the text needs at least two different words".into());
        }
        let mut by_count: Vec<usize> = (0..order.len()).collect();
        by_count.sort_by_key(|&id| std::cmp::Reverse(counts[id])); // stable: first met wins ties
        by_count.truncate(vocab);
        let mut new_id = vec![u32::MAX; order.len()];
        for (rank, &id) in by_count.iter().enumerate() {
            new_id[id] = rank as u32;
        }
        Ok(Corpus {
            words: by_count.iter().map(|&id| order[id].clone()).collect(),
            counts: by_count.iter().map(|&id| counts[id]).collect(),
            tokens: running.iter().map(|&id| new_id[id]).filter(|&t| t != u32::MAX).collect(),
            words_in_text: running.len(),
        })
    }

    pub fn vocab(&self) -> usize {
        self.words.len()
    }

    pub fn id(&self, word: &str) -> Result<usize, String> {
        let word = word.trim().to_lowercase();
        self.words
            .iter()
            .position(|w| *w == word)
            .ok_or_else(|| format!("\u{201c}{word}\u{201d} is not among the {} words kept", self.vocab()))
    }
}

// ---------------------------------------------------------------------------------------------
// Skip-gram with negative sampling

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkipGramConfig {
    pub dim: usize,
    /// Context words on each side of the centre word.
    pub window: usize,
    /// Noise words drawn per true (centre, context) pair.
    pub negatives: usize,
    /// The starting learning rate; it falls linearly to 1/10,000 of itself over `passes`.
    pub learning_rate: f32,
    /// Passes over the text the schedule is planned for.
    pub passes: usize,
    /// Frequent words are dropped from each pass at random: a word making up a fraction f of
    /// the text is kept with probability min(1, √(t/f) + t/f), t being this threshold.
    pub subsample: f32,
    pub seed: u64,
}

impl Default for SkipGramConfig {
    fn default() -> Self {
        SkipGramConfig {
            dim: 50,
            window: 5,
            negatives: 5,
            learning_rate: 0.025,
            passes: 5,
            subsample: 1e-3,
            seed: 1,
        }
    }
}

/// A chunk of training, drawn by [`Sampler::draw`]: for each (centre, context) pair, the
/// centre word, its `slots` targets (the true context word first, then the noise words), and
/// the learning rate in force where the pair was read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    /// Targets per pair: 1 + the number of noise words.
    pub slots: usize,
    pub centres: Vec<u32>,
    /// `slots` word ids per pair; the first is the true context word (label 1), the rest
    /// noise words (label 0).
    pub targets: Vec<u32>,
    pub rates: Vec<f32>,
}

impl Samples {
    pub fn pairs(&self) -> usize {
        self.centres.len()
    }
}

/// Which pairs the model is shown, and in what order: the subsampled passes over the text, the
/// noise words and the learning-rate schedule, all from one seeded generator. It is kept apart
/// from the weights, because the pairs do not depend on them: the GPU trainer (crates/gpu)
/// trains on exactly the pairs this draws.
#[derive(Clone, Debug)]
pub struct Sampler {
    config: SkipGramConfig,
    /// Cumulative noise distribution: unigram counts raised to the 3/4 power.
    noise: Vec<f64>,
    /// Each word's chance of being kept in a pass.
    keep: Vec<f32>,
    rng: Rng,
    /// This pass's text, after subsampling.
    pass_tokens: Vec<u32>,
    /// The next position to read in this pass, and how many full passes have been made.
    pub position: usize,
    pub epochs: usize,
    pub pairs_seen: u64,
}

impl Sampler {
    fn new(corpus: &Corpus, config: SkipGramConfig, rng: Rng) -> Sampler {
        let mut total = 0.0;
        let noise = corpus
            .counts
            .iter()
            .map(|&c| {
                total += libm::pow(c as f64, 0.75);
                total
            })
            .collect::<Vec<f64>>()
            .into_iter()
            .map(|c| c / total)
            .collect();
        let total_count: u64 = corpus.counts.iter().sum();
        let keep = corpus
            .counts
            .iter()
            .map(|&c| {
                let ratio = config.subsample / (c as f32 / total_count as f32);
                (libm::sqrtf(ratio) + ratio).min(1.0)
            })
            .collect();
        let mut sampler = Sampler {
            config,
            noise,
            keep,
            rng,
            pass_tokens: Vec::new(),
            position: 0,
            epochs: 0,
            pairs_seen: 0,
        };
        sampler.start_pass(corpus);
        sampler
    }

    /// Draws which words this pass keeps.
    fn start_pass(&mut self, corpus: &Corpus) {
        let mut kept = Vec::with_capacity(corpus.tokens.len());
        for &t in &corpus.tokens {
            if self.rng.uniform() < self.keep[t as usize] {
                kept.push(t);
            }
        }
        self.pass_tokens = kept;
        self.position = 0;
    }

    /// Words in the current pass after subsampling.
    pub fn pass_len(&self) -> usize {
        self.pass_tokens.len()
    }

    /// The learning rate now: linear decay over the planned passes, never below 1/10,000 of the start.
    pub fn current_learning_rate(&self) -> f32 {
        let n = self.pass_tokens.len().max(1) as f32;
        let done = (self.epochs as f32 + self.position as f32 / n) / self.config.passes as f32;
        self.config.learning_rate * (1.0 - done).max(1e-4)
    }

    fn noise_word(&mut self) -> usize {
        let u = self.rng.uniform() as f64;
        self.noise.partition_point(|&c| c < u).min(self.noise.len() - 1)
    }

    /// Reads the next `positions` words of this pass, stopping early at its end (the next call
    /// starts a new pass), taking every context word within the window as a true pair with
    /// `negatives` noise words (never the context word itself).
    pub fn draw(&mut self, corpus: &Corpus, positions: usize) -> Samples {
        let n = self.pass_tokens.len();
        let (window, k) = (self.config.window, self.config.negatives);
        let mut samples = Samples { slots: k + 1, ..Samples::default() };
        let end = (self.position + positions).min(n);
        for i in self.position..end {
            let lr = self.current_learning_rate();
            let centre = self.pass_tokens[i];
            for j in i.saturating_sub(window)..(i + window + 1).min(n) {
                if j == i {
                    continue;
                }
                let context = self.pass_tokens[j];
                samples.centres.push(centre);
                samples.rates.push(lr);
                samples.targets.push(context);
                let mut drawn = 0;
                while drawn < k {
                    let noise = self.noise_word() as u32;
                    if noise != context {
                        samples.targets.push(noise);
                        drawn += 1;
                    }
                }
            }
            self.position = i + 1;
        }
        if self.position >= n {
            self.epochs += 1;
            self.start_pass(corpus);
        }
        self.pairs_seen += samples.pairs() as u64;
        samples
    }
}

/// The model: every word has a centre vector (the one kept as its embedding) and a context
/// vector. For a pair (c, o) and noise words n₁…n_k the loss is
/// −log σ(u_o·v_c) − Σᵢ log σ(−u_{nᵢ}·v_c).
#[derive(Clone, Debug)]
pub struct SkipGram {
    pub config: SkipGramConfig,
    vocab: usize,
    pub centre: Vec<f32>,
    pub context: Vec<f32>,
    /// The pairs to come.
    pub sampler: Sampler,
}

/// −log σ(x), computed without overflow for large |x|.
fn neg_log_sigmoid(x: f32) -> f32 {
    if x > 0.0 {
        libm::log1pf(libm::expf(-x))
    } else {
        -x + libm::log1pf(libm::expf(x))
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A summed loss per pair (0 for no pairs).
fn mean(loss: f64, pairs: usize) -> f32 {
    if pairs == 0 {
        0.0
    } else {
        (loss / pairs as f64) as f32
    }
}

/// The loss of one centre vector against its targets, each a context vector with its label
/// (1 for the true context word, 0 for a noise word).
pub fn pair_loss(centre: &[f32], targets: &[(&[f32], f32)]) -> f32 {
    targets
        .iter()
        .map(|&(u, label)| {
            let x = dot(u, centre);
            if label > 0.5 {
                neg_log_sigmoid(x)
            } else {
                neg_log_sigmoid(-x)
            }
        })
        .sum()
}

impl SkipGram {
    pub fn new(corpus: &Corpus, config: SkipGramConfig) -> Result<SkipGram, String> {
        if config.dim == 0 || config.window == 0 || config.negatives == 0 {
            return Err("dimension, window and negatives must each be at least 1".into());
        }
        if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
            return Err("the learning rate must be a positive number".into());
        }
        if config.passes == 0 || !(config.subsample > 0.0 && config.subsample.is_finite()) {
            return Err("plan at least one pass, with a positive subsampling threshold".into());
        }
        let (vocab, dim) = (corpus.vocab(), config.dim);
        let mut rng = Rng::new(config.seed);
        // word2vec's start: small random centre vectors, zero context vectors.
        let centre = (0..vocab * dim).map(|_| rng.uniform_in(-0.5, 0.5) / dim as f32).collect();
        let sampler = Sampler::new(corpus, config, rng);
        Ok(SkipGram { config, vocab, centre, context: vec![0.0; vocab * dim], sampler })
    }

    /// The number of words with vectors.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// One SGD step on a centre word and its targets (word ids with labels). The gradient of
    /// [`pair_loss`] is (σ(u·v) − label)·v for each target's u and Σ (σ(u·v) − label)·u for
    /// v; every target is updated first, with the centre's gradient collected on the side and
    /// applied last, so each update uses the values the loss was computed at. Returns the loss.
    pub fn sgd_step(&mut self, centre: usize, targets: &[(usize, f32)], lr: f32) -> f32 {
        let d = self.config.dim;
        let v = &mut self.centre[centre * d..(centre + 1) * d];
        let mut v_grad = vec![0.0f32; d];
        let mut loss = 0.0;
        for &(target, label) in targets {
            let u = &mut self.context[target * d..(target + 1) * d];
            let x = dot(u, v);
            loss += if label > 0.5 { neg_log_sigmoid(x) } else { neg_log_sigmoid(-x) };
            let g = sigmoid(x) - label;
            for k in 0..d {
                v_grad[k] += g * u[k];
                u[k] -= lr * g * v[k];
            }
        }
        for k in 0..d {
            v[k] -= lr * v_grad[k];
        }
        loss
    }

    /// Trains on `samples` one pair at a time, as word2vec does: each pair's step sees the
    /// updates of every pair before it. Returns the mean loss per pair.
    pub fn apply(&mut self, samples: &Samples) -> f32 {
        let mut loss = 0.0f64;
        let mut targets = Vec::with_capacity(samples.slots);
        for (p, chunk) in samples.targets.chunks(samples.slots).enumerate() {
            targets.clear();
            targets
                .extend(chunk.iter().enumerate().map(|(j, &t)| (t as usize, if j == 0 { 1.0 } else { 0.0 })));
            loss += self.sgd_step(samples.centres[p] as usize, &targets, samples.rates[p]) as f64;
        }
        mean(loss, samples.pairs())
    }

    /// Trains on `samples` in minibatches of `batch` pairs: every pair of a minibatch is scored
    /// at the same weights, and each row then moves once, by the sum of its pairs' gradients
    /// (each scaled by its pair's learning rate), added up in the order of the pairs. This is
    /// the formulation a GPU can run in parallel without racing on shared rows
    /// (`gpu::models::skip_gram`); with `batch` 1 it differs from [`SkipGram::apply`] only
    /// when a noise word repeats within a pair. Returns the mean loss per pair.
    pub fn apply_batched(&mut self, samples: &Samples, batch: usize) -> f32 {
        let (d, slots) = (self.config.dim, samples.slots);
        let mut centre_delta = vec![0.0f32; self.vocab * d];
        let mut context_delta = vec![0.0f32; self.vocab * d];
        let (mut touched_centres, mut touched_contexts) = (Vec::new(), Vec::new());
        let mut scaled = Vec::with_capacity(batch.min(samples.pairs()) * slots);
        let mut loss = 0.0f64;
        for first in (0..samples.pairs()).step_by(batch.max(1)) {
            let pairs = first..(first + batch.max(1)).min(samples.pairs());
            // Score every target at the minibatch's starting weights.
            scaled.clear();
            for p in pairs.clone() {
                let v = &self.centre[samples.centres[p] as usize * d..][..d];
                let mut pair = 0.0f32;
                for j in 0..slots {
                    let u = &self.context[samples.targets[p * slots + j] as usize * d..][..d];
                    let x = dot(u, v);
                    let label = if j == 0 { 1.0 } else { 0.0 };
                    pair += if j == 0 { neg_log_sigmoid(x) } else { neg_log_sigmoid(-x) };
                    scaled.push(samples.rates[p] * (sigmoid(x) - label));
                }
                loss += pair as f64;
            }
            // Sum each row's gradient, pair by pair.
            for (i, p) in pairs.clone().enumerate() {
                let c = samples.centres[p] as usize;
                for j in 0..slots {
                    let t = samples.targets[p * slots + j] as usize;
                    let g = scaled[i * slots + j];
                    for k in 0..d {
                        centre_delta[c * d + k] += g * self.context[t * d + k];
                        context_delta[t * d + k] += g * self.centre[c * d + k];
                    }
                    touched_contexts.push(t);
                }
                touched_centres.push(c);
            }
            // Then move each row once.
            for (rows, delta, params) in [
                (&mut touched_centres, &mut centre_delta, &mut self.centre),
                (&mut touched_contexts, &mut context_delta, &mut self.context),
            ] {
                for &row in rows.iter() {
                    for k in row * d..(row + 1) * d {
                        params[k] -= delta[k];
                        delta[k] = 0.0;
                    }
                }
                rows.clear();
            }
        }
        mean(loss, samples.pairs())
    }

    /// Draws the next `positions` words' pairs ([`Sampler::draw`]) and trains on them one at
    /// a time. Returns the mean loss per pair.
    pub fn train(&mut self, corpus: &Corpus, positions: usize) -> f32 {
        let samples = self.sampler.draw(corpus, positions);
        self.apply(&samples)
    }

    /// The same pairs as [`SkipGram::train`], trained in minibatches ([`SkipGram::apply_batched`]).
    pub fn train_batched(&mut self, corpus: &Corpus, positions: usize, batch: usize) -> f32 {
        let samples = self.sampler.draw(corpus, positions);
        self.apply_batched(&samples, batch)
    }

    /// The centre vectors, ready for nearest-neighbour queries.
    pub fn vectors(&self, corpus: &Corpus) -> Result<WordVectors, String> {
        let rows: Vec<Vec<f32>> = self.centre.chunks(self.config.dim).map(<[f32]>::to_vec).collect();
        WordVectors::from_rows(corpus.words.clone(), &rows)
    }
}

// ---------------------------------------------------------------------------------------------
// The same co-occurrences, counted and factorized

/// Symmetric co-occurrence counts within `window` words, as a dense vocab × vocab matrix.
pub fn cooccurrences(corpus: &Corpus, window: usize) -> Vec<f32> {
    let (v, n) = (corpus.vocab(), corpus.tokens.len());
    let mut counts = vec![0.0f32; v * v];
    for i in 0..n {
        for j in i + 1..(i + window + 1).min(n) {
            let (a, b) = (corpus.tokens[i] as usize, corpus.tokens[j] as usize);
            counts[a * v + b] += 1.0;
            counts[b * v + a] += 1.0;
        }
    }
    counts
}

/// Shifted positive PMI: max(PMI(w, c) − log k, 0), where PMI(w, c) = log P(w, c) / (P(w)·P(c))
/// and P(c) is smoothed by the power 3/4, the same smoothing as the noise distribution
/// (Levy, Goldberg and Dagan, 2015). With k noise words, SGNS's optimum puts u_c·v_w at
/// exactly PMI(w, c) − log k.
pub fn shifted_ppmi(counts: &[f32], vocab: usize, negatives: usize) -> Vec<f32> {
    let row: Vec<f64> = counts.chunks(vocab).map(|r| r.iter().map(|&c| c as f64).sum()).collect();
    let total: f64 = row.iter().sum();
    let smoothed: Vec<f64> = row.iter().map(|&c| libm::pow(c, 0.75)).collect();
    let smoothed_total: f64 = smoothed.iter().sum();
    let shift = libm::log(negatives as f64);
    let mut out = vec![0.0f32; vocab * vocab];
    for w in 0..vocab {
        for c in 0..vocab {
            let joint = counts[w * vocab + c] as f64;
            if joint > 0.0 {
                let pmi = libm::log(joint / total)
                    - libm::log(row[w] / total)
                    - libm::log(smoothed[c] / smoothed_total);
                out[w * vocab + c] = (pmi - shift).max(0.0) as f32;
            }
        }
    }
    out
}

/// The top `rank` singular values and left singular vectors of a square n × n matrix, by the
/// randomized range finder (Halko, Martinsson and Tropp, 2011): multiply by a few random
/// vectors, sharpen with one power iteration, orthonormalize, and take the exact SVD of the
/// small projected matrix. Returns (U as n × rank row-major, singular values).
pub fn truncated_svd(m: &[f32], n: usize, rank: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let width = (rank + 10).min(n);
    let mut rng = Rng::new(seed);
    let omega: Vec<f32> = (0..n * width).map(|_| rng.normal()).collect();
    let mut y = vec![0.0f32; n * width];
    matmul_into(m, &omega, &mut y, n, n, width);
    orthonormalize(&mut y, n, width);
    // One power iteration: Y = M (Mᵀ Y) sharpens the gap between large and small values.
    let mut z = vec![0.0f32; n * width];
    let m_t: Vec<f32> = (0..n * n).map(|i| m[(i % n) * n + i / n]).collect();
    matmul_into(&m_t, &y, &mut z, n, n, width);
    orthonormalize(&mut z, n, width);
    matmul_into(m, &z, &mut y, n, n, width);
    orthonormalize(&mut y, n, width);
    // B = Qᵀ M is width × n; its SVD B = Û S Vᵀ gives M ≈ (Q Û) S Vᵀ.
    let mut b = vec![0.0f32; width * n];
    let q_t: Vec<f32> = (0..width * n).map(|i| y[(i % n) * width + i / n]).collect();
    matmul_into(&q_t, m, &mut b, width, n, n);
    let svd = DMatrix::from_fn(width, n, |i, j| b[i * n + j] as f64).svd(true, false);
    let u_small = svd.u.expect("the SVD was asked for U");
    let rank = rank.min(width);
    let mut u = vec![0.0f32; n * rank];
    for i in 0..n {
        for r in 0..rank {
            u[i * rank + r] =
                (0..width).map(|k| y[i * width + k] as f64 * u_small[(k, r)]).sum::<f64>() as f32;
        }
    }
    (u, svd.singular_values.iter().take(rank).map(|&s| s as f32).collect())
}

/// Gram-Schmidt on the columns of a row-major n × width matrix, twice for stability. A column
/// that loses almost all of its length to the ones before it depends on them; it becomes zero
/// rather than rounding noise blown up to unit length.
fn orthonormalize(a: &mut [f32], n: usize, width: usize) {
    let length =
        |a: &[f32], c: usize| libm::sqrt((0..n).map(|i| (a[i * width + c] as f64).powi(2)).sum::<f64>());
    for _ in 0..2 {
        for c in 0..width {
            let before = length(a, c);
            for prev in 0..c {
                let proj: f64 = (0..n).map(|i| a[i * width + c] as f64 * a[i * width + prev] as f64).sum();
                for i in 0..n {
                    a[i * width + c] -= (proj * a[i * width + prev] as f64) as f32;
                }
            }
            let after = length(a, c);
            let scale = if after > 1e-4 * before && after > 0.0 { 1.0 / after } else { 0.0 };
            for i in 0..n {
                a[i * width + c] = (a[i * width + c] as f64 * scale) as f32;
            }
        }
    }
}

/// Word vectors from the shifted PPMI matrix: the rows of U·√S (Levy, Goldberg and Dagan's
/// symmetric split of the singular values between words and contexts). A `shift` of 1 is
/// plain PPMI, which SVD handles best; with the shift log k, a very frequent word can lose
/// every positive entry, and then it has no vector at all.
pub fn ppmi_vectors(corpus: &Corpus, window: usize, shift: usize, dim: usize) -> Result<WordVectors, String> {
    let v = corpus.vocab();
    let matrix = shifted_ppmi(&cooccurrences(corpus, window), v, shift.max(1));
    if let Some(empty) = matrix.chunks(v).position(|row| row.iter().all(|&x| x == 0.0)) {
        return Err(format!(
            "with the shift log {shift}, \u{201c}{}\u{201d} has no positive PMI with any word left, so its row is all zeros",
            corpus.words[empty]
        ));
    }
    let (u, s) = truncated_svd(&matrix, v, dim, 7);
    let rank = s.len();
    let rows: Vec<Vec<f32>> =
        (0..v).map(|i| (0..rank).map(|r| u[i * rank + r] * libm::sqrtf(s[r])).collect()).collect();
    WordVectors::from_rows(corpus.words.clone(), &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;
    use crate::core::tolerance::Tolerance;

    #[test]
    fn the_corpus_keeps_the_most_frequent_words() {
        let c = Corpus::new("The cat. THE dog; the cat o'er 'tis", 3).unwrap();
        assert_eq!(c.words, ["the", "cat", "dog"]);
        assert_eq!(c.counts, [3, 2, 1]);
        assert_eq!(c.tokens, [0, 1, 0, 2, 0, 1]);
        assert_eq!(c.words_in_text, 8);
        assert!(Corpus::new("word word", 10).is_err());
        assert!(c.id("horse").unwrap_err().contains("horse"));
    }

    #[test]
    fn the_sgd_step_follows_the_gradient_of_the_pair_loss() {
        let corpus = Corpus::new("a b c d e a b c d e", 5).unwrap();
        let config = SkipGramConfig { dim: 4, ..SkipGramConfig::default() };
        let mut model = SkipGram::new(&corpus, config).unwrap();
        let mut rng = Rng::new(3);
        model.context.iter_mut().for_each(|x| *x = rng.normal_with(0.0, 0.5));
        let targets = [(1usize, 1.0f32), (2, 0.0), (4, 0.0)];
        let loss_at = |centre: &[f32], context: &[f32]| {
            let t: Vec<(&[f32], f32)> =
                targets.iter().map(|&(w, l)| (&context[w * 4..w * 4 + 4], l)).collect();
            pair_loss(&centre[0..4], &t)
        };
        let (centre0, context0) = (model.centre.clone(), model.context.clone());
        let loss = model.sgd_step(0, &targets, 1e-3);
        assert_close!(loss, loss_at(&centre0, &context0), 1e-6);
        // (before − after) / lr is the gradient; compare with central differences.
        let h = 1e-2;
        for k in 0..4 {
            let (mut plus, mut minus) = (centre0.clone(), centre0.clone());
            plus[k] += h;
            minus[k] -= h;
            let numeric = (loss_at(&plus, &context0) - loss_at(&minus, &context0)) / (2.0 * h);
            assert_close!((centre0[k] - model.centre[k]) / 1e-3, numeric, Tolerance { abs: 1e-3, rel: 1e-2 });
        }
        for w in [1, 2, 4] {
            for k in 0..4 {
                let (mut plus, mut minus) = (context0.clone(), context0.clone());
                plus[w * 4 + k] += h;
                minus[w * 4 + k] -= h;
                let numeric = (loss_at(&centre0, &plus) - loss_at(&centre0, &minus)) / (2.0 * h);
                assert_close!(
                    (context0[w * 4 + k] - model.context[w * 4 + k]) / 1e-3,
                    numeric,
                    Tolerance { abs: 1e-3, rel: 1e-2 }
                );
            }
        }
    }

    #[test]
    fn the_pairs_drawn_do_not_depend_on_the_weights() {
        let corpus = Corpus::new("a b c d e f a b c d e f a c e b d f", 6).unwrap();
        // A threshold of 1 keeps every word of so short a text.
        let config =
            SkipGramConfig { dim: 4, window: 2, negatives: 3, subsample: 1.0, ..SkipGramConfig::default() };
        let mut model = SkipGram::new(&corpus, config).unwrap();
        let mut copy = model.sampler.clone();
        let samples = copy.draw(&corpus, 5);
        assert_eq!(samples.slots, 4);
        assert_eq!(samples.targets.len(), 4 * samples.pairs());
        // No noise word is the pair's own context word.
        for pair in samples.targets.chunks(4) {
            assert!(pair[1..].iter().all(|&n| n != pair[0]));
        }
        model.centre.iter_mut().for_each(|x| *x = 1.0);
        let trained_on = model.sampler.draw(&corpus, 5);
        assert_eq!(trained_on, samples);
        assert_eq!((model.sampler.position, model.sampler.pairs_seen), (copy.position, copy.pairs_seen));
    }

    #[test]
    fn a_minibatch_moves_each_row_by_the_sum_of_its_pairs_gradients() {
        let corpus = Corpus::new("a b c d e a b c d e", 5).unwrap();
        let config = SkipGramConfig { dim: 4, ..SkipGramConfig::default() };
        let mut model = SkipGram::new(&corpus, config).unwrap();
        let mut rng = Rng::new(5);
        model.context.iter_mut().for_each(|x| *x = rng.normal_with(0.0, 0.5));
        // Two pairs share the centre word 0 and the noise word 3; a third has centre 2.
        let samples = Samples {
            slots: 3,
            centres: vec![0, 0, 2],
            targets: vec![1, 3, 4, 2, 3, 1, 0, 3, 4],
            rates: vec![0.5, 0.25, 0.125],
        };
        // Each pair's step alone, from the same starting weights, gives its own change.
        let start = model.clone();
        let (mut centre, mut context) = (start.centre.clone(), start.context.clone());
        let mut losses = 0.0;
        for p in 0..3 {
            let mut alone = start.clone();
            let targets: Vec<(usize, f32)> = (0..3)
                .map(|j| (samples.targets[p * 3 + j] as usize, if j == 0 { 1.0 } else { 0.0 }))
                .collect();
            losses += alone.sgd_step(samples.centres[p] as usize, &targets, samples.rates[p]);
            for (sum, (before, after)) in centre.iter_mut().zip(start.centre.iter().zip(&alone.centre)) {
                *sum -= before - after;
            }
            for (sum, (before, after)) in context.iter_mut().zip(start.context.iter().zip(&alone.context)) {
                *sum -= before - after;
            }
        }
        let loss = model.apply_batched(&samples, 3);
        assert_close!(loss, losses / 3.0, 1e-6);
        assert_close!(model.centre, centre, 1e-6);
        assert_close!(model.context, context, 1e-6);
        // In minibatches of one, the pairs go one after another, as `apply` takes them.
        let (mut one, mut batched) = (start.clone(), start.clone());
        let pair_by_pair = one.apply(&samples);
        assert_close!(batched.apply_batched(&samples, 1), pair_by_pair, 1e-6);
        assert_close!(batched.centre, one.centre, 1e-6);
        assert_close!(batched.context, one.context, 1e-6);
    }

    #[test]
    fn shifted_ppmi_matches_a_hand_count() {
        // "a b a c": window 1 gives pairs (a,b), (b,a), (a,c) → counts a-b 2, a-c 1 (symmetric).
        let c = Corpus::new("a b a c", 3).unwrap();
        let counts = cooccurrences(&c, 1);
        assert_eq!(counts, [0.0, 2.0, 1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        let m = shifted_ppmi(&counts, 3, 1);
        // Row sums 3, 2, 1 of 6; smoothed context mass 3^.75 + 2^.75 + 1.
        let z = libm::pow(3.0, 0.75) + libm::pow(2.0, 0.75) + 1.0;
        let pmi_ab = libm::log((2.0 / 6.0) / ((3.0 / 6.0) * (libm::pow(2.0, 0.75) / z)));
        assert_close!(m[1], pmi_ab as f32, 1e-5);
        assert_eq!(m[0], 0.0);
        // A shift by log 5 lowers every positive entry by log 5 (and clips at zero).
        let shifted = shifted_ppmi(&counts, 3, 5);
        assert_close!(shifted[1], (pmi_ab - libm::log(5.0)).max(0.0) as f32, 1e-5);
    }

    #[test]
    fn the_truncated_svd_recovers_a_low_rank_matrix() {
        // M = 5·a aᵀ + 2·b bᵀ with orthonormal a, b in 40 dimensions.
        let n = 40;
        let a: Vec<f32> = (0..n).map(|i| (if i < 20 { 1.0 } else { 0.0 }) / libm::sqrtf(20.0)).collect();
        let b: Vec<f32> = (0..n).map(|i| (if i % 2 == 0 { 1.0 } else { -1.0 }) / libm::sqrtf(40.0)).collect();
        let m: Vec<f32> = (0..n * n).map(|i| 5.0 * a[i / n] * a[i % n] + 2.0 * b[i / n] * b[i % n]).collect();
        let (u, s) = truncated_svd(&m, n, 2, 1);
        assert_close!(s[0], 5.0, 1e-4);
        assert_close!(s[1], 2.0, 1e-4);
        let first: Vec<f32> = (0..n).map(|i| u[i * 2]).collect();
        assert_close!(dot(&first, &a).abs(), 1.0, 1e-4);
    }

    fn neighbours(v: &WordVectors, word: &str) -> Vec<String> {
        let id = v.id(word).unwrap();
        v.nearest(v.unit(id), 6, &[id]).iter().map(|n| v.word(n.id).to_string()).collect()
    }

    #[test]
    fn shakespeare_trained_three_ways_as_chapter_9_quotes() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/shakespeare/tragedies.txt"
        ))
        .unwrap();
        let corpus = Corpus::new(&text, 2000).unwrap();
        assert_eq!((corpus.tokens.len(), corpus.words_in_text), (135_904, 152_934));
        let config = SkipGramConfig::default();
        let mut model = SkipGram::new(&corpus, config).unwrap();
        let (mut first, mut last) = (Vec::new(), 0.0);
        while model.sampler.epochs < config.passes {
            last = model.train(&corpus, 1500);
            if first.len() < 5 {
                first.push(last);
            }
        }
        // Before any training every context vector is zero, so each of the 1 + k targets costs
        // log 2: the first chunk's loss is 6·log 2 = 4.159.
        assert_close!(first[0], 6.0 * core::f32::consts::LN_2, 1e-3);
        assert_close!(last, 2.654, 1e-3);
        assert_eq!(model.sampler.pairs_seen, 4_940_730);
        let sg = model.vectors(&corpus).unwrap();
        assert_eq!(neighbours(&sg, "thou"), ["hast", "art", "shalt", "thy", "wilt", "wouldst"]);
        assert_eq!(neighbours(&sg, "eyes")[..3], ["ears", "cheeks", "lips"]);
        assert_eq!(neighbours(&sg, "night")[..2], ["day", "time"]);
        assert!(neighbours(&sg, "father").contains(&"mother".to_string()));
        assert_eq!(neighbours(&sg, "king")[..4], ["burgundy", "france", "ophelia", "queen"]);
        let pp = ppmi_vectors(&corpus, config.window, 1, config.dim).unwrap();
        assert_eq!(neighbours(&pp, "thou"), ["art", "hast", "canst", "didst", "thee", "thy"]);
        assert_eq!(neighbours(&pp, "king")[..3], ["queen", "laertes", "hamlet"]);
        // The GPU's formulation, minibatches of 1,024 with summed gradients, on the same pairs.
        let mut batched = SkipGram::new(&corpus, config).unwrap();
        while batched.sampler.epochs < config.passes {
            last = batched.train_batched(&corpus, 1500, 1024);
        }
        assert_close!(last, 2.639, 1e-3);
        assert_eq!(batched.sampler.pairs_seen, 4_940_730);
        let sg = batched.vectors(&corpus).unwrap();
        assert_eq!(neighbours(&sg, "thou")[..3], ["hast", "art", "shalt"]);
        // Shifted by log 5, the commonest word keeps no positive entry at all.
        let shifted = ppmi_vectors(&corpus, config.window, 5, config.dim).unwrap_err();
        assert!(shifted.contains("\u{201c}the\u{201d} has no positive PMI"), "{shifted}");
    }
}
