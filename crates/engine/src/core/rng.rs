//! A small seeded random number generator, identical on every platform.
//!
//! Every random number in the book (initial weights, dropout masks, data) comes from here, so
//! a seed printed on a page reproduces the same run natively, in the browser and in a test.
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit counter passed through
//! a mixing function. It is tiny, fast and passes the standard statistical test batteries,
//! which is all a textbook needs; it is not for cryptography.

/// A SplitMix64 generator. Same seed, same sequence, bit for bit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator started from `seed`. Any value is a good seed, including 0.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    // ANCHOR: splitmix
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        // Step the counter by an odd constant (2^64 divided by the golden ratio), then scramble
        // it so that neighbouring counter values give unrelated outputs.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    // ANCHOR_END: splitmix

    /// A uniform sample from [0, 1).
    ///
    /// An f32 has a 24-bit significand, so we take the top 24 random bits and divide by 2^24:
    /// every result is an exact multiple of 2^-24, and 1.0 itself never comes out.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }

    /// A uniform sample from [low, high).
    pub fn uniform_in(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }

    // ANCHOR: normal
    /// A sample from the standard normal distribution (mean 0, standard deviation 1).
    ///
    /// Box-Muller: for independent uniforms u1 in (0, 1] and u2 in [0, 1),
    /// sqrt(-2 ln u1) · cos(2π u2) is exactly standard normal. The arithmetic is done in f64
    /// with `libm`, so the result is the same on every platform. (The transform gives a second
    /// normal, sqrt(-2 ln u1) · sin(2π u2), which we throw away to keep the generator's state a
    /// single number.)
    pub fn normal(&mut self) -> f32 {
        // 53 random bits give u1 in (0, 1]: adding 1 before scaling keeps ln(u1) finite.
        let u1 = ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let radius = libm::sqrt(-2.0 * libm::log(u1));
        (radius * libm::cos(2.0 * std::f64::consts::PI * u2)) as f32
    }
    // ANCHOR_END: normal

    /// A sample from the normal distribution with the given mean and standard deviation.
    pub fn normal_with(&mut self, mean: f32, std: f32) -> f32 {
        mean + std * self.normal()
    }

    /// True with probability `p` (a coin that lands heads with probability p).
    pub fn bernoulli(&mut self, p: f32) -> bool {
        self.uniform() < p
    }

    /// A uniform integer in 0..n. Returns 0 when n is 0.
    pub fn below(&mut self, n: usize) -> usize {
        // Multiply-and-shift maps 64 random bits onto 0..n without division. The bias is at
        // most n / 2^64, far below anything a book-sized experiment could notice.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference outputs of SplitMix64 for seed 1234567, from the algorithm's published C
    /// code. If these ever change, every seeded experiment in the book changes with them.
    #[test]
    fn matches_the_reference_sequence() {
        let mut rng = Rng::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
        assert_eq!(rng.next_u64(), 9817491932198370423);
    }

    #[test]
    fn same_seed_gives_the_same_bits() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(a.normal().to_bits(), b.normal().to_bits());
            assert_eq!(a.uniform().to_bits(), b.uniform().to_bits());
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn uniform_stays_in_range_with_the_right_mean() {
        let mut rng = Rng::new(7);
        let n = 100_000;
        let mut total = 0.0f64;
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            total += u as f64;
        }
        // The mean of n uniforms has standard deviation sqrt(1/12n) ≈ 0.0009; allow 5 of those.
        assert!((total / n as f64 - 0.5).abs() < 0.0045);
    }

    #[test]
    fn normal_has_mean_zero_and_unit_variance() {
        let mut rng = Rng::new(11);
        let n = 100_000;
        let samples: Vec<f64> = (0..n).map(|_| rng.normal() as f64).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let var = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        // Standard errors: 1/sqrt(n) ≈ 0.003 for the mean, sqrt(2/n) ≈ 0.0045 for the variance.
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((var - 1.0).abs() < 0.025, "variance {var}");
    }

    #[test]
    fn bernoulli_and_below_have_the_right_frequencies() {
        let mut rng = Rng::new(3);
        let n = 100_000;
        let heads = (0..n).filter(|_| rng.bernoulli(0.3)).count();
        assert!((heads as f64 / n as f64 - 0.3).abs() < 0.01);
        let mut counts = [0usize; 5];
        for _ in 0..n {
            counts[rng.below(5)] += 1;
        }
        assert!(counts.iter().all(|&c| (c as f64 / n as f64 - 0.2).abs() < 0.01), "{counts:?}");
        assert_eq!(rng.below(0), 0);
    }
}
