//! Chapter 10: how close to orthogonal random directions are.
//!
//! [`CosineRun`] draws random unit vectors in d dimensions one at a time and records the
//! cosine of each new vector with every earlier one: a histogram, the mean, the standard
//! deviation (which should be close to 1/√d) and the largest |cosine|.
//!
//! [`expected_max_abs_cosine`] answers the question a histogram cannot: among N vectors,
//! how large is the worst of the N(N − 1)/2 pairwise cosines? The cosine c of two
//! independent random unit vectors has the exact density
//! C_d (1 − c²)^((d − 3)/2) on [−1, 1], with C_d = Γ(d/2) / (√π Γ((d − 1)/2)). Treating the
//! M pairs as independent (they are only weakly dependent), P(max |c| ≤ t) = (1 − p(t))^M
//! ≈ exp(−M p(t)) where p(t) = P(|c| > t); the median of the maximum is the t with
//! M p(t) = ln 2.

use crate::core::rng::Rng;

/// Histogram bins over [−1, 1].
pub const BINS: usize = 80;

/// A random direction in `d` dimensions: a Gaussian vector scaled to unit length.
pub fn unit_vector(rng: &mut Rng, d: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..d).map(|_| rng.normal()).collect();
    let norm = libm::sqrt(v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>());
    v.into_iter().map(|x| (f64::from(x) / norm) as f32).collect()
}

/// The cosines between a growing set of random unit vectors in one dimension.
#[derive(Clone, Debug)]
pub struct CosineRun {
    pub dim: usize,
    vectors: Vec<Vec<f32>>,
    rng: Rng,
    /// Counts of cosines in [`BINS`] equal bins over [−1, 1].
    pub bins: Vec<u64>,
    /// Pairs measured so far.
    pub pairs: u64,
    sum: f64,
    sum_sq: f64,
    /// The largest |cosine| seen so far.
    pub max_abs: f64,
}

impl CosineRun {
    /// An empty run in `dim` dimensions (at least 2) drawing from `seed`.
    pub fn new(dim: usize, seed: u64) -> CosineRun {
        CosineRun {
            dim: dim.max(2),
            vectors: Vec::new(),
            rng: Rng::new(seed),
            bins: vec![0; BINS],
            pairs: 0,
            sum: 0.0,
            sum_sq: 0.0,
            max_abs: 0.0,
        }
    }

    /// Vectors drawn so far.
    pub fn vectors(&self) -> usize {
        self.vectors.len()
    }

    /// Draws one more vector and measures its cosine with each earlier one.
    pub fn add_vector(&mut self) {
        let v = unit_vector(&mut self.rng, self.dim);
        for u in &self.vectors {
            let c: f64 = u.iter().zip(&v).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
            let bin = (((c + 1.0) / 2.0 * BINS as f64) as usize).min(BINS - 1);
            self.bins[bin] += 1;
            self.pairs += 1;
            self.sum += c;
            self.sum_sq += c * c;
            self.max_abs = self.max_abs.max(c.abs());
        }
        self.vectors.push(v);
    }

    /// The mean cosine (0 in expectation).
    pub fn mean(&self) -> f64 {
        if self.pairs == 0 {
            return 0.0;
        }
        self.sum / self.pairs as f64
    }

    /// The standard deviation of the cosines (about 1/√d).
    pub fn std(&self) -> f64 {
        if self.pairs < 2 {
            return 0.0;
        }
        let n = self.pairs as f64;
        libm::sqrt(((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0))
    }
}

/// The log of the density of the cosine between two random unit vectors in `d` dimensions
/// at c, for |c| < 1.
fn log_density(d: usize, c: f64) -> f64 {
    let d = d as f64;
    let log_norm =
        libm::lgamma(d / 2.0) - libm::lgamma((d - 1.0) / 2.0) - 0.5 * libm::log(std::f64::consts::PI);
    log_norm + (d - 3.0) / 2.0 * libm::log1p(-c * c)
}

/// P(|c| > t): the chance that two random unit vectors in `d` dimensions (d ≥ 3) have a
/// cosine larger than t in size. Simpson's rule on the exact density.
pub fn tail_probability(d: usize, t: f64) -> f64 {
    if t >= 1.0 {
        return 0.0;
    }
    let t = t.max(0.0);
    let intervals = 20_000;
    let h = (1.0 - t) / intervals as f64;
    // At c = 1 the density is 0, except for d = 3, where it is flat at 1/2.
    let f = |c: f64| match (c >= 1.0, d) {
        (true, 3) => 0.5,
        (true, _) => 0.0,
        _ => libm::exp(log_density(d, c)),
    };
    let mut total = f(t) + f(1.0);
    for i in 1..intervals {
        total += f(t + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    (2.0 * total * h / 3.0).min(1.0)
}

/// The median of the largest |cosine| among the N(N − 1)/2 pairs of `vectors` random unit
/// vectors in `d` dimensions: the t with M·P(|c| > t) = ln 2 (see the module's notes).
pub fn expected_max_abs_cosine(d: usize, vectors: u64) -> f64 {
    let pairs = vectors as f64 * (vectors as f64 - 1.0) / 2.0;
    if pairs < 1.0 || d < 3 {
        return 1.0;
    }
    let target = std::f64::consts::LN_2 / pairs;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..50 {
        let mid = (lo + hi) / 2.0;
        if tail_probability(d, mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    fn run(d: usize, vectors: usize, seed: u64) -> CosineRun {
        let mut r = CosineRun::new(d, seed);
        for _ in 0..vectors {
            r.add_vector();
        }
        r
    }

    #[test]
    fn the_spread_of_cosines_is_one_over_root_d() {
        // 200 vectors: 19,900 pairs in each dimension, seed 7.
        for d in [16, 256, 4096] {
            let r = run(d, 200, 7);
            assert_eq!(r.pairs, 19_900);
            assert_eq!(r.bins.iter().sum::<u64>(), 19_900);
            let expected = 1.0 / libm::sqrt(d as f64);
            assert_close!(r.std(), expected, crate::core::tolerance::Tolerance::relative(0.03), "d = {d}");
            assert!(r.mean().abs() < 4.0 * expected / libm::sqrt(19_900.0), "d = {d}: mean {}", r.mean());
        }
    }

    #[test]
    fn the_density_is_a_probability() {
        for d in [3, 16, 256, 4096] {
            assert_close!(tail_probability(d, 0.0), 1.0, 1e-6, "d = {d}");
        }
        // d = 3: the cosine is uniform on [−1, 1] (Archimedes), so P(|c| > t) = 1 − t.
        assert_close!(tail_probability(3, 0.3), 0.7, 1e-9);
        // Large d: close to the normal tail with variance 1/d; P(|z| > 2) = 0.0455.
        assert_close!(tail_probability(4096, 2.0 / 64.0), 0.0455, 2e-3);
    }

    /// The median, over seeds 100 to 114, of the largest |cosine| among `n` vectors.
    fn median_worst(d: usize, n: usize) -> f64 {
        let mut worst: Vec<f64> = (100..115).map(|seed| run(d, n, seed).max_abs).collect();
        worst.sort_by(f64::total_cmp);
        worst[7]
    }

    #[test]
    fn the_worst_pair_matches_the_extreme_value_estimate() {
        // 200 vectors (19,900 pairs), fifteen seeds: the median worst pair sits where the
        // estimate says (0.2526 against 0.2552 in 256 dimensions, 0.0621 against 0.0646 in
        // 4,096; the pairs share vectors, which pulls the real maximum slightly lower).
        let predicted = expected_max_abs_cosine(256, 200);
        assert_close!(predicted, 0.2552, 1e-4);
        let observed = median_worst(256, 200);
        assert_close!(observed, 0.2526, 1e-4);
        assert_close!(observed, predicted, crate::core::tolerance::Tolerance::relative(0.03));
        let predicted = expected_max_abs_cosine(4096, 200);
        assert_close!(predicted, 0.0646, 1e-4);
        let observed = median_worst(4096, 200);
        assert_close!(observed, 0.0621, 1e-4);
        assert_close!(observed, predicted, crate::core::tolerance::Tolerance::relative(0.06));
        // The chapter's program: 100 vectors, 4,950 pairs; the estimate says about 0.06.
        assert_close!(expected_max_abs_cosine(4096, 100), 0.0595, 1e-4);
    }

    #[test]
    fn a_hundred_thousand_vectors_have_a_worst_pair_near_a_tenth() {
        // 100,000 vectors in 4,096 dimensions: 4,999,950,000 pairs.
        assert_close!(expected_max_abs_cosine(4096, 100_000), 0.100, 5e-4);
    }
}
