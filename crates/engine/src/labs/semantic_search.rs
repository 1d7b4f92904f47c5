//! Chapter 9's semantic search over the book's own paragraphs: every paragraph and the
//! reader's query become MiniLM sentence vectors (mean of the last layer, unit length), and the
//! paragraphs are ranked by cosine to the query.
//!
//! The paragraph vectors ship in `assets/minilm/paragraphs.bin` (written by
//! `cargo xtask data paragraphs`), each under a 64-bit hash of the paragraph's text, so a
//! paragraph edited since the file was written is simply not found there and is encoded again.
//!
//! The file: the magic `PVS1`, the vector width and the count as little-endian u32s, then per
//! paragraph its text hash (u64), a scale (f32) and the vector as signed bytes, value = byte ·
//! scale, the scale being the largest magnitude / 127.

use std::collections::HashMap;

use crate::models::minilm::{unit, MiniLm};
use crate::models::wordpiece::WordPiece;

const MAGIC: &[u8; 4] = b"PVS1";

/// Queries the widget offers: each has a clear home in the book.
pub const SUGGESTED: [&str; 5] = [
    "what does dropout do during training",
    "what is the difference between BERT and GPT",
    "how much memory does the KV cache take",
    "how are words split into tokens",
    "king minus man plus woman",
];

/// FNV-1a, 64 bits, of the text's UTF-8 bytes: the key a paragraph's vector is stored under.
pub fn text_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A text's sentence vector: MiniLM's last layer averaged over the tokens, unit length (the
/// first 256 tokens of a longer text).
pub fn embed(model: &MiniLm, tokenizer: &WordPiece, text: &str) -> Result<Vec<f32>, String> {
    Ok(model.encode(tokenizer, text)?.1.sentence_vector())
}

/// Paragraph vectors by text hash.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VectorFile {
    pub width: usize,
    pub vectors: HashMap<u64, Vec<f32>>,
}

/// `v` as signed bytes and a scale; the bytes times the scale give `v` back to within half a
/// step of the scale.
pub fn quantize(v: &[f32]) -> (f32, Vec<i8>) {
    let max = v.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
    let scale = if max == 0.0 { 1.0 } else { max / 127.0 };
    (scale, v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect())
}

impl VectorFile {
    /// Reads the file; the vectors come back as stored (bytes times scale), not renormalized.
    pub fn from_bytes(bytes: &[u8]) -> Result<VectorFile, String> {
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return Err("not a paragraph vector file".into());
        }
        let u32_at = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let width = u32_at(4) as usize;
        let count = u32_at(8) as usize;
        let entry = 12 + width;
        if width == 0 || bytes.len() != 12 + count * entry {
            return Err(format!(
                "paragraph vector file: {} bytes for {count} vectors of {width}",
                bytes.len()
            ));
        }
        let mut vectors = HashMap::with_capacity(count);
        for e in bytes[12..].chunks_exact(entry) {
            let mut h = [0; 8];
            h.copy_from_slice(&e[..8]);
            let scale = f32::from_le_bytes([e[8], e[9], e[10], e[11]]);
            let v = e[12..].iter().map(|&b| f32::from(b as i8) * scale).collect();
            vectors.insert(u64::from_le_bytes(h), v);
        }
        Ok(VectorFile { width, vectors })
    }

    /// The file's bytes, entries in the order of `entries` (a hash given twice is written once).
    pub fn to_bytes(width: usize, entries: &[(u64, Vec<f32>)]) -> Vec<u8> {
        let mut seen = std::collections::HashSet::new();
        let kept: Vec<&(u64, Vec<f32>)> = entries.iter().filter(|(h, _)| seen.insert(*h)).collect();
        let mut out = Vec::with_capacity(12 + kept.len() * (12 + width));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(width as u32).to_le_bytes());
        out.extend_from_slice(&(kept.len() as u32).to_le_bytes());
        for (h, v) in kept {
            assert_eq!(v.len(), width, "every vector has the file's width");
            let (scale, bytes) = quantize(v);
            out.extend_from_slice(&h.to_le_bytes());
            out.extend_from_slice(&scale.to_le_bytes());
            out.extend(bytes.iter().map(|&b| b as u8));
        }
        out
    }

    /// The stored vector of a paragraph with this text, if the file has it.
    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.vectors.get(&text_hash(text)).map(Vec::as_slice)
    }
}

/// One result: the paragraph's index and its cosine to the query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub paragraph: usize,
    pub cosine: f32,
}

/// The `k` paragraphs closest to the query by cosine, best first (ties: the earlier paragraph).
/// Paragraphs without a vector yet (`None`) are skipped.
pub fn top_k(query: &[f32], paragraphs: &[Option<Vec<f32>>], k: usize) -> Vec<Hit> {
    let q = unit(query);
    let mut hits: Vec<Hit> = paragraphs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_ref().map(|v| (i, v)))
        .map(|(paragraph, v)| Hit { paragraph, cosine: crate::models::minilm::cosine(&q, v) })
        .collect();
    hits.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(a.paragraph.cmp(&b.paragraph)));
    hits.truncate(k);
    hits
}

/// The start of a paragraph for a results list: at most `max_chars` characters, cut at a word
/// boundary, with an ellipsis when cut.
pub fn snippet(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let at = cut.rfind(' ').filter(|&i| i > 0).unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches([',', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn hashes_are_fnv1a() {
        // FNV-1a 64 of "" is its offset basis; of "a", the published test vector.
        assert_eq!(text_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(text_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(text_hash("cosine"), text_hash("cosine "));
    }

    #[test]
    fn files_round_trip_within_a_quantization_step() {
        let a = vec![0.6, -0.8, 0.0];
        let b = vec![0.0, 0.0, 0.0];
        let bytes = VectorFile::to_bytes(3, &[(7, a.clone()), (9, b.clone()), (7, a.clone())]);
        assert_eq!(bytes.len(), 12 + 2 * 15);
        let f = VectorFile::from_bytes(&bytes).expect("valid");
        assert_eq!(f.width, 3);
        let back = &f.vectors[&7];
        for (x, y) in back.iter().zip(&a) {
            assert_close!(*x, *y, 0.8 / 254.0 + 1e-7);
        }
        assert_eq!(f.vectors[&9], b);
        assert!(VectorFile::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(VectorFile::from_bytes(b"PVS0").is_err());
    }

    #[test]
    fn ranking_is_by_cosine_then_order() {
        let paragraphs = vec![
            Some(vec![1.0, 0.0]),
            None,
            Some(vec![0.0, 1.0]),
            Some(vec![1.0, 1.0]),
            Some(vec![2.0, 0.0]),
        ];
        let hits = top_k(&[3.0, 1.0], &paragraphs, 3);
        let order: Vec<usize> = hits.iter().map(|h| h.paragraph).collect();
        assert_eq!(order, [0, 4, 3]);
        assert_close!(hits[0].cosine, 3.0 / 10f32.sqrt(), 1e-6);
        assert_close!(hits[2].cosine, 4.0 / 20f32.sqrt(), 1e-6);
        assert!(top_k(&[1.0, 0.0], &[None], 5).is_empty());
    }

    #[test]
    fn snippets_cut_at_words() {
        assert_eq!(snippet("short text", 40), "short text");
        assert_eq!(snippet("one two, three four", 12), "one two…");
        assert_eq!(snippet("αβγδε", 3), "αβγ…");
    }

    /// The book as it is now and the shipped vector file.
    mod book {
        use super::super::*;
        use crate::assert_close;

        fn root() -> std::path::PathBuf {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
        }

        fn shipped() -> VectorFile {
            let bytes = std::fs::read(root().join("assets/minilm/paragraphs.bin")).expect("the vector file");
            VectorFile::from_bytes(&bytes).expect("valid")
        }

        fn encoder() -> (MiniLm, WordPiece) {
            let dir = root().join("assets/minilm");
            let m = MiniLm::from_bytes(&std::fs::read(dir.join("minilm-l6.bin")).expect("weights"))
                .expect("valid");
            let vocab = std::fs::read_to_string(dir.join("vocab.txt")).expect("vocab");
            (m, WordPiece::from_vocab(&vocab).expect("valid"))
        }

        /// The page encodes any paragraph the file lacks, so a few edits since the file was
        /// written only cost the reader a moment; more than a tenth of the book missing means
        /// the file is stale: `cargo xtask data paragraphs` brings it up to date.
        #[test]
        fn the_vector_file_covers_the_book() {
            let file = shipped();
            assert_eq!(file.width, 384);
            let paragraphs = bookgen::render::book_paragraphs(&root()).expect("the book renders");
            assert!(paragraphs.len() > 500, "{} paragraphs", paragraphs.len());
            let missing: Vec<&str> =
                paragraphs.iter().map(|(_, p)| p.text.as_str()).filter(|t| file.get(t).is_none()).collect();
            eprintln!("{} of {} paragraphs missing from the file", missing.len(), paragraphs.len());
            assert!(
                missing.len() * 10 <= paragraphs.len(),
                "assets/minilm/paragraphs.bin is stale ({} of {} paragraphs changed): run `cargo xtask data paragraphs`; first: {:?}",
                missing.len(),
                paragraphs.len(),
                missing.first()
            );
        }

        /// The numbers chapter 9 quotes. "What does dropout do during training" finds the
        /// paragraph that introduces dropout (cosine 0.722) well ahead of the next (0.584, an
        /// exercise on dropout); "king minus man plus woman" finds the paragraph that reads the
        /// analogy as directions, at only 0.569, less than the dropout query's runner-up. Every
        /// suggested query's best match lies in the chapter it is about.
        #[test]
        fn suggested_queries_find_their_paragraphs() {
            let file = shipped();
            let (m, wp) = encoder();
            let paragraphs = bookgen::render::book_paragraphs(&root()).expect("the book renders");
            // As on the page: a paragraph edited since the file was written is encoded now.
            let vectors: Vec<Option<Vec<f32>>> = paragraphs
                .iter()
                .map(|(_, p)| {
                    Some(
                        file.get(&p.text)
                            .map_or_else(|| embed(&m, &wp, &p.text).expect("encodes"), <[f32]>::to_vec),
                    )
                })
                .collect();
            let search = |q: &str| top_k(&embed(&m, &wp, q).expect("encodes"), &vectors, 5);
            let place = |h: &Hit| {
                let (slug, p) = &paragraphs[h.paragraph];
                format!("{slug}#{}", p.section)
            };
            let dropout = search(SUGGESTED[0]);
            assert_eq!(place(&dropout[0]), "regularization#dropout");
            assert!(paragraphs[dropout[0].paragraph]
                .1
                .text
                .starts_with("Dropout regularizes in a completely different way."));
            assert_close!(dropout[0].cosine, 0.7216, 2e-4);
            assert_eq!(place(&dropout[1]), "regularization#exercise-7-2-dropout-at-p-0-1");
            assert_close!(dropout[1].cosine, 0.5840, 2e-4);
            // Every paragraph's cosine to the dropout query: the median paragraph 0.09, nine in
            // ten below 0.23 (loose, as the prose around them changes).
            let q = embed(&m, &wp, SUGGESTED[0]).expect("encodes");
            let mut all: Vec<f32> =
                vectors.iter().flatten().map(|v| crate::models::minilm::cosine(&q, v)).collect();
            all.sort_by(f32::total_cmp);
            let percentile = |p: usize| all[(all.len() - 1) * p / 100];
            assert_close!(percentile(50), 0.094, 0.01);
            assert_close!(percentile(90), 0.235, 0.01);
            let king = search(SUGGESTED[4]);
            assert_eq!(place(&king[0]), "embeddings#word-arithmetic");
            assert_close!(king[0].cosine, 0.5687, 2e-4);
            let chapters = ["regularization", "bert-vs-gpt", "inference", "training-pipeline", "embeddings"];
            for (q, chapter) in SUGGESTED.iter().zip(chapters) {
                let best = search(q)[0];
                assert_eq!(paragraphs[best.paragraph].0, chapter, "{q}");
            }
        }
    }
}
