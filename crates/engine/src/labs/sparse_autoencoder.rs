//! Chapter 10: sparse autoencoders (SAEs), trained first on the hidden activations of the toy
//! model of superposition ([`crate::labs::superposition`]), where the true feature directions
//! are known, and then on the tiny GPT's residual stream.
//!
//! ```text
//! z = ReLU(W_enc (h − b_dec) + b_enc)        the code: one activation per latent
//! ĥ = W_dec z + b_dec                        the reconstruction
//! loss = mean over the batch of ‖h − ĥ‖² + λ Σ_i z_i
//! ```
//!
//! z ≥ 0, so Σ z_i is the L1 norm of the code. After every Adam step each decoder column
//! (latent i's direction d_i) is rescaled to unit length, the standard practice, so the
//! penalty cannot be dodged by shrinking z and growing the columns. The gradient is written
//! out by hand ([`Sae::gradient`], checked against finite differences in the tests).
//!
//! What is reported: the reconstruction MSE (mean squared error per coordinate), L0 (the
//! mean number of active latents per input) and the fraction of variance explained; after
//! training, dead latents (never active on an evaluation batch) and dense latents (active on
//! more than [`DENSE_FRACTION`] of it), and on the toy model each true feature's best cosine
//! with a decoder column.

use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::labs::superposition::{sample_batch, Config as ToyConfig, ToyModel};
use crate::models::transformer::Transformer;

/// How many steps each logged point averages.
pub const LOG_EVERY: usize = 25;
/// A latent active on more than this fraction of the evaluation inputs is dense.
pub const DENSE_FRACTION: f32 = 0.25;
/// The most latents the page accepts.
pub const MAX_LATENTS: usize = 1024;
/// The smallest and largest L1 coefficient λ the page accepts.
pub const L1_RANGE: (f32, f32) = (1e-4, 10.0);

/// One SAE's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SaeConfig {
    /// The width d of the activations.
    pub inputs: usize,
    /// The number of latents (dictionary directions).
    pub latents: usize,
    /// The L1 coefficient λ.
    pub l1: f32,
    /// Adam's learning rate.
    pub lr: f32,
    /// Inputs per step.
    pub batch: usize,
    /// Seeds the initial weights and every batch.
    pub seed: u64,
}

impl SaeConfig {
    /// Checks the settings, saying what is wrong in words the page can show.
    pub fn validate(&self) -> Result<(), String> {
        if self.inputs == 0 {
            return Err("The activations must have at least one dimension.".into());
        }
        if !(1..=MAX_LATENTS).contains(&self.latents) {
            return Err(format!("The number of latents must be from 1 to {MAX_LATENTS}."));
        }
        if !(self.l1 >= L1_RANGE.0 && self.l1 <= L1_RANGE.1) {
            return Err(format!("The L1 coefficient λ must be from {} to {}.", L1_RANGE.0, L1_RANGE.1));
        }
        if self.batch == 0 || !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err("The batch must be at least 1 and the learning rate above 0.".into());
        }
        Ok(())
    }
}

/// Reconstruction and sparsity on a set of inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Mean over inputs and coordinates of (h − ĥ)².
    pub mse: f32,
    /// Mean number of active latents (z_i > 0) per input.
    pub l0: f32,
    /// 1 − Σ‖h − ĥ‖² / Σ‖h − mean h‖².
    pub explained: f32,
    /// The training loss: mean of ‖h − ĥ‖² + λ Σ z_i.
    pub loss: f32,
}

/// The gradients of the loss, one per parameter block.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    pub enc: Vec<f32>,
    pub b_enc: Vec<f32>,
    pub dec: Vec<f32>,
    pub b_dec: Vec<f32>,
}

/// A sparse autoencoder in training.
#[derive(Clone, Debug)]
pub struct Sae {
    pub config: SaeConfig,
    /// W_enc, latents × inputs row-major.
    pub enc: Vec<f32>,
    pub b_enc: Vec<f32>,
    /// W_dec stored by column: row i (inputs long) is latent i's direction d_i.
    pub dec: Vec<f32>,
    pub b_dec: Vec<f32>,
    opt: [Optimizer; 4],
    steps: usize,
    pending: (Stats, usize),
    /// Training statistics averaged over each [`LOG_EVERY`] steps.
    pub history: Vec<Stats>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Rescales each `width`-long row of `rows` to unit length (rows of zeros stay zero).
fn normalise_rows(rows: &mut [f32], width: usize) {
    for row in rows.chunks_exact_mut(width) {
        let norm = libm::sqrtf(dot(row, row));
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
}

impl Sae {
    /// A fresh SAE: unit decoder directions drawn at random, the encoder their transpose
    /// (so each latent starts by reading along its own direction), biases 0.
    pub fn new(config: SaeConfig) -> Result<Sae, String> {
        config.validate()?;
        let (d, l) = (config.inputs, config.latents);
        let mut rng = Rng::new(config.seed);
        let mut dec: Vec<f32> = (0..l * d).map(|_| rng.normal()).collect();
        normalise_rows(&mut dec, d);
        Ok(Sae {
            config,
            enc: dec.clone(),
            b_enc: vec![0.0; l],
            dec,
            b_dec: vec![0.0; d],
            opt: [
                Optimizer::new(Method::adam(), l * d),
                Optimizer::new(Method::adam(), l),
                Optimizer::new(Method::adam(), l * d),
                Optimizer::new(Method::adam(), d),
            ],
            steps: 0,
            pending: (Stats::default(), 0),
            history: Vec::new(),
        })
    }

    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The code z of one input h.
    pub fn encode(&self, h: &[f32]) -> Vec<f32> {
        let d = self.config.inputs;
        let centred: Vec<f32> = h.iter().zip(&self.b_dec).map(|(x, b)| x - b).collect();
        self.enc.chunks_exact(d).zip(&self.b_enc).map(|(w, b)| (dot(w, &centred) + b).max(0.0)).collect()
    }

    /// The reconstruction ĥ of a code z.
    pub fn decode(&self, z: &[f32]) -> Vec<f32> {
        let d = self.config.inputs;
        let mut out = self.b_dec.clone();
        for (row, &zi) in self.dec.chunks_exact(d).zip(z) {
            if zi != 0.0 {
                out.iter_mut().zip(row).for_each(|(o, w)| *o += zi * w);
            }
        }
        out
    }

    // ANCHOR: gradient
    /// The statistics on a batch (row-major, `inputs` per row) and the loss's gradients.
    ///
    /// With e = ĥ − h: dL/dĥ = 2e/B; dL/dW_dec[:, i] = z_i dL/dĥ; dL/dz_i = d_i·dL/dĥ + λ/B;
    /// dL/da_i = dL/dz_i where a_i > 0 (else 0); `dL/dW_enc[i]` = dL/da_i (h − b_dec);
    /// dL/db_enc = dL/da; and b_dec enters twice: dL/db_dec = dL/dĥ − W_encᵀ dL/da.
    pub fn gradient(&self, batch: &[f32]) -> (Stats, Grads) {
        let (d, l, lambda) = (self.config.inputs, self.config.latents, self.config.l1);
        let rows = batch.len() / d;
        let scale = 1.0 / rows.max(1) as f32;
        let mut g =
            Grads { enc: vec![0.0; l * d], b_enc: vec![0.0; l], dec: vec![0.0; l * d], b_dec: vec![0.0; d] };
        let (mut err, mut l1, mut active) = (0.0f64, 0.0f64, 0usize);
        let mut mean = vec![0.0f64; d];
        for h in batch.chunks_exact(d) {
            mean.iter_mut().zip(h).for_each(|(m, &v)| *m += f64::from(v) * f64::from(scale));
        }
        let mut spread = 0.0f64;
        let mut centred = vec![0.0f32; d];
        let mut dh = vec![0.0f32; d];
        for h in batch.chunks_exact(d) {
            for j in 0..d {
                centred[j] = h[j] - self.b_dec[j];
                spread += (f64::from(h[j]) - mean[j]).powi(2);
            }
            let z: Vec<f32> = self
                .enc
                .chunks_exact(d)
                .zip(&self.b_enc)
                .map(|(w, b)| (dot(w, &centred) + b).max(0.0))
                .collect();
            let hat = self.decode(&z);
            for j in 0..d {
                let e = hat[j] - h[j];
                err += f64::from(e * e);
                dh[j] = 2.0 * scale * e;
                g.b_dec[j] += dh[j];
            }
            for i in 0..l {
                if z[i] <= 0.0 {
                    continue;
                }
                active += 1;
                l1 += f64::from(z[i]);
                let row = &self.dec[i * d..(i + 1) * d];
                let da = dot(row, &dh) + lambda * scale;
                for j in 0..d {
                    g.dec[i * d + j] += z[i] * dh[j];
                    g.enc[i * d + j] += da * centred[j];
                    g.b_dec[j] -= da * self.enc[i * d + j];
                }
                g.b_enc[i] += da;
            }
        }
        let n = rows.max(1) as f64;
        let stats = Stats {
            mse: (err / (n * d as f64)) as f32,
            l0: (active as f64 / n) as f32,
            explained: if spread > 0.0 { (1.0 - err / spread) as f32 } else { 0.0 },
            loss: ((err + f64::from(lambda) * l1) / n) as f32,
        };
        (stats, g)
    }
    // ANCHOR_END: gradient

    /// One Adam step on `batch`, then the decoder columns back to unit length. Stops with a
    /// message if a number stops being finite.
    pub fn step(&mut self, batch: &[f32]) -> Result<Stats, String> {
        let lr = self.config.lr;
        let (stats, g) = self.gradient(batch);
        if !stats.loss.is_finite() {
            return Err(format!("Diverged at step {}: the loss is no longer a finite number.", self.steps));
        }
        let [o_enc, o_benc, o_dec, o_bdec] = &mut self.opt;
        for (opt, (p, grad)) in [o_enc, o_benc, o_dec, o_bdec].into_iter().zip([
            (&mut self.enc, &g.enc),
            (&mut self.b_enc, &g.b_enc),
            (&mut self.dec, &g.dec),
            (&mut self.b_dec, &g.b_dec),
        ]) {
            opt.step(p, grad, lr).map_err(|e| e.to_string())?;
        }
        normalise_rows(&mut self.dec, self.config.inputs);
        if self.enc.iter().chain(&self.b_enc).chain(&self.dec).chain(&self.b_dec).any(|v| !v.is_finite()) {
            return Err(format!("Diverged at step {}: a weight is no longer a finite number.", self.steps));
        }
        self.steps += 1;
        let p = &mut self.pending;
        p.0.mse += stats.mse;
        p.0.l0 += stats.l0;
        p.0.explained += stats.explained;
        p.0.loss += stats.loss;
        p.1 += 1;
        if p.1 == LOG_EVERY {
            let k = LOG_EVERY as f32;
            let s = p.0;
            self.history.push(Stats {
                mse: s.mse / k,
                l0: s.l0 / k,
                explained: s.explained / k,
                loss: s.loss / k,
            });
            *p = (Stats::default(), 0);
        }
        Ok(stats)
    }

    /// Statistics on `data` and how many of its rows each latent is active on.
    pub fn evaluate(&self, data: &[f32]) -> (Stats, Vec<usize>) {
        let (stats, _) = self.gradient(data);
        let mut fires = vec![0usize; self.config.latents];
        for h in data.chunks_exact(self.config.inputs) {
            for (f, z) in fires.iter_mut().zip(self.encode(h)) {
                *f += usize::from(z > 0.0);
            }
        }
        (stats, fires)
    }

    /// Latent i's decoder direction.
    pub fn direction(&self, i: usize) -> &[f32] {
        &self.dec[i * self.config.inputs..(i + 1) * self.config.inputs]
    }
}

/// Dead latents (never active) and dense latents (active on more than [`DENSE_FRACTION`] of
/// `rows` inputs), from per-latent activation counts.
pub fn dead_and_dense(fires: &[usize], rows: usize) -> (usize, usize) {
    let dead = fires.iter().filter(|&&f| f == 0).count();
    let dense = fires.iter().filter(|&&f| f as f32 > DENSE_FRACTION * rows as f32).count();
    (dead, dense)
}

// ---------------------------------------------------------------------------------------
// Part 1: the toy model of superposition.

/// The toy model the SAE reads: 20 features into 10 dimensions, every feature equally
/// important and zero 95% of the time, trained 3,000 steps with seed 1.
pub fn toy_config() -> ToyConfig {
    ToyConfig { features: 20, hidden: 10, sparsity: 0.95, decay: 1.0, batch: 256, lr: 0.01, seed: 1 }
}
/// Steps the toy model trains before the SAE sees it.
pub const TOY_STEPS: usize = 3_000;
/// Inputs in the evaluation batch (drawn with its own seed, the same every time).
pub const TOY_EVAL: usize = 4_096;
const TOY_EVAL_SEED: u64 = 1_000_003;

/// The toy SAE's defaults: 40 latents (twice the true features) on the 10 hidden dimensions.
pub fn toy_sae_config(seed: u64) -> SaeConfig {
    SaeConfig { inputs: toy_config().hidden, latents: 40, l1: 0.1, lr: 0.003, batch: 256, seed }
}

/// h = W x for each row of `x` (n features per row) under the toy model's W (m × n).
fn hidden_of(toy: &ToyModel, x: &[f32]) -> Vec<f32> {
    let (n, m) = (toy.config.features, toy.config.hidden);
    x.chunks_exact(n).flat_map(|x| (0..m).map(move |k| dot(&toy.w[k * n..(k + 1) * n], x))).collect()
}

/// A trained toy model with its true feature directions.
#[derive(Clone, Debug)]
pub struct Toy {
    pub model: ToyModel,
    /// Feature i's direction W_i (m numbers).
    pub features: Vec<Vec<f32>>,
    /// ‖W_i‖.
    pub norms: Vec<f32>,
    /// The evaluation inputs h, row-major.
    pub eval: Vec<f32>,
}

impl Toy {
    /// Trains the toy model of [`toy_config`] for [`TOY_STEPS`] steps.
    pub fn train() -> Result<Toy, String> {
        let mut model = ToyModel::new(toy_config())?;
        model.train(TOY_STEPS)?;
        Ok(Toy::from_model(model))
    }

    /// The toy built on an already trained model (a page trains it in chunks).
    pub fn from_model(model: ToyModel) -> Toy {
        let report = model.report();
        let c = model.config;
        let x = sample_batch(&mut Rng::new(TOY_EVAL_SEED), c.features, TOY_EVAL, c.sparsity);
        let eval = hidden_of(&model, &x);
        Toy { features: report.columns, norms: report.norms, eval, model }
    }
}

/// What the page shows of a toy run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToyReport {
    pub steps: usize,
    pub history: Vec<Stats>,
    /// On the evaluation batch.
    pub eval: Stats,
    pub dead: usize,
    pub dense: usize,
    /// Per true feature: the best cosine between W_i and a decoder direction, and which latent.
    pub best: Vec<(f32, usize)>,
    /// ‖W_i‖ per true feature.
    pub norms: Vec<f32>,
}

impl ToyReport {
    /// How many true features have a decoder direction with cosine above `threshold`.
    pub fn recovered(&self, threshold: f32) -> usize {
        self.best.iter().filter(|b| b.0 > threshold).count()
    }
}

/// An SAE learning the toy model's hidden activations, fresh samples every step.
#[derive(Clone, Debug)]
pub struct ToySae {
    pub sae: Sae,
    rng: Rng,
}

impl ToySae {
    /// A fresh SAE on `toy`'s hidden space (its `inputs` must be the toy's m).
    pub fn new(toy: &Toy, config: SaeConfig) -> Result<ToySae, String> {
        if config.inputs != toy.model.config.hidden {
            return Err("The SAE's width must match the toy model's hidden dimensions.".into());
        }
        // The batches' stream is seeded apart from the weights'.
        Ok(ToySae { sae: Sae::new(config)?, rng: Rng::new(config.seed ^ 0x5AE0_5AE0) })
    }

    /// Trains `steps` more steps, each on a fresh batch h = W x.
    pub fn train(&mut self, toy: &Toy, steps: usize) -> Result<(), String> {
        let c = toy.model.config;
        for _ in 0..steps {
            let x = sample_batch(&mut self.rng, c.features, self.sae.config.batch, c.sparsity);
            self.sae.step(&hidden_of(&toy.model, &x))?;
        }
        Ok(())
    }

    pub fn report(&self, toy: &Toy) -> ToyReport {
        let (eval, fires) = self.sae.evaluate(&toy.eval);
        let (dead, dense) = dead_and_dense(&fires, TOY_EVAL);
        let best = toy
            .features
            .iter()
            .zip(&toy.norms)
            .map(|(w, &norm)| {
                (0..self.sae.config.latents).fold((f32::NEG_INFINITY, 0), |best, i| {
                    let cos = if norm > 0.0 { dot(w, self.sae.direction(i)) / norm } else { 0.0 };
                    if cos > best.0 {
                        (cos, i)
                    } else {
                        best
                    }
                })
            })
            .collect();
        ToyReport {
            steps: self.sae.steps(),
            history: self.sae.history.clone(),
            eval,
            dead,
            dense,
            best,
            norms: toy.norms.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Part 2: the tiny GPT's residual stream.

/// Characters of held-out text whose residual-stream vectors the SAE learns.
pub const GPT_POSITIONS: usize = 4_096;
/// Characters of context shown before an activating character.
pub const CONTEXT: usize = 20;
/// Contexts shown per latent.
pub const TOP: usize = 8;

/// The tiny-GPT SAE's defaults for a stream of width `d`: 4× overcomplete.
pub fn gpt_sae_config(d: usize, seed: u64) -> SaeConfig {
    SaeConfig { inputs: d, latents: 4 * d, l1: 1.0, lr: 0.003, batch: 128, seed }
}

/// One context in which a latent fires.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    pub position: usize,
    /// Up to [`CONTEXT`] characters before the activating one.
    pub before: String,
    /// The activating character.
    pub at: char,
    pub activation: f32,
}

/// An SAE learning the residual stream after one layer of a model, on held-out text.
#[derive(Clone, Debug)]
pub struct GptSae {
    pub sae: Sae,
    /// The stream's vectors, one row per character, scaled so that their mean squared norm
    /// is d (their mean norm near √d).
    pub vectors: Vec<f32>,
    /// The scale applied.
    pub scale: f32,
    /// The characters the vectors belong to.
    pub text: Vec<char>,
    rng: Rng,
}

impl GptSae {
    /// Reads stream `stream` (0: after the embeddings, s: after layer s) of `model` on the
    /// first [`GPT_POSITIONS`] characters of `text` (ids `ids`), and a fresh SAE with
    /// `config` (whose `inputs` must be the model's width).
    pub fn new(
        model: &Transformer,
        ids: &[usize],
        text: &[char],
        stream: usize,
        config: SaeConfig,
    ) -> Result<GptSae, String> {
        let d = model.config.d_model;
        if config.inputs != d {
            return Err(format!("The SAE's width must be the model's width, {d}."));
        }
        if stream > model.config.n_layers {
            return Err(format!(
                "The model has {} layers: pick a stream from 0 to {}.",
                model.config.n_layers, model.config.n_layers
            ));
        }
        let positions = GPT_POSITIONS.min(ids.len()).min(text.len());
        if positions < 2 * config.batch.min(64) {
            return Err("The text is too short to train on.".into());
        }
        let mut streams =
            crate::labs::probes::hidden_states(model, ids, positions).map_err(|e| format!("{e}."))?;
        let mut vectors = std::mem::take(&mut streams[stream]);
        let mean_sq = vectors.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / positions as f64;
        let scale = if mean_sq > 0.0 { (d as f64 / mean_sq).sqrt() as f32 } else { 1.0 };
        vectors.iter_mut().for_each(|v| *v *= scale);
        Ok(GptSae {
            sae: Sae::new(config)?,
            vectors,
            scale,
            text: text[..positions].to_vec(),
            rng: Rng::new(config.seed ^ 0x5AE0_5AE0),
        })
    }

    pub fn rows(&self) -> usize {
        self.text.len()
    }

    /// Trains `steps` more steps, each on a batch of rows drawn at random.
    pub fn train(&mut self, steps: usize) -> Result<(), String> {
        let (d, b, rows) = (self.sae.config.inputs, self.sae.config.batch, self.rows());
        for _ in 0..steps {
            let mut batch = Vec::with_capacity(b * d);
            for _ in 0..b {
                let r = self.rng.below(rows);
                batch.extend_from_slice(&self.vectors[r * d..(r + 1) * d]);
            }
            self.sae.step(&batch)?;
        }
        Ok(())
    }

    /// Statistics over every row, with each latent's activation count.
    pub fn evaluate(&self) -> (Stats, Vec<usize>) {
        self.sae.evaluate(&self.vectors)
    }

    /// The [`TOP`] rows where latent `latent` is most active (ties to the earlier position),
    /// only those where it is active at all.
    pub fn top_contexts(&self, latent: usize) -> Vec<Context> {
        let d = self.sae.config.inputs;
        if latent >= self.sae.config.latents {
            return Vec::new();
        }
        let w = &self.sae.enc[latent * d..(latent + 1) * d];
        let b = self.sae.b_enc[latent];
        let mut acts: Vec<(f32, usize)> = self
            .vectors
            .chunks_exact(d)
            .enumerate()
            .map(|(p, h)| {
                let a = h.iter().zip(w).zip(&self.sae.b_dec).map(|((x, w), c)| (x - c) * w).sum::<f32>() + b;
                (a.max(0.0), p)
            })
            .filter(|a| a.0 > 0.0)
            .collect();
        acts.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        acts.into_iter()
            .take(TOP)
            .map(|(activation, p)| Context {
                position: p,
                before: self.text[p.saturating_sub(CONTEXT)..p].iter().collect(),
                at: self.text[p],
                activation,
            })
            .collect()
    }
}

/// Latents the page suggests reading first.
pub const SUGGESTIONS: usize = 6;
/// The longest shared ending of the contexts a suggestion names.
const SHARED_SUFFIX: usize = 2;

/// A latent whose top contexts agree: the character most of them fire on, and what comes
/// right before it in all of those.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub latent: usize,
    /// The activating character most of its top contexts share.
    pub at: char,
    /// The characters (at most two) right before `at` in every context that has it; may be
    /// empty.
    pub after: String,
    /// How many of its top contexts fire on `at`, of how many.
    pub agree: usize,
    pub of: usize,
}

impl Suggestion {
    /// In words, e.g. "latent 37: fires on 'e' after 'th' (8 of 8 contexts)", spaces and line
    /// breaks shown as ␣ and ⏎.
    pub fn describe(&self) -> String {
        let show = |s: &str| s.chars().map(crate::models::vocab::visible).collect::<String>();
        let after =
            if self.after.is_empty() { String::new() } else { format!(" after '{}'", show(&self.after)) };
        format!(
            "latent {}: fires on '{}'{after} ({} of {} contexts)",
            self.latent,
            show(&self.at.to_string()),
            self.agree,
            self.of
        )
    }
}

/// The longest common ending, of at most `max` characters, of `texts`.
fn shared_suffix<'a>(mut texts: impl Iterator<Item = &'a str>, max: usize) -> String {
    let Some(first) = texts.next() else { return String::new() };
    let mut suffix: Vec<char> = first.chars().rev().take(max).collect();
    for t in texts {
        let common = suffix.iter().zip(t.chars().rev()).take_while(|(a, b)| *a == b).count();
        suffix.truncate(common);
    }
    suffix.into_iter().rev().collect()
}

impl GptSae {
    /// Up to `count` latents worth reading first. A latent qualifies when it fires on at
    /// least [`TOP`] rows and most of its top contexts fire on one character; latents are
    /// ranked by how many agree, then by a shared ending before that character, then by
    /// their strongest activation. Each character is suggested once (its best latent), so
    /// the list is varied rather than six latents for the space.
    pub fn suggestions(&self, count: usize) -> Vec<Suggestion> {
        let mut found: Vec<(Suggestion, f32)> = (0..self.sae.config.latents)
            .filter_map(|latent| {
                let top = self.top_contexts(latent);
                if top.len() < TOP {
                    return None;
                }
                // The most common activating character (the first to reach its count).
                let count_of = |c: char| top.iter().filter(|x| x.at == c).count();
                let at = top.iter().map(|x| x.at).fold(top[0].at, |best, c| {
                    if count_of(c) > count_of(best) {
                        c
                    } else {
                        best
                    }
                });
                let agree = count_of(at);
                if 2 * agree <= top.len() {
                    return None;
                }
                let after = shared_suffix(
                    top.iter().filter(|x| x.at == at).map(|x| x.before.as_str()),
                    SHARED_SUFFIX,
                );
                Some((Suggestion { latent, at, after, agree, of: top.len() }, top[0].activation))
            })
            .collect();
        found.sort_by(|(a, ta), (b, tb)| {
            b.agree
                .cmp(&a.agree)
                .then(b.after.chars().count().cmp(&a.after.chars().count()))
                .then(tb.total_cmp(ta))
                .then(a.latent.cmp(&b.latent))
        });
        let mut named = Vec::new();
        found
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| {
                let new = !named.contains(&s.at);
                named.push(s.at);
                new
            })
            .take(count)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn the_gradient_matches_finite_differences() {
        let config = SaeConfig { inputs: 4, latents: 6, l1: 0.2, lr: 0.01, batch: 16, seed: 3 };
        let mut sae = Sae::new(config).unwrap();
        let mut rng = Rng::new(9);
        sae.b_enc = (0..6).map(|_| rng.normal_with(0.0, 0.3)).collect();
        sae.b_dec = (0..4).map(|_| rng.normal_with(0.0, 0.3)).collect();
        sae.dec.iter_mut().for_each(|v| *v *= 1.3);
        let batch: Vec<f32> = (0..16 * 4).map(|_| rng.normal()).collect();
        let (_, g) = sae.gradient(&batch);
        let h = 1e-3f32;
        type Get = dyn Fn(&mut Sae) -> &mut Vec<f32>;
        let blocks: [(&str, &Get, &Vec<f32>); 4] = [
            ("enc", &|s: &mut Sae| &mut s.enc, &g.enc),
            ("b_enc", &|s: &mut Sae| &mut s.b_enc, &g.b_enc),
            ("dec", &|s: &mut Sae| &mut s.dec, &g.dec),
            ("b_dec", &|s: &mut Sae| &mut s.b_dec, &g.b_dec),
        ];
        for (name, get, analytic) in blocks {
            for p in 0..analytic.len() {
                let (mut plus, mut minus) = (sae.clone(), sae.clone());
                get(&mut plus)[p] += h;
                get(&mut minus)[p] -= h;
                let fd = (plus.gradient(&batch).0.loss - minus.gradient(&batch).0.loss) / (2.0 * h);
                assert_close!(analytic[p], fd, 3e-3, "dL/d{name}[{p}]");
            }
        }
    }

    #[test]
    fn a_step_keeps_decoder_directions_unit_length_and_stats_follow_their_definitions() {
        let config = SaeConfig { inputs: 2, latents: 3, l1: 0.1, lr: 0.01, batch: 2, seed: 1 };
        let mut sae = Sae::new(config).unwrap();
        // Exercise 10.4's dictionary: d₁ = (1, 0), d₂ = (0, 1), d₃ = (0.6, 0.8), no biases;
        // the encoder reads only d₃, with weight 0.9 / 0.9 (so x = (0.54, 0.72) gives z₃ = 0.9).
        sae.dec = vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8];
        sae.enc = vec![0.0, 0.0, 0.0, 0.0, 0.6, 0.8];
        let x = [0.54, 0.72, 0.0, 0.0];
        let (s, _) = sae.gradient(&x);
        // Row 1: z = (0, 0, 0.9), ĥ = x exactly. Row 2: z = 0, ĥ = 0 = x.
        assert_close!(s.mse, 0.0, 1e-6);
        assert_close!(s.l0, 0.5, 1e-6);
        // Loss: (0 + 0.1·0.9 + 0) / 2.
        assert_close!(s.loss, 0.045, 1e-6);
        assert_close!(s.explained, 1.0, 1e-6);
        sae.step(&x).unwrap();
        for i in 0..3 {
            assert_close!(dot(sae.direction(i), sae.direction(i)), 1.0, 1e-6);
        }
        assert_eq!(dead_and_dense(&[0, 3, 30, 26, 25], 100), (1, 2));
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        let ok = toy_sae_config(1);
        let bad = |c: SaeConfig| Sae::new(c).unwrap_err();
        assert!(bad(SaeConfig { latents: 0, ..ok }).contains("latents"));
        assert!(bad(SaeConfig { latents: 5000, ..ok }).contains("1 to 1024"));
        assert!(bad(SaeConfig { l1: 0.0, ..ok }).contains("λ"));
        assert!(bad(SaeConfig { l1: f32::NAN, ..ok }).contains("λ"));
        assert!(bad(SaeConfig { lr: -1.0, ..ok }).contains("learning rate"));
    }

    fn toy_run(l1: f32, latents: usize, seed: u64, steps: usize) -> ToyReport {
        let toy = Toy::train().unwrap();
        let mut run = ToySae::new(&toy, SaeConfig { l1, latents, ..toy_sae_config(seed) }).unwrap();
        run.train(&toy, steps).unwrap();
        run.report(&toy)
    }

    #[test]
    fn on_the_toy_model_the_sae_recovers_every_true_feature() {
        // λ = 0.1, 40 latents, seed 1, 2,000 steps of 256 inputs.
        let r = toy_run(0.1, 40, 1, 2000);
        assert_eq!(r.steps, 2000);
        assert_eq!(r.history.len(), 80);
        // The toy model kept all 20 features, each with ‖W_i‖ within 0.04 of 1.
        assert!(r.norms.iter().all(|&n| (n - 1.0).abs() < 0.04), "{:?}", r.norms);
        assert_close!(r.eval.mse, 0.000298, 5e-6);
        assert_close!(r.eval.l0, 1.2092, 5e-4);
        assert_close!(r.eval.explained, 0.99089, 5e-5);
        assert_eq!((r.dead, r.dense), (0, 0));
        // Every true feature has a decoder direction within cosine 0.97 of it; 19 within 0.99.
        assert_eq!(r.recovered(0.9), 20);
        assert_eq!(r.recovered(0.99), 19);
        assert_close!(r.best.iter().fold(1.0f32, |m, b| m.min(b.0)), 0.9732, 5e-4);
        // Another seed recovers all 20 within 0.99.
        let r2 = toy_run(0.1, 40, 2, 2000);
        assert_eq!(r2.recovered(0.99), 20);
        assert_close!(r2.eval.l0, 1.2205, 5e-4);
    }

    #[test]
    fn a_bigger_l1_coefficient_trades_reconstruction_for_sparsity() {
        // λ = 0.01, 0.1 (above) and 1: L0 falls, the MSE rises.
        let weak = toy_run(0.01, 40, 1, 2000);
        let strong = toy_run(1.0, 40, 1, 2000);
        assert_close!(weak.eval.l0, 6.7688, 5e-4);
        assert_close!(weak.eval.mse, 0.0000420, 5e-7);
        assert_close!(strong.eval.l0, 0.7461, 5e-4);
        assert_close!(strong.eval.mse, 0.018715, 5e-6);
        assert_close!(strong.eval.explained, 0.42844, 5e-5);
        assert!(strong.eval.l0 < 1.2092 && 1.2092 < weak.eval.l0);
        assert!(weak.eval.mse < 0.000298 && 0.000298 < strong.eval.mse);
        // Too weak: about 7 latents on per input (the inputs have 1 feature on, on average),
        // 2 dense, and only 7 features with a direction within cosine 0.9.
        assert_eq!((weak.dead, weak.dense, weak.recovered(0.9), weak.recovered(0.99)), (0, 2, 7, 0));
        // Too strong: fewer than one latent on per input; 18 features within 0.9, none within 0.99.
        assert_eq!((strong.dead, strong.dense, strong.recovered(0.9), strong.recovered(0.99)), (0, 0, 18, 0));
        // Weaker still, λ = 0.001: 25 of 40 latents dense and no direction within 0.9.
        let tiny = toy_run(0.001, 40, 1, 2000);
        assert_close!(tiny.eval.l0, 14.669, 5e-3);
        assert_eq!((tiny.dense, tiny.recovered(0.9)), (25, 0));
        assert_close!(tiny.best.iter().fold(0.0f32, |m, b| m.max(b.0)), 0.8417, 5e-4);
    }

    #[test]
    fn on_the_tiny_gpt_latents_fire_on_recognisable_characters() {
        use crate::labs::logit_lens::held_out_slice;
        use crate::models::transformer_inspect::tests::shipped;
        const TEXT: &str = include_str!("../../../../assets/shakespeare/tragedies.txt");
        let ckpt = shipped();
        let ids = held_out_slice(TEXT, &ckpt.vocab).unwrap();
        let text: Vec<char> = ckpt.vocab.decode(&ids).unwrap().chars().collect();
        // After layer 1, 256 latents, λ = 1, seed 1, 1,000 steps of 128 vectors.
        let mut run = GptSae::new(&ckpt.model, &ids, &text, 1, gpt_sae_config(64, 1)).unwrap();
        assert_eq!(run.rows(), 4096);
        assert_close!(run.scale, 1.5642, 5e-4);
        run.train(1000).unwrap();
        let (s, fires) = run.evaluate();
        assert_close!(s.mse, 0.10282, 5e-5);
        assert_close!(s.l0, 20.187, 5e-3);
        assert_close!(s.explained, 0.88730, 5e-5);
        assert_eq!(dead_and_dense(&fires, run.rows()), (0, 3));
        // Latent 0 fires on the ends of sentences, latent 9 on commas, latent 2 on the i after an h.
        let at = |k: usize| run.top_contexts(k).iter().map(|c| c.at).collect::<String>();
        assert_eq!(at(0), "?????!.?");
        assert_eq!(at(9), ",,,,,,,,");
        assert!(run.top_contexts(2).iter().all(|c| c.at == 'i' && c.before.ends_with('h')));
        // The suggested latents: each names one character most of its top contexts fire on,
        // here "to", "th", "tha", "of", a C after a blank line (a speaker's name) and "IUS".
        let suggested = run.suggestions(SUGGESTIONS);
        let words: Vec<String> = suggested.iter().map(Suggestion::describe).collect();
        assert_eq!(
            words,
            [
                "latent 238: fires on 'o' after '␣t' (8 of 8 contexts)",
                "latent 54: fires on 'h' after '␣t' (8 of 8 contexts)",
                "latent 246: fires on 'a' after 'th' (8 of 8 contexts)",
                "latent 208: fires on 'f' after '␣o' (8 of 8 contexts)",
                "latent 60: fires on 'C' after '⏎⏎' (8 of 8 contexts)",
                "latent 253: fires on 'S' after 'IU' (8 of 8 contexts)",
            ]
        );
        assert_eq!(suggested.len(), SUGGESTIONS);
        for s in &suggested {
            let top = run.top_contexts(s.latent);
            assert_eq!(top.iter().filter(|c| c.at == s.at && c.before.ends_with(&s.after)).count(), s.agree);
            assert!(2 * s.agree > s.of, "{}", s.describe());
        }
        assert!(suggested.windows(2).all(|w| w[0].agree >= w[1].agree));
        let top = &run.top_contexts(0)[0];
        assert_eq!((top.before.as_str(), top.at), ("s that the uttermost", '?'));
        assert_close!(top.activation, 8.2306, 5e-4);
        assert_eq!(fires[0], 385);
        // Bad choices are refused.
        assert!(GptSae::new(&ckpt.model, &ids, &text, 3, gpt_sae_config(64, 1))
            .unwrap_err()
            .contains("0 to 2"));
        assert!(GptSae::new(&ckpt.model, &ids, &text, 1, gpt_sae_config(32, 1)).unwrap_err().contains("64"));
        assert!(run.top_contexts(999).is_empty());
    }

    /// A small SAE set by hand on a made-up stream: latent 0 reads the 'a' direction, latent
    /// 1 the 'c' direction, latent 2 a direction no vector has (dead), latent 3 everything
    /// (its contexts disagree), latent 4 the 'a' direction again, more weakly.
    #[test]
    fn suggestions_rank_latents_whose_contexts_agree() {
        let text: Vec<char> = "ba ba ba ba ba ba ba xa qc qc qc qc qc qc qc qc qc zz".chars().collect();
        let d = 4;
        let vectors: Vec<f32> = text
            .iter()
            .enumerate()
            .flat_map(|(p, &c)| {
                // Later rows a little stronger, so the top contexts are the last ones.
                let m = 1.0 + p as f32 / 100.0;
                match c {
                    'a' => [m, 0.0, 0.0, 0.0],
                    'c' => [0.0, m, 0.0, 0.0],
                    _ => [0.0, 0.0, m, 0.0],
                }
            })
            .collect();
        let config = SaeConfig { inputs: d, latents: 5, l1: 1.0, lr: 0.01, batch: 8, seed: 1 };
        let mut sae = Sae::new(config).unwrap();
        sae.enc = vec![
            1.0, 0.0, 0.0, 0.0, //
            0.0, 1.0, 0.0, 0.0, //
            0.0, 0.0, 0.0, 1.0, //
            0.5, 0.5, 0.5, 0.0, //
            0.5, 0.0, 0.0, 0.0,
        ];
        sae.b_enc = vec![0.0; 5];
        sae.b_dec = vec![0.0; d];
        let run = GptSae { sae, vectors, scale: 1.0, text, rng: Rng::new(1) };
        let all = run.suggestions(10);
        let words: Vec<String> = all.iter().map(Suggestion::describe).collect();
        // Latent 1: the last 8 'c's, all after "␣q". Latent 0: the 8 'a's, 7 after 'b' and
        // one after 'x', so no shared ending. Latent 4 names 'a' again and is left out;
        // latent 3's top contexts (the last eight characters) split two each between four
        // characters, no majority; latent 2 never fires.
        assert_eq!(words[0], "latent 1: fires on 'c' after '␣q' (8 of 8 contexts)");
        assert_eq!(words[1], "latent 0: fires on 'a' (8 of 8 contexts)");
        assert_eq!(all.len(), 2, "{words:?}");
        assert_eq!(all.iter().filter(|s| s.at == 'a').count(), 1);
        assert_eq!(run.suggestions(1).len(), 1);
        assert!(all.iter().all(|s| 2 * s.agree > s.of));
    }
}
