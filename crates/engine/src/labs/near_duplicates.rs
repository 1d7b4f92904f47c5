//! Chapter 4's near-duplicate search: documents as sets of word shingles, their exact
//! Jaccard similarity, MinHash signatures that estimate it, and locality-sensitive hashing
//! with b bands of r rows that finds the similar pairs without comparing every pair.

use std::collections::{BTreeSet, HashMap};

use crate::core::rng::Rng;

/// A document as the set of its shingles (runs of `k` consecutive words), each hashed to
/// 64 bits. A document shorter than `k` words is one shingle of all its words.
pub fn shingles(text: &str, k: usize) -> BTreeSet<u64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return BTreeSet::new();
    }
    let k = k.clamp(1, words.len());
    words.windows(k).map(|w| fnv1a(&w.join(" "))).collect()
}

/// FNV-1a, a small fixed hash: the same shingle hashes the same on every platform.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// |A ∩ B| / |A ∪ B|; 0 for two empty sets.
pub fn jaccard(a: &BTreeSet<u64>, b: &BTreeSet<u64>) -> f64 {
    let shared = a.intersection(b).count();
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// The Mersenne prime 2^61 − 1: the hash functions work modulo it.
const PRIME: u64 = (1 << 61) - 1;

/// A family of `n` random hash functions h(x) = (a·x + c) mod p, drawn from a seed.
#[derive(Clone, Debug)]
pub struct MinHasher {
    coefficients: Vec<(u64, u64)>,
}

impl MinHasher {
    /// `n` hash functions from `seed`.
    pub fn new(n: usize, seed: u64) -> MinHasher {
        let mut rng = Rng::new(seed);
        let coefficients =
            (0..n).map(|_| (1 + rng.next_u64() % (PRIME - 1), rng.next_u64() % PRIME)).collect();
        MinHasher { coefficients }
    }

    /// The signature: for each hash function, the smallest hash of any shingle. An empty set
    /// gets all-maximal values, which match only another empty set.
    pub fn signature(&self, shingles: &BTreeSet<u64>) -> Vec<u64> {
        self.coefficients
            .iter()
            .map(|&(a, c)| {
                shingles
                    .iter()
                    .map(|&x| ((a as u128 * (x % PRIME) as u128 + c as u128) % PRIME as u128) as u64)
                    .min()
                    .unwrap_or(u64::MAX)
            })
            .collect()
    }
}

/// The fraction of positions where two signatures agree: MinHash's estimate of Jaccard.
pub fn estimate(a: &[u64], b: &[u64]) -> f64 {
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count();
    agree as f64 / a.len().max(1) as f64
}

/// The chance that two documents of similarity `s` share at least one of `bands` bands of
/// `rows` values each: 1 − (1 − s^r)^b.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

/// The pairs (i < j) that share at least one whole band of their signatures.
pub fn candidate_pairs(signatures: &[Vec<u64>], bands: usize, rows: usize) -> BTreeSet<(usize, usize)> {
    let mut pairs = BTreeSet::new();
    for band in 0..bands {
        let mut buckets: HashMap<&[u64], Vec<usize>> = HashMap::new();
        for (doc, signature) in signatures.iter().enumerate() {
            if let Some(key) = signature.get(band * rows..(band + 1) * rows) {
                buckets.entry(key).or_default().push(doc);
            }
        }
        for docs in buckets.values() {
            for (k, &i) in docs.iter().enumerate() {
                for &j in &docs[k + 1..] {
                    pairs.insert((i.min(j), i.max(j)));
                }
            }
        }
    }
    pairs
}

/// How well the candidates match the pairs whose exact Jaccard is at least `threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchQuality {
    /// Pairs at or above the threshold.
    pub similar: usize,
    /// Pairs the banding proposed.
    pub candidates: usize,
    /// Candidates that are similar.
    pub found: usize,
    /// found / candidates (1 when there are no candidates).
    pub precision: f64,
    /// found / similar (1 when no pair is similar).
    pub recall: f64,
}

/// Compares LSH candidates with exact Jaccard over every pair of `documents`.
pub fn search_quality(
    documents: &[BTreeSet<u64>],
    candidates: &BTreeSet<(usize, usize)>,
    threshold: f64,
) -> SearchQuality {
    let mut similar = 0;
    let mut found = 0;
    for i in 0..documents.len() {
        for j in i + 1..documents.len() {
            if jaccard(&documents[i], &documents[j]) >= threshold {
                similar += 1;
                found += usize::from(candidates.contains(&(i, j)));
            }
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    SearchQuality {
        similar,
        candidates: candidates.len(),
        found,
        precision: ratio(found, candidates.len()),
        recall: ratio(found, similar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chapters_banding_table() {
        // b = 20 bands of r = 5, printed to the chapter's digits.
        let at = |s| candidate_probability(s, 20, 5);
        assert_eq!(format!("{:.4}", at(0.9)), "1.0000");
        assert_eq!(format!("{:.4}", at(0.8)), "0.9996");
        assert_eq!(format!("{:.3}", at(0.5)), "0.470");
        assert_eq!(format!("{:.3}", at(0.3)), "0.047");
    }

    #[test]
    fn jaccard_of_shingle_sets() {
        let a = shingles("the cat sat on the mat", 2);
        let b = shingles("the cat sat on a mat", 2);
        // Pairs: {the cat, cat sat, sat on, on the, the mat} and {the cat, cat sat, sat on,
        // on a, a mat}: 3 shared of 7.
        assert_eq!(a.len(), 5);
        assert_eq!(jaccard(&a, &b), 3.0 / 7.0);
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(jaccard(&shingles("", 3), &shingles("  ", 3)), 0.0);
        assert_eq!(shingles("two words", 5).len(), 1);
    }

    #[test]
    fn signatures_estimate_jaccard() {
        let text_a = "to be or not to be that is the question whether tis nobler in the mind to suffer \
                      the slings and arrows of outrageous fortune or to take arms against a sea of troubles";
        let text_b = "to be or not to be that is the question whether tis nobler in the mind to bear \
                      the slings and arrows of outrageous fortune or to take arms against a sea of troubles";
        let (a, b) = (shingles(text_a, 3), shingles(text_b, 3));
        let exact = jaccard(&a, &b);
        let hasher = MinHasher::new(400, 7);
        let estimated = estimate(&hasher.signature(&a), &hasher.signature(&b));
        // 400 hashes: the estimate's standard deviation is about √(J(1−J)/400) ≈ 0.02.
        assert!((estimated - exact).abs() < 0.08, "{estimated} vs {exact}");
        assert_eq!(estimate(&hasher.signature(&a), &hasher.signature(&a)), 1.0);
    }

    #[test]
    fn banding_finds_near_copies_among_the_tragedies_speeches() {
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        // Passages of 40 words, and a lightly edited copy of every tenth one.
        let words: Vec<&str> = text.split_whitespace().take(40 * 120).collect();
        let mut passages: Vec<String> = words.chunks(40).map(|c| c.join(" ")).collect();
        let copies: Vec<String> = passages
            .iter()
            .step_by(10)
            .map(|p| {
                let mut w: Vec<&str> = p.split(' ').collect();
                w[20] = "indeed";
                w.join(" ")
            })
            .collect();
        passages.extend(copies);
        let documents: Vec<BTreeSet<u64>> = passages.iter().map(|p| shingles(p, 3)).collect();
        let hasher = MinHasher::new(100, 3);
        let signatures: Vec<Vec<u64>> = documents.iter().map(|d| hasher.signature(d)).collect();
        let candidates = candidate_pairs(&signatures, 20, 5);
        let quality = search_quality(&documents, &candidates, 0.7);
        // One edited word removes 3 of 38 shingles and adds 3: J = 35/41 ≈ 0.85, where the
        // curve gives 0.99+, so every copy is found; unrelated passages are almost never
        // proposed.
        assert_eq!(quality.similar, 12);
        assert_eq!(quality.found, 12);
        assert_eq!(quality.recall, 1.0);
        assert!(quality.precision > 0.9, "{quality:?}");
    }
}
