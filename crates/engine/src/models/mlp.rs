//! Chapter 3: a small multilayer perceptron learns XOR.
//!
//! The network is 2-H-1: two inputs, one hidden layer of H units with a selectable
//! activation, and one sigmoid output trained with binary cross-entropy. It trains on all
//! four XOR points at once (full batch), through the autograd tape and the shared optimizers.
//! [`Mlp::step`] does one update and returns the loss, so a page can run a few steps per
//! animation frame; [`Mlp::predict_many`] evaluates a grid for the decision surface.
//!
//! Not every seed succeeds. With ReLU and only 4 hidden units, a unit whose pre-activation is
//! negative on all four points outputs 0 and gets zero gradient, so it never recovers (a
//! "dead ReLU"). If too many units start dead, or die early, the rest cannot carve out XOR and
//! training stalls (often at ln(2)/2 ≈ 0.347, with two of the points predicted at 0.5).
//! Chapter 3 discusses this: about 35% of seeds get stuck with 4 hidden units. With this
//! engine's generator, 62 of the seeds 0 to 199 (31%) do; seed 2 is the first.

use crate::core::autograd::{sigmoid, Graph, Var};
use crate::core::init::{he_normal, xavier_uniform};
use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::core::tensor::{Result, Tensor};

/// The four XOR inputs.
pub const XOR_INPUTS: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// XOR of each input: 1 when exactly one coordinate is 1.
pub const XOR_TARGETS: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

/// A seed for which the book's setup ([`XorConfig::default`]) learns XOR: after 10,000 steps
/// every prediction is within 0.1 of its target.
pub const DEFAULT_SEED: u64 = 0;

/// The hidden layer's activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Tanh,
    Sigmoid,
}

/// How the weights start (biases always start at 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Normal with standard deviation √(2 / fan_in): for ReLU.
    He,
    /// Uniform on ±√(6 / (fan_in + fan_out)): for tanh and sigmoid.
    Xavier,
}

/// Everything that defines a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct XorConfig {
    pub hidden: usize,
    pub activation: Activation,
    pub init: Init,
    pub method: Method,
    pub lr: f32,
    pub seed: u64,
}

impl Default for XorConfig {
    /// The book's setup: 2-4-1, ReLU, He initialization, plain SGD with learning rate 0.5.
    fn default() -> XorConfig {
        XorConfig {
            hidden: 4,
            activation: Activation::Relu,
            init: Init::He,
            method: Method::Sgd,
            lr: 0.5,
            seed: DEFAULT_SEED,
        }
    }
}

/// The network's parameters and optimizer state.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub config: XorConfig,
    /// Input-to-hidden weights, `[2, hidden]`.
    pub w1: Tensor,
    /// Hidden biases, `[hidden]`.
    pub b1: Tensor,
    /// Hidden-to-output weights, `[hidden, 1]`.
    pub w2: Tensor,
    /// Output bias, `[1]`.
    pub b2: Tensor,
    /// One optimizer per parameter tensor, in the order w1, b1, w2, b2.
    optimizers: Vec<Optimizer>,
    /// Updates taken so far.
    pub steps: u32,
}

impl Mlp {
    /// A freshly initialized network, seeded from `config.seed`.
    pub fn new(config: XorConfig) -> Mlp {
        let mut rng = Rng::new(config.seed);
        let h = config.hidden;
        let (w1, w2) = match config.init {
            Init::He => (he_normal(2, h, &mut rng), he_normal(h, 1, &mut rng)),
            Init::Xavier => (xavier_uniform(2, h, &mut rng), xavier_uniform(h, 1, &mut rng)),
        };
        let (b1, b2) = (Tensor::zeros(&[h]), Tensor::zeros(&[1]));
        let optimizers =
            [&w1, &b1, &w2, &b2].iter().map(|p| Optimizer::new(config.method, p.len())).collect();
        Mlp { config, w1, b1, w2, b2, optimizers, steps: 0 }
    }

    // ANCHOR: step
    /// Records the forward pass on `graph` for a batch `x` of shape `[n, 2]`; returns the
    /// output logits, `[n, 1]`. `p` holds w1, b1, w2, b2 in that order.
    fn forward(&self, graph: &mut Graph, x: Var, p: [Var; 4]) -> Result<Var> {
        let z1 = graph.matmul(x, p[0])?; // [n, hidden]
        let z1 = graph.add(z1, p[1])?; // the bias row is added to every example
        let a1 = match self.config.activation {
            Activation::Relu => graph.relu(z1),
            Activation::Tanh => graph.tanh(z1),
            Activation::Sigmoid => graph.sigmoid(z1),
        };
        let z2 = graph.matmul(a1, p[2])?; // [n, 1]
        graph.add(z2, p[3])
    }

    /// One full-batch training step on the four XOR points. Returns the loss before the
    /// update.
    pub fn step(&mut self) -> f32 {
        self.step_on(&XOR_INPUTS, &XOR_TARGETS).expect("the XOR data fit the network")
    }

    /// One full-batch training step on any labelled 2-D points, `targets` holding one 0 or 1
    /// per point (chapter 8 trains on two moons). Returns the loss before the update, or an
    /// error if there are not as many targets as points.
    pub fn step_on(&mut self, points: &[[f32; 2]], targets: &[f32]) -> Result<f32> {
        // A fresh tape each step: parameters in, loss out, gradients back.
        let mut graph = Graph::new();
        let p = [&self.w1, &self.b1, &self.w2, &self.b2].map(|t| graph.param(t.clone()));
        let x = graph.input(Tensor::from_vec(&[points.len(), 2], points.concat())?);
        let logits = self.forward(&mut graph, x, p)?;
        let targets = Tensor::from_vec(&[targets.len(), 1], targets.to_vec())?;
        // Sigmoid output and binary cross-entropy, fused in the stable form.
        let loss = graph.bce_with_logits(logits, &targets)?;
        graph.backward(loss)?;
        let lr = self.config.lr;
        let params = [&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2];
        for ((param, var), optimizer) in params.into_iter().zip(p).zip(&mut self.optimizers) {
            let zeros = Tensor::zeros(&param.shape);
            let grad = graph.grad(var).unwrap_or(&zeros);
            optimizer.step(&mut param.data, &grad.data, lr)?;
        }
        self.steps += 1;
        Ok(graph.value(loss).data[0])
    }
    // ANCHOR_END: step

    /// Runs `steps` training steps; returns the loss before each.
    pub fn train(&mut self, steps: usize) -> Vec<f32> {
        (0..steps).map(|_| self.step()).collect()
    }

    /// For each hidden unit, whether it is dead on the XOR data: its pre-activation
    /// w1·x + b1 is at most 0 on all four points. A dead ReLU outputs 0 and receives zero
    /// gradient everywhere, so plain gradient descent can never revive it.
    pub fn dead_hidden_units(&self) -> Vec<bool> {
        let h = self.config.hidden;
        (0..h)
            .map(|j| {
                let z = |x: [f32; 2]| x[0] * self.w1.data[j] + x[1] * self.w1.data[h + j] + self.b1.data[j];
                XOR_INPUTS.iter().all(|&x| z(x) <= 0.0)
            })
            .collect()
    }

    /// The predicted probability that XOR(x) = 1.
    pub fn predict(&self, x: [f32; 2]) -> f32 {
        self.predict_many(&[x])[0]
    }

    /// Predictions for many points at once, e.g. a grid for the decision surface.
    pub fn predict_many(&self, points: &[[f32; 2]]) -> Vec<f32> {
        let logits = self.logits(points).expect("the XOR network's shapes are fixed when it is built");
        logits.data.iter().map(|&z| sigmoid(z)).collect()
    }

    fn logits(&self, points: &[[f32; 2]]) -> Result<Tensor> {
        let mut graph = Graph::new();
        let p = [&self.w1, &self.b1, &self.w2, &self.b2].map(|t| graph.input(t.clone()));
        let x = graph.input(Tensor::from_vec(&[points.len(), 2], points.concat())?);
        let logits = self.forward(&mut graph, x, p)?;
        Ok(graph.value(logits).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The book's run: 2-4-1, ReLU, He, SGD at lr 0.5, 10,000 epochs, the default seed.
    #[test]
    fn the_default_seed_learns_xor() {
        let mut net = Mlp::new(XorConfig::default());
        let losses = net.train(10_000);
        let predictions = net.predict_many(&XOR_INPUTS);
        for (p, y) in predictions.iter().zip(XOR_TARGETS) {
            assert!((p - y).abs() < 0.1, "predictions {predictions:?}");
        }
        assert!(losses[9_999] < losses[0]);
        assert_eq!(net.steps, 10_000);
    }

    /// Seed 2 is one of the unlucky ones: hidden units die and the loss stalls.
    #[test]
    fn an_unlucky_seed_gets_stuck_with_dead_relus() {
        let mut net = Mlp::new(XorConfig { seed: 2, ..XorConfig::default() });
        let losses = net.train(10_000);
        // Two of the four units are dead; the output can no longer tell (0, 0) from (0, 1),
        // predicts 0.5 for both, and the loss sits at ln(2)/2 ≈ 0.347.
        assert_eq!(net.dead_hidden_units(), vec![true, false, true, false]);
        assert!((losses[9_999] - libm::logf(2.0) / 2.0).abs() < 1e-3, "loss {}", losses[9_999]);
        let p = net.predict_many(&XOR_INPUTS);
        assert!((p[0] - 0.5).abs() < 1e-3 && (p[1] - 0.5).abs() < 1e-3, "predictions {p:?}");
    }

    #[test]
    fn same_seed_same_loss_sequence() {
        let config = XorConfig { seed: 7, ..XorConfig::default() };
        let a: Vec<u32> = Mlp::new(config).train(200).iter().map(|l| l.to_bits()).collect();
        let b: Vec<u32> = Mlp::new(config).train(200).iter().map(|l| l.to_bits()).collect();
        assert_eq!(a, b);
        let other = Mlp::new(XorConfig { seed: 8, ..config }).train(1);
        assert_ne!(other[0].to_bits(), a[0]);
    }

    #[test]
    fn every_activation_init_and_optimizer_runs() {
        for activation in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
            for init in [Init::He, Init::Xavier] {
                for (method, lr) in [(Method::Sgd, 0.5), (Method::momentum(), 0.5), (Method::adam(), 0.05)] {
                    let config = XorConfig { hidden: 8, activation, init, method, lr, seed: 3 };
                    let mut net = Mlp::new(config);
                    let losses = net.train(300);
                    assert!(losses.iter().all(|l| l.is_finite()));
                    assert!(losses[299] < losses[0], "{config:?}");
                }
            }
        }
    }

    #[test]
    fn predict_agrees_with_predict_many() {
        let net = Mlp::new(XorConfig::default());
        let grid: Vec<[f32; 2]> =
            (0..5).flat_map(|i| (0..5).map(move |j| [i as f32 / 4.0, j as f32 / 4.0])).collect();
        let many = net.predict_many(&grid);
        for (point, p) in grid.iter().zip(&many) {
            assert_eq!(net.predict(*point), *p);
            assert!((0.0..=1.0).contains(p));
        }
    }
}
