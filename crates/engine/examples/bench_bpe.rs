//! Benchmark: chapter 4's BPE trainer on the whole Shakespeare text, 1,000 merges.
//!
//! Run with `cargo xtask bench` (release build). Prints the time to build the word counts,
//! the time for the merges, and tokens per character as the vocabulary grows.

use std::time::Instant;

use engine::models::bpe::{BpeConfig, BpeTrainer, TieBreak};

fn main() {
    let text = include_str!("../../../assets/shakespeare/tragedies.txt");
    println!("# BPE on the tragedies ({} characters), native, release", text.chars().count());
    println!("| end-of-word marker | count words and pairs | 1,000 merges | tokens/char before | after |");
    println!("|---|---|---|---|---|");
    for end_of_word in [false, true] {
        let config = BpeConfig { end_of_word, tie_break: TieBreak::FirstMet };
        let start = Instant::now();
        let mut trainer = BpeTrainer::new(text, config);
        let counted = start.elapsed().as_secs_f64();
        let start = Instant::now();
        trainer.run_to(1000);
        let merged = start.elapsed().as_secs_f64();
        let per_char = trainer.tokens_per_character();
        println!(
            "| {} | {:.3} s | {:.3} s | {:.3} | {:.3} |",
            if end_of_word { "on" } else { "off" },
            counted,
            merged,
            per_char[0],
            per_char[per_char.len() - 1]
        );
    }
}
