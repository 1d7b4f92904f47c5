//! Word vectors and the geometry chapter 9 does with them: nearest neighbours, analogies,
//! maps, and a bias direction with the repairs proposed for it.
//!
//! The vectors are GloVe's (50 dimensions), reduced to the 20,000 most frequent lowercase
//! words by `cargo xtask data glove`. Only directions matter here, so every vector is kept at
//! unit length and the cosine of two words is their dot product.

use std::collections::HashMap;

use crate::core::linalg::pca;
use crate::core::rng::Rng;
use crate::core::tensor::Tensor;

/// A vocabulary of unit-length word vectors.
#[derive(Clone, Debug)]
pub struct WordVectors {
    words: Vec<String>,
    index: HashMap<String, usize>,
    dim: usize,
    /// Row i is word i's vector, scaled to unit length: `[words × dim]`, row-major.
    unit: Vec<f32>,
}

/// One word found near a query, with its cosine to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour {
    pub id: usize,
    pub cosine: f32,
}

impl WordVectors {
    /// Builds a vocabulary from words and their vectors (any length but zero).
    pub fn from_rows(words: Vec<String>, rows: &[Vec<f32>]) -> Result<WordVectors, String> {
        let dim = rows.first().map_or(0, Vec::len);
        if words.len() != rows.len() || dim == 0 || rows.iter().any(|r| r.len() != dim) {
            return Err("every word needs one vector, all of the same nonzero length".into());
        }
        let mut unit = Vec::with_capacity(rows.len() * dim);
        for (word, row) in words.iter().zip(rows) {
            let length = norm(row);
            if !(length > 0.0 && length.is_finite()) {
                return Err(format!("the vector for \u{201c}{word}\u{201d} has no direction"));
            }
            unit.extend(row.iter().map(|v| v / length));
        }
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();
        Ok(WordVectors { words, index, dim, unit })
    }

    /// Reads the shipped file: `GLV1`, word count, dimension, the newline-joined words, then
    /// one signed byte per entry (see xtask/glove.py).
    pub fn from_bytes(bytes: &[u8]) -> Result<WordVectors, String> {
        let damaged = |what: &str| format!("the word-vector file is damaged ({what})");
        if bytes.get(..4) != Some(b"GLV1".as_slice()) {
            return Err(damaged("it does not start with GLV1"));
        }
        let read_u32 = |at: usize| -> Result<usize, String> {
            let field = bytes.get(at..at + 4).ok_or_else(|| damaged("its header is cut short"))?;
            Ok(u32::from_le_bytes([field[0], field[1], field[2], field[3]]) as usize)
        };
        let (count, dim, listing_len) = (read_u32(4)?, read_u32(8)?, read_u32(12)?);
        let listing = bytes.get(16..16 + listing_len).ok_or_else(|| damaged("its word list is cut short"))?;
        let listing = std::str::from_utf8(listing).map_err(|_| damaged("its word list is not UTF-8"))?;
        let words: Vec<String> = listing.split('\n').map(str::to_string).collect();
        let entries = &bytes[16 + listing_len..];
        if words.len() != count || dim == 0 || entries.len() != count * dim {
            return Err(damaged("its sizes do not agree"));
        }
        let rows: Vec<Vec<f32>> =
            entries.chunks(dim).map(|row| row.iter().map(|&b| b as i8 as f32).collect()).collect();
        WordVectors::from_rows(words, &rows)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn word(&self, id: usize) -> &str {
        &self.words[id]
    }

    /// The id of `word`, or a sentence saying it is not in the vocabulary.
    pub fn id(&self, word: &str) -> Result<usize, String> {
        let key = word.trim().to_lowercase();
        if key.is_empty() {
            return Err("type a word".into());
        }
        self.index.get(&key).copied().ok_or_else(|| {
            format!("\u{201c}{key}\u{201d} is not among the {} words these vectors cover", self.len())
        })
    }

    /// Word `id`'s unit vector.
    pub fn unit(&self, id: usize) -> &[f32] {
        &self.unit[id * self.dim..(id + 1) * self.dim]
    }

    /// The `k` words with the largest cosine to `query`, leaving out the ids in `skip`.
    pub fn nearest(&self, query: &[f32], k: usize, skip: &[usize]) -> Vec<Neighbour> {
        let length = norm(query);
        if length == 0.0 || !length.is_finite() {
            return Vec::new();
        }
        let mut best: Vec<Neighbour> = Vec::with_capacity(k + 1);
        for (id, row) in self.unit.chunks(self.dim).enumerate() {
            if skip.contains(&id) {
                continue;
            }
            let cosine = dot(row, query) / length;
            // Keep the best k seen so far, sorted; most words do not beat the last of them.
            if best.len() < k || best.last().is_some_and(|worst| cosine > worst.cosine) {
                let at = best.partition_point(|n| n.cosine >= cosine);
                best.insert(at, Neighbour { id, cosine });
                best.truncate(k);
            }
        }
        best
    }

    /// a − b + c: "b is to a as c is to ?", e.g. king − man + woman.
    pub fn analogy(&self, a: usize, b: usize, c: usize) -> Vec<f32> {
        let (a, b, c) = (self.unit(a), self.unit(b), self.unit(c));
        (0..self.dim).map(|i| a[i] - b[i] + c[i]).collect()
    }

    /// The `k` nearest words to a − b + c, with the three input words left out or kept in.
    pub fn solve(&self, [a, b, c]: [usize; 3], k: usize, exclude_inputs: bool) -> Vec<Neighbour> {
        let skip = if exclude_inputs { vec![a, b, c] } else { Vec::new() };
        self.nearest(&self.analogy(a, b, c), k, &skip)
    }
}

/// The cosine of the angle between two vectors (0 if either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let lengths = norm(a) * norm(b);
    if lengths > 0.0 {
        dot(a, b) / lengths
    } else {
        0.0
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(v: &[f32]) -> f32 {
    libm::sqrtf(dot(v, v))
}

fn unit_length(mut v: Vec<f32>) -> Vec<f32> {
    let length = norm(&v);
    if length > 0.0 {
        v.iter_mut().for_each(|x| *x /= length);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The analogy test set

/// One category of analogy questions, each "a is to b as c is to d" as four word ids.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalogyCategory {
    pub name: String,
    pub questions: Vec<[usize; 4]>,
}

/// Reads word2vec's question format: `: category` lines, then `a b c d` lines. Questions with a
/// word outside the vocabulary are skipped.
pub fn analogy_questions(text: &str, vectors: &WordVectors) -> Vec<AnalogyCategory> {
    let mut categories: Vec<AnalogyCategory> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix(':') {
            categories.push(AnalogyCategory { name: name.trim().to_string(), questions: Vec::new() });
            continue;
        }
        let ids: Vec<usize> = line.split_whitespace().filter_map(|w| vectors.id(w).ok()).collect();
        if let (Some(category), Ok(four)) = (categories.last_mut(), <[usize; 4]>::try_from(ids)) {
            category.questions.push(four);
        }
    }
    categories
}

/// How one category went: answered right with the inputs left out, answered right with them
/// kept in, and how often the nearest word of all was one of the three inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnalogyScore {
    pub asked: usize,
    pub right_excluding_inputs: usize,
    pub right_including_inputs: usize,
    pub nearest_is_an_input: usize,
}

impl AnalogyScore {
    /// Scores question `[a, b, c, d]` as "a is to b as c is to d": the answer should be the
    /// nearest word to b − a + c.
    pub fn add(&mut self, vectors: &WordVectors, [a, b, c, d]: [usize; 4]) {
        let ranked = vectors.nearest(&vectors.analogy(b, a, c), 4, &[]);
        let inputs = [a, b, c];
        let nearest = ranked.first().map(|n| n.id);
        let nearest_other = ranked.iter().map(|n| n.id).find(|id| !inputs.contains(id));
        self.asked += 1;
        self.right_including_inputs += usize::from(nearest == Some(d));
        self.right_excluding_inputs += usize::from(nearest_other == Some(d));
        self.nearest_is_an_input += usize::from(nearest.is_some_and(|id| inputs.contains(&id)));
    }

    /// The three counts as fractions of the questions asked: right with the inputs left out,
    /// right with them kept in, and nearest word an input.
    pub fn rates(&self) -> [f32; 3] {
        let share = |n: usize| if self.asked == 0 { 0.0 } else { n as f32 / self.asked as f32 };
        [
            share(self.right_excluding_inputs),
            share(self.right_including_inputs),
            share(self.nearest_is_an_input),
        ]
    }

    /// Several categories' scores added together.
    pub fn combined(scores: &[AnalogyScore]) -> AnalogyScore {
        scores.iter().fold(AnalogyScore::default(), |total, s| AnalogyScore {
            asked: total.asked + s.asked,
            right_excluding_inputs: total.right_excluding_inputs + s.right_excluding_inputs,
            right_including_inputs: total.right_including_inputs + s.right_including_inputs,
            nearest_is_an_input: total.nearest_is_an_input + s.nearest_is_an_input,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Maps and axes

/// The chosen words' positions on their first two principal components (`[n, 2]`).
pub fn map_2d(vectors: &WordVectors, ids: &[usize]) -> Result<Vec<[f32; 2]>, String> {
    if ids.len() < 3 {
        return Err("a map needs at least three words".into());
    }
    let rows: Vec<Vec<f32>> = ids.iter().map(|&id| vectors.unit(id).to_vec()).collect();
    let points = Tensor::from_rows(&rows).map_err(|e| e.to_string())?;
    let fit = pca(&points).map_err(|e| e.to_string())?;
    let projected = fit.project(&points).map_err(|e| e.to_string())?;
    Ok(projected.row_slices().map(|row| [row[0], row.get(1).copied().unwrap_or(0.0)]).collect())
}

/// A direction defined by word pairs, such as (he, she) or (good, bad): the mean of the
/// differences first − second, at unit length.
pub fn pair_axis(vectors: &WordVectors, pairs: &[(usize, usize)]) -> Vec<f32> {
    let mut sum = vec![0.0; vectors.dim()];
    for &(first, second) in pairs {
        for ((s, x), y) in sum.iter_mut().zip(vectors.unit(first)).zip(vectors.unit(second)) {
            *s += x - y;
        }
    }
    unit_length(sum)
}

/// Where word `id` falls along a unit `axis`: its cosine with it.
pub fn along(vectors: &WordVectors, id: usize, axis: &[f32]) -> f32 {
    dot(vectors.unit(id), axis)
}

// ---------------------------------------------------------------------------------------------
// A bias direction and the attempts to remove it (Bolukbasi et al., 2016)

/// The definitional pairs chapter 9 starts from, first word on the positive side.
pub const GENDER_PAIRS: [(&str, &str); 8] = [
    ("he", "she"),
    ("man", "woman"),
    ("his", "her"),
    ("himself", "herself"),
    ("boy", "girl"),
    ("father", "mother"),
    ("son", "daughter"),
    ("brother", "sister"),
];

/// A direction found from definitional pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct BiasDirection {
    /// Unit length, pointing from the second word of the first pair toward the first.
    pub direction: Vec<f32>,
    /// The share of the pairs' variance along each principal component, largest first.
    pub explained: Vec<f32>,
}

/// Bolukbasi et al.'s direction: center each pair on its own midpoint, stack the centered
/// vectors, and take their first principal component.
pub fn bias_direction(vectors: &WordVectors, pairs: &[(usize, usize)]) -> Result<BiasDirection, String> {
    if pairs.len() < 2 {
        return Err("a direction needs at least two pairs".into());
    }
    let mut rows = Vec::with_capacity(2 * pairs.len());
    for &(a, b) in pairs {
        let (a, b) = (vectors.unit(a), vectors.unit(b));
        rows.push(a.iter().zip(b).map(|(x, y)| (x - y) / 2.0).collect::<Vec<f32>>());
        rows.push(a.iter().zip(b).map(|(x, y)| (y - x) / 2.0).collect::<Vec<f32>>());
    }
    let points = Tensor::from_rows(&rows).map_err(|e| e.to_string())?;
    let fit = pca(&points).map_err(|e| e.to_string())?;
    let mut direction = fit.components.row_slices().next().map(<[f32]>::to_vec).unwrap_or_default();
    if dot(&rows[0], &direction) < 0.0 {
        direction.iter_mut().for_each(|x| *x = -*x);
    }
    Ok(BiasDirection { direction, explained: fit.explained_variance_ratio })
}

/// Neutralize: remove the component along unit direction `g`, then rescale to unit length.
pub fn neutralize(v: &[f32], g: &[f32]) -> Vec<f32> {
    let along_g = dot(v, g);
    unit_length(v.iter().zip(g).map(|(x, gi)| x - along_g * gi).collect())
}

/// Equalize a pair such as (grandfather, grandmother): both get the same component off `g`
/// (their midpoint's) and equal and opposite components along it, so every neutralized word
/// is equally far from the two. Both stay at unit length.
pub fn equalize(a: &[f32], b: &[f32], g: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mid: Vec<f32> = a.iter().zip(b).map(|(x, y)| (x + y) / 2.0).collect();
    let mid_along = dot(&mid, g);
    let off_axis: Vec<f32> = mid.iter().zip(g).map(|(m, gi)| m - mid_along * gi).collect();
    let height = libm::sqrtf((1.0 - dot(&off_axis, &off_axis)).max(0.0));
    let place = |v: &[f32]| -> Vec<f32> {
        let side = if dot(v, g) >= mid_along { height } else { -height };
        off_axis.iter().zip(g).map(|(o, gi)| o + side * gi).collect()
    };
    (place(a), place(b))
}

/// Gonen and Goldberg's check that neutralizing hides a bias without removing it.
#[derive(Clone, Debug, PartialEq)]
pub struct LeanCheck {
    /// How many words each way were taken: the most strongly leaning along the direction.
    pub per_side: usize,
    /// A linear classifier's held-out accuracy at telling the two sides apart from the
    /// original vectors, and from the neutralized ones.
    pub classifier_before: f32,
    pub classifier_after: f32,
    /// The share of each word's ten nearest neighbours (among the chosen words) that lean the
    /// same way as it did originally, before and after neutralizing.
    pub neighbours_before: f32,
    pub neighbours_after: f32,
}

/// Takes the `per_side` words that lean most strongly each way along `g` (skipping `exclude`,
/// the definitional words), neutralizes them all, and asks how much of the original lean a
/// classifier and the neighbourhoods still reveal. The split into training and held-out words
/// is drawn from `seed`.
pub fn lean_check(
    vectors: &WordVectors,
    g: &[f32],
    per_side: usize,
    exclude: &[usize],
    seed: u64,
) -> Result<LeanCheck, String> {
    let mut by_lean: Vec<(f32, usize)> =
        (0..vectors.len()).filter(|id| !exclude.contains(id)).map(|id| (along(vectors, id, g), id)).collect();
    if per_side == 0 || 2 * per_side + 20 > by_lean.len() {
        return Err(format!("choose between 1 and {} words per side", by_lean.len().saturating_sub(20) / 2));
    }
    by_lean.sort_by(|x, y| y.0.total_cmp(&x.0));
    let chosen: Vec<(usize, bool)> = by_lean[..per_side]
        .iter()
        .map(|&(_, id)| (id, true))
        .chain(by_lean[by_lean.len() - per_side..].iter().map(|&(_, id)| (id, false)))
        .collect();
    let labels: Vec<bool> = chosen.iter().map(|&(_, positive)| positive).collect();
    let before: Vec<Vec<f32>> = chosen.iter().map(|&(id, _)| vectors.unit(id).to_vec()).collect();
    let after: Vec<Vec<f32>> = before.iter().map(|v| neutralize(v, g)).collect();

    let mut order: Vec<usize> = (0..chosen.len()).collect();
    let mut rng = Rng::new(seed);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let (train, test) = order.split_at(order.len() * 4 / 5);
    Ok(LeanCheck {
        per_side,
        classifier_before: held_out_accuracy(&before, &labels, train, test),
        classifier_after: held_out_accuracy(&after, &labels, train, test),
        neighbours_before: neighbours_agreeing(&before, &labels, 10),
        neighbours_after: neighbours_agreeing(&after, &labels, 10),
    })
}

/// Trains logistic regression on the `train` rows (full-batch gradient descent) and returns
/// its accuracy on the `test` rows.
fn held_out_accuracy(xs: &[Vec<f32>], labels: &[bool], train: &[usize], test: &[usize]) -> f32 {
    let dim = xs[0].len();
    let (mut w, mut b) = (vec![0.0f32; dim], 0.0f32);
    let learning_rate = 2.0;
    for _ in 0..300 {
        let (mut grad_w, mut grad_b) = (vec![0.0f32; dim], 0.0f32);
        for &i in train {
            let p = 1.0 / (1.0 + libm::expf(-(dot(&w, &xs[i]) + b)));
            let error = p - f32::from(u8::from(labels[i]));
            grad_w.iter_mut().zip(&xs[i]).for_each(|(g, x)| *g += error * x / train.len() as f32);
            grad_b += error / train.len() as f32;
        }
        w.iter_mut().zip(&grad_w).for_each(|(wi, g)| *wi -= learning_rate * g);
        b -= learning_rate * grad_b;
    }
    let right = test.iter().filter(|&&i| (dot(&w, &xs[i]) + b > 0.0) == labels[i]).count();
    right as f32 / test.len() as f32
}

/// The mean share of each row's `k` nearest rows (by cosine) that carry its label.
fn neighbours_agreeing(xs: &[Vec<f32>], labels: &[bool], k: usize) -> f32 {
    let mut total = 0.0;
    for (i, x) in xs.iter().enumerate() {
        let mut others: Vec<(f32, usize)> =
            xs.iter().enumerate().filter(|&(j, _)| j != i).map(|(j, y)| (dot(x, y), j)).collect();
        others.sort_by(|p, q| q.0.total_cmp(&p.0));
        let agreeing = others.iter().take(k).filter(|&&(_, j)| labels[j] == labels[i]).count();
        total += agreeing as f32 / k as f32;
    }
    total / xs.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    fn glove() -> WordVectors {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/glove/glove-50d-20k.bin");
        WordVectors::from_bytes(&std::fs::read(path).expect("the shipped vectors")).expect("a valid file")
    }

    fn ids(vectors: &WordVectors, words: &[&str]) -> Vec<usize> {
        words.iter().map(|w| vectors.id(w).expect("a known word")).collect()
    }

    fn toy() -> WordVectors {
        let words = ["king", "queen", "man", "woman", "apple"].map(String::from).to_vec();
        // Axis 0: royalty, axis 1: gender (+ male), axis 2: fruit.
        let rows = [[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 1.0, 0.1], [0.0, -1.0, 0.1], [0.0, 0.0, 1.0]];
        WordVectors::from_rows(words, &rows.map(|r| r.to_vec())).unwrap()
    }

    #[test]
    fn nearest_words_are_ranked_by_cosine_and_skip_what_they_are_told() {
        let v = toy();
        let q = v.unit(0).to_vec();
        let all = v.nearest(&q, 5, &[]);
        assert_eq!(all.iter().map(|n| n.id).collect::<Vec<_>>()[..2], [0, 2]);
        assert_close!(all[0].cosine, 1.0, 1e-6);
        // cos(king, man) = (1·0 + 1·1 + 0·0.1) / (√2 · √1.01) = 0.70360.
        assert_close!(all[1].cosine, 1.0 / (2.0f32.sqrt() * 1.01f32.sqrt()), 1e-6);
        assert_eq!(v.nearest(&q, 2, &[0])[0].id, 2);
        assert!(v.nearest(&[0.0, 0.0, 0.0], 3, &[]).is_empty());
    }

    #[test]
    fn king_minus_man_plus_woman_is_queen_in_the_toy() {
        let v = toy();
        let [king, queen, man, woman] = [0, 1, 2, 3];
        assert_eq!(v.solve([king, man, woman], 1, true)[0].id, queen);
        let mut score = AnalogyScore::default();
        score.add(&v, [man, king, woman, queen]);
        assert_eq!(score.right_excluding_inputs, 1);
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        assert!(WordVectors::from_bytes(b"").unwrap_err().contains("GLV1"));
        assert!(WordVectors::from_bytes(b"GLV1\x01\x00").unwrap_err().contains("header"));
        let mut short = b"GLV1".to_vec();
        for n in [1u32, 2, 1] {
            short.extend(n.to_le_bytes());
        }
        short.extend(b"a\x05");
        assert!(WordVectors::from_bytes(&short).unwrap_err().contains("sizes"));
        short.push(7);
        assert_eq!(WordVectors::from_bytes(&short).unwrap().len(), 1);
        assert!(glove().id("qwertyzz").unwrap_err().contains("not among the 20000"));
        assert!(glove().id("  ").is_err());
    }

    #[test]
    fn glove_solves_the_famous_analogies() {
        let v = glove();
        assert_eq!((v.len(), v.dim()), (20_000, 50));
        for (a, b, c, want) in [
            ("king", "man", "woman", "queen"),
            ("paris", "france", "italy", "rome"),
            ("berlin", "germany", "japan", "tokyo"),
            ("better", "good", "bad", "worse"),
        ] {
            let [a, b, c] = <[usize; 3]>::try_from(ids(&v, &[a, b, c])).unwrap();
            assert_eq!(v.word(v.solve([a, b, c], 1, true)[0].id), want);
        }
        // With the inputs kept in, the nearest word to king − man + woman is king itself.
        let q = <[usize; 3]>::try_from(ids(&v, &["king", "man", "woman"])).unwrap();
        let kept = v.solve(q, 2, false);
        assert_eq!([v.word(kept[0].id), v.word(kept[1].id)], ["king", "queen"]);
        assert_close!(kept[1].cosine, 0.8530, 5e-4);
    }

    #[test]
    fn the_family_questions_score_as_pinned() {
        let v = glove();
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/glove/analogies.txt"))
                .unwrap();
        let categories = analogy_questions(&text, &v);
        assert_eq!(categories.len(), 14);
        assert_eq!(categories.iter().map(|c| c.questions.len()).sum::<usize>(), 12_403);
        let family = categories.iter().find(|c| c.name == "family").unwrap();
        let mut score = AnalogyScore::default();
        family.questions.iter().for_each(|&q| score.add(&v, q));
        assert_eq!(score.asked, 306);
        assert_eq!(
            (score.right_excluding_inputs, score.right_including_inputs, score.nearest_is_an_input),
            (251, 176, 107)
        );
        let rates = AnalogyScore::combined(&[score, score]).rates();
        assert_close!(rates[0], 251.0 / 306.0, 1e-6);
        assert_eq!(AnalogyScore::default().rates(), [0.0; 3]);
    }

    #[test]
    fn neighbours_and_the_bias_numbers_chapter_9_quotes() {
        let v = glove();
        let frog = v.id("frog").unwrap();
        let near: Vec<&str> = v.nearest(v.unit(frog), 10, &[frog]).iter().map(|n| v.word(n.id)).collect();
        assert_eq!(
            near,
            ["snake", "monkey", "spider", "lizard", "orchid", "cat", "snakes", "rabbit", "frogs", "turtle"]
        );
        let pairs: Vec<(usize, usize)> =
            GENDER_PAIRS.iter().map(|&(a, b)| (v.id(a).unwrap(), v.id(b).unwrap())).collect();
        let found = bias_direction(&v, &pairs).unwrap();
        assert_close!(found.explained[0], 0.8148, 1e-4);
        assert_close!(found.explained[1], 0.0634, 1e-4);
        let g = &found.direction;
        for (word, coordinate) in
            [("nurse", -0.290), ("nanny", -0.264), ("captain", 0.445), ("secretary", 0.270)]
        {
            assert_close!(along(&v, v.id(word).unwrap(), g), coordinate, 5e-4);
        }
        // Equalizing grandfather and grandmother around a neutralized "doctor".
        let doctor = neutralize(v.unit(v.id("doctor").unwrap()), g);
        let (a, b) = (v.id("grandfather").unwrap(), v.id("grandmother").unwrap());
        assert_close!(cosine(v.unit(a), &doctor), 0.552, 5e-4);
        assert_close!(cosine(v.unit(b), &doctor), 0.634, 5e-4);
        let (a2, b2) = equalize(v.unit(a), v.unit(b), g);
        assert_close!(cosine(&a2, &doctor), 0.5927, 1e-4);
        assert_close!(cosine(&b2, &doctor), cosine(&a2, &doctor), 1e-6);
    }

    #[test]
    fn neutralize_and_equalize_do_what_they_promise() {
        let g = [0.0, 1.0, 0.0];
        let nurse = neutralize(&[0.6, -0.8, 0.0], &g);
        assert_eq!(nurse, vec![1.0, 0.0, 0.0]);
        let s = 0.5f32.sqrt();
        let (a, b) = equalize(&[0.6, 0.8, 0.0], &[s, -s, 0.0], &g);
        assert_close!(norm(&a), 1.0, 1e-6);
        assert_close!(norm(&b), 1.0, 1e-6);
        assert_close!(dot(&a, &g), -dot(&b, &g), 1e-6);
        // Every neutral word is now equally far from the two.
        let neutral = neutralize(&[0.3, 0.5, 0.8], &g);
        assert_close!(dot(&a, &neutral), dot(&b, &neutral), 1e-6);
        assert_close!(cosine(&[3.0, 4.0], &[4.0, 3.0]), 0.96, 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn gender_direction_and_what_neutralizing_leaves_behind() {
        let v = glove();
        let pairs: Vec<(usize, usize)> =
            GENDER_PAIRS.iter().map(|&(a, b)| (v.id(a).unwrap(), v.id(b).unwrap())).collect();
        let found = bias_direction(&v, &pairs).unwrap();
        assert!(found.explained[0] > 0.5, "{:?}", found.explained);
        assert!(
            along(&v, v.id("he").unwrap(), &found.direction)
                > along(&v, v.id("she").unwrap(), &found.direction)
        );
        let definitional: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        let check = lean_check(&v, &found.direction, 500, &definitional, 1).unwrap();
        // Neutralized, the words have no component along the direction, yet a linear classifier
        // still tells the two sides apart 78.5% of the time, and seven in eight neighbours still
        // lean the same way.
        assert_eq!((check.classifier_before, check.classifier_after), (1.0, 0.785));
        assert_close!(check.neighbours_before, 0.9965, 1e-4);
        assert_close!(check.neighbours_after, 0.8720, 1e-4);
    }
}
