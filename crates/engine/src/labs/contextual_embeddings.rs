//! Chapter 9's contextual embeddings: one word's vectors in several sentences, from MiniLM's
//! hidden states at a chosen layer, and the sentences' own embeddings.
//!
//! A word cut into several WordPiece pieces gets the mean of its pieces' vectors.

use crate::models::minilm::{cosine, HiddenStates};
use crate::models::wordpiece::{normalize, split_words, Encoding};

/// The four sentences the widget starts with: two river banks, two money banks.
pub const BANKS: [&str; 4] = [
    "I sat on the bank of the river and watched the water.",
    "The river bank was muddy after the rain.",
    "She deposited her paycheck at the bank on Monday.",
    "The bank raised its interest rates again.",
];

/// One occurrence of the word: which sentence, which word of it, and its vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    pub sentence: usize,
    /// The word's position among the sentence's words (punctuation counts as a word).
    pub word: usize,
    pub vector: Vec<f32>,
}

/// The word as the tokenizer sees it (lower-case, accents stripped), if `typed` is one word.
pub fn normalized_word(typed: &str) -> Result<String, String> {
    let words = split_words(&normalize(typed));
    match words.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("Type a word.".into()),
        _ => Err("One word only (no spaces or punctuation).".into()),
    }
}

/// Every occurrence of `word` (already normalised) in the encoded sentences, with its vector at
/// `layer` (0 = the embedding layer's output).
pub fn uses(sentences: &[(Encoding, HiddenStates)], word: &str, layer: usize) -> Vec<Use> {
    let mut out = Vec::new();
    for (s, (enc, states)) in sentences.iter().enumerate() {
        let layer = layer.min(states.states.len() - 1);
        for (w, text) in enc.words.iter().enumerate() {
            if text != word {
                continue;
            }
            let mut vector = vec![0.0; states.hidden];
            let mut pieces = 0;
            for (t, _) in enc.word.iter().enumerate().filter(|(_, of)| **of == Some(w)) {
                for (v, x) in vector.iter_mut().zip(states.token(layer, t)) {
                    *v += x;
                }
                pieces += 1;
            }
            if pieces > 0 {
                for v in &mut vector {
                    *v /= pieces as f32;
                }
                out.push(Use { sentence: s, word: w, vector });
            }
        }
    }
    out
}

/// All pairwise cosines, `[i][j]`.
pub fn cosine_matrix(vectors: &[Vec<f32>]) -> Vec<Vec<f32>> {
    vectors.iter().map(|a| vectors.iter().map(|b| cosine(a, b)).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;
    use crate::models::minilm::MiniLm;
    use crate::models::wordpiece::WordPiece;

    fn encoded() -> Vec<(Encoding, HiddenStates)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/minilm/");
        let m = MiniLm::from_bytes(&std::fs::read(format!("{dir}minilm-l6.bin")).expect("weights"))
            .expect("valid");
        let wp = WordPiece::from_vocab(&std::fs::read_to_string(format!("{dir}vocab.txt")).expect("vocab"))
            .expect("valid");
        BANKS.iter().map(|s| m.encode(&wp, s).expect("encodes")).collect()
    }

    #[test]
    fn typed_words() {
        assert_eq!(normalized_word(" Bánk ").as_deref(), Ok("bank"));
        assert!(normalized_word("").is_err());
        assert!(normalized_word("river bank").is_err());
        assert!(normalized_word("bank.").is_err());
    }

    /// The numbers chapter 9 quotes: at layer 0 every "bank" is nearly the same vector (only the
    /// position differs); at the last layer the river banks and the money banks pull apart.
    #[test]
    fn bank_in_two_senses() {
        let e = encoded();
        let at =
            |layer| cosine_matrix(&uses(&e, "bank", layer).into_iter().map(|u| u.vector).collect::<Vec<_>>());
        let first = at(0);
        let last = at(6);
        assert_eq!(last.len(), 4);
        let off_diagonal = |m: &[Vec<f32>]| {
            let mut v: Vec<f32> =
                (0..4).flat_map(|i| (i + 1..4).map(move |j| (i, j))).map(|(i, j)| m[i][j]).collect();
            v.sort_by(f32::total_cmp);
            v
        };
        // Layer 0: the same lookup plus a position embedding, so every pair is between 0.945 and 0.987.
        assert_close!(off_diagonal(&first)[0], 0.9454, 2e-4);
        assert_close!(off_diagonal(&first)[5], 0.9868, 2e-4);
        // Layer 6: the two river banks 0.889, the two money banks 0.839; across senses 0.769 to 0.810.
        assert_close!(last[0][1], 0.8889, 2e-4);
        assert_close!(last[2][3], 0.8386, 2e-4);
        let across = [last[0][2], last[0][3], last[1][2], last[1][3]];
        assert_close!(across.iter().copied().fold(f32::INFINITY, f32::min), 0.7687, 2e-4);
        assert_close!(across.iter().copied().fold(f32::NEG_INFINITY, f32::max), 0.8099, 2e-4);
        let sentences = cosine_matrix(&e.iter().map(|(_, s)| s.sentence_vector()).collect::<Vec<_>>());
        // The two river sentences are the closest pair of sentences: 0.501.
        assert_close!(sentences[0][1], 0.5010, 2e-4);
        assert_close!(off_diagonal(&sentences)[5], 0.5010, 2e-4);
    }
}
