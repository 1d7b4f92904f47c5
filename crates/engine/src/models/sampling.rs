//! Chapter 5: turning logits into a next token.
//!
//! The pipeline most libraries apply, in order: divide the logits by the temperature and take
//! the softmax; keep only the k most probable tokens (top-k); of those, keep the smallest set
//! whose probability reaches p (top-p, the nucleus); renormalize what is kept; draw.
//! Probabilities are f64 here: the page shows them to four decimals and checks they sum to 1.

use crate::core::rng::Rng;

/// Every stage of the pipeline for one set of logits.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    /// softmax(logits / T).
    pub tempered: Vec<f64>,
    /// Whether each token survives top-k and then top-p.
    pub kept: Vec<bool>,
    /// The distribution actually sampled from: tempered, zero outside the kept set, renormalized.
    pub final_probs: Vec<f64>,
}

impl Distribution {
    /// How many tokens survive top-k and top-p.
    pub fn kept_count(&self) -> usize {
        self.kept.iter().filter(|&&k| k).count()
    }

    /// Σp of the distribution sampled from: 1, up to rounding.
    pub fn total(&self) -> f64 {
        self.final_probs.iter().sum()
    }

    /// The sampled probability held by the tokens not in `shown`.
    pub fn mass_outside(&self, shown: &[usize]) -> f64 {
        (0..self.final_probs.len()).filter(|i| !shown.contains(i)).map(|i| self.final_probs[i]).sum()
    }

    /// The `n` most probable tokens after temperature (ties to the lower id), in vocabulary
    /// order; every token when there are at most `n`.
    pub fn most_probable(&self, n: usize) -> Vec<usize> {
        let tempered = &self.tempered;
        if tempered.len() <= n {
            return (0..tempered.len()).collect();
        }
        let mut order: Vec<usize> = (0..tempered.len()).collect();
        order.sort_by(|&a, &b| tempered[b].total_cmp(&tempered[a]).then(a.cmp(&b)));
        order.truncate(n);
        order.sort_unstable();
        order
    }
}

/// softmax(z / T), computed stably (the largest logit is subtracted first).
pub fn softmax_with_temperature(logits: &[f64], temperature: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = logits.iter().map(|z| libm::exp((z - max) / temperature)).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

/// Token indices from most to least probable (ties keep the lower index first).
pub fn ranked(probs: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    order
}

/// The k most probable tokens.
pub fn top_k(probs: &[f64], k: usize) -> Vec<bool> {
    let mut kept = vec![false; probs.len()];
    for &i in ranked(probs).iter().take(k.max(1)) {
        kept[i] = true;
    }
    kept
}

/// The smallest set of most-probable tokens whose total probability is at least p.
pub fn top_p(probs: &[f64], p: f64) -> Vec<bool> {
    let mut kept = vec![false; probs.len()];
    let mut total = 0.0;
    for i in ranked(probs) {
        kept[i] = true;
        total += probs[i];
        // A tiny allowance so that p = 1 keeps every token despite rounding in the sum.
        if total >= p - 1e-12 {
            break;
        }
    }
    kept
}

/// `probs` restricted to `kept` and rescaled to sum to 1.
pub fn renormalize(probs: &[f64], kept: &[bool]) -> Vec<f64> {
    let total: f64 = probs.iter().zip(kept).filter(|(_, &k)| k).map(|(p, _)| p).sum();
    probs.iter().zip(kept).map(|(p, &k)| if k && total > 0.0 { p / total } else { 0.0 }).collect()
}

/// The whole pipeline: temperature, then top-k, then top-p on what top-k kept.
pub fn distribution(logits: &[f64], temperature: f64, k: usize, p: f64) -> Distribution {
    let tempered = softmax_with_temperature(logits, temperature);
    let after_k = top_k(&tempered, k);
    let renormalized_k = renormalize(&tempered, &after_k);
    let after_p = top_p(&renormalized_k, p);
    let kept: Vec<bool> = after_k.iter().zip(&after_p).map(|(a, b)| *a && *b).collect();
    let final_probs = renormalize(&tempered, &kept);
    Distribution { tempered, kept, final_probs }
}

/// Shannon entropy in nats.
pub fn entropy(probs: &[f64]) -> f64 {
    probs.iter().filter(|&&p| p > 0.0).map(|&p| -p * libm::log(p)).sum()
}

/// Draws one token index from `probs` by inverting the cumulative distribution.
pub fn sample(probs: &[f64], rng: &mut Rng) -> usize {
    let u = rng.uniform() as f64;
    let mut total = 0.0;
    let mut last_possible = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            last_possible = i;
        }
        total += p;
        if u < total {
            return i;
        }
    }
    last_possible
}

/// How often each token comes up in `draws` samples from `probs`, from a seeded generator.
pub fn histogram(probs: &[f64], draws: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut counts = vec![0; probs.len()];
    for _ in 0..draws {
        counts[sample(probs, &mut rng)] += 1;
    }
    counts
}

/// Each token's share of the draws a [`histogram`] counted.
pub fn shares(counts: &[usize], draws: usize) -> Vec<f64> {
    counts.iter().map(|&c| c as f64 / draws as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_bench_reports_about_a_distribution() {
        let d = distribution(&SEED_LOGITS, 1.0, 2, 1.0);
        assert_eq!(d.kept_count(), 2);
        assert!((d.total() - 1.0).abs() < 1e-12);
        assert_eq!(d.mass_outside(&[0, 1, 2]), 0.0);
        assert_eq!(d.mass_outside(&[1, 2]), d.final_probs[0]);
        assert_eq!(shares(&[3, 1], 4), vec![0.75, 0.25]);
    }

    #[test]
    fn many_tokens_show_the_most_probable_in_order() {
        let few =
            Distribution { tempered: vec![0.2, 0.5, 0.3], kept: vec![true; 3], final_probs: vec![0.0; 3] };
        assert_eq!(few.most_probable(24), vec![0, 1, 2]);
        let mut p = vec![0.001; 73];
        p[70] = 0.5;
        p[3] = 0.2;
        let many = Distribution { tempered: p, kept: vec![true; 73], final_probs: vec![0.0; 73] };
        let shown = many.most_probable(24);
        assert_eq!(shown.len(), 24);
        assert!(shown.contains(&70) && shown.contains(&3));
        assert!(shown.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(shown[..3], [0, 1, 2], "ties go to the lower ids");
    }

    const SEED_LOGITS: [f64; 3] = [2.0, 1.0, 0.5];

    fn close(a: &[f64], b: &[f64], tol: f64) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
        }
    }

    /// The chapter's true values for the seed's logits (the seed printed rows that assume
    /// more tokens).
    #[test]
    fn temperatures_on_the_seed_logits() {
        close(&softmax_with_temperature(&SEED_LOGITS, 1.0), &[0.6285, 0.2312, 0.1402], 5e-5);
        close(&softmax_with_temperature(&SEED_LOGITS, 0.5), &[0.8438, 0.1142, 0.0420], 5e-5);
        close(&softmax_with_temperature(&SEED_LOGITS, 2.0), &[0.4810, 0.2918, 0.2272], 5e-5);
        assert!((entropy(&softmax_with_temperature(&SEED_LOGITS, 1.0)) - 0.9060).abs() < 5e-5);
    }

    #[test]
    fn top_k_and_top_p_keep_the_right_sets() {
        let d = distribution(&SEED_LOGITS, 1.0, 2, 1.0);
        assert_eq!(d.kept, vec![true, true, false]);
        close(&d.final_probs, &[0.7311, 0.2689, 0.0], 5e-5);
        assert_eq!(distribution(&SEED_LOGITS, 1.0, 3, 0.8).kept, vec![true, true, false]);
        assert_eq!(distribution(&SEED_LOGITS, 1.0, 3, 0.9).kept, vec![true, true, true]);
        assert_eq!(distribution(&SEED_LOGITS, 0.5, 3, 0.8).kept, vec![true, false, false]);
        // The nucleus is the smallest set reaching p: dropping its least likely member falls short.
        let d = distribution(&[3.0, 2.5, 2.0, 1.0, 0.0, -1.0], 1.0, 6, 0.75);
        let kept_mass: f64 = d.tempered.iter().zip(&d.kept).filter(|(_, &k)| k).map(|(p, _)| p).sum();
        let smallest_kept =
            d.tempered.iter().zip(&d.kept).filter(|(_, &k)| k).map(|(p, _)| *p).fold(1.0, f64::min);
        assert!(kept_mass >= 0.75 && kept_mass - smallest_kept < 0.75);
    }

    #[test]
    fn final_probabilities_sum_to_one_at_extremes() {
        for t in [0.01, 0.3, 1.0, 5.0, 100.0] {
            for k in [1, 2, 3] {
                for p in [0.05, 0.5, 1.0] {
                    let d = distribution(&[1000.0, -1000.0, 3.0], t, k, p);
                    assert!((d.final_probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                    assert!(d.final_probs.iter().all(|p| p.is_finite()));
                }
            }
        }
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let probs = softmax_with_temperature(&SEED_LOGITS, 1.0);
        let counts = histogram(&probs, 20_000, 7);
        assert_eq!(counts.iter().sum::<usize>(), 20_000);
        for (c, p) in counts.iter().zip(&probs) {
            // Binomial standard deviation is at most sqrt(20000 * 0.25) ≈ 71: allow 5 of them.
            assert!((*c as f64 - 20_000.0 * p).abs() < 355.0, "{counts:?}");
        }
        assert_eq!(histogram(&[0.0, 1.0, 0.0], 100, 1), vec![0, 100, 0]);
        assert_eq!(histogram(&probs, 1000, 3), histogram(&probs, 1000, 3), "seeded");
    }
}

/// The shape of a key-value cache, for chapter 5's memory calculator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KvCacheShape {
    pub layers: u64,
    /// Heads that keep their own keys and values (all heads without grouped-query attention).
    pub kv_heads: u64,
    pub head_dim: u64,
    /// Tokens of context held in the cache.
    pub context: u64,
    pub bytes_per_value: f64,
    pub batch: u64,
}

impl KvCacheShape {
    /// Bytes per cached token: a key and a value vector per KV head per layer.
    pub fn bytes_per_token(&self) -> f64 {
        2.0 * (self.layers * self.kv_heads * self.head_dim) as f64 * self.bytes_per_value
    }

    /// Bytes for the whole cache: every token of every sequence in the batch.
    pub fn total_bytes(&self) -> f64 {
        self.bytes_per_token() * (self.context * self.batch) as f64
    }
}

#[cfg(test)]
mod kv_tests {
    use super::*;

    /// The chapter's 70B example: 80 layers, 8 KV heads of 128, fp16, 131,072 tokens.
    #[test]
    fn the_70b_example() {
        let gqa = KvCacheShape {
            layers: 80,
            kv_heads: 8,
            head_dim: 128,
            context: 131_072,
            bytes_per_value: 2.0,
            batch: 1,
        };
        assert_eq!(gqa.bytes_per_token(), 327_680.0);
        assert_eq!(gqa.total_bytes(), 42_949_672_960.0); // 40 GiB
        let mha = KvCacheShape { kv_heads: 64, ..gqa };
        assert_eq!(mha.total_bytes(), 343_597_383_680.0); // 320 GiB
    }
}
