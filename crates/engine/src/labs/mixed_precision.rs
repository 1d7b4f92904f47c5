//! Chapter 4's mixed-precision lab: one small network trained five ways side by side, in FP32,
//! in BF16, and in FP16 without loss scaling, with a static loss scale and with a dynamic one,
//! with or without FP32 master weights.
//!
//! The network is 1-H-H-1 with tanh hidden layers, fitting y = sin(πx) at evenly spaced points
//! of [−1, 1] with the mean squared error, full batch, by SGD with momentum. The 16-bit formats
//! are simulated with [`Format::round`] from `number_formats`, at the places a GPU stores a
//! value in them:
//!
//! - forward: the input, every weight and bias the pass reads, every layer's output before
//!   and after tanh; each dot product multiplies 16-bit values and adds them in FP32 (as
//!   tensor cores do), and only the result is rounded;
//! - the loss and its first gradient are computed in FP32, multiplied by the loss scale, and
//!   that gradient is rounded to the 16-bit format;
//! - backward: every activation gradient and every weight and bias gradient, each computed in
//!   FP32 from 16-bit inputs and then rounded;
//! - the update: the gradients are divided by the loss scale in FP32 and checked for infinity
//!   and NaN. With master weights the optimizer updates an FP32 copy and the 16-bit weights
//!   are that copy rounded; without, the 16-bit weight plus its FP32 update is rounded back to
//!   the 16-bit format, so an update smaller than half the gap between neighbouring 16-bit
//!   numbers is lost. The momentum buffer stays in FP32 either way.
//!
//! A large model's gradients are tiny: the loss is an average over millions of tokens, so each
//! token's share of it, and every activation gradient behind that share, is millions of times
//! smaller than the loss. A network of a thousand weights on 64 points has ordinary-sized
//! gradients, so the lab puts them where a large model's are: the loss is multiplied by
//! 2^−shrink and the learning rate by 2^shrink. Multiplying by a power of two is exact in
//! FP32, and SGD with momentum is linear in the gradient, so in FP32 the updates are exactly
//! those of the unshrunk run (a test checks this bit for bit); only the sizes of the
//! gradients in between change, and with them what a 16-bit format can hold.

use crate::core::init::xavier_limit;
use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::labs::number_formats::{Format, BF16, FP16};

/// The number format the forward and backward passes run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Bf16,
    Fp16,
}

impl Precision {
    /// The 16-bit format, or None for FP32 (nothing is rounded).
    pub fn format(self) -> Option<Format> {
        match self {
            Precision::Fp32 => None,
            Precision::Bf16 => Some(BF16),
            Precision::Fp16 => Some(FP16),
        }
    }
}

/// What multiplies the loss before the backward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scaling {
    /// Nothing: the scale is 1.
    None,
    /// A fixed scale 2^`static_scale_log2`. A step whose gradients overflow is skipped.
    Static,
    /// Starts at 2^`initial_scale_log2`; a step whose gradients overflow is skipped and the
    /// scale halved; after `growth_interval` clean steps in a row the scale doubles.
    Dynamic,
}

/// One way of training: the format, the loss scaling, and whether an FP32 master copy of the
/// weights receives the updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    pub precision: Precision,
    pub scaling: Scaling,
    pub master_weights: bool,
}

impl Setup {
    /// The name the page shows.
    pub fn name(&self) -> &'static str {
        match (self.precision, self.scaling) {
            (Precision::Fp32, _) => "FP32",
            (Precision::Bf16, _) => "BF16",
            (Precision::Fp16, Scaling::None) => "FP16, no loss scaling",
            (Precision::Fp16, Scaling::Static) => "FP16, static loss scale",
            (Precision::Fp16, Scaling::Dynamic) => "FP16, dynamic loss scale",
        }
    }

    /// The five setups the lab trains side by side, all with or all without master weights
    /// (FP32 has no separate master copy to keep: its weights are FP32 already).
    pub fn all(master_weights: bool) -> [Setup; 5] {
        let s = |precision, scaling| Setup { precision, scaling, master_weights };
        [
            s(Precision::Fp32, Scaling::None),
            s(Precision::Bf16, Scaling::None),
            s(Precision::Fp16, Scaling::None),
            s(Precision::Fp16, Scaling::Static),
            s(Precision::Fp16, Scaling::Dynamic),
        ]
    }
}

/// The experiment's settings, shared by every setup.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Seeds the initial weights (every setup starts from the same ones).
    pub seed: u64,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Training points.
    pub points: usize,
    /// The loss is multiplied by 2^−shrink and the learning rate by 2^shrink.
    pub shrink_log2: i32,
    /// The learning rate of the unshrunk run.
    pub lr: f32,
    /// Momentum's β.
    pub momentum: f32,
    /// The static loss scale, as a power of two.
    pub static_scale_log2: i32,
    /// The dynamic loss scale's starting value, as a power of two.
    pub initial_scale_log2: i32,
    /// Clean steps in a row before the dynamic scale doubles.
    pub growth_interval: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 0,
            hidden: 16,
            points: 64,
            shrink_log2: 20,
            lr: 0.1,
            momentum: 0.9,
            static_scale_log2: 16,
            initial_scale_log2: 32,
            growth_interval: 100,
        }
    }
}

impl Config {
    /// Checks every setting, naming the first one out of range.
    pub fn check(&self) -> Result<(), String> {
        let bad = |what: &str| Err(format!("{what} is out of range"));
        if !(1..=64).contains(&self.hidden) {
            return bad("hidden units (1 to 64)");
        }
        if !(2..=256).contains(&self.points) {
            return bad("training points (2 to 256)");
        }
        if !(0..=40).contains(&self.shrink_log2) {
            return bad("the loss shrink (2^0 to 2^−40)");
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return bad("the learning rate (above 0, at most 10)");
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return bad("momentum (0 to below 1)");
        }
        if !(0..=40).contains(&self.static_scale_log2) || !(0..=40).contains(&self.initial_scale_log2) {
            return bad("the loss scale (2^0 to 2^40)");
        }
        if !(1..=100_000).contains(&self.growth_interval) {
            return bad("the growth interval (1 to 100,000 steps)");
        }
        Ok(())
    }

    /// The training set: x evenly spaced over [−1, 1], y = sin(πx).
    pub fn data(&self) -> (Vec<f32>, Vec<f32>) {
        let n = self.points.max(2);
        let xs: Vec<f32> = (0..n).map(|i| -1.0 + 2.0 * i as f32 / (n - 1) as f32).collect();
        let ys = xs.iter().map(|&x| libm::sinf(core::f32::consts::PI * x)).collect();
        (xs, ys)
    }

    /// Number of parameters of the 1-H-H-1 network.
    pub fn parameter_count(&self) -> usize {
        let h = self.hidden;
        h + h + h * h + h + h + 1
    }

    /// The initial weights, Xavier-uniform, biases 0, in the order W1, b1, W2, b2, W3, b3.
    pub fn initial_weights(&self) -> Vec<f32> {
        let h = self.hidden;
        let mut rng = Rng::new(self.seed);
        let mut w = Vec::with_capacity(self.parameter_count());
        let mut matrix = |rows: usize, cols: usize, w: &mut Vec<f32>| {
            let limit = xavier_limit(rows, cols);
            w.extend((0..rows * cols).map(|_| rng.uniform_in(-limit, limit)));
            w.extend(std::iter::repeat_n(0.0, cols));
        };
        matrix(1, h, &mut w);
        matrix(h, h, &mut w);
        matrix(h, 1, &mut w);
        w
    }
}

/// Histogram bins: one per power of two, for |g| in [2^k, 2^(k+1)) with k from
/// [`HIST_MIN_LOG2`] to [`HIST_MAX_LOG2`] − 1; magnitudes outside go to the end bins.
pub const HIST_MIN_LOG2: i32 = -44;
pub const HIST_MAX_LOG2: i32 = 20;

/// The gradients of one backward pass, as computed in FP32 just before being stored in the
/// format (so already multiplied by the loss scale).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GradStats {
    /// Counts of nonzero magnitudes per power of two, from 2^HIST_MIN_LOG2 upwards.
    pub counts: Vec<u32>,
    /// Values that were exactly 0 before rounding.
    pub zeros: u32,
    /// Nonzero values that the format rounded to 0.
    pub flushed: u32,
    /// Values stored as subnormal numbers.
    pub subnormal: u32,
    /// Values that became infinity or NaN.
    pub overflowed: u32,
    /// Every gradient value stored.
    pub total: u32,
}

impl GradStats {
    fn new() -> GradStats {
        GradStats { counts: vec![0; (HIST_MAX_LOG2 - HIST_MIN_LOG2) as usize], ..GradStats::default() }
    }

    fn record(&mut self, exact: f32, stored: f32, format: Option<Format>) {
        self.total += 1;
        if exact == 0.0 {
            self.zeros += 1;
        } else if exact.is_finite() {
            let e = ((exact.abs().to_bits() >> 23) as i32 - 127).clamp(HIST_MIN_LOG2, HIST_MAX_LOG2 - 1);
            self.counts[(e - HIST_MIN_LOG2) as usize] += 1;
        }
        if !stored.is_finite() {
            self.overflowed += 1;
        } else if stored == 0.0 && exact != 0.0 {
            self.flushed += 1;
        } else if let Some(f) = format {
            if stored != 0.0 && (stored.abs() as f64) < f.smallest_normal() {
                self.subnormal += 1;
            }
        }
    }

    /// The share of nonzero gradient values that were flushed to zero.
    pub fn flushed_fraction(&self) -> f64 {
        let nonzero = self.total - self.zeros;
        if nonzero == 0 {
            0.0
        } else {
            self.flushed as f64 / nonzero as f64
        }
    }

    /// The share of nonzero gradient values stored as subnormals.
    pub fn subnormal_fraction(&self) -> f64 {
        let nonzero = self.total - self.zeros;
        if nonzero == 0 {
            0.0
        } else {
            self.subnormal as f64 / nonzero as f64
        }
    }

    /// The largest bin count (for the histogram's height).
    pub fn largest_count(&self) -> u32 {
        self.counts.iter().copied().max().unwrap_or(0)
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The loss or a weight stopped being a finite number.
    Diverged,
}

/// One setup's training run.
#[derive(Clone, Debug)]
pub struct Run {
    pub setup: Setup,
    config: Config,
    xs: Vec<f32>,
    ys: Vec<f32>,
    /// The weights the passes read: 16-bit values (held in f32) or FP32.
    weights: Vec<f32>,
    /// The FP32 master copy, when kept.
    master: Option<Vec<f32>>,
    optimizer: Optimizer,
    /// The current loss scale, as a power of two.
    scale_log2: i32,
    clean_steps: usize,
    /// The mean squared error (unshrunk, in FP32, of the network as stored) before each step.
    pub losses: Vec<f32>,
    /// The loss scale used at each step, as a power of two.
    pub scale_history: Vec<i32>,
    /// Steps skipped because a gradient overflowed.
    pub skipped: usize,
    /// The last backward pass's gradients.
    pub last: GradStats,
    /// Of the weights the last update tried to move, how many kept their 16-bit value.
    pub unchanged_last: usize,
    /// How many weights the last update tried to move.
    pub moved_last: usize,
    pub stopped: Option<Stopped>,
}

/// Rounds to the format, or leaves FP32 as it is.
fn store(x: f32, format: Option<Format>) -> f32 {
    match format {
        Some(f) => f.round(x as f64) as f32,
        None => x,
    }
}

/// The smallest update a 16-bit weight w keeps: half the gap above it. An update smaller
/// than this rounds back to w.
pub fn smallest_kept_update(format: Format, w: f64) -> f64 {
    format.gap_above(format.encode(w).bits).map_or(f64::NAN, |gap| gap / 2.0)
}

/// The 16-bit weight after one update without master weights: the FP32 sum, rounded back.
pub fn update_without_master(format: Format, w: f32, update: f32) -> f32 {
    format.round((w + update) as f64) as f32
}

impl Run {
    /// A run of one setup, from the config's initial weights.
    pub fn new(setup: Setup, config: Config) -> Result<Run, String> {
        config.check()?;
        let (xs, ys) = config.data();
        let format = setup.precision.format();
        let initial = config.initial_weights();
        let weights: Vec<f32> = initial.iter().map(|&w| store(w, format)).collect();
        let master = (setup.master_weights && format.is_some()).then_some(initial);
        let scale_log2 = match setup.scaling {
            Scaling::None => 0,
            Scaling::Static => config.static_scale_log2,
            Scaling::Dynamic => config.initial_scale_log2,
        };
        let len = weights.len();
        Ok(Run {
            setup,
            config,
            xs,
            ys,
            weights,
            master,
            optimizer: Optimizer::new(Method::Momentum { beta: config.momentum }, len),
            scale_log2,
            clean_steps: 0,
            losses: Vec::new(),
            scale_history: Vec::new(),
            skipped: 0,
            last: GradStats::new(),
            unchanged_last: 0,
            moved_last: 0,
            stopped: None,
        })
    }

    /// Steps taken (including skipped ones).
    pub fn steps(&self) -> usize {
        self.losses.len()
    }

    /// The weights as the passes read them.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The current loss scale, as a power of two.
    pub fn scale_log2(&self) -> i32 {
        self.scale_log2
    }

    /// Trains `steps` more steps, stopping early if the run diverges.
    pub fn train(&mut self, steps: usize) {
        for _ in 0..steps {
            if self.stopped.is_some() {
                return;
            }
            self.step();
        }
    }

    /// The mean squared error of the network as stored, computed in the run's format.
    pub fn loss(&self) -> f32 {
        let (out, _, _) = self.forward();
        mse(&out, &self.ys)
    }

    /// The forward pass: returns the outputs and both hidden layers' activations, every value
    /// stored in the format.
    fn forward(&self) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let f = self.setup.precision.format();
        let h = self.config.hidden;
        let w = &self.weights;
        let (w1, b1, w2, b2, w3, b3) = split(w, h);
        let n = self.xs.len();
        let mut h1 = vec![0.0f32; n * h];
        let mut h2 = vec![0.0f32; n * h];
        let mut out = vec![0.0f32; n];
        for i in 0..n {
            let x = store(self.xs[i], f);
            for j in 0..h {
                let z = store(x * w1[j] + b1[j], f);
                h1[i * h + j] = store(libm::tanhf(z), f);
            }
            for j in 0..h {
                let mut z = b2[j];
                for k in 0..h {
                    z += h1[i * h + k] * w2[k * h + j];
                }
                h2[i * h + j] = store(libm::tanhf(store(z, f)), f);
            }
            let mut z = b3[0];
            for k in 0..h {
                z += h2[i * h + k] * w3[k];
            }
            out[i] = store(z, f);
        }
        (out, h1, h2)
    }

    /// The forward pass, the loss, and the backward pass at the current loss scale: returns
    /// the loss, every weight's gradient as stored in the format (still multiplied by the
    /// scale, in the order of the weights), and what storing the gradients did.
    pub fn backward(&self) -> (f32, Vec<f32>, GradStats) {
        let f = self.setup.precision.format();
        let h = self.config.hidden;
        let n = self.xs.len();
        let (out, h1, h2) = self.forward();
        let loss = mse(&out, &self.ys);
        let mut stats = GradStats::new();
        let keep = |exact: f32, stats: &mut GradStats| {
            let stored = store(exact, f);
            stats.record(exact, stored, f);
            stored
        };
        // dL/dout for L = 2^−shrink · mean((out − y)²), times the loss scale: exact powers of
        // two, applied in FP32.
        let factor = pow2(self.scale_log2 - self.config.shrink_log2) * 2.0 / n as f32;
        let d_out: Vec<f32> = (0..n).map(|i| keep((out[i] - self.ys[i]) * factor, &mut stats)).collect();

        let mut grads = vec![0.0f32; self.weights.len()];
        let (gw1, rest) = grads.split_at_mut(h);
        let (gb1, rest) = rest.split_at_mut(h);
        let (gw2, rest) = rest.split_at_mut(h * h);
        let (gb2, rest) = rest.split_at_mut(h);
        let (gw3, gb3) = rest.split_at_mut(h);
        let (_, _, w2, _, w3, _) = split(&self.weights, h);

        // Output layer: W3 and b3 gradients, and the gradient reaching h2.
        for k in 0..h {
            gw3[k] = keep((0..n).map(|i| h2[i * h + k] * d_out[i]).sum(), &mut stats);
        }
        gb3[0] = keep(d_out.iter().sum(), &mut stats);
        let mut d_z2 = vec![0.0f32; n * h];
        for i in 0..n {
            for k in 0..h {
                let d_h2 = keep(d_out[i] * w3[k], &mut stats);
                let a = h2[i * h + k];
                d_z2[i * h + k] = keep(d_h2 * (1.0 - a * a), &mut stats);
            }
        }
        // Second layer.
        for k in 0..h {
            for j in 0..h {
                gw2[k * h + j] = keep((0..n).map(|i| h1[i * h + k] * d_z2[i * h + j]).sum(), &mut stats);
            }
        }
        for j in 0..h {
            gb2[j] = keep((0..n).map(|i| d_z2[i * h + j]).sum(), &mut stats);
        }
        let mut d_z1 = vec![0.0f32; n * h];
        for i in 0..n {
            for k in 0..h {
                let d_h1 = keep((0..h).map(|j| d_z2[i * h + j] * w2[k * h + j]).sum(), &mut stats);
                let a = h1[i * h + k];
                d_z1[i * h + k] = keep(d_h1 * (1.0 - a * a), &mut stats);
            }
        }
        // First layer (its input gradient is not needed).
        let x: Vec<f32> = self.xs.iter().map(|&x| store(x, f)).collect();
        for j in 0..h {
            gw1[j] = keep((0..n).map(|i| x[i] * d_z1[i * h + j]).sum(), &mut stats);
            gb1[j] = keep((0..n).map(|i| d_z1[i * h + j]).sum(), &mut stats);
        }
        (loss, grads, stats)
    }

    /// One step: forward, loss, scaled backward, overflow check, update, scale bookkeeping.
    pub fn step(&mut self) {
        let f = self.setup.precision.format();
        let (loss, mut grads, stats) = self.backward();
        self.losses.push(loss);
        self.scale_history.push(self.scale_log2);
        if !loss.is_finite() {
            self.stopped = Some(Stopped::Diverged);
            return;
        }
        self.last = stats;

        // Unscale in FP32 (a power of two: exact) and check for overflow.
        let unscale = pow2(-self.scale_log2);
        grads.iter_mut().for_each(|g| *g *= unscale);
        let overflow = grads.iter().any(|g| !g.is_finite());
        if overflow && self.setup.scaling != Scaling::None {
            self.skipped += 1;
            self.clean_steps = 0;
            if self.setup.scaling == Scaling::Dynamic {
                self.scale_log2 -= 1;
            }
            self.moved_last = 0;
            self.unchanged_last = 0;
            return;
        }
        let lr = self.config.lr * pow2(self.config.shrink_log2);
        match (&mut self.master, f) {
            (Some(master), Some(format)) => {
                // The master copy takes the update; the 16-bit weights are its rounding.
                let _ = self.optimizer.step(master, &grads, lr);
                let mut moved = 0;
                let mut unchanged = 0;
                for (w, &m) in self.weights.iter_mut().zip(master.iter()) {
                    let new = format.round(m as f64) as f32;
                    moved += 1;
                    if new == *w {
                        unchanged += 1;
                    }
                    *w = new;
                }
                self.moved_last = moved;
                self.unchanged_last = unchanged;
            }
            (_, Some(format)) => {
                // No master copy: the 16-bit weight plus its FP32 update, rounded back.
                let mut next = self.weights.clone();
                let _ = self.optimizer.step(&mut next, &grads, lr);
                let mut moved = 0;
                let mut unchanged = 0;
                for (w, &target) in self.weights.iter_mut().zip(next.iter()) {
                    let update = target - *w;
                    let new = update_without_master(format, *w, update);
                    if update != 0.0 {
                        moved += 1;
                        if new == *w {
                            unchanged += 1;
                        }
                    }
                    *w = new;
                }
                self.moved_last = moved;
                self.unchanged_last = unchanged;
            }
            (_, None) => {
                let _ = self.optimizer.step(&mut self.weights, &grads, lr);
                self.moved_last = self.weights.len();
                self.unchanged_last = 0;
            }
        }
        if self.weights.iter().any(|w| !w.is_finite()) {
            self.stopped = Some(Stopped::Diverged);
        }
        if self.setup.scaling == Scaling::Dynamic {
            self.clean_steps += 1;
            if self.clean_steps >= self.config.growth_interval {
                self.clean_steps = 0;
                self.scale_log2 = (self.scale_log2 + 1).min(100);
            }
        }
    }

    /// Of the weights the last update tried to move, the share that kept their stored value.
    pub fn unchanged_fraction(&self) -> f64 {
        if self.moved_last == 0 {
            0.0
        } else {
            self.unchanged_last as f64 / self.moved_last as f64
        }
    }
}

/// How many steps the page's run lasts.
pub const STEPS: usize = 1500;

/// The five setups trained side by side from the same initial weights.
#[derive(Clone, Debug)]
pub struct Lab {
    pub config: Config,
    pub runs: Vec<Run>,
}

impl Lab {
    /// Starts every setup, with or without master weights.
    pub fn new(config: Config, master_weights: bool) -> Result<Lab, String> {
        let runs = Setup::all(master_weights)
            .into_iter()
            .map(|s| Run::new(s, config))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Lab { config, runs })
    }

    /// Trains every run `steps` more steps.
    pub fn train(&mut self, steps: usize) {
        self.runs.iter_mut().for_each(|r| r.train(steps));
    }

    /// Steps taken so far (the longest run's count).
    pub fn steps(&self) -> usize {
        self.runs.iter().map(Run::steps).max().unwrap_or(0)
    }
}

/// The six parameter tensors, W1, b1, W2, b2, W3, b3, as slices of the flat list.
type Layers<'a> = (&'a [f32], &'a [f32], &'a [f32], &'a [f32], &'a [f32], &'a [f32]);

fn split(w: &[f32], h: usize) -> Layers<'_> {
    let (w1, rest) = w.split_at(h);
    let (b1, rest) = rest.split_at(h);
    let (w2, rest) = rest.split_at(h * h);
    let (b2, rest) = rest.split_at(h);
    let (w3, b3) = rest.split_at(h);
    (w1, b1, w2, b2, w3, b3)
}

fn mse(out: &[f32], ys: &[f32]) -> f32 {
    out.iter().zip(ys).map(|(o, y)| (o - y) * (o - y)).sum::<f32>() / ys.len().max(1) as f32
}

/// 2^k as an f32, for k within f32's range (clamped to it otherwise).
fn pow2(k: i32) -> f32 {
    let k = k.clamp(-126, 127);
    f32::from_bits(((k + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;
    use crate::core::tolerance::Tolerance;

    fn lab(master_weights: bool) -> Lab {
        let mut lab = Lab::new(Config::default(), master_weights).expect("the default config is valid");
        lab.train(STEPS);
        lab
    }

    fn last(run: &Run) -> f32 {
        *run.losses.last().expect("the run took steps")
    }

    #[test]
    fn the_backward_pass_matches_finite_differences() {
        // FP32, nothing shrunk: the gradient of the mean squared error itself.
        let config = Config { shrink_log2: 0, hidden: 4, points: 8, ..Config::default() };
        let setup = Setup { precision: Precision::Fp32, scaling: Scaling::None, master_weights: true };
        let run = Run::new(setup, config).expect("valid");
        let (_, grads, _) = run.backward();
        for i in 0..run.weights.len() {
            let eps = 1e-2f32;
            let mut up = run.clone();
            up.weights[i] += eps;
            let mut down = run.clone();
            down.weights[i] -= eps;
            let numeric = (up.loss() - down.loss()) / (2.0 * eps);
            assert_close!(grads[i], numeric, Tolerance { abs: 2e-4, rel: 2e-2 }, "weight {i}");
        }
    }

    #[test]
    fn shrinking_the_loss_changes_nothing_in_fp32() {
        let steps = |shrink_log2| {
            let config = Config { shrink_log2, ..Config::default() };
            let setup = Setup { precision: Precision::Fp32, scaling: Scaling::None, master_weights: true };
            let mut run = Run::new(setup, config).expect("valid");
            run.train(300);
            (run.losses, run.weights)
        };
        // Bit for bit: powers of two scale exactly, and momentum SGD is linear.
        assert_eq!(steps(0), steps(20));
    }

    #[test]
    fn fp32_trains_and_bf16_trains_as_well() {
        let lab = lab(true);
        let (fp32, bf16) = (&lab.runs[0], &lab.runs[1]);
        assert_close!(fp32.losses[0], 0.2661, 1e-4);
        assert_close!(last(fp32), 0.003484, 1e-5);
        assert_close!(bf16.losses[0], 0.2665, 1e-4);
        assert_close!(last(bf16), 0.003467, 1e-5);
        // Within 1% of FP32 after 1,500 steps.
        assert_close!(last(bf16), last(fp32), Tolerance::relative(0.01));
        assert_eq!(bf16.last.flushed, 0);
    }

    #[test]
    fn fp16_without_loss_scaling_flushes_every_gradient_and_never_moves() {
        for master_weights in [true, false] {
            let lab = lab(master_weights);
            let fp16 = &lab.runs[2];
            assert_eq!(fp16.setup.name(), "FP16, no loss scaling");
            // Every nonzero gradient, from the very first, becomes 0.
            assert_close!(fp16.last.flushed_fraction(), 1.0, 0.0);
            assert!(fp16.losses.iter().all(|&l| l == fp16.losses[0]), "the loss never changes");
            assert_close!(last(fp16), 0.2660, 1e-4);
        }
        // At the first step the largest gradient is below 2^-25, half the smallest FP16
        // subnormal 2^-24, so it rounds to 0.
        let config = Config::default();
        let run = Run::new(Setup::all(true)[2], config).expect("valid");
        let (_, grads, stats) = run.backward();
        assert!(grads.iter().all(|&g| g == 0.0));
        let top = stats.counts.iter().rposition(|&c| c > 0).expect("some gradients") as i32 + HIST_MIN_LOG2;
        assert!(top < -25, "largest gradient in [2^{top}, 2^{})", top + 1);
    }

    #[test]
    fn loss_scaling_recovers_fp16() {
        let lab = lab(true);
        let (fp32, stat, dynamic) = (&lab.runs[0], &lab.runs[3], &lab.runs[4]);
        assert_close!(last(stat), 0.003492, 1e-5);
        assert_close!(last(dynamic), 0.003499, 1e-5);
        for run in [stat, dynamic] {
            assert_close!(last(run), last(fp32), Tolerance::relative(0.01), "{}", run.setup.name());
            assert_eq!(run.last.flushed, 0);
        }
        assert_eq!(stat.skipped, 0);
    }

    #[test]
    fn the_dynamic_scale_doubles_after_clean_steps_and_halves_on_overflow() {
        let lab = lab(true);
        let run = &lab.runs[4];
        let h = &run.scale_history;
        // 2^32 for the first 100 steps, then one doubling per 100 clean steps.
        assert_eq!((h[0], h[99], h[100], h[1000]), (32, 32, 33, 42));
        // The first overflow comes at 2^43, at step 1,101: the step is skipped, the scale halved.
        let halvings: Vec<usize> =
            h.windows(2).enumerate().filter(|(_, w)| w[1] < w[0]).map(|(i, _)| i + 1).collect();
        assert_eq!(halvings, vec![1101, 1202, 1303, 1404]);
        assert_eq!((h[1100], h[1101]), (43, 42));
        assert_eq!(run.skipped, 4);
    }

    #[test]
    fn without_master_weights_small_updates_are_lost() {
        // The chapter's example: 0.001 added to a BF16 weight of 1.0 rounds back to 1.0.
        assert_eq!(update_without_master(BF16, 1.0, 0.001), 1.0);
        assert_close!(smallest_kept_update(BF16, 1.0), 0.00390625, 0.0);
        // FP16 keeps it, to the nearest 2^-10.
        assert_eq!(update_without_master(FP16, 1.0, 0.001), 1.0 + 1.0 / 1024.0);
        let (with, without) = (lab(true), lab(false));
        assert_close!(last(&without.runs[1]), 0.013434, 1e-5);
        assert_close!(last(&without.runs[3]), 0.006427, 1e-5);
        // BF16 ends almost four times higher without master weights; FP16 (scaled) nearly twice.
        assert!(last(&without.runs[1]) > 3.5 * last(&with.runs[1]));
        assert!(last(&without.runs[3]) > 1.8 * last(&with.runs[3]));
        // Most BF16 weights keep their value at a late step without a master copy.
        assert!(without.runs[1].unchanged_fraction() > 0.9);
        // FP32 has no separate master copy: the two labs' FP32 runs are the same.
        assert_eq!(with.runs[0].losses, without.runs[0].losses);
    }

    #[test]
    fn without_the_shrink_fp16_trains_and_too_large_a_scale_overflows() {
        assert_eq!(Config::default().parameter_count(), 321);
        // k = 0: ordinary-sized gradients, which FP16 holds without any scaling.
        let config = Config { shrink_log2: 0, ..Config::default() };
        let mut plain = Run::new(Setup::all(true)[2], config).expect("valid");
        plain.train(STEPS);
        assert!(last(&plain) < 0.005, "FP16 at k = 0 ends at {}", last(&plain));
        // A static scale of 2^40 on top of 2^-20 pushes gradients past 65,504: every step
        // overflows and is skipped.
        let config = Config { static_scale_log2: 40, ..Config::default() };
        let mut big = Run::new(Setup::all(true)[3], config).expect("valid");
        big.train(20);
        assert!(big.last.overflowed > 0);
        assert_eq!(big.skipped, 20);
    }

    #[test]
    fn bad_settings_are_refused_not_run() {
        let bad = [
            Config { hidden: 0, ..Config::default() },
            Config { points: 1, ..Config::default() },
            Config { lr: f32::NAN, ..Config::default() },
            Config { momentum: 1.0, ..Config::default() },
            Config { shrink_log2: -1, ..Config::default() },
            Config { initial_scale_log2: 41, ..Config::default() },
            Config { growth_interval: 0, ..Config::default() },
        ];
        for config in bad {
            assert!(Lab::new(config, true).is_err(), "{config:?}");
        }
        // A learning rate that diverges stops the runs instead of producing NaN weights.
        let mut lab = Lab::new(Config { lr: 10.0, ..Config::default() }, true).expect("valid");
        lab.train(200);
        assert!(lab.runs[0].stopped.is_some());
    }
}
