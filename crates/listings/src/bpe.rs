//! Chapter 4: a byte-pair-encoding trainer, run on the classic low/lowest/newer/wider corpus.

use std::io::{self, Write};

// ANCHOR: pieces
use std::collections::HashMap;

/// One distinct word of the corpus: its current symbols and how often it occurs.
struct Word {
    symbols: Vec<String>,
    count: usize,
}

/// Split the corpus into distinct words (in order of first appearance) of single characters.
fn initial_words(corpus: &str) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    for w in corpus.split_whitespace() {
        match words.iter_mut().find(|x| x.symbols.concat() == w) {
            Some(existing) => existing.count += 1,
            None => words.push(Word { symbols: w.chars().map(String::from).collect(), count: 1 }),
        }
    }
    words
}

/// Count adjacent pairs, weighted by word frequency. The Vec keeps pairs in the
/// order they are first met, which is our tie-breaking rule.
fn count_pairs(words: &[Word]) -> Vec<((String, String), usize)> {
    let mut order: Vec<((String, String), usize)> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for w in words {
        for pair in w.symbols.windows(2) {
            let key = (pair[0].clone(), pair[1].clone());
            match index.get(&key) {
                Some(&i) => order[i].1 += w.count,
                None => {
                    index.insert(key.clone(), order.len());
                    order.push((key, w.count));
                }
            }
        }
    }
    order
}

/// Replace every occurrence of the pair (a, b) inside one word by the merged symbol ab.
fn apply_merge(symbols: &[String], a: &str, b: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(symbols.len());
    let mut i = 0;
    while i < symbols.len() {
        if i + 1 < symbols.len() && symbols[i] == a && symbols[i + 1] == b {
            out.push(format!("{a}{b}"));
            i += 2;
        } else {
            out.push(symbols[i].clone());
            i += 1;
        }
    }
    out
}
// ANCHOR_END: pieces

// ANCHOR: train
/// Learn up to `n` merges, printing each one. Ties go to the pair met first in corpus order.
fn train_bpe(corpus: &str, n: usize, out: &mut impl Write) -> io::Result<Vec<(String, String)>> {
    let mut words = initial_words(corpus);
    let mut merges = Vec::new();
    for step in 1..=n {
        let pairs = count_pairs(&words);
        let Some(best) = pairs.iter().map(|p| p.1).max() else { break };
        // The first pair in encounter order that reaches the maximum count.
        let ((a, b), count) = pairs.iter().find(|p| p.1 == best).unwrap().clone();
        let ties = pairs.iter().filter(|p| p.1 == best).count() - 1;
        for w in words.iter_mut() {
            w.symbols = apply_merge(&w.symbols, &a, &b);
        }
        writeln!(out, "merge {step:>2}: ({a}, {b}) -> {a}{b}   count {count}, other pairs tied: {ties}")?;
        merges.push((a, b));
    }
    Ok(merges)
}

/// Encode one word: start from characters and apply learned merges in the order learned.
fn encode(word: &str, merges: &[(String, String)]) -> Vec<String> {
    let mut symbols: Vec<String> = word.chars().map(String::from).collect();
    for (a, b) in merges {
        symbols = apply_merge(&symbols, a, b);
    }
    symbols
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let corpus = "low low low low low lowest lowest newer newer newer wider wider";
    let merges = train_bpe(corpus, 12, out)?;
    for k in [6, 8, 9] {
        writeln!(out, "after {k} merges: lowest -> {:?}", encode("lowest", &merges[..k]))?;
    }
    Ok(())
}
// ANCHOR_END: train
