//! Weight initialization: how large the random starting weights should be.
//!
//! If the weights are too small, signals shrink layer by layer until nothing reaches the
//! output; too large, and they blow up. Both initializers below pick the scale that keeps the
//! variance of the signal roughly constant from layer to layer.
//!
//! Weight matrices here have shape `[fan_in, fan_out]`, so a layer computes x·W for a batch
//! of rows x: each output sums `fan_in` weighted inputs.

use crate::core::rng::Rng;
use crate::core::tensor::Tensor;

/// He (Kaiming) initialization's standard deviation, √(2 / fan_in).
///
/// A ReLU zeroes half its inputs on average, halving the signal's variance; the factor 2
/// puts it back. Use it for ReLU networks.
pub fn he_std(fan_in: usize) -> f32 {
    libm::sqrtf(2.0 / fan_in as f32)
}

/// Xavier (Glorot) uniform initialization's limit, √(6 / (fan_in + fan_out)).
///
/// A uniform distribution on [−a, a] has variance a²/3, so this gives variance
/// 2 / (fan_in + fan_out): a compromise between keeping the forward signal (1/fan_in) and the
/// backward gradient (1/fan_out) steady. Suited to tanh and sigmoid networks.
pub fn xavier_limit(fan_in: usize, fan_out: usize) -> f32 {
    libm::sqrtf(6.0 / (fan_in + fan_out) as f32)
}

/// A `[fan_in, fan_out]` weight matrix drawn from a normal with mean 0 and standard deviation
/// √(2 / fan_in).
pub fn he_normal(fan_in: usize, fan_out: usize, rng: &mut Rng) -> Tensor {
    let std = he_std(fan_in);
    Tensor::zeros(&[fan_in, fan_out]).map(|_| rng.normal_with(0.0, std))
}

/// A `[fan_in, fan_out]` weight matrix drawn uniformly from [−limit, limit) with
/// limit = √(6 / (fan_in + fan_out)).
pub fn xavier_uniform(fan_in: usize, fan_out: usize, rng: &mut Rng) -> Tensor {
    let limit = xavier_limit(fan_in, fan_out);
    Tensor::zeros(&[fan_in, fan_out]).map(|_| rng.uniform_in(-limit, limit))
}

/// A tensor of any shape drawn from a normal with mean 0 and standard deviation `std`, filled
/// in row-major order. GPT-2 initializes its weights this way with a fixed std of 0.02
/// (see [`crate::models::transformer`]).
pub fn normal(shape: &[usize], std: f32, rng: &mut Rng) -> Tensor {
    Tensor::zeros(shape).map(|_| rng.normal_with(0.0, std))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_and_std(t: &Tensor) -> (f64, f64) {
        let n = t.len() as f64;
        let mean = t.data.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = t.data.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    // With 250,000 samples, the sample standard deviation is within about 0.14% of the true
    // one (one standard error is σ/√(2n)); we allow 1%.

    #[test]
    fn he_normal_has_std_sqrt_2_over_fan_in() {
        let w = he_normal(500, 500, &mut Rng::new(1));
        assert_eq!(w.shape, vec![500, 500]);
        let (mean, std) = mean_and_std(&w);
        let expected = (2.0f64 / 500.0).sqrt(); // 0.0632
        assert!(mean.abs() < 0.01 * expected, "mean {mean}");
        assert!((std / expected - 1.0).abs() < 0.01, "std {std}, expected {expected}");
    }

    #[test]
    fn xavier_uniform_has_the_right_limit_and_std() {
        let w = xavier_uniform(400, 600, &mut Rng::new(2));
        let limit = (6.0f64 / 1000.0).sqrt(); // 0.0775
        assert!(w.data.iter().all(|&v| (v as f64).abs() <= limit + 1e-7));
        let (mean, std) = mean_and_std(&w);
        // Uniform on [−a, a] has standard deviation a/√3, here √(2/1000) = 0.0447.
        let expected = limit / 3f64.sqrt();
        assert!(mean.abs() < 0.01 * expected, "mean {mean}");
        assert!((std / expected - 1.0).abs() < 0.01, "std {std}, expected {expected}");
    }

    #[test]
    fn normal_has_the_requested_std() {
        let w = normal(&[100, 50, 50], 0.02, &mut Rng::new(3));
        assert_eq!(w.shape, vec![100, 50, 50]);
        let (mean, std) = mean_and_std(&w);
        assert!(mean.abs() < 0.01 * 0.02, "mean {mean}");
        assert!((std / 0.02 - 1.0).abs() < 0.01, "std {std}");
    }

    #[test]
    fn same_seed_same_weights() {
        assert_eq!(he_normal(3, 4, &mut Rng::new(9)), he_normal(3, 4, &mut Rng::new(9)));
        assert_eq!(xavier_uniform(3, 4, &mut Rng::new(9)), xavier_uniform(3, 4, &mut Rng::new(9)));
        assert_ne!(he_normal(3, 4, &mut Rng::new(9)), he_normal(3, 4, &mut Rng::new(10)));
    }
}
