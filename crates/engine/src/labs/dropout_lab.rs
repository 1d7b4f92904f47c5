//! Chapter 7's dropout lab: the masks drawn for one layer step after step, the scale given to
//! the units that survive, and a Monte Carlo check that inverted dropout leaves every
//! activation's expected value unchanged.
//!
//! The masks are drawn exactly as [`Graph::dropout`](crate::core::autograd::Graph::dropout) draws
//! them: one `bernoulli(p)` per unit, true meaning dropped, from the same seeded generator.
//! A test checks that the two agree.

use crate::core::rng::Rng;

/// The factor kept units are multiplied by during training: 1/(1 − p). Dividing by the keep
/// probability is what makes the expected output equal the input. For p ≥ 1 nothing is kept
/// and the factor is 0.
pub fn keep_scale(p: f32) -> f32 {
    if p >= 1.0 {
        0.0
    } else {
        1.0 / (1.0 - p)
    }
}

// ANCHOR: masks
/// The keep-masks (true = kept) for a layer of `units` units at steps 1 to `steps`, one row
/// per step, from `seed`. Step t's mask is the t-th one drawn, so asking for more steps
/// extends the list without changing the earlier rows.
pub fn masks(units: usize, p: f32, steps: usize, seed: u64) -> Vec<Vec<bool>> {
    let mut rng = Rng::new(seed);
    (0..steps).map(|_| (0..units).map(|_| !rng.bernoulli(p)).collect()).collect()
}

/// Inverted dropout with a given mask: kept units are scaled by 1/(1 − p), dropped ones are 0.
pub fn apply(activations: &[f32], keep: &[bool], p: f32) -> Vec<f32> {
    let scale = keep_scale(p);
    activations.iter().zip(keep).map(|(&a, &k)| if k { a * scale } else { 0.0 }).collect()
}
// ANCHOR_END: masks

/// A Monte Carlo estimate of the expected dropout output.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectationCheck {
    /// How many masks were averaged.
    pub samples: usize,
    /// The average output of each unit over those masks.
    pub mean: Vec<f32>,
    /// The largest |mean − activation| over the units: how far the estimate is from the
    /// test-time activation.
    pub max_error: f32,
    /// The standard error a unit with the largest |activation| should show:
    /// |a|·√(p / (1 − p)) / √samples, since one dropout output has variance a²·p/(1 − p).
    pub standard_error: f32,
}

// ANCHOR: expectation
/// Averages the dropout output of `activations` over `samples` freshly drawn masks and
/// compares the average with the activations themselves, which is what the layer outputs
/// at test time with dropout switched off.
pub fn expectation_check(activations: &[f32], p: f32, samples: usize, seed: u64) -> ExpectationCheck {
    let mut rng = Rng::new(seed);
    let mut total = vec![0.0f64; activations.len()];
    for _ in 0..samples {
        let keep: Vec<bool> = activations.iter().map(|_| !rng.bernoulli(p)).collect();
        for (t, y) in total.iter_mut().zip(apply(activations, &keep, p)) {
            *t += y as f64;
        }
    }
    let mean: Vec<f32> = total.iter().map(|t| (t / samples.max(1) as f64) as f32).collect();
    let max_error = mean.iter().zip(activations).map(|(m, a)| (m - a).abs()).fold(0.0, f32::max);
    let largest = activations.iter().fold(0.0f32, |m, a| m.max(a.abs()));
    let spread = if p >= 1.0 { 0.0 } else { libm::sqrtf(p / (1.0 - p)) };
    let standard_error = largest * spread / libm::sqrtf(samples.max(1) as f32);
    ExpectationCheck { samples, mean, max_error, standard_error }
}
// ANCHOR_END: expectation

/// The exact expected output: the average over all 2ⁿ masks, each weighted by its
/// probability (1 − p) per kept unit and p per dropped one. Only for small n.
pub fn exact_expectation(activations: &[f32], p: f32) -> Vec<f32> {
    let n = activations.len();
    let mut expected = vec![0.0f64; n];
    for bits in 0u32..(1 << n) {
        let keep: Vec<bool> = (0..n).map(|i| bits & (1 << i) != 0).collect();
        let probability: f64 = keep.iter().map(|&k| if k { 1.0 - p as f64 } else { p as f64 }).product();
        for (e, y) in expected.iter_mut().zip(apply(activations, &keep, p)) {
            *e += probability * y as f64;
        }
    }
    expected.iter().map(|&e| e as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::autograd::Graph;
    use crate::core::tensor::Tensor;

    #[test]
    fn the_scale_is_one_over_the_keep_probability() {
        assert_eq!(keep_scale(0.5), 2.0);
        assert_eq!(keep_scale(0.0), 1.0);
        assert!((keep_scale(0.1) - 1.111_111).abs() < 1e-6);
        assert!((keep_scale(0.2) - 1.25).abs() < 1e-7);
        assert_eq!(keep_scale(1.0), 0.0);
    }

    #[test]
    fn the_chapters_example() {
        // a = [2, 4, 6, 8], p = 0.5, mask [1, 0, 1, 0] gives [4, 0, 12, 0].
        let a = [2.0, 4.0, 6.0, 8.0];
        assert_eq!(apply(&a, &[true, false, true, false], 0.5), vec![4.0, 0.0, 12.0, 0.0]);
        // Averaged over all 16 masks, the output is the input exactly.
        assert_eq!(exact_expectation(&a, 0.5), a.to_vec());
        // And for an uneven p too (to rounding).
        for (e, a) in exact_expectation(&a, 0.3).iter().zip(a) {
            assert!((e - a).abs() < 1e-5);
        }
    }

    #[test]
    fn masks_are_seeded_and_extend_without_changing() {
        assert_eq!(masks(10, 0.5, 5, 3), masks(10, 0.5, 5, 3));
        assert_eq!(masks(10, 0.5, 8, 3)[..5], masks(10, 0.5, 5, 3)[..]);
        assert_ne!(masks(10, 0.5, 5, 3), masks(10, 0.5, 5, 4));
        // p = 0 keeps everything; about a fraction p is dropped otherwise.
        assert!(masks(16, 0.0, 4, 1).iter().flatten().all(|&k| k));
        // 50,000 draws: the dropped fraction has standard error √(0.3·0.7/50000) ≈ 0.002.
        let m = masks(500, 0.3, 100, 1);
        let dropped = m.iter().flatten().filter(|&&k| !k).count() as f64 / 50_000.0;
        assert!((dropped - 0.3).abs() < 0.01, "dropped fraction {dropped}");
    }

    /// The lab's masks are the ones the autograd op draws from the same generator.
    #[test]
    fn masks_match_the_autograd_op() {
        let a: Vec<f32> = (1..=12).map(|i| i as f32).collect();
        let mut graph = Graph::new();
        let x = graph.input(Tensor::from_vec(&[12], a.clone()).unwrap());
        let y = graph.dropout(x, 0.4, &mut Rng::new(9), true);
        let lab = apply(&a, &masks(12, 0.4, 1, 9)[0], 0.4);
        assert_eq!(graph.value(y).data, lab);
    }

    #[test]
    fn the_monte_carlo_mean_approaches_the_test_time_activation() {
        let a = [2.0, -4.0, 6.0, 8.0, 0.5];
        let check = expectation_check(&a, 0.5, 20_000, 11);
        assert_eq!(check.samples, 20_000);
        // Standard error for |a| = 8 at p = 0.5: 8·1/√20000 ≈ 0.0566.
        assert!((check.standard_error - 0.056_57).abs() < 1e-4);
        assert!(check.max_error < 4.0 * check.standard_error, "{check:?}");
        assert!(check.max_error > 0.0, "a finite sample is not exact");
        // More samples, smaller error (on this seed).
        assert!(expectation_check(&a, 0.5, 200, 11).max_error > check.max_error);
    }
}
