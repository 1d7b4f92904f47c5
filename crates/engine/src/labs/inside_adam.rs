//! Chapter 8: Adam's internals, step by step, for a single parameter.
//!
//! [`inside_adam`] feeds a stated sequence of gradients to the engine's own Adam
//! ([`crate::core::optim::Optimizer`]) and, after every step, reads back its two moments and
//! works out what the update did with them: the bias corrections 1/(1 − β1^t) and
//! 1/(1 − β2^t), the corrected moments m̂ and v̂, and the step actually taken. It also
//! records the step Adam would have taken without the correction, to show why the
//! correction is there.

use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;

/// The gradients fed to the parameter, one per step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gradients {
    /// The same gradient every step.
    Constant(f32),
    /// A gradient with a steady mean plus seeded normal noise: mean + std·N(0, 1).
    Noisy { mean: f32, std: f32, seed: u64 },
}

impl Gradients {
    /// The first `steps` gradients of the sequence.
    pub fn take(self, steps: usize) -> Vec<f32> {
        match self {
            Gradients::Constant(g) => vec![g; steps],
            Gradients::Noisy { mean, std, seed } => {
                let mut rng = Rng::new(seed);
                (0..steps).map(|_| rng.normal_with(mean, std)).collect()
            }
        }
    }
}

/// Everything about one Adam step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// The step number, from 1.
    pub t: u32,
    /// The gradient at this step.
    pub g: f32,
    /// The first moment, a running mean of gradients, as the optimizer holds it.
    pub m: f32,
    /// The second moment, a running mean of squared gradients.
    pub v: f32,
    /// 1 / (1 − β1^t): what m is multiplied by to undo its start at zero.
    pub correction1: f32,
    /// 1 / (1 − β2^t).
    pub correction2: f32,
    /// m · correction1.
    pub m_hat: f32,
    /// v · correction2.
    pub v_hat: f32,
    /// How far the parameter moved: lr · m̂ / (√v̂ + ε), read off the parameter itself.
    pub step: f32,
    /// The step without bias correction: lr · m / (√v + ε).
    pub uncorrected_step: f32,
}

// ANCHOR: inside_adam
/// Runs Adam (β1, β2, ε, lr) on one parameter with the given gradients and reports each step.
pub fn inside_adam(grads: &[f32], beta1: f32, beta2: f32, eps: f32, lr: f32) -> Vec<AdamStep> {
    let mut adam = Optimizer::new(Method::Adam { beta1, beta2, eps }, 1);
    let mut theta = [0.0f32];
    let mut steps = Vec::with_capacity(grads.len());
    for (i, &g) in grads.iter().enumerate() {
        let before = theta[0];
        adam.step(&mut theta, &[g], lr).expect("one parameter, one gradient");
        // The optimizer's own state after the step.
        let (m, v) = (adam.first_moment[0], adam.second_moment[0]);
        let t = i as u32 + 1;
        let correction1 = 1.0 / (1.0 - libm::powf(beta1, t as f32));
        let correction2 = 1.0 / (1.0 - libm::powf(beta2, t as f32));
        steps.push(AdamStep {
            t,
            g,
            m,
            v,
            correction1,
            correction2,
            m_hat: m * correction1,
            v_hat: v * correction2,
            step: before - theta[0],
            uncorrected_step: lr * m / (libm::sqrtf(v) + eps),
        });
    }
    steps
}
// ANCHOR_END: inside_adam

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn the_correction_at_t_1_is_10_and_1000() {
        let s = inside_adam(&[0.5], 0.9, 0.999, 1e-8, 0.001);
        // 1/(1 − 0.9) = 10 and 1/(1 − 0.999) = 1000 (up to f32 rounding of 0.9 and 0.999).
        assert_close!(s[0].correction1, 10.0, 1e-5);
        assert_close!(s[0].correction2, 1000.0, 0.05);
        // m₁ = 0.1·0.5 = 0.05 and v₁ = 0.001·0.25 = 0.00025; corrected, exactly g and g².
        assert_close!(s[0].m, 0.05, 1e-7);
        assert_close!(s[0].v, 0.000_25, 1e-8);
        assert_close!(s[0].m_hat, 0.5, 1e-6);
        assert_close!(s[0].v_hat, 0.25, 1e-5);
    }

    #[test]
    fn the_first_step_is_lr_times_the_sign_of_g() {
        for g in [1e-3, 0.5, 7.0, -250.0] {
            let s = inside_adam(&[g], 0.9, 0.999, 1e-8, 0.01);
            // Exactly lr·g/(|g| + ε) (exercise 8.5): lr·sign(g) unless |g| is near ε.
            assert_close!(s[0].step, 0.01 * g / (g.abs() + 1e-8), 1e-8);
            assert_close!(s[0].step, 0.01 * g.signum(), 1e-6);
            // Without correction: lr·0.1g/(√0.001·|g|) = lr·0.1/0.0316 ≈ 3.16·lr.
            assert_close!(s[0].uncorrected_step, 0.01 * g.signum() * 0.1 / 0.001f32.sqrt(), 1e-5);
        }
    }

    /// The chapter's worked example: g = 0.5 then 0.3, lr = 0.001.
    #[test]
    fn the_chapters_two_steps() {
        let s = inside_adam(&[0.5, 0.3], 0.9, 0.999, 1e-8, 0.001);
        assert_close!(s[1].m, 0.075, 1e-7);
        assert_close!(s[1].v, 0.000_339_75, 1e-8);
        assert_close!(s[1].correction1, 1.0 / 0.19, 1e-4);
        assert_close!(s[1].m_hat, 0.394_737, 1e-5);
        assert_close!(s[1].v_hat, 0.169_960, 1e-4);
        assert_close!(s[1].step, 0.000_957_5, 1e-7);
    }

    #[test]
    fn the_step_read_off_the_parameter_matches_the_formula() {
        let grads = Gradients::Noisy { mean: 0.2, std: 1.0, seed: 5 }.take(100);
        for s in inside_adam(&grads, 0.8, 0.99, 1e-6, 0.05) {
            let formula = 0.05 * s.m_hat / (s.v_hat.sqrt() + 1e-6);
            assert_close!(s.step, formula, 1e-6 + 1e-4 * formula.abs());
        }
    }

    #[test]
    fn the_corrections_fade() {
        let s = inside_adam(&Gradients::Constant(1.0).take(200), 0.9, 0.999, 1e-8, 0.01);
        // 1/(1 − 0.9^50) ≈ 1.0052; with a constant gradient m̂ = g throughout.
        assert_close!(s[49].correction1, 1.0 / (1.0 - 0.9f32.powi(50)), 1e-5);
        assert!(s[199].correction1 < 1.000_01);
        // β2's correction fades a hundred times slower: still 1/(1 − 0.999^200) ≈ 5.5 at t = 200.
        assert_close!(s[199].correction2, 5.517, 0.01);
        for step in &s {
            assert_close!(step.m_hat, 1.0, 1e-4);
            assert_close!(step.v_hat, 1.0, 1e-3);
        }
    }

    #[test]
    fn gradient_sequences_are_seeded() {
        assert_eq!(Gradients::Constant(0.5).take(3), vec![0.5; 3]);
        let noisy = Gradients::Noisy { mean: 1.0, std: 0.5, seed: 9 };
        assert_eq!(noisy.take(20), noisy.take(20));
        assert_ne!(noisy.take(20), Gradients::Noisy { mean: 1.0, std: 0.5, seed: 10 }.take(20));
        let mean = noisy.take(4000).iter().sum::<f32>() / 4000.0;
        assert_close!(mean, 1.0, 0.05);
    }
}
