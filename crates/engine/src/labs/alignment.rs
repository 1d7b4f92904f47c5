//! Chapter 11's alignment, small enough to solve exactly. One prompt, a handful of possible
//! responses, a reward for each, and the reference policy the fine-tuned model starts from.
//! The KL-regularized objective `E_π[r] − β·KL(π ‖ π_ref)` has the closed-form optimum
//! π*(y) ∝ π_ref(y)·exp(r(y)/β); DPO, trained on preference pairs labelled by the reward
//! (Bradley–Terry: y_i is preferred to y_j with probability σ(r_i − r_j)), finds it without
//! ever seeing the reward. Two DPO runs start from π_ref: one on the expected preferences
//! (every pair, weighted by its probability, as if there were infinitely many labels), one
//! on a fixed set of sampled pairs.

use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::labs::backprop_stepper::sigmoid;
use crate::models::sampling::softmax_with_temperature;

/// One prompt's responses: their rewards and the reference policy's probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Toy {
    pub rewards: Vec<f64>,
    pub reference: Vec<f64>,
}

/// The most responses the lab takes.
pub const MAX_RESPONSES: usize = 8;

/// KL(p ‖ q) = Σ p·log(p/q), in nats.
pub fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).filter(|(&a, _)| a > 0.0).map(|(&a, &b)| a * libm::log(a / b)).sum()
}

impl Toy {
    /// Four answers to "Explain gradient descent to a beginner": clear and correct, correct
    /// but terse, padded with jargon, confidently wrong. The reference model, fine-tuned on
    /// demonstrations, favours the terse answer and still gives the wrong one 15%.
    pub fn example() -> Toy {
        Toy { rewards: vec![2.0, 1.0, 0.0, -2.0], reference: vec![0.25, 0.4, 0.2, 0.15] }
    }

    /// Checks the toy, in words: 2 to 8 responses, as many rewards as probabilities, every
    /// probability above 0, summing to 1 within 0.001.
    pub fn check(&self) -> Result<(), String> {
        let n = self.reference.len();
        if !(2..=MAX_RESPONSES).contains(&n) {
            return Err(format!("Use 2 to {MAX_RESPONSES} responses; there are {n}."));
        }
        if self.rewards.len() != n {
            return Err(format!("There are {} rewards for {n} responses.", self.rewards.len()));
        }
        if self.reference.iter().any(|&p| p.is_nan() || p <= 0.0) {
            return Err("Every reference probability must be above 0 (log π_ref must exist).".into());
        }
        let total: f64 = self.reference.iter().sum();
        if (total - 1.0).abs() > 1e-3 {
            return Err(format!("The reference probabilities sum to {total:.4}, not 1."));
        }
        Ok(())
    }

    /// π*(y) ∝ π_ref(y)·exp(r(y)/β), computed through logits so no exponential overflows.
    pub fn optimum(&self, beta: f64) -> Vec<f64> {
        let logits: Vec<f64> =
            self.reference.iter().zip(&self.rewards).map(|(&p, &r)| libm::log(p) + r / beta).collect();
        softmax_with_temperature(&logits, 1.0)
    }

    /// The objective RLHF maximizes: `E_π[r] − β·KL(π ‖ π_ref)`.
    pub fn objective(&self, policy: &[f64], beta: f64) -> f64 {
        let reward: f64 = policy.iter().zip(&self.rewards).map(|(p, r)| p * r).sum();
        reward - beta * kl(policy, &self.reference)
    }

    /// Every ordered pair (winner, loser), each with its Bradley–Terry probability divided by
    /// the number of unordered pairs: the expected preference data.
    pub fn expected_pairs(&self) -> Vec<(usize, usize, f64)> {
        let n = self.rewards.len();
        let unordered = (n * (n - 1) / 2) as f64;
        let mut pairs = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    pairs.push((i, j, sigmoid(self.rewards[i] - self.rewards[j]) / unordered));
                }
            }
        }
        pairs
    }

    /// `count` labelled pairs: two different responses drawn uniformly, the first preferred
    /// with probability σ(r_first − r_second). Each pair has weight 1/count.
    pub fn sampled_pairs(&self, count: usize, seed: u64) -> Vec<(usize, usize, f64)> {
        let n = self.rewards.len();
        let mut rng = Rng::new(seed);
        (0..count)
            .map(|_| {
                let a = rng.below(n);
                let b = (a + 1 + rng.below(n - 1)) % n;
                let a_wins = (rng.uniform() as f64) < sigmoid(self.rewards[a] - self.rewards[b]);
                let (w, l) = if a_wins { (a, b) } else { (b, a) };
                (w, l, 1.0 / count as f64)
            })
            .collect()
    }
}

/// A policy over the responses, π = softmax(θ), trained with DPO on weighted pairs.
#[derive(Clone, Debug)]
pub struct DpoRun {
    pub logits: Vec<f32>,
    optimizer: Optimizer,
    pairs: Vec<(usize, usize, f64)>,
    /// The DPO loss before each step.
    pub losses: Vec<f64>,
}

impl DpoRun {
    /// Starts at the reference policy (θ = log π_ref), with Adam.
    pub fn new(toy: &Toy, pairs: Vec<(usize, usize, f64)>) -> DpoRun {
        let logits: Vec<f32> = toy.reference.iter().map(|&p| libm::log(p) as f32).collect();
        let optimizer = Optimizer::new(Method::adam(), logits.len());
        DpoRun { logits, optimizer, pairs, losses: Vec::new() }
    }

    pub fn policy(&self) -> Vec<f64> {
        softmax_with_temperature(&self.logits.iter().map(|&z| z as f64).collect::<Vec<_>>(), 1.0)
    }

    /// The weighted DPO loss and its gradient with respect to θ. With h = log π − log π_ref,
    /// a pair's loss is −log σ(β(h_w − h_l)); softmax's normalizer cancels in h_w − h_l, so
    /// ∂/∂θ_w = −β(1 − σ(·)) and ∂/∂θ_l = +β(1 − σ(·)).
    pub fn loss_and_grad(&self, toy: &Toy, beta: f64) -> (f64, Vec<f32>) {
        let policy = self.policy();
        let h: Vec<f64> =
            policy.iter().zip(&toy.reference).map(|(&p, &q)| libm::log(p) - libm::log(q)).collect();
        let mut loss = 0.0;
        let mut grad = vec![0.0f64; h.len()];
        for &(w, l, weight) in &self.pairs {
            let margin = beta * (h[w] - h[l]);
            // −log σ(m) = log(1 + e^−m), written to stay finite for large |m|.
            loss += weight
                * if margin > 0.0 {
                    libm::log1p(libm::exp(-margin))
                } else {
                    -margin + libm::log1p(libm::exp(margin))
                };
            let push = weight * beta * (1.0 - sigmoid(margin));
            grad[w] -= push;
            grad[l] += push;
        }
        (loss, grad.iter().map(|&g| g as f32).collect())
    }

    /// `steps` Adam steps with learning rate `lr`.
    pub fn train(&mut self, toy: &Toy, beta: f64, lr: f32, steps: usize) {
        for _ in 0..steps {
            let (loss, grad) = self.loss_and_grad(toy, beta);
            self.losses.push(loss);
            // The shapes always match: one gradient per logit.
            let _ = self.optimizer.step(&mut self.logits, &grad, lr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn the_optimum_is_the_reference_tilted_by_the_reward() {
        let toy = Toy::example();
        toy.check().unwrap();
        // β = 1: π* ∝ [0.25e², 0.4e, 0.2, 0.15e⁻²].
        let raw = [0.25 * libm::exp(2.0), 0.4 * libm::exp(1.0), 0.2, 0.15 * libm::exp(-2.0)];
        let total: f64 = raw.iter().sum();
        let expected: Vec<f64> = raw.iter().map(|r| r / total).collect();
        assert_close!(toy.optimum(1.0), expected, 1e-12);
        assert_close!(toy.optimum(1.0), [0.5855, 0.3446, 0.0634, 0.0064], 5e-5);
        // No other policy scores higher on the objective it maximizes.
        let best = toy.objective(&toy.optimum(1.0), 1.0);
        for other in [toy.reference.clone(), vec![1.0 - 3e-9, 1e-9, 1e-9, 1e-9], vec![0.6, 0.3, 0.05, 0.05]] {
            assert!(toy.objective(&other, 1.0) < best);
        }
        // Small β chases the reward; large β stays at the reference.
        assert!(toy.optimum(0.05)[0] > 0.999);
        assert!(kl(&toy.optimum(1000.0), &toy.reference) < 1e-6);
    }

    #[test]
    fn dpo_on_expected_preferences_converges_to_the_optimum() {
        let toy = Toy::example();
        for beta in [0.5, 1.0, 2.0] {
            let mut run = DpoRun::new(&toy, toy.expected_pairs());
            run.train(&toy, beta, 0.05, 2_000);
            let gap = kl(&run.policy(), &toy.optimum(beta));
            assert!(gap < 1e-5, "β = {beta}: KL to the optimum {gap}");
            assert!(run.losses.last() < run.losses.first());
        }
    }

    /// With 200 sampled pairs DPO lands near, not on, the optimum: the labels are noisy.
    #[test]
    fn dpo_on_sampled_pairs_lands_near_the_optimum() {
        let toy = Toy::example();
        let pairs = toy.sampled_pairs(200, 7);
        assert_eq!(pairs.len(), 200);
        assert!(pairs.iter().all(|&(w, l, _)| w != l && w < 4 && l < 4));
        let mut run = DpoRun::new(&toy, pairs);
        run.train(&toy, 1.0, 0.05, 2_000);
        let gap = kl(&run.policy(), &toy.optimum(1.0));
        let start = kl(&toy.reference, &toy.optimum(1.0));
        assert!(gap < start / 5.0 && gap > 1e-5, "KL {gap} (from {start})");
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let toy = Toy::example();
        let mut run = DpoRun::new(&toy, toy.sampled_pairs(50, 3));
        run.logits = vec![0.3, -0.2, 0.5, -1.0];
        let (_, grad) = run.loss_and_grad(&toy, 0.7);
        for k in 0..4 {
            let mut plus = run.clone();
            let mut minus = run.clone();
            plus.logits[k] += 1e-2;
            minus.logits[k] -= 1e-2;
            let slope = (plus.loss_and_grad(&toy, 0.7).0 - minus.loss_and_grad(&toy, 0.7).0) / 2e-2;
            assert_close!(grad[k] as f64, slope, 1e-4);
        }
    }

    #[test]
    fn bad_toys_are_refused_in_words() {
        let bad = |rewards: Vec<f64>, reference: Vec<f64>| Toy { rewards, reference }.check().unwrap_err();
        assert!(bad(vec![1.0], vec![1.0]).contains("2 to 8"));
        assert!(bad(vec![1.0, 2.0], vec![0.5, 0.3, 0.2]).contains("3 responses"));
        assert!(bad(vec![1.0, 2.0], vec![1.0, 0.0]).contains("above 0"));
        assert!(bad(vec![1.0, 2.0], vec![0.5, 0.6]).contains("sum to 1.1000"));
    }
}
