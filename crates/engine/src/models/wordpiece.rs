//! BERT's tokenizer: clean and normalise the text, split it into words and punctuation, then cut
//! each word greedily into the longest pieces of a fixed vocabulary (WordPiece).
//!
//! The steps, as the uncased BERT models (MiniLM among them) were trained with:
//! 1. drop control characters, turn every kind of white space into a space;
//! 2. put spaces around CJK ideographs, so each becomes a word of its own;
//! 3. lower-case, and strip accents (decompose to NFD, drop the combining marks);
//! 4. split on white space, and make every punctuation character a word of its own;
//! 5. WordPiece: from the start of a word, take the longest vocabulary entry that matches; the
//!    rest of the word continues with entries spelled `##…`. A word with any part that matches
//!    nothing, or longer than 100 characters, becomes the single token `[UNK]`;
//! 6. wrap the pieces in `[CLS]` … `[SEP]`.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Words longer than this many characters are not split: they become `[UNK]`.
pub const MAX_WORD_CHARS: usize = 100;

/// A WordPiece vocabulary: line i of `vocab.txt` is the piece with id i.
#[derive(Clone, Debug)]
pub struct WordPiece {
    pieces: Vec<String>,
    ids: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
}

/// A text cut into pieces: `ids[i]` is the vocabulary id of `pieces[i]`, and `word[i]` the
/// index in `words` of the word it came from (`None` for `[CLS]` and `[SEP]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub pieces: Vec<String>,
    pub word: Vec<Option<usize>>,
    /// The words after normalisation (lower-case, accents stripped), in order.
    pub words: Vec<String>,
    /// Whether pieces were dropped to fit the length limit.
    pub truncated: bool,
}

impl WordPiece {
    /// Reads a vocabulary, one piece a line.
    pub fn from_vocab(text: &str) -> Result<WordPiece, String> {
        let pieces: Vec<String> = text.lines().map(str::to_string).collect();
        let mut ids = HashMap::with_capacity(pieces.len());
        for (i, p) in pieces.iter().enumerate() {
            let id = u32::try_from(i).map_err(|_| "vocabulary too large".to_string())?;
            ids.entry(p.clone()).or_insert(id);
        }
        let special = |name: &str| ids.get(name).copied().ok_or_else(|| format!("vocabulary lacks {name}"));
        let (unk, cls, sep) = (special("[UNK]")?, special("[CLS]")?, special("[SEP]")?);
        Ok(WordPiece { pieces, ids, unk, cls, sep })
    }

    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The piece with this id (empty for an id outside the vocabulary).
    pub fn piece(&self, id: u32) -> &str {
        self.pieces.get(id as usize).map_or("", String::as_str)
    }

    /// Cuts `text` into at most `max_len` pieces, `[CLS]` and `[SEP]` included (at least 2);
    /// pieces past the limit are dropped, as BERT's tokenizer truncates.
    pub fn encode(&self, text: &str, max_len: usize) -> Encoding {
        let words = split_words(&normalize(text));
        let mut enc = Encoding {
            ids: vec![self.cls],
            pieces: vec!["[CLS]".to_string()],
            word: vec![None],
            words: Vec::new(),
            truncated: false,
        };
        let room = max_len.max(2) - 2;
        'words: for word in words {
            let index = enc.words.len();
            for id in self.word_pieces(&word) {
                if enc.ids.len() - 1 == room {
                    enc.truncated = true;
                    break 'words;
                }
                enc.ids.push(id);
                enc.pieces.push(self.piece(id).to_string());
                enc.word.push(Some(index));
            }
            enc.words.push(word);
        }
        enc.ids.push(self.sep);
        enc.pieces.push("[SEP]".to_string());
        enc.word.push(None);
        enc
    }

    /// Greedy longest-match-first WordPiece of one normalised word.
    pub fn word_pieces(&self, word: &str) -> Vec<u32> {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > MAX_WORD_CHARS {
            return vec![self.unk];
        }
        let mut out = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let from = chars[start].0;
            let mut end = chars.len();
            let mut found = None;
            while end > start {
                let to = chars.get(end).map_or(word.len(), |c| c.0);
                let candidate =
                    if start == 0 { word[from..to].to_string() } else { format!("##{}", &word[from..to]) };
                if let Some(&id) = self.ids.get(&candidate) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            let Some(id) = found else { return vec![self.unk] };
            out.push(id);
            start = end;
        }
        out
    }
}

/// Steps 1 to 3: clean, space out CJK ideographs, lower-case and strip accents.
pub fn normalize(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            spaced.push(' ');
        } else if is_cjk(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    spaced
        .nfd()
        .filter(|&c| c.general_category() != GeneralCategory::NonspacingMark)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Step 4: split on white space, every punctuation character a word of its own.
pub fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_whitespace() || is_punctuation(c) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            if is_punctuation(c) {
                words.push(c.to_string());
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r') || c.general_category() == GeneralCategory::SpaceSeparator
}

fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    )
}

/// ASCII's non-alphanumeric printable characters (so `$`, `+`, `^` count), and Unicode's P*.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.general_category_group() == GeneralCategoryGroup::Punctuation
}

/// The CJK Unified Ideographs blocks (not Hangul, not kana: those are split like other letters).
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> WordPiece {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/minilm/vocab.txt");
        WordPiece::from_vocab(&std::fs::read_to_string(path).expect("the shipped vocabulary")).expect("valid")
    }

    /// (sentence, ids) pairs from reference.txt, written by Hugging Face `tokenizers`.
    pub(crate) fn reference_ids() -> Vec<(String, Vec<u32>)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/minilm/reference.txt");
        let text = std::fs::read_to_string(path).expect("the reference file");
        let mut out = Vec::new();
        let mut sentence = None;
        for line in text.lines() {
            if let Some(s) = line.strip_prefix("sentence ") {
                sentence = Some(s.to_string());
            } else if let Some(ids) = line.strip_prefix("ids ") {
                let ids = ids.split(' ').map(|x| x.parse().expect("an id")).collect();
                out.push((sentence.take().expect("a sentence first"), ids));
            }
        }
        out
    }

    #[test]
    fn ids_match_the_reference_tokenizer() {
        let wp = vocab();
        let reference = reference_ids();
        assert_eq!(reference.len(), 9);
        for (sentence, ids) in reference {
            assert_eq!(wp.encode(&sentence, 256).ids, ids, "{sentence}");
        }
    }

    #[test]
    fn normalises_accents_case_cjk_and_punctuation() {
        assert_eq!(normalize("Café CRÈME"), "cafe creme");
        assert_eq!(
            split_words(&normalize("I visited 東京 ($1,200)!")),
            ["i", "visited", "東", "京", "(", "$", "1", ",", "200", ")", "!"]
        );
        let wp = vocab();
        let enc = wp.encode("Unbelievably, the BANK.", 256);
        assert_eq!(
            enc.pieces,
            ["[CLS]", "un", "##bel", "##ie", "##va", "##bly", ",", "the", "bank", ".", "[SEP]"]
        );
        assert_eq!(
            enc.word,
            [None, Some(0), Some(0), Some(0), Some(0), Some(0), Some(1), Some(2), Some(3), Some(4), None]
        );
        assert_eq!(enc.words, ["unbelievably", ",", "the", "bank", "."]);
    }

    #[test]
    fn unknown_long_and_truncated_words() {
        let wp = vocab();
        assert_eq!(wp.word_pieces(&"a".repeat(101)), [wp.unk]);
        assert_eq!(wp.word_pieces("\u{2603}"), [wp.unk]);
        let enc = wp.encode("one two three four", 4);
        assert_eq!(enc.pieces, ["[CLS]", "one", "two", "[SEP]"]);
        assert!(enc.truncated);
        assert_eq!(wp.encode("", 256).pieces, ["[CLS]", "[SEP]"]);
    }
}
