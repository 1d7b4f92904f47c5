//! GPT-2's tokenizer: byte-level BPE over a rank file, after GPT-2's pre-tokenization.
//!
//! Text is first cut into pieces by the pattern GPT-2 uses (contractions, runs of letters,
//! of digits, of other symbols, each with at most one leading space, and runs of white
//! space). Each piece is then encoded on its own: it starts as its UTF-8 bytes, and the
//! adjacent pair whose joined bytes have the lowest rank in the vocabulary is merged, again
//! and again, until no adjacent pair is in the vocabulary. A token's id is its rank. Every
//! byte is a token of its own, so any string can be encoded.
//!
//! The ranks come from a `.tiktoken` file: one token per line, its bytes in base64, a space,
//! its rank. The page fetches that file (about 800 KB) only when the reader asks for it.

use std::collections::HashMap;

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// A byte-level BPE vocabulary: token bytes and their ranks.
#[derive(Clone, Debug)]
pub struct ByteBpe {
    ranks: HashMap<Vec<u8>, u32>,
    tokens: Vec<Vec<u8>>,
}

/// The value of one base64 digit.
fn base64_digit(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some((c - b'A') as u32),
        b'a'..=b'z' => Some((c - b'a') as u32 + 26),
        b'0'..=b'9' => Some((c - b'0') as u32 + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes standard base64 (with `=` padding).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=').as_bytes();
    let mut bytes = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for &c in digits {
        buffer = (buffer << 6) | base64_digit(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(bytes)
}

impl ByteBpe {
    /// Reads a `.tiktoken` rank file; the error names the first bad line.
    pub fn from_tiktoken(file: &str) -> Result<ByteBpe, String> {
        let mut ranks = HashMap::new();
        let mut tokens: Vec<Vec<u8>> = Vec::new();
        for (i, line) in file.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = || format!("line {}: expected base64 bytes, a space and a rank", i + 1);
            let (token, rank) = line.split_once(' ').ok_or_else(bad)?;
            let token = base64_decode(token).ok_or_else(bad)?;
            let rank: u32 = rank.trim().parse().map_err(|_| bad())?;
            if rank as usize >= tokens.len() {
                tokens.resize(rank as usize + 1, Vec::new());
            }
            tokens[rank as usize] = token.clone();
            ranks.insert(token, rank);
        }
        if (0..=255u8).any(|b| !ranks.contains_key(&vec![b])) {
            return Err("the rank file does not give every single byte a token".into());
        }
        Ok(ByteBpe { ranks, tokens })
    }

    /// How many tokens the vocabulary has.
    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    /// True for a vocabulary without tokens (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }

    /// The bytes of token `id` (empty for an id the file did not use).
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        self.tokens.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// The token ids of `text`, as GPT-2 encodes it (special tokens are ordinary text here).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        pre_tokenize(text).into_iter().flat_map(|piece| self.encode_piece(piece.as_bytes())).collect()
    }

    /// The bytes the ids stand for, joined.
    pub fn decode(&self, ids: &[u32]) -> Vec<u8> {
        ids.iter().flat_map(|&id| self.token_bytes(id).iter().copied()).collect()
    }

    /// One piece: start from its bytes and merge the lowest-ranked adjacent pair until no
    /// pair is in the vocabulary.
    fn encode_piece(&self, piece: &[u8]) -> Vec<u32> {
        if let Some(&rank) = self.ranks.get(piece) {
            return vec![rank];
        }
        // Boundaries between parts: part k is piece[bounds[k]..bounds[k + 1]].
        let mut bounds: Vec<usize> = (0..=piece.len()).collect();
        loop {
            let best = (0..bounds.len().saturating_sub(2))
                .filter_map(|k| self.ranks.get(&piece[bounds[k]..bounds[k + 2]]).map(|&rank| (rank, k)))
                .min();
            let Some((_, k)) = best else { break };
            bounds.remove(k + 1);
        }
        bounds.windows(2).map(|w| self.ranks[&piece[w[0]..w[1]]]).collect()
    }
}

fn is_letter(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Letter
}

fn is_number(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Number
}

/// Neither white space, nor a letter, nor a number: punctuation, symbols, marks, emoji.
fn is_other(c: char) -> bool {
    !c.is_whitespace() && !is_letter(c) && !is_number(c)
}

/// Cuts text into the pieces GPT-2 encodes separately. The same as matching the pattern
/// `'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+$|\s+(?!\S)|\s` again and
/// again, written out so that each alternative reads on its own.
pub fn pre_tokenize(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let run = |from: usize, class: fn(char) -> bool| {
        let mut to = from;
        while char_at(to).is_some_and(class) {
            to += 1;
        }
        to
    };
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let end = match_at(i, char_at, run);
        pieces.push(&text[byte_at(i)..byte_at(end)]);
        i = end;
    }
    pieces
}

/// Where the piece starting at char `i` ends (in chars).
fn match_at(
    i: usize,
    char_at: impl Fn(usize) -> Option<char>,
    run: impl Fn(usize, fn(char) -> bool) -> usize,
) -> usize {
    let c = char_at(i).unwrap_or(' ');
    // 1. A contraction: 's 'd 'm 't 'll 've 're.
    if c == '\'' {
        match (char_at(i + 1), char_at(i + 2)) {
            (Some('s' | 'd' | 'm' | 't'), _) => return i + 2,
            (Some('l'), Some('l')) | (Some('v'), Some('e')) | (Some('r'), Some('e')) => return i + 3,
            _ => {}
        }
    }
    // 2-4. An optional single space, then a run of letters, of numbers or of other symbols.
    let after_space = if c == ' ' { i + 1 } else { i };
    for class in [is_letter as fn(char) -> bool, is_number, is_other] {
        let end = run(after_space, class);
        if end > after_space {
            return end;
        }
    }
    // 5-7. White space: all of it at the end of the text; otherwise all but the last
    // character before the next word (which takes that one as its leading space); or one.
    let end = run(i, char::is_whitespace);
    if char_at(end).is_none() || end - i == 1 {
        end
    } else {
        end - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpt2() -> ByteBpe {
        ByteBpe::from_tiktoken(include_str!("../../../../assets/gpt2/r50k_base.tiktoken")).unwrap()
    }

    /// Our ids against tiktoken-rs's for the same text.
    fn check(ours: &ByteBpe, theirs: &tiktoken_rs::CoreBPE, text: &str) {
        let expected: Vec<u32> = theirs.encode_ordinary(text);
        let got = ours.encode(text);
        assert_eq!(got, expected, "{text:?}");
        assert_eq!(ours.decode(&got), text.as_bytes());
    }

    #[test]
    fn the_rank_file_is_gpt2s() {
        let bpe = gpt2();
        assert_eq!(bpe.len(), 50_256);
        assert_eq!(bpe.token_bytes(0), b"!");
        assert_eq!(bpe.token_bytes(198), b"\n");
        assert_eq!(bpe.token_bytes(220), b" ");
        assert_eq!(bpe.token_bytes(99_999), b"");
        assert!(ByteBpe::from_tiktoken("IQ== zero").unwrap_err().contains("line 1"));
        assert!(ByteBpe::from_tiktoken("IQ== 0").unwrap_err().contains("every single byte"));
    }

    #[test]
    fn pieces_follow_gpt2s_pattern() {
        assert_eq!(pre_tokenize("Hello world"), ["Hello", " world"]);
        assert_eq!(pre_tokenize("I'll don't"), ["I", "'ll", " don", "'t"]);
        assert_eq!(pre_tokenize("a  b"), ["a", " ", " b"]);
        assert_eq!(pre_tokenize("a\n\nb  "), ["a", "\n", "\n", "b", "  "]);
        assert_eq!(pre_tokenize("x 123!!"), ["x", " 123", "!!"]);
        assert!(pre_tokenize("").is_empty());
    }

    #[test]
    fn identical_ids_to_tiktoken_on_edge_cases() {
        let ours = gpt2();
        let theirs = tiktoken_rs::r50k_base().unwrap();
        for text in [
            "",
            " ",
            "   leading and trailing   ",
            "tabs\tand\nnewlines\r\n\n  indented",
            "Digits 0123456789 and 3.14159, 1,000,000",
            "I'm sure you've seen it: they'll say we're done, and she'd agree. 'tis O'Brien's",
            "Café naïve résumé Ångström; e\u{301} combining",
            "Emoji 🙂👍🏽 and flags 🇫🇷, ZWJ 👩‍💻",
            "中文字符和日本語のテキスト, 한국어",
            "Ⅻ roman numeral, ½ fraction, ² superscript",
            "<|endoftext|> is text here",
            "!!!??? ... --- *** ''' \"\"\"",
            "\u{00A0}no-break\u{2003}em space\u{3000}ideographic",
        ] {
            check(&ours, &theirs, text);
        }
    }

    #[test]
    fn identical_ids_to_tiktoken_on_the_whole_shakespeare_text() {
        let ours = gpt2();
        let theirs = tiktoken_rs::r50k_base().unwrap();
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        // Line by line keeps a failure readable; the whole text once checks the joins.
        for line in text.lines().take(4000) {
            check(&ours, &theirs, line);
        }
        check(&ours, &theirs, text);
    }
}
