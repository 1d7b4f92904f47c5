//! Byte pair encoding (Sennrich et al., 2016), trained merge by merge.
//!
//! The corpus is split on whitespace into words; each distinct word is kept once with the
//! number of times it occurs, as a list of symbols that starts as its characters (plus an
//! end-of-word marker if asked). A merge takes the most frequent adjacent pair of symbols,
//! weighted by word counts, and joins it everywhere into a new symbol.
//!
//! The pair counts are kept up to date incrementally: a merge only touches the words that
//! contain the merged pair (an index from each pair to its words says which), subtracting
//! their old pairs and adding their new ones. The corpus is never recounted, so a merge on a
//! large text costs about as much as the words it changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The end-of-word marker, a symbol of its own after each word's last character.
pub const END_OF_WORD: &str = "</w>";

/// How to choose between pairs with the same count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieBreak {
    /// The pair met first when reading the distinct words in order of first appearance, each
    /// from left to right.
    FirstMet,
    /// The pair whose left symbol, then right symbol, comes first alphabetically.
    Alphabetical,
}

/// A trainer's two choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BpeConfig {
    /// Add [`END_OF_WORD`] after every word, so a symbol can only end where a word ends.
    pub end_of_word: bool,
    /// How to choose among tied pairs.
    pub tie_break: TieBreak,
}

type Pair = (u32, u32);

/// One distinct word of the corpus.
#[derive(Clone, Debug)]
struct Word {
    symbols: Vec<u32>,
    count: usize,
}

/// A pair and its weighted count, as the pair-count table shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairCount {
    /// The left symbol's text.
    pub left: String,
    /// The right symbol's text.
    pub right: String,
    /// Occurrences, each word weighted by how often it occurs.
    pub count: usize,
}

/// One merge, as it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    /// The left symbol.
    pub left: String,
    /// The right symbol.
    pub right: String,
    /// The new symbol, left and right joined.
    pub merged: String,
    /// The winning pair's count.
    pub count: usize,
    /// The other pairs that had the same count, in tie-break order.
    pub tied_with: Vec<(String, String)>,
}

/// A piece of an encoded word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A symbol of the vocabulary.
    Symbol(String),
    /// One UTF-8 byte of a character the vocabulary has never seen.
    Byte(u8),
}

/// A BPE trainer over one corpus, a merge at a time.
#[derive(Clone, Debug)]
pub struct BpeTrainer {
    config: BpeConfig,
    /// Symbol id to text. Ids below `base_size` are the base alphabet.
    symbols: Vec<String>,
    ids: HashMap<String, u32>,
    base_size: usize,
    /// Distinct words in order of first appearance.
    words: Vec<Word>,
    /// Weighted count of every adjacent pair present.
    pair_counts: BTreeMap<Pair, usize>,
    /// The words each pair occurs in.
    pair_words: HashMap<Pair, BTreeSet<usize>>,
    merges: Vec<Merge>,
    /// Symbols in the whole corpus (each word's symbols times its count), after each merge;
    /// the first entry is before any merge.
    token_totals: Vec<usize>,
    /// Characters in the corpus's words (whitespace and end-of-word markers not counted).
    characters: usize,
}

impl BpeTrainer {
    /// Splits the corpus into words of single characters and counts every pair. An empty
    /// corpus gives a trainer with nothing to merge.
    pub fn new(corpus: &str, config: BpeConfig) -> BpeTrainer {
        let mut trainer = BpeTrainer {
            config,
            symbols: Vec::new(),
            ids: HashMap::new(),
            base_size: 0,
            words: Vec::new(),
            pair_counts: BTreeMap::new(),
            pair_words: HashMap::new(),
            merges: Vec::new(),
            token_totals: Vec::new(),
            characters: 0,
        };
        let mut word_index: HashMap<&str, usize> = HashMap::new();
        for text in corpus.split_whitespace() {
            trainer.characters += text.chars().count();
            if let Some(&i) = word_index.get(text) {
                trainer.words[i].count += 1;
                continue;
            }
            let mut symbols: Vec<u32> = text.chars().map(|c| trainer.intern(&c.to_string())).collect();
            if config.end_of_word {
                symbols.push(trainer.intern(END_OF_WORD));
            }
            word_index.insert(text, trainer.words.len());
            trainer.words.push(Word { symbols, count: 1 });
        }
        trainer.base_size = trainer.symbols.len();
        for i in 0..trainer.words.len() {
            trainer.add_pairs(i);
        }
        trainer.token_totals.push(trainer.words.iter().map(|w| w.symbols.len() * w.count).sum());
        trainer
    }

    fn intern(&mut self, text: &str) -> u32 {
        intern(&mut self.symbols, &mut self.ids, text)
    }

    fn add_pairs(&mut self, word: usize) {
        let Word { symbols, count } = &self.words[word];
        for pair in symbols.windows(2).map(|w| (w[0], w[1])) {
            *self.pair_counts.entry(pair).or_insert(0) += count;
            self.pair_words.entry(pair).or_default().insert(word);
        }
    }

    fn remove_pairs(&mut self, word: usize) {
        let Word { symbols, count } = &self.words[word];
        for pair in symbols.windows(2).map(|w| (w[0], w[1])) {
            if let Some(n) = self.pair_counts.get_mut(&pair) {
                *n -= count;
                if *n == 0 {
                    self.pair_counts.remove(&pair);
                    self.pair_words.remove(&pair);
                }
            }
        }
    }

    /// Where a pair is first met: (word index, position in the word).
    fn first_met(&self, pair: Pair) -> (usize, usize) {
        let words = &self.pair_words[&pair];
        for &i in words {
            if let Some(at) = self.words[i].symbols.windows(2).position(|w| (w[0], w[1]) == pair) {
                return (i, at);
            }
        }
        (usize::MAX, usize::MAX)
    }

    /// Orders tied pairs by the trainer's tie-break rule.
    fn sort_ties(&self, pairs: &mut [Pair]) {
        match self.config.tie_break {
            // Finding where a pair is first met scans words, so each pair is looked up once.
            TieBreak::FirstMet => pairs.sort_by_cached_key(|&p| self.first_met(p)),
            TieBreak::Alphabetical => pairs.sort_by(|&(a, b), &(c, d)| {
                (&self.symbols[a as usize], &self.symbols[b as usize])
                    .cmp(&(&self.symbols[c as usize], &self.symbols[d as usize]))
            }),
        }
    }

    /// The pairs with the highest count, in tie-break order (the first one wins).
    fn best_pairs(&self) -> Vec<Pair> {
        let Some(&top) = self.pair_counts.values().max() else { return Vec::new() };
        let mut tied: Vec<Pair> =
            self.pair_counts.iter().filter(|(_, &n)| n == top).map(|(&p, _)| p).collect();
        self.sort_ties(&mut tied);
        tied
    }

    fn text_pair(&self, (a, b): Pair) -> (String, String) {
        (self.symbols[a as usize].clone(), self.symbols[b as usize].clone())
    }

    /// The `limit` most frequent pairs, highest count first and ties in tie-break order.
    pub fn pair_table(&self, limit: usize) -> Vec<PairCount> {
        let mut by_count: BTreeMap<std::cmp::Reverse<usize>, Vec<Pair>> = BTreeMap::new();
        for (&pair, &count) in &self.pair_counts {
            by_count.entry(std::cmp::Reverse(count)).or_default().push(pair);
        }
        let mut table = Vec::new();
        for (std::cmp::Reverse(count), mut pairs) in by_count {
            self.sort_ties(&mut pairs);
            for pair in pairs {
                if table.len() == limit {
                    return table;
                }
                let (left, right) = self.text_pair(pair);
                table.push(PairCount { left, right, count });
            }
        }
        table
    }

    /// Makes one merge; None when no pair is left (every word is one symbol).
    pub fn step(&mut self) -> Option<&Merge> {
        let tied = self.best_pairs();
        let (&best, rest) = tied.split_first()?;
        let count = self.pair_counts[&best];
        let (left, right) = self.text_pair(best);
        let merged = format!("{left}{right}");
        let tied_with = rest.iter().map(|&p| self.text_pair(p)).collect();
        let new_id = self.intern(&merged);

        let touched: Vec<usize> =
            self.pair_words.get(&best).map(|w| w.iter().copied().collect()).unwrap_or_default();
        let mut total = *self.token_totals.last().unwrap_or(&0);
        for i in touched {
            self.remove_pairs(i);
            let word = &mut self.words[i];
            let before = word.symbols.len();
            word.symbols = merge_pair(&word.symbols, best, new_id);
            total -= (before - word.symbols.len()) * word.count;
            self.add_pairs(i);
        }
        self.token_totals.push(total);
        self.merges.push(Merge { left, right, merged, count, tied_with });
        self.merges.last()
    }

    /// Makes merges until `n` have been made in all, or none is left.
    pub fn run_to(&mut self, n: usize) {
        while self.merges.len() < n && self.step().is_some() {}
    }

    /// The merges made so far, in order.
    pub fn merges(&self) -> &[Merge] {
        &self.merges
    }

    /// The base alphabet, in order of first appearance.
    pub fn alphabet(&self) -> &[String] {
        &self.symbols[..self.base_size]
    }

    /// The vocabulary so far: the base alphabet, then one symbol per merge.
    pub fn vocabulary(&self) -> &[String] {
        &self.symbols
    }

    /// Symbols per character of the corpus, before any merge and after each one.
    pub fn tokens_per_character(&self) -> Vec<f64> {
        self.token_totals.iter().map(|&t| t as f64 / self.characters.max(1) as f64).collect()
    }

    /// Encodes one word with the merges made so far, applied in the order they were made.
    /// A character outside the base alphabet becomes its UTF-8 bytes.
    pub fn encode_word(&self, word: &str) -> Vec<Piece> {
        self.encode_word_with(word, self.merges.len())
    }

    /// Encodes one word with the first `n` merges only.
    pub fn encode_word_with(&self, word: &str, n: usize) -> Vec<Piece> {
        let merges = self.merges[..n.min(self.merges.len())]
            .iter()
            .map(|m| (self.ids[&m.left], self.ids[&m.right], self.ids[&m.merged]));
        encode(word, &self.symbols, &self.ids, self.base_size, self.config.end_of_word, merges)
    }

    /// The merges made so far, as an encoder that no longer needs the corpus.
    pub fn encoder(&self) -> BpeEncoder {
        let pairs: Vec<(String, String)> =
            self.merges.iter().map(|m| (m.left.clone(), m.right.clone())).collect();
        let alphabet = self.alphabet().to_vec();
        BpeEncoder::new(self.config.end_of_word, &alphabet, &pairs)
            .expect("a trainer's own merges are made of its own symbols")
    }
}

/// A trained BPE without its corpus: the base alphabet and the merges in order. This is
/// what a trainer running elsewhere (in a Web Worker) sends back to encode text with.
#[derive(Clone, Debug, Default)]
pub struct BpeEncoder {
    end_of_word: bool,
    symbols: Vec<String>,
    ids: HashMap<String, u32>,
    base_size: usize,
    /// (left, right, merged) symbol ids, in the order the merges were made.
    merges: Vec<(u32, u32, u32)>,
}

impl BpeEncoder {
    /// An encoder from an alphabet and merges given as (left, right) texts. Refuses a merge
    /// whose parts are not symbols by then, and an alphabet without the end-of-word marker
    /// when the words end with it.
    pub fn new(
        end_of_word: bool,
        alphabet: &[String],
        merges: &[(String, String)],
    ) -> Result<BpeEncoder, String> {
        let mut encoder = BpeEncoder { end_of_word, ..BpeEncoder::default() };
        for symbol in alphabet {
            encoder.intern(symbol);
        }
        encoder.base_size = encoder.symbols.len();
        if end_of_word && !encoder.ids.contains_key(END_OF_WORD) {
            return Err(format!("The alphabet has no {END_OF_WORD} marker."));
        }
        for (i, (left, right)) in merges.iter().enumerate() {
            let (Some(&l), Some(&r)) = (encoder.ids.get(left), encoder.ids.get(right)) else {
                return Err(format!(
                    "Merge {} joins {left:?} and {right:?}, which are not symbols yet.",
                    i + 1
                ));
            };
            let merged = encoder.intern(&format!("{left}{right}"));
            encoder.merges.push((l, r, merged));
        }
        Ok(encoder)
    }

    fn intern(&mut self, text: &str) -> u32 {
        intern(&mut self.symbols, &mut self.ids, text)
    }

    /// How many merges the encoder applies.
    pub fn merge_count(&self) -> usize {
        self.merges.len()
    }

    /// The vocabulary: the base alphabet, then each merge's new symbol.
    pub fn vocabulary(&self) -> &[String] {
        &self.symbols
    }

    /// Encodes one word with every merge, as [`BpeTrainer::encode_word`] does.
    pub fn encode_word(&self, word: &str) -> Vec<Piece> {
        let merges = self.merges.iter().copied();
        encode(word, &self.symbols, &self.ids, self.base_size, self.end_of_word, merges)
    }
}

/// The id of symbol `text`, added at the end of `symbols` if it is new.
fn intern(symbols: &mut Vec<String>, ids: &mut HashMap<String, u32>, text: &str) -> u32 {
    if let Some(&id) = ids.get(text) {
        return id;
    }
    let id = symbols.len() as u32;
    symbols.push(text.to_string());
    ids.insert(text.to_string(), id);
    id
}

/// Splits a word into base symbols (unknown characters kept aside as bytes), then applies
/// the merges, given as (left, right, merged) ids, in order.
fn encode(
    word: &str,
    symbols: &[String],
    ids: &HashMap<String, u32>,
    base_size: usize,
    end_of_word: bool,
    merges: impl Iterator<Item = (u32, u32, u32)>,
) -> Vec<Piece> {
    // Known characters become symbol ids; an unknown one is marked with u32::MAX and kept
    // aside as text, so merges never touch it.
    let mut unknown = Vec::new();
    let mut word_ids: Vec<u32> = word
        .chars()
        .map(|c| match ids.get(&c.to_string()) {
            Some(&id) if (id as usize) < base_size => id,
            _ => {
                unknown.push(c);
                u32::MAX
            }
        })
        .collect();
    if end_of_word && !word.is_empty() {
        word_ids.push(ids[END_OF_WORD]);
    }
    for (left, right, merged) in merges {
        word_ids = merge_pair(&word_ids, (left, right), merged);
    }
    let mut unknown = unknown.into_iter();
    let mut pieces = Vec::new();
    for id in word_ids {
        if id == u32::MAX {
            let c = unknown.next().unwrap_or(char::REPLACEMENT_CHARACTER);
            pieces.extend(c.to_string().bytes().map(Piece::Byte));
        } else {
            pieces.push(Piece::Symbol(symbols[id as usize].clone()));
        }
    }
    pieces
}

/// Replaces every occurrence of `pair`, left to right without overlaps, by `merged`.
fn merge_pair(symbols: &[u32], pair: Pair, merged: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(symbols.len());
    let mut i = 0;
    while i < symbols.len() {
        if i + 1 < symbols.len() && (symbols[i], symbols[i + 1]) == pair {
            out.push(merged);
            i += 2;
        } else {
            out.push(symbols[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS: &str = "low low low low low lowest lowest newer newer newer wider wider";
    const FIRST_MET: BpeConfig = BpeConfig { end_of_word: false, tie_break: TieBreak::FirstMet };
    const ALPHABETICAL: BpeConfig = BpeConfig { end_of_word: false, tie_break: TieBreak::Alphabetical };

    fn symbols(pieces: &[Piece]) -> Vec<&str> {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Symbol(s) => s.as_str(),
                Piece::Byte(_) => "<byte>",
            })
            .collect()
    }

    #[test]
    fn the_chapters_pair_counts_before_any_merge() {
        let trainer = BpeTrainer::new(CORPUS, FIRST_MET);
        let table: Vec<(String, usize)> =
            trainer.pair_table(20).into_iter().map(|p| (format!("{}{}", p.left, p.right), p.count)).collect();
        let expected = [
            ("lo", 7),
            ("ow", 7),
            ("we", 5),
            ("er", 5),
            ("ne", 3),
            ("ew", 3),
            ("es", 2),
            ("st", 2),
            ("wi", 2),
            ("id", 2),
            ("de", 2),
        ];
        let expected: Vec<(String, usize)> = expected.iter().map(|&(p, n)| (p.to_string(), n)).collect();
        assert_eq!(table, expected);
        assert_eq!(trainer.alphabet().join(""), "lowestnrid");
    }

    #[test]
    fn the_chapters_twelve_merges_with_first_met_ties() {
        let mut trainer = BpeTrainer::new(CORPUS, FIRST_MET);
        trainer.run_to(100);
        let made: Vec<(String, usize, usize)> =
            trainer.merges().iter().map(|m| (m.merged.clone(), m.count, m.tied_with.len())).collect();
        let expected = [
            ("lo", 7, 1),
            ("low", 7, 0),
            ("er", 5, 0),
            ("ne", 3, 2),
            ("new", 3, 1),
            ("newer", 3, 0),
            ("lowe", 2, 5),
            ("lowes", 2, 4),
            ("lowest", 2, 3),
            ("wi", 2, 2),
            ("wid", 2, 1),
            ("wider", 2, 0),
        ];
        let expected: Vec<(String, usize, usize)> =
            expected.iter().map(|&(s, c, t)| (s.to_string(), c, t)).collect();
        assert_eq!(made, expected, "after 12 merges every word is one token, so the run stops there");
        assert_eq!(trainer.merges()[3].tied_with, [("e".into(), "w".into()), ("w".into(), "er".into())]);
        assert_eq!(symbols(&trainer.encode_word_with("lowest", 6)), ["low", "e", "s", "t"]);
        assert_eq!(symbols(&trainer.encode_word_with("lowest", 8)), ["lowes", "t"]);
        assert_eq!(symbols(&trainer.encode_word_with("lowest", 9)), ["lowest"]);
        assert_eq!(symbols(&trainer.encode_word_with("lower", 8)), ["low", "er"]);
        assert_eq!(*trainer.tokens_per_character().last().unwrap(), 12.0 / 52.0);
    }

    #[test]
    fn an_alphabetical_tie_break_builds_other_words() {
        let mut trainer = BpeTrainer::new(CORPUS, ALPHABETICAL);
        trainer.run_to(100);
        let made: Vec<&str> = trainer.merges().iter().map(|m| m.merged.as_str()).collect();
        // Merge 4 is the three-way tie at 3: alphabetically (e, w) wins, and "newer" is
        // built as n + ew + er.
        assert_eq!(made[3], "ew");
        // Merges 8 and 9 are (e, s) and (es, t): "lowest" becomes [low, est].
        assert_eq!(&made[7..9], ["es", "est"]);
        assert_eq!(symbols(&trainer.encode_word_with("lowest", 9)), ["low", "est"]);
        // It builds "der" and "ider" but never "wid".
        assert!(made.contains(&"der") && made.contains(&"ider"));
        assert!(!made.contains(&"wid"));
    }

    #[test]
    fn the_end_of_word_marker_keeps_symbols_inside_words() {
        let mut trainer =
            BpeTrainer::new(CORPUS, BpeConfig { end_of_word: true, tie_break: TieBreak::FirstMet });
        trainer.run_to(100);
        assert!(trainer.vocabulary().iter().any(|s| s == "low</w>"));
        // "low" at the end of a word and "low" inside "lowest" are now different symbols.
        assert_eq!(symbols(&trainer.encode_word("low")), ["low</w>"]);
        assert_eq!(symbols(&trainer.encode_word("lowest")), ["lowest</w>"]);
        for merge in trainer.merges() {
            assert!(!merge.left.ends_with(END_OF_WORD), "nothing follows the marker: {merge:?}");
        }
    }

    #[test]
    fn unseen_characters_fall_back_to_bytes() {
        let mut trainer = BpeTrainer::new(CORPUS, FIRST_MET);
        trainer.run_to(8);
        let pieces = trainer.encode_word("lowé");
        assert_eq!(pieces, [Piece::Symbol("low".into()), Piece::Byte(0xC3), Piece::Byte(0xA9)]);
        assert!(trainer.encode_word("").is_empty());
        assert!(BpeTrainer::new("", FIRST_MET).clone().step().is_none());
    }

    #[test]
    fn incremental_counts_equal_a_recount_after_every_merge() {
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        let sample: String = text.chars().take(20_000).collect();
        for config in
            [FIRST_MET, ALPHABETICAL, BpeConfig { end_of_word: true, tie_break: TieBreak::FirstMet }]
        {
            let mut trainer = BpeTrainer::new(&sample, config);
            for _ in 0..60 {
                trainer.step();
                let mut recount: BTreeMap<Pair, usize> = BTreeMap::new();
                for word in &trainer.words {
                    for w in word.symbols.windows(2) {
                        *recount.entry((w[0], w[1])).or_insert(0) += word.count;
                    }
                }
                assert_eq!(trainer.pair_counts, recount);
                let total: usize = trainer.words.iter().map(|w| w.symbols.len() * w.count).sum();
                assert_eq!(*trainer.token_totals.last().unwrap(), total);
            }
            // Encoding a training word with every merge gives the word's trained symbols.
            for word in trainer.words.iter().take(200) {
                let text: String =
                    word.symbols.iter().map(|&s| trainer.symbols[s as usize].as_str()).collect();
                let text = text.trim_end_matches(END_OF_WORD);
                let pieces = trainer.encode_word(text);
                assert_eq!(pieces.len(), word.symbols.len(), "{text}");
            }
        }
    }

    #[test]
    fn an_encoder_rebuilt_from_the_merges_encodes_as_the_trainer_does() {
        let text = include_str!("../../../../assets/shakespeare/tragedies.txt");
        let sample: String = text.chars().take(30_000).collect();
        let words = ["the", "thou", "Hamlet", "unkindness", "café", "048", "", "x"];
        for config in [FIRST_MET, BpeConfig { end_of_word: true, tie_break: TieBreak::Alphabetical }] {
            let mut trainer = BpeTrainer::new(&sample, config);
            trainer.run_to(150);
            let pairs: Vec<(String, String)> =
                trainer.merges().iter().map(|m| (m.left.clone(), m.right.clone())).collect();
            let encoder = BpeEncoder::new(config.end_of_word, trainer.alphabet(), &pairs).unwrap();
            assert_eq!(encoder.merge_count(), 150);
            for word in words.iter().copied().chain(sample.split_whitespace().take(500)) {
                assert_eq!(encoder.encode_word(word), trainer.encode_word(word), "{word:?}");
            }
        }
    }

    #[test]
    fn an_encoder_refuses_merges_of_unknown_symbols() {
        let alphabet = ["a".to_string(), "b".to_string()];
        let merge = |l: &str, r: &str| (l.to_string(), r.to_string());
        assert!(BpeEncoder::new(false, &alphabet, &[merge("a", "b"), merge("ab", "b")]).is_ok());
        let refused = BpeEncoder::new(false, &alphabet, &[merge("ab", "a")]).unwrap_err();
        assert!(refused.contains("Merge 1"), "{refused}");
        assert!(BpeEncoder::new(true, &alphabet, &[]).unwrap_err().contains(END_OF_WORD));
    }
}
