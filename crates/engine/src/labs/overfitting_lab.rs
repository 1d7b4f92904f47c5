//! Chapter 7: overfitting, live.
//!
//! A small noisy data set, y = sin(2πx) + noise for x in [0, 1), is split into a training set
//! and a held-out validation set (every third point). A multilayer perceptron with one input
//! and one output is fitted to the training points by full-batch gradient descent on the mean
//! squared error, through the autograd tape. After every update both losses are measured with
//! dropout switched off, so the two curves can be compared step for step.
//!
//! With many hidden units and few points the network can pass through every training point,
//! noise included: the training loss keeps falling while the validation loss reaches a minimum
//! and climbs again. Three remedies can be switched on: weight decay (L2 added to the
//! gradient for SGD; with Adam either the same, "Adam + L2", or decoupled, "AdamW"), dropout
//! on every hidden layer, and early stopping, which remembers the step with the lowest
//! validation loss and, after `patience` steps without a new best, stops and restores it.
//!
//! Every random number comes from the seed: the data, the initial weights and the dropout
//! masks draw from three separate streams, so changing the noise level keeps the same x values
//! and the same weights, and a seed replays a run bit for bit.

use crate::core::autograd::{Graph, Var};
use crate::core::init::{he_normal, xavier_uniform};
use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::core::tensor::{Result, ShapeError, Tensor};
use crate::models::mlp::Activation;

/// The seed the chapter's widget starts from. With [`FitConfig::default`] its validation loss
/// bottoms out early and then rises for thousands of steps (a test pins this).
pub const DEFAULT_SEED: u64 = 7;

/// The function the data is sampled from: one period of a sine over [0, 1).
pub fn target(x: f32) -> f32 {
    libm::sinf(2.0 * std::f32::consts::PI * x)
}

/// How the weights are updated. Biases are never decayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitOptimizer {
    /// Gradient descent with L2 in the gradient, g + λw: for plain SGD this is exactly weight
    /// decay, w(1 − ηλ) − ηg.
    Sgd,
    /// Adam with λw added to the gradient before Adam's per-weight scaling.
    AdamL2,
    /// Adam with decoupled weight decay (AdamW): the shrink bypasses the scaling.
    AdamW,
}

/// Everything that defines a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitConfig {
    /// Data points in all; every third one is held out for validation (at least 3).
    pub points: usize,
    /// Standard deviation of the Gaussian noise added to each y.
    pub noise: f32,
    /// Units in each hidden layer.
    pub width: usize,
    /// Number of hidden layers.
    pub depth: usize,
    pub activation: Activation,
    pub optimizer: FitOptimizer,
    pub lr: f32,
    /// λ, the weight decay (0 switches it off).
    pub weight_decay: f32,
    /// Dropout probability p on every hidden layer during training, in [0, 1).
    pub dropout: f32,
    /// Early stopping: stop after this many steps without a new best validation loss.
    pub patience: Option<usize>,
    pub seed: u64,
}

impl Default for FitConfig {
    /// The chapter's setup: 20 points (14 to train on, 6 held out), noise 0.3, two tanh
    /// layers of 32 units, AdamW at 0.01 with no decay, no dropout, no early stopping.
    fn default() -> FitConfig {
        FitConfig {
            points: 20,
            noise: 0.3,
            width: 32,
            depth: 2,
            activation: Activation::Tanh,
            optimizer: FitOptimizer::AdamW,
            lr: 0.01,
            weight_decay: 0.0,
            dropout: 0.0,
            patience: None,
            seed: DEFAULT_SEED,
        }
    }
}

impl FitConfig {
    /// Says what is wrong with a configuration, in words, or `Ok` if it can be trained.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.points < 3 {
            return Err("at least 3 data points are needed, so that one is held out".into());
        }
        if self.width == 0 || self.depth == 0 {
            return Err("the network needs at least one hidden layer of at least one unit".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err("the learning rate must be a positive number".into());
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err("the noise level must be 0 or more".into());
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err("the weight decay must be 0 or more".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err("the dropout probability must be at least 0 and below 1".into());
        }
        Ok(())
    }
}

/// A data set of (x, y) pairs, split in two.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveData {
    pub train: Vec<(f32, f32)>,
    pub validation: Vec<(f32, f32)>,
}

/// `points` samples of y = sin(2πx) + noise·ε with x uniform in [0, 1) and ε standard normal;
/// every third point (the 3rd, 6th, ...) goes to the validation set. The x values and the ε
/// draws depend only on the seed, so a different noise level rescales the same draws.
pub fn make_data(points: usize, noise: f32, rng: &mut Rng) -> CurveData {
    let mut data = CurveData { train: vec![], validation: vec![] };
    for i in 0..points {
        let x = rng.uniform();
        let y = target(x) + noise * rng.normal();
        if i % 3 == 2 {
            data.validation.push((x, y));
        } else {
            data.train.push((x, y));
        }
    }
    data
}

/// One fully connected layer: outputs = inputs · `w` + `b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// `[fan_in, fan_out]`.
    pub w: Tensor,
    /// `[fan_out]`.
    pub b: Tensor,
}

/// The step with the lowest validation loss so far, and the weights it had.
#[derive(Clone, Debug, PartialEq)]
pub struct Best {
    pub step: usize,
    pub validation_loss: f32,
    pub layers: Vec<Layer>,
}

/// Why training has stopped, if it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Early stopping ran out of patience; the best weights were restored.
    EarlyStopping,
    /// A loss or a weight stopped being a finite number.
    Diverged,
}

/// A training run in progress.
#[derive(Clone, Debug)]
pub struct CurveFit {
    pub config: FitConfig,
    pub data: CurveData,
    pub layers: Vec<Layer>,
    /// Data gradients (before any decay) of the last update, per layer.
    pub last_grads: Vec<Layer>,
    /// Training and validation MSE after each update; entry 0 is before training.
    pub train_losses: Vec<f32>,
    pub validation_losses: Vec<f32>,
    pub best: Best,
    /// Steps since the validation loss last improved.
    pub since_best: usize,
    pub stopped: Option<Stopped>,
    /// Per weight and bias tensor, in the order w0, b0, w1, b1, ...
    optimizers: Vec<Optimizer>,
    dropout_rng: Rng,
}

impl CurveFit {
    /// Draws the data and the initial weights (Xavier for tanh and sigmoid, He for ReLU;
    /// biases at 0) from the seed and measures the untrained losses.
    pub fn new(config: FitConfig) -> std::result::Result<CurveFit, String> {
        config.check()?;
        let mut seeds = Rng::new(config.seed);
        let (mut data_rng, mut init_rng) = (Rng::new(seeds.next_u64()), Rng::new(seeds.next_u64()));
        let dropout_rng = Rng::new(seeds.next_u64());
        let data = make_data(config.points, config.noise, &mut data_rng);
        let mut sizes = vec![1];
        sizes.extend(std::iter::repeat_n(config.width, config.depth));
        sizes.push(1);
        let layers: Vec<Layer> = sizes
            .windows(2)
            .map(|pair| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let w = match config.activation {
                    Activation::Relu => he_normal(fan_in, fan_out, &mut init_rng),
                    _ => xavier_uniform(fan_in, fan_out, &mut init_rng),
                };
                Layer { w, b: Tensor::zeros(&[fan_out]) }
            })
            .collect();
        let (weights, biases) = decay_methods(&config);
        let optimizers = layers
            .iter()
            .flat_map(|l| [Optimizer::new(weights, l.w.len()), Optimizer::new(biases, l.b.len())])
            .collect();
        let mut fit = CurveFit {
            config,
            data,
            last_grads: vec![],
            train_losses: vec![],
            validation_losses: vec![],
            best: Best { step: 0, validation_loss: f32::INFINITY, layers: layers.clone() },
            layers,
            since_best: 0,
            stopped: None,
            optimizers,
            dropout_rng,
        };
        fit.evaluate().map_err(|e| e.to_string())?;
        Ok(fit)
    }

    /// Updates taken so far.
    pub fn steps(&self) -> usize {
        self.train_losses.len() - 1
    }

    // ANCHOR: step
    /// Records the network on `graph`: each hidden layer is x·W + b, the activation, then
    /// dropout (training only); the last layer is linear. Returns the `[n, 1]` predictions.
    fn forward(&mut self, graph: &mut Graph, x: Var, params: &[Var], training: bool) -> Result<Var> {
        let mut h = x;
        let last = params.len() / 2 - 1;
        for (i, wb) in params.chunks(2).enumerate() {
            let z = graph.matmul(h, wb[0])?;
            h = graph.add(z, wb[1])?;
            if i < last {
                h = match self.config.activation {
                    Activation::Tanh => graph.tanh(h),
                    Activation::Relu => graph.relu(h),
                    Activation::Sigmoid => graph.sigmoid(h),
                };
                h = graph.dropout(h, self.config.dropout, &mut self.dropout_rng, training);
            }
        }
        Ok(h)
    }

    /// One full-batch update on the training set, then both losses with dropout off. Does
    /// nothing once training has stopped.
    pub fn step(&mut self) -> Result<()> {
        if self.stopped.is_some() {
            return Ok(());
        }
        let mut graph = Graph::new();
        let params: Vec<Var> =
            self.layers.iter().flat_map(|l| [l.w.clone(), l.b.clone()]).map(|t| graph.param(t)).collect();
        let (x, y) = batch(&self.data.train)?;
        let x = graph.input(x);
        let prediction = self.forward(&mut graph, x, &params, true)?;
        let loss = mse(&mut graph, prediction, y)?;
        graph.backward(loss)?;

        let lambda = self.config.weight_decay;
        let mut grads = Vec::with_capacity(self.layers.len());
        for (k, layer) in self.layers.iter_mut().enumerate() {
            let zeros = |t: &Tensor| Tensor::zeros(&t.shape);
            let gw = graph.grad(params[2 * k]).cloned().unwrap_or_else(|| zeros(&layer.w));
            let gb = graph.grad(params[2 * k + 1]).cloned().unwrap_or_else(|| zeros(&layer.b));
            // SGD: L2 in the gradient, g + λw. (Adam + L2 and AdamW add λ themselves.)
            let gw_used = match self.config.optimizer {
                FitOptimizer::Sgd => gw.zip_with(&layer.w, "weight decay", |g, w| g + lambda * w)?,
                _ => gw.clone(),
            };
            let lr = self.config.lr;
            self.optimizers[2 * k].step(&mut layer.w.data, &gw_used.data, lr)?;
            self.optimizers[2 * k + 1].step(&mut layer.b.data, &gb.data, lr)?;
            grads.push(Layer { w: gw, b: gb });
        }
        self.last_grads = grads;
        self.evaluate()
    }

    /// Measures both losses, keeps the best step, and applies early stopping: after
    /// `patience` steps without a new best it stops and restores the best weights.
    fn evaluate(&mut self) -> Result<()> {
        let train = self.loss_on(&self.data.train.clone())?;
        let validation = self.loss_on(&self.data.validation.clone())?;
        self.train_losses.push(train);
        self.validation_losses.push(validation);
        let finite_weights =
            self.layers.iter().all(|l| l.w.data.iter().chain(&l.b.data).all(|v| v.is_finite()));
        if !(train.is_finite() && validation.is_finite() && finite_weights) {
            self.stopped = Some(Stopped::Diverged);
            return Ok(());
        }
        if validation < self.best.validation_loss {
            self.best = Best { step: self.steps(), validation_loss: validation, layers: self.layers.clone() };
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        if self.config.patience.is_some_and(|p| self.since_best >= p) {
            self.layers = self.best.layers.clone();
            self.stopped = Some(Stopped::EarlyStopping);
        }
        Ok(())
    }
    // ANCHOR_END: step

    /// Runs up to `steps` updates, fewer if training stops.
    pub fn train(&mut self, steps: usize) -> Result<()> {
        for _ in 0..steps {
            if self.stopped.is_some() {
                break;
            }
            self.step()?;
        }
        Ok(())
    }

    /// The mean squared error on `points`, with dropout off.
    pub fn loss_on(&mut self, points: &[(f32, f32)]) -> Result<f32> {
        let (x, y) = batch(points)?;
        let mut graph = Graph::new();
        let x = graph.input(x);
        let prediction = self.inference(&mut graph, x)?;
        let loss = mse(&mut graph, prediction, y)?;
        Ok(graph.value(loss).data[0])
    }

    /// The network's output at each x, with dropout off.
    pub fn predict(&mut self, xs: &[f32]) -> Result<Vec<f32>> {
        let mut graph = Graph::new();
        let x = graph.input(Tensor::from_vec(&[xs.len(), 1], xs.to_vec())?);
        let prediction = self.inference(&mut graph, x)?;
        Ok(graph.value(prediction).data.clone())
    }

    /// The fitted function at `samples` evenly spaced x from 0 to 1, as (x, y) pairs.
    pub fn fitted_curve(&mut self, samples: usize) -> Result<Vec<(f32, f32)>> {
        let xs: Vec<f32> = (0..samples).map(|i| i as f32 / (samples.max(2) - 1) as f32).collect();
        let ys = self.predict(&xs)?;
        Ok(xs.into_iter().zip(ys).collect())
    }

    fn inference(&mut self, graph: &mut Graph, x: Var) -> Result<Var> {
        let params: Vec<Var> =
            self.layers.iter().flat_map(|l| [l.w.clone(), l.b.clone()]).map(|t| graph.input(t)).collect();
        self.forward(graph, x, &params, false)
    }

    /// The length of all weights together (biases left out), √(Σ w²): what decay shrinks.
    pub fn weight_norm(&self) -> f32 {
        let sum: f64 = self.layers.iter().flat_map(|l| l.w.data.iter()).map(|&w| w as f64 * w as f64).sum();
        libm::sqrt(sum) as f32
    }

    /// Every weight (not bias), layer after layer, as one list.
    pub fn weights(&self) -> Vec<f32> {
        self.layers.iter().flat_map(|l| l.w.data.iter().copied()).collect()
    }
}

/// The optimizer methods for the weights and for the biases.
fn decay_methods(config: &FitConfig) -> (Method, Method) {
    match config.optimizer {
        FitOptimizer::Sgd => (Method::Sgd, Method::Sgd),
        FitOptimizer::AdamL2 => (Method::adam_l2(config.weight_decay), Method::adam()),
        FitOptimizer::AdamW => (Method::adamw(config.weight_decay), Method::adam()),
    }
}

/// The points as an `[n, 1]` input column and an `[n, 1]` target column.
fn batch(points: &[(f32, f32)]) -> Result<(Tensor, Tensor)> {
    if points.is_empty() {
        return Err(ShapeError::new("curve fit: there are no points to compute a loss on"));
    }
    let n = points.len();
    Ok((
        Tensor::from_vec(&[n, 1], points.iter().map(|p| p.0).collect())?,
        Tensor::from_vec(&[n, 1], points.iter().map(|p| p.1).collect())?,
    ))
}

/// Mean squared error, mean((prediction − y)²), on the tape.
fn mse(graph: &mut Graph, prediction: Var, y: Tensor) -> Result<Var> {
    let y = graph.input(y);
    let error = graph.sub(prediction, y)?;
    let squared = graph.mul(error, error)?;
    Ok(graph.mean(squared))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: FitConfig, steps: usize) -> CurveFit {
        let mut fit = CurveFit::new(config).unwrap();
        fit.train(steps).unwrap();
        fit
    }

    #[test]
    fn data_is_a_noisy_sine_split_one_in_three() {
        let data = make_data(30, 0.0, &mut Rng::new(1));
        assert_eq!((data.train.len(), data.validation.len()), (20, 10));
        for &(x, y) in data.train.iter().chain(&data.validation) {
            assert!((0.0..1.0).contains(&x));
            assert_eq!(y, target(x));
        }
        // The same draws with noise: same x, y moved by noise·ε.
        let noisy = make_data(30, 0.5, &mut Rng::new(1));
        assert_eq!(noisy.train[0].0, data.train[0].0);
        assert_ne!(noisy.train[0].1, data.train[0].1);
        assert!((target(0.25) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn bad_configurations_are_refused_in_words() {
        let bad = |c: FitConfig| CurveFit::new(c).unwrap_err();
        let d = FitConfig::default();
        assert!(bad(FitConfig { points: 2, ..d }).contains("3 data points"));
        assert!(bad(FitConfig { width: 0, ..d }).contains("hidden layer"));
        assert!(bad(FitConfig { dropout: 1.0, ..d }).contains("dropout"));
        assert!(bad(FitConfig { lr: f32::NAN, ..d }).contains("learning rate"));
    }

    #[test]
    fn the_mse_matches_a_hand_computation() {
        let mut fit = CurveFit::new(FitConfig::default()).unwrap();
        let points = fit.data.train.clone();
        let predictions = fit.predict(&points.iter().map(|p| p.0).collect::<Vec<_>>()).unwrap();
        let by_hand = points.iter().zip(&predictions).map(|(p, q)| (q - p.1) * (q - p.1)).sum::<f32>()
            / points.len() as f32;
        assert!((fit.train_losses[0] - by_hand).abs() < 1e-6);
    }

    /// The gradient the tape gives for the first weight agrees with a finite difference of
    /// the training loss.
    #[test]
    fn the_gradient_matches_finite_differences() {
        let config = FitConfig { optimizer: FitOptimizer::Sgd, lr: 1e-9, ..FitConfig::default() };
        let mut fit = CurveFit::new(config).unwrap();
        let start = fit.layers.clone();
        fit.step().unwrap();
        let analytic = fit.last_grads[1].w.data[3];
        let train = fit.data.train.clone();
        let loss_with = |delta: f32| {
            let mut probe = CurveFit::new(config).unwrap();
            probe.layers = start.clone();
            probe.layers[1].w.data[3] += delta;
            probe.loss_on(&train).unwrap() as f64
        };
        let h = 1e-2;
        let numeric = (loss_with(h) - loss_with(-h)) / (2.0 * h as f64);
        assert!((analytic as f64 - numeric).abs() < 1e-3, "{analytic} vs {numeric}");
    }

    /// The default seed overfits: the validation loss reaches its minimum early and ends far
    /// above it, while the training loss keeps falling.
    #[test]
    fn the_default_run_overfits() {
        let fit = run(FitConfig::default(), 3000);
        let best = fit.best.step;
        let v = &fit.validation_losses;
        let t = &fit.train_losses;
        // Pinned for the default seed: the best step is 155 (validation MSE 0.0386); by step
        // 3000 the validation MSE is 0.213, more than five times its minimum.
        assert_eq!(best, 155);
        assert!((fit.best.validation_loss - 0.0386).abs() < 1e-4, "{}", fit.best.validation_loss);
        assert!(
            v[3000] > 0.2 && v[3000] > 5.0 * fit.best.validation_loss,
            "{} vs {}",
            v[3000],
            fit.best.validation_loss
        );
        assert!(t[3000] < t[best] / 2.0, "training loss keeps falling: {} vs {}", t[3000], t[best]);
        assert_eq!(fit.stopped, None);
    }

    #[test]
    fn early_stopping_returns_the_best_step_and_its_weights() {
        let full = run(FitConfig::default(), 400);
        let patience = 200;
        let early = run(FitConfig { patience: Some(patience), ..FitConfig::default() }, 3000);
        assert_eq!(early.stopped, Some(Stopped::EarlyStopping));
        // Same run up to the stop, so the same best step and loss.
        assert_eq!(early.best.step, full.best.step);
        assert_eq!(early.steps(), early.best.step + patience);
        let min = full.validation_losses[..=early.steps()].iter().copied().fold(f32::INFINITY, f32::min);
        assert_eq!(early.best.validation_loss, min);
        // The restored weights give the best validation loss again.
        let mut restored = early.clone();
        let val = restored.data.validation.clone();
        assert_eq!(restored.loss_on(&val).unwrap(), early.best.validation_loss);
        assert_eq!(restored.layers, early.best.layers);
        // A stopped run does not move.
        let before = restored.steps();
        restored.train(10).unwrap();
        assert_eq!(restored.steps(), before);
    }

    #[test]
    fn weight_decay_shrinks_the_weights() {
        let small = FitConfig { width: 16, depth: 1, ..FitConfig::default() };
        for optimizer in [FitOptimizer::Sgd, FitOptimizer::AdamL2, FitOptimizer::AdamW] {
            let lr = if optimizer == FitOptimizer::Sgd { 0.1 } else { 0.01 };
            let plain = run(FitConfig { optimizer, lr, ..small }, 1000);
            let decayed = run(FitConfig { optimizer, lr, weight_decay: 0.1, ..small }, 1000);
            assert!(
                decayed.weight_norm() < 0.9 * plain.weight_norm(),
                "{optimizer:?}: {} vs {}",
                decayed.weight_norm(),
                plain.weight_norm()
            );
        }
    }

    #[test]
    fn same_seed_same_run_and_dropout_changes_it() {
        let config = FitConfig { dropout: 0.2, activation: Activation::Relu, ..FitConfig::default() };
        let a = run(config, 200);
        let b = run(config, 200);
        assert_eq!(a.train_losses, b.train_losses);
        assert_eq!(a.layers, b.layers);
        let other = run(FitConfig { seed: 8, ..config }, 200);
        assert_ne!(other.train_losses, a.train_losses);
        let no_dropout = run(FitConfig { dropout: 0.0, ..config }, 200);
        assert_ne!(no_dropout.layers, a.layers);
        assert!(a.validation_losses.iter().all(|l| l.is_finite()));
    }

    #[test]
    fn a_huge_learning_rate_diverges_without_panicking() {
        let config = FitConfig {
            optimizer: FitOptimizer::Sgd,
            lr: 100.0,
            activation: Activation::Relu,
            ..FitConfig::default()
        };
        let fit = run(config, 500);
        assert_eq!(fit.stopped, Some(Stopped::Diverged));
        assert!(fit.steps() < 500);
    }

    #[test]
    fn the_fitted_curve_spans_zero_to_one() {
        let mut fit = CurveFit::new(FitConfig::default()).unwrap();
        let curve = fit.fitted_curve(101).unwrap();
        assert_eq!(curve.len(), 101);
        assert_eq!((curve[0].0, curve[100].0), (0.0, 1.0));
        assert_eq!(fit.predict(&[0.5]).unwrap()[0], curve[50].1);
    }
}
