//! Chapter 7's weight-decay lab.
//!
//! Two facts, computed rather than asserted. For plain gradient descent, adding λw to the
//! gradient (L2 regularization) and multiplying the weight by (1 − ηλ) before the usual step
//! (weight decay) are the same update. For Adam they are not: Adam + L2 sends λw through
//! Adam's per-weight scaling, AdamW applies it after. [`compare`] trains the chapter's curve
//! fit four times from the same seed on the same data (SGD + L2, Adam + L2, AdamW, and Adam
//! with no decay) and records how the weights shrink and how far the two Adam runs drift apart.

use crate::core::tensor::Result;
use crate::labs::overfitting_lab::{CurveFit, FitConfig, FitOptimizer};

/// One weight's SGD step with L2, written both ways.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShrinkStep {
    /// 1 − ηλ: the fraction of the weight kept before the gradient step.
    pub decay_factor: f32,
    /// ηg: the ordinary gradient step.
    pub gradient_step: f32,
    /// w − η(g + λw): L2 added to the gradient.
    pub via_gradient: f32,
    /// w(1 − ηλ) − ηg: shrink, then the ordinary step.
    pub via_shrink: f32,
    /// w − ηg: the same step with no decay.
    pub without_decay: f32,
}

// ANCHOR: shrink
/// Weight `w` with data gradient `g`, learning rate `lr` (η) and decay `lambda` (λ).
pub fn sgd_l2_step(w: f32, g: f32, lr: f32, lambda: f32) -> ShrinkStep {
    let decay_factor = 1.0 - lr * lambda;
    let gradient_step = lr * g;
    ShrinkStep {
        decay_factor,
        gradient_step,
        via_gradient: w - lr * (g + lambda * w),
        via_shrink: w * decay_factor - gradient_step,
        without_decay: w - lr * g,
    }
}
// ANCHOR_END: shrink

/// One run of the comparison, step by step (entry 0 is before training).
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// √(Σ w²) over every weight.
    pub weight_norm: Vec<f32>,
    pub validation_loss: Vec<f32>,
    /// The final weights, one list.
    pub final_weights: Vec<f32>,
}

/// The four runs and what separates them.
#[derive(Clone, Debug, PartialEq)]
pub struct DecayComparison {
    pub sgd_l2: Trajectory,
    pub adam_l2: Trajectory,
    pub adamw: Trajectory,
    /// Adam with λ = 0, for reference: what the weights do without any decay.
    pub adam: Trajectory,
    /// ‖w_AdamW − w_Adam+L2‖ after each step.
    pub adam_gap: Vec<f32>,
    /// The SGD run's last step for its first weight: (w before, data gradient, w after).
    pub sgd_last_step: Option<(f32, f32, f32)>,
}

/// Trains `config` for `steps` updates (fewer if it diverges); returns the run, its
/// trajectory and every weight after every step.
fn trajectory(config: FitConfig, steps: usize) -> Result<(CurveFit, Trajectory, Vec<Vec<f32>>)> {
    let mut fit = CurveFit::new(config).map_err(crate::core::tensor::ShapeError::new)?;
    let mut weights = vec![fit.weights()];
    let mut weight_norm = vec![fit.weight_norm()];
    for _ in 0..steps {
        if fit.stopped.is_some() {
            break;
        }
        fit.step()?;
        weights.push(fit.weights());
        weight_norm.push(fit.weight_norm());
    }
    let t = Trajectory {
        weight_norm,
        validation_loss: fit.validation_losses.clone(),
        final_weights: fit.weights(),
    };
    Ok((fit, t, weights))
}

// ANCHOR: compare
/// Runs the four optimizers from `base` (its seed, data and network) with decay `lambda`:
/// SGD at learning rate `sgd_lr`, the three Adam variants at `adam_lr`. Early stopping and
/// dropout are switched off so that only the decay differs.
pub fn compare(
    base: FitConfig,
    lambda: f32,
    sgd_lr: f32,
    adam_lr: f32,
    steps: usize,
) -> Result<DecayComparison> {
    let with = |optimizer, lr, weight_decay| FitConfig {
        optimizer,
        lr,
        weight_decay,
        dropout: 0.0,
        patience: None,
        ..base
    };
    let (sgd_fit, sgd_l2, sgd_weights) = trajectory(with(FitOptimizer::Sgd, sgd_lr, lambda), steps)?;
    let (_, adam_l2, l2_weights) = trajectory(with(FitOptimizer::AdamL2, adam_lr, lambda), steps)?;
    let (_, adamw, w_weights) = trajectory(with(FitOptimizer::AdamW, adam_lr, lambda), steps)?;
    let (_, adam, _) = trajectory(with(FitOptimizer::AdamW, adam_lr, 0.0), steps)?;
    // The gap between the two Adam runs, step by step: the length of the difference vector.
    let adam_gap = l2_weights
        .iter()
        .zip(&w_weights)
        .map(|(a, b)| {
            let sum: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
            libm::sqrt(sum) as f32
        })
        .collect();
    // The SGD run's last update of weight 0: before, its data gradient, after.
    let sgd_last_step = match (sgd_weights.len(), sgd_fit.last_grads.first()) {
        (n, Some(g)) if n >= 2 => Some((sgd_weights[n - 2][0], g.w.data[0], sgd_weights[n - 1][0])),
        _ => None,
    };
    Ok(DecayComparison { sgd_l2, adam_l2, adamw, adam, adam_gap, sgd_last_step })
}
// ANCHOR_END: compare

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::optim::{Method, Optimizer};

    #[test]
    fn the_two_forms_are_one_update() {
        // Numbers that are exact in binary: both forms give exactly 1.5.
        let s = sgd_l2_step(2.0, 0.5, 0.5, 0.25);
        assert_eq!((s.via_gradient, s.via_shrink, s.decay_factor), (1.5, 1.5, 0.875));
        // The chapter's worked step: w = 2, η = 0.1, λ = 0.01, g = 0.5 gives 1.948, not 1.95.
        let s = sgd_l2_step(2.0, 0.5, 0.1, 0.01);
        assert!((s.decay_factor - 0.999).abs() < 1e-7);
        assert!((s.via_gradient - 1.948).abs() < 1e-6 && (s.via_shrink - 1.948).abs() < 1e-6);
        assert!((s.without_decay - 1.95).abs() < 1e-6);
        // And it is what the SGD optimizer does with λw added to the gradient.
        let mut w = [2.0f32];
        Optimizer::new(Method::Sgd, 1).step(&mut w, &[0.5 + 0.01 * 2.0], 0.1).unwrap();
        assert_eq!(w[0], s.via_gradient);
    }

    fn small() -> FitConfig {
        FitConfig { width: 8, depth: 1, ..FitConfig::default() }
    }

    #[test]
    fn without_decay_adam_l2_and_adamw_are_the_same_run() {
        let c = compare(small(), 0.0, 0.1, 0.01, 200).unwrap();
        assert_eq!(c.adam_l2, c.adamw);
        assert_eq!(c.adamw, c.adam);
        assert!(c.adam_gap.iter().all(|&g| g == 0.0));
    }

    #[test]
    fn with_decay_they_differ_and_both_shrink_the_weights() {
        let c = compare(small(), 0.1, 0.1, 0.01, 300).unwrap();
        assert_eq!(c.adam_gap[0], 0.0, "same start");
        let gap = *c.adam_gap.last().unwrap();
        assert!(gap > 0.01, "the runs drift apart: {gap}");
        let last = |t: &Trajectory| *t.weight_norm.last().unwrap();
        assert!(last(&c.adamw) < last(&c.adam));
        assert!(last(&c.adam_l2) < last(&c.adam));
        // The gap is the length of the difference of the final weights.
        let direct: f32 = c
            .adamw
            .final_weights
            .iter()
            .zip(&c.adam_l2.final_weights)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt();
        assert!((direct - gap).abs() < 1e-5);
    }

    /// The chapter's lab (16 units, seed 7, λ = 0.1, 500 steps): Adam + L2 ends with far
    /// smaller weights than AdamW, and both end below Adam without decay.
    #[test]
    fn at_the_labs_settings_adam_l2_shrinks_harder_than_adamw() {
        let lab = FitConfig { width: 16, depth: 1, ..FitConfig::default() };
        let c = compare(lab, 0.1, 0.1, 0.01, 500).unwrap();
        let last = |t: &Trajectory| *t.weight_norm.last().unwrap();
        assert!(last(&c.adam_l2) < 0.5 * last(&c.adamw), "{} vs {}", last(&c.adam_l2), last(&c.adamw));
        assert!(last(&c.adamw) < last(&c.adam));
    }

    #[test]
    fn the_sgd_run_obeys_the_shrink_equation() {
        let (lr, lambda) = (0.1, 0.5);
        let c = compare(small(), lambda, lr, 0.01, 50).unwrap();
        let (before, grad, after) = c.sgd_last_step.unwrap();
        let s = sgd_l2_step(before, grad, lr, lambda);
        assert_eq!(after, s.via_gradient);
        assert!((after - s.via_shrink).abs() < 1e-6);
    }
}
