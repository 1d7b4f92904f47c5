//! Optimizers, learning-rate schedules and gradient clipping, on plain slices of f32.
//!
//! An [`Optimizer`] updates one flat list of parameters from one flat list of gradients and
//! keeps whatever per-parameter state its method needs (velocities, running averages). It
//! knows nothing about tensors or graphs, so the autograd models, the GPU layer and the
//! two-parameter loss-surface demos all share the same update code. A model with several
//! weight tensors keeps one optimizer per tensor; they step together, so they all agree on
//! the step count t.

use crate::core::tensor::ShapeError;

/// An update rule and its hyperparameters. The learning rate is not here: it is passed to
/// every [`Optimizer::step`], so that a [`Schedule`] can change it as training goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Plain gradient descent: θ ← θ − lr·g.
    Sgd,
    /// Momentum, written as an exponential moving average of gradients:
    /// v ← β·v + (1 − β)·g, then θ ← θ − lr·v.
    ///
    /// PyTorch's SGD uses v ← μ·v + g instead. The two are the same method: PyTorch's v is
    /// ours times 1/(1 − β) once it has warmed up, so its lr must be (1 − β) times ours for
    /// the same steps (lr 0.01 with μ = 0.9 there is lr 0.1 with β = 0.9 here).
    Momentum { beta: f32 },
    /// RMSProp: divides each step by a running root-mean-square of that parameter's gradients,
    /// s ← β·s + (1 − β)·g², then θ ← θ − lr·g / (√s + eps).
    /// There is no bias correction, so the first steps are larger (s starts at 0).
    RmsProp { beta: f32, eps: f32 },
    /// Adam: momentum and RMSProp together, with bias correction. See [`Optimizer::step`].
    Adam { beta1: f32, beta2: f32, eps: f32 },
    /// Adam with L2 regularization: weight_decay·θ is added to the gradient before the Adam
    /// update, so the decay is divided by √v̂ like everything else, and weights with large
    /// gradients are barely decayed. Kept for the book's comparison with AdamW.
    AdamL2 { beta1: f32, beta2: f32, eps: f32, weight_decay: f32 },
    /// AdamW (Loshchilov and Hutter): the decay is decoupled from the adaptive scaling,
    /// θ ← θ − lr·(m̂ / (√v̂ + eps) + weight_decay·θ).
    AdamW { beta1: f32, beta2: f32, eps: f32, weight_decay: f32 },
}

impl Method {
    /// Momentum with the usual β = 0.9.
    pub fn momentum() -> Method {
        Method::Momentum { beta: 0.9 }
    }

    /// RMSProp with β = 0.99 and eps = 1e-8 (PyTorch's defaults).
    pub fn rmsprop() -> Method {
        Method::RmsProp { beta: 0.99, eps: 1e-8 }
    }

    /// Adam with the paper's defaults: β1 = 0.9, β2 = 0.999, eps = 1e-8.
    pub fn adam() -> Method {
        Method::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    /// AdamW with Adam's defaults and the given weight decay.
    pub fn adamw(weight_decay: f32) -> Method {
        Method::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay }
    }

    /// Adam + L2 with Adam's defaults and the given weight decay.
    pub fn adam_l2(weight_decay: f32) -> Method {
        Method::AdamL2 { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay }
    }
}

/// The five update rules the book races, in the chapters' order. A [`Kind`] with its
/// [`Hyper`] settings names one [`Method`]; the pages list, label and build optimizers from
/// this one list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sgd,
    Momentum,
    RmsProp,
    Adam,
    AdamW,
}

/// The settings a rule may read besides the learning rate. Momentum's β is `beta1`,
/// RMSProp's β is `beta2`; a rule ignores the ones it does not use (see [`Kind::uses`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Kind {
    /// Every rule, in the chapters' order.
    pub const ALL: [Kind; 5] = [Kind::Sgd, Kind::Momentum, Kind::RmsProp, Kind::Adam, Kind::AdamW];

    /// The rule's name as the book writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sgd => "SGD",
            Kind::Momentum => "Momentum",
            Kind::RmsProp => "RMSProp",
            Kind::Adam => "Adam",
            Kind::AdamW => "AdamW",
        }
    }

    /// A short lowercase key for the rule (`sgd`, `momentum`, …), for names in the page.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Sgd => "sgd",
            Kind::Momentum => "momentum",
            Kind::RmsProp => "rmsprop",
            Kind::Adam => "adam",
            Kind::AdamW => "adamw",
        }
    }

    /// Which of β1, β2, ε and λ (in [`Hyper`]'s order) the rule reads.
    pub fn uses(self) -> [bool; 4] {
        match self {
            Kind::Sgd => [false, false, false, false],
            Kind::Momentum => [true, false, false, false],
            Kind::RmsProp => [false, true, true, false],
            Kind::Adam => [true, true, true, false],
            Kind::AdamW => [true, true, true, true],
        }
    }

    /// The update rule with these settings.
    pub fn method(self, hyper: Hyper) -> Method {
        let Hyper { beta1, beta2, eps, weight_decay } = hyper;
        match self {
            Kind::Sgd => Method::Sgd,
            Kind::Momentum => Method::Momentum { beta: beta1 },
            Kind::RmsProp => Method::RmsProp { beta: beta2, eps },
            Kind::Adam => Method::Adam { beta1, beta2, eps },
            Kind::AdamW => Method::AdamW { beta1, beta2, eps, weight_decay },
        }
    }

    /// An optimizer of this kind for `len` parameters, with all state at zero.
    pub fn optimizer(self, hyper: Hyper, len: usize) -> Optimizer {
        Optimizer::new(self.method(hyper), len)
    }
}

/// An update rule with its per-parameter state, for one flat list of parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    pub method: Method,
    /// How many steps have been taken: Adam's t.
    pub steps: u32,
    /// Per parameter: the velocity v (momentum) or the running mean of gradients m (Adam).
    pub first_moment: Vec<f32>,
    /// Per parameter: the running mean of squared gradients (RMSProp's s, Adam's v).
    pub second_moment: Vec<f32>,
}

impl Optimizer {
    /// An optimizer for `len` parameters, with all state at zero.
    pub fn new(method: Method, len: usize) -> Optimizer {
        Optimizer { method, steps: 0, first_moment: vec![0.0; len], second_moment: vec![0.0; len] }
    }

    /// Updates `params` in place from `grads` with learning rate `lr`.
    ///
    /// Adam, per parameter, at step t (counting from 1):
    ///   m ← β1·m + (1 − β1)·g            running mean of gradients
    ///   v ← β2·v + (1 − β2)·g²           running mean of squared gradients
    ///   m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t)   bias correction: m and v start at 0
    ///   θ ← θ − lr·m̂ / (√v̂ + eps)
    /// At t = 1 the correction multiplies m by 1/(1 − 0.9) = 10, making m̂ = g and v̂ = g², so
    /// the first step is lr·g/|g|: lr times the gradient's sign.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f32) -> Result<(), ShapeError> {
        if params.len() != grads.len() || params.len() != self.first_moment.len() {
            return Err(ShapeError::new(format!(
                "optimizer: created for {} parameters but given {} parameters and {} gradients",
                self.first_moment.len(),
                params.len(),
                grads.len()
            )));
        }
        self.steps += 1;
        let t = self.steps as f32;
        // Adam's bias corrections 1 − β1^t and 1 − β2^t are the same for every parameter, so
        // they are computed once per step rather than once per parameter.
        let corrections = match self.method {
            Method::Adam { beta1, beta2, .. }
            | Method::AdamL2 { beta1, beta2, .. }
            | Method::AdamW { beta1, beta2, .. } => (1.0 - libm::powf(beta1, t), 1.0 - libm::powf(beta2, t)),
            _ => (1.0, 1.0),
        };
        let (m, v) = (&mut self.first_moment, &mut self.second_moment);
        for i in 0..params.len() {
            let g = grads[i];
            match self.method {
                Method::Sgd => params[i] -= lr * g,
                Method::Momentum { beta } => {
                    m[i] = beta * m[i] + (1.0 - beta) * g;
                    params[i] -= lr * m[i];
                }
                Method::RmsProp { beta, eps } => {
                    v[i] = beta * v[i] + (1.0 - beta) * g * g;
                    params[i] -= lr * g / (libm::sqrtf(v[i]) + eps);
                }
                Method::Adam { beta1, beta2, eps } => {
                    params[i] -= lr * adam_direction(&mut m[i], &mut v[i], g, corrections, beta1, beta2, eps);
                }
                Method::AdamL2 { beta1, beta2, eps, weight_decay } => {
                    let g = g + weight_decay * params[i];
                    params[i] -= lr * adam_direction(&mut m[i], &mut v[i], g, corrections, beta1, beta2, eps);
                }
                Method::AdamW { beta1, beta2, eps, weight_decay } => {
                    let direction = adam_direction(&mut m[i], &mut v[i], g, corrections, beta1, beta2, eps);
                    params[i] -= lr * (direction + weight_decay * params[i]);
                }
            }
        }
        Ok(())
    }
}

// ANCHOR: adam_direction
/// Updates one parameter's Adam moments with gradient `g` at step t, and returns
/// m̂ / (√v̂ + eps), the direction Adam steps against. `corrections` is (1 − β1^t, 1 − β2^t).
fn adam_direction(
    m: &mut f32,
    v: &mut f32,
    g: f32,
    corrections: (f32, f32),
    beta1: f32,
    beta2: f32,
    eps: f32,
) -> f32 {
    *m = beta1 * *m + (1.0 - beta1) * g;
    *v = beta2 * *v + (1.0 - beta2) * g * g;
    let m_hat = *m / corrections.0;
    let v_hat = *v / corrections.1;
    m_hat / (libm::sqrtf(v_hat) + eps)
}
// ANCHOR_END: adam_direction

/// Sets every gradient to 0. Gradients are summed by backpropagation, so a training loop
/// clears them before each step; forgetting to is a classic bug the book demonstrates.
pub fn zero_grad(grads: &mut [f32]) {
    grads.fill(0.0);
}

/// The length of all gradients together, as one vector: √(Σ g²) over every tensor.
pub fn global_grad_norm(grads: &[&[f32]]) -> f32 {
    // Summed in f64 so that millions of small squares do not lose precision.
    let sum_of_squares: f64 = grads.iter().flat_map(|g| g.iter()).map(|&g| g as f64 * g as f64).sum();
    libm::sqrt(sum_of_squares) as f32
}

/// Global gradient-norm clipping: if the combined norm of all gradients exceeds `max_norm`,
/// scales every gradient by max_norm / norm, so the direction is kept and only the length is
/// capped. Returns the norm before clipping (worth plotting: spikes show instability).
pub fn clip_grad_norm(grads: &mut [&mut [f32]], max_norm: f32) -> f32 {
    let norm = global_grad_norm(&grads.iter().map(|g| &**g).collect::<Vec<&[f32]>>());
    if norm > max_norm {
        let factor = max_norm / norm;
        for g in grads.iter_mut().flat_map(|g| g.iter_mut()) {
            *g *= factor;
        }
    }
    norm
}

/// A learning rate as a function of the step number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate at every step.
    Constant { lr: f32 },
    /// Linear warmup from 0 to `max_lr` over `warmup_steps`, then a straight line down to
    /// `min_lr` at `total_steps`, and `min_lr` after that.
    WarmupLinearDecay { max_lr: f32, min_lr: f32, warmup_steps: u64, total_steps: u64 },
    /// Linear warmup from 0 to `max_lr` over `warmup_steps`, then half a cosine wave down to
    /// `min_lr` at `total_steps`, and `min_lr` after that. The usual schedule for
    /// transformers.
    WarmupCosine { max_lr: f32, min_lr: f32, warmup_steps: u64, total_steps: u64 },
}

impl Schedule {
    // ANCHOR: lr_at
    /// The learning rate for step `step` (counting from 0).
    pub fn lr_at(&self, step: u64) -> f32 {
        match *self {
            Schedule::Constant { lr } => lr,
            Schedule::WarmupLinearDecay { max_lr, min_lr, warmup_steps, total_steps } => {
                match decay_progress(step, warmup_steps, total_steps) {
                    None => warmup(max_lr, step, warmup_steps),
                    Some(p) => (max_lr as f64 - (max_lr - min_lr) as f64 * p) as f32,
                }
            }
            Schedule::WarmupCosine { max_lr, min_lr, warmup_steps, total_steps } => {
                match decay_progress(step, warmup_steps, total_steps) {
                    None => warmup(max_lr, step, warmup_steps),
                    // cos goes from 1 to −1 as p goes from 0 to 1, so (1 + cos)/2 goes 1 → 0.
                    Some(p) => {
                        let cosine = 0.5 * (1.0 + libm::cos(std::f64::consts::PI * p));
                        (min_lr as f64 + (max_lr - min_lr) as f64 * cosine) as f32
                    }
                }
            }
        }
    }
    // ANCHOR_END: lr_at
}

/// During warmup, the rate rises in a straight line: max_lr · step / warmup_steps.
fn warmup(max_lr: f32, step: u64, warmup_steps: u64) -> f32 {
    (max_lr as f64 * step as f64 / warmup_steps as f64) as f32
}

/// `None` during warmup; afterwards, how far through the decay `step` is, from 0 when
/// warmup ends to 1 at `total_steps` (and 1 after it).
fn decay_progress(step: u64, warmup_steps: u64, total_steps: u64) -> Option<f64> {
    if step < warmup_steps {
        return None;
    }
    if total_steps <= warmup_steps {
        return Some(1.0);
    }
    let p = (step - warmup_steps) as f64 / (total_steps - warmup_steps) as f64;
    Some(p.min(1.0))
}

/// How many optimizer steps it takes to see `tokens` tokens at `tokens_per_step` per step,
/// rounding a final partial batch up to a step. (2e12 tokens at 4e6 per batch: 500,000.)
pub fn steps_for_tokens(tokens: u64, tokens_per_step: u64) -> u64 {
    tokens.div_ceil(tokens_per_step.max(1))
}

/// The warmup length as a fraction of all steps, rounded to a whole step (2% of 500,000 is
/// 10,000).
pub fn warmup_steps(total_steps: u64, fraction: f64) -> u64 {
    libm::round(total_steps as f64 * fraction) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn kinds_build_the_methods_they_name() {
        let hyper = Hyper { beta1: 0.8, beta2: 0.95, eps: 1e-6, weight_decay: 0.1 };
        assert_eq!(Kind::Sgd.method(hyper), Method::Sgd);
        assert_eq!(Kind::Momentum.method(hyper), Method::Momentum { beta: 0.8 });
        assert_eq!(Kind::RmsProp.method(hyper), Method::RmsProp { beta: 0.95, eps: 1e-6 });
        assert_eq!(Kind::Adam.method(hyper), Method::Adam { beta1: 0.8, beta2: 0.95, eps: 1e-6 });
        let adamw = Method::AdamW { beta1: 0.8, beta2: 0.95, eps: 1e-6, weight_decay: 0.1 };
        assert_eq!(Kind::AdamW.method(hyper), adamw);
        assert_eq!(Kind::AdamW.optimizer(hyper, 3), Optimizer::new(adamw, 3));
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["SGD", "Momentum", "RMSProp", "Adam", "AdamW"]);
        // A rule uses a setting exactly when changing it changes the method.
        for kind in Kind::ALL {
            let moved = [
                Hyper { beta1: 0.5, ..hyper },
                Hyper { beta2: 0.5, ..hyper },
                Hyper { eps: 0.5, ..hyper },
                Hyper { weight_decay: 0.5, ..hyper },
            ];
            for (uses, other) in kind.uses().into_iter().zip(moved) {
                assert_eq!(uses, kind.method(other) != kind.method(hyper), "{}", kind.name());
            }
        }
    }

    /// Runs `method` from θ = 1 on the gradients given, one per step; returns θ after each.
    fn trajectory(method: Method, lr: f32, grads: &[f32]) -> Vec<f32> {
        let mut opt = Optimizer::new(method, 1);
        let mut theta = [1.0];
        grads
            .iter()
            .map(|&g| {
                opt.step(&mut theta, &[g], lr).unwrap();
                theta[0]
            })
            .collect()
    }

    #[test]
    fn sgd_by_hand() {
        // θ = 1 − 0.1·0.5 = 0.95, then 0.95 − 0.1·(−1) = 1.05.
        let theta = trajectory(Method::Sgd, 0.1, &[0.5, -1.0]);
        assert_close!(theta[0], 0.95, 1e-7);
        assert_close!(theta[1], 1.05, 1e-7);
    }

    #[test]
    fn momentum_by_hand() {
        // Step 1: v = 0.9·0 + 0.1·0.5 = 0.05,          θ = 1 − 0.1·0.05 = 0.995.
        // Step 2: v = 0.9·0.05 + 0.1·0.5 = 0.095,      θ = 0.995 − 0.1·0.095 = 0.9855.
        // Step 3: v = 0.9·0.095 + 0.1·0.5 = 0.1355,    θ = 0.9855 − 0.01355 = 0.97195.
        let theta = trajectory(Method::momentum(), 0.1, &[0.5, 0.5, 0.5]);
        assert_close!(theta[0], 0.995, 1e-7);
        assert_close!(theta[1], 0.9855, 1e-7);
        assert_close!(theta[2], 0.97195, 1e-6);
    }

    #[test]
    fn rmsprop_by_hand() {
        // β = 0.9, lr = 0.01, g = 0.5 twice.
        // Step 1: s = 0.1·0.25 = 0.025, √s = 0.158114, θ = 1 − 0.01·0.5/0.158114 = 0.968377.
        //   (Without bias correction the first step is √10 ≈ 3.16 times lr.)
        // Step 2: s = 0.9·0.025 + 0.025 = 0.0475, √s = 0.217945,
        //   θ = 0.968377 − 0.01·0.5/0.217945 = 0.945436.
        let theta = trajectory(Method::RmsProp { beta: 0.9, eps: 1e-8 }, 0.01, &[0.5, 0.5]);
        assert_close!(theta[0], 0.968_377, 1e-6);
        assert_close!(theta[1], 0.945_436, 1e-6);
    }

    #[test]
    fn adam_by_hand() {
        // lr = 0.01, defaults, g = 0.5 then −0.25.
        // Step 1: m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 0.00025.
        //   Bias correction: 1/(1 − 0.9) = 10 and 1/(1 − 0.999) = 1000, so m̂ = 0.5 = g and
        //   v̂ = 0.25 = g². Step: 0.01·0.5/(0.5 + 1e-8) ≈ 0.01 = lr·sign(g). θ = 0.99.
        // Step 2: m = 0.9·0.05 + 0.1·(−0.25) = 0.02, m̂ = 0.02/(1 − 0.81) = 0.105263;
        //   v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225, v̂ = 0.00031225/0.001999 = 0.156203;
        //   step 0.01·0.105263/0.395225 = 0.0026634, θ = 0.99 − 0.0026634 = 0.9873366.
        let mut opt = Optimizer::new(Method::adam(), 1);
        let mut theta = [1.0];
        opt.step(&mut theta, &[0.5], 0.01).unwrap();
        assert_close!(opt.first_moment[0] / (1.0 - 0.9), 0.5, 1e-7);
        assert_close!(theta[0], 0.99, 1e-7);
        opt.step(&mut theta, &[-0.25], 0.01).unwrap();
        assert_close!(theta[0], 0.987_336_6, 1e-6);
        // The first step is lr·sign(g) whatever the gradient's size.
        for g in [1e-3, 7.0, -250.0] {
            assert_close!(trajectory(Method::adam(), 0.01, &[g])[0], 1.0 - 0.01 * g.signum(), 1e-6);
        }
    }

    #[test]
    fn adamw_decouples_weight_decay_and_adam_l2_does_not() {
        // wd = 0.1, lr = 0.01, θ = 1, g = 0.5 then −0.25.
        // AdamW step 1: Adam's direction is 1 (as above), plus wd·θ = 0.1:
        //   θ = 1 − 0.01·(1 + 0.1) = 0.989.
        // Step 2: Adam's direction is 0.266335 (as above), plus 0.1·0.989:
        //   θ = 0.989 − 0.01·(0.266335 + 0.0989) = 0.985348.
        let adamw = trajectory(Method::adamw(0.1), 0.01, &[0.5, -0.25]);
        assert_close!(adamw[0], 0.989, 1e-7);
        assert_close!(adamw[1], 0.985_348, 1e-6);
        // Adam + L2 step 1: g' = 0.5 + 0.1·1 = 0.6, and Adam's first step is lr·sign(g'):
        //   θ = 0.99, exactly as without decay. The decay vanished into the normalization.
        // Step 2: g' = −0.25 + 0.1·0.99 = −0.151, m = 0.9·0.06 + 0.1·(−0.151) = 0.0389,
        //   m̂ = 0.204737; v = 0.999·0.00036 + 0.001·0.022801 = 0.000382441, v̂ = 0.191316;
        //   θ = 0.99 − 0.01·0.204737/0.437397 = 0.985319.
        let adam_l2 = trajectory(Method::adam_l2(0.1), 0.01, &[0.5, -0.25]);
        assert_close!(adam_l2[0], 0.99, 1e-7);
        assert_close!(adam_l2[1], 0.985_319, 1e-6);
        // With no gradient at all, AdamW shrinks θ by lr·wd·θ = 0.001, but Adam + L2 moves it
        // by a full lr = 0.01: the decay itself gets normalized to size 1.
        assert_close!(trajectory(Method::adamw(0.1), 0.01, &[0.0])[0], 0.999, 1e-7);
        assert_close!(trajectory(Method::adam_l2(0.1), 0.01, &[0.0])[0], 0.99, 1e-7);
    }

    #[test]
    fn optimizer_state_is_per_parameter() {
        let mut opt = Optimizer::new(Method::adam(), 2);
        let mut theta = [1.0, 1.0];
        opt.step(&mut theta, &[0.5, -2.0], 0.01).unwrap();
        assert_close!(theta[0], 0.99, 1e-7);
        assert_close!(theta[1], 1.01, 1e-7);
        assert_eq!(opt.steps, 1);
        let err = opt.step(&mut theta, &[0.5], 0.01).unwrap_err();
        assert_eq!(err.message, "optimizer: created for 2 parameters but given 2 parameters and 1 gradients");
    }

    #[test]
    fn zero_grad_and_clipping() {
        let mut g1 = vec![3.0, 0.0];
        let mut g2 = vec![4.0];
        // The global norm is √(9 + 16) = 5; clipping to 1 scales everything by 1/5.
        let norm = clip_grad_norm(&mut [&mut g1, &mut g2], 1.0);
        assert_eq!(norm, 5.0);
        assert_eq!((g1.clone(), g2.clone()), (vec![0.6, 0.0], vec![0.8]));
        // Below the threshold nothing changes.
        assert_eq!(clip_grad_norm(&mut [&mut g1, &mut g2], 2.0), 1.0);
        assert_eq!(g2, vec![0.8]);
        zero_grad(&mut g1);
        assert_eq!(g1, vec![0.0, 0.0]);
    }

    #[test]
    fn warmup_cosine_schedule_values() {
        let s = Schedule::WarmupCosine { max_lr: 3e-4, min_lr: 3e-5, warmup_steps: 200, total_steps: 10_000 };
        // Step 0: warmup starts at 0. Step 100: halfway up, 3e-4·100/200 = 1.5e-4.
        assert_close!(s.lr_at(0), 0.0, 0.0);
        assert_close!(s.lr_at(100), 1.5e-4, 1e-10);
        // Step 200: warmup is over, the peak 3e-4.
        assert_close!(s.lr_at(200), 3e-4, 1e-10);
        // Step 5100: (5100 − 200)/(10000 − 200) = 0.5 of the way through the decay, where
        // cos(π/2) = 0: 3e-5 + (3e-4 − 3e-5)·0.5 = 1.65e-4.
        assert_close!(s.lr_at(5100), 1.65e-4, 1e-10);
        // Step 10000: the minimum, and it stays there.
        assert_close!(s.lr_at(10_000), 3e-5, 1e-10);
        assert_close!(s.lr_at(20_000), 3e-5, 1e-10);
    }

    #[test]
    fn linear_and_constant_schedules() {
        let s = Schedule::WarmupLinearDecay { max_lr: 1.0, min_lr: 0.0, warmup_steps: 10, total_steps: 110 };
        assert_close!(s.lr_at(5), 0.5, 1e-7);
        assert_close!(s.lr_at(10), 1.0, 1e-7);
        assert_close!(s.lr_at(60), 0.5, 1e-7);
        assert_close!(s.lr_at(110), 0.0, 1e-7);
        assert_eq!(Schedule::Constant { lr: 0.1 }.lr_at(12345), 0.1);
    }

    /// The chapter's exercise: a 7B model trained on 2 trillion tokens, 4 million per batch.
    #[test]
    fn seven_billion_parameter_exercise() {
        // 2e12 / 4e6 = 500,000 steps; 2% warmup = 10,000 steps.
        let total = steps_for_tokens(2_000_000_000_000, 4_000_000);
        assert_eq!(total, 500_000);
        let warmup = warmup_steps(total, 0.02);
        assert_eq!(warmup, 10_000);
        let s =
            Schedule::WarmupCosine { max_lr: 3e-4, min_lr: 3e-5, warmup_steps: warmup, total_steps: total };
        assert_close!(s.lr_at(5_000), 1.5e-4, 1e-10);
        assert_close!(s.lr_at(255_000), 1.65e-4, 1e-10);
        // A last partial batch still costs a step.
        assert_eq!(steps_for_tokens(10, 4), 3);
    }
}
