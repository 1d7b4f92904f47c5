//! Chapter 6: BERT's 80/10/10 corruption of a random sequence, and the two attention masks.

use std::io::{self, Write};

use engine::core::rng::Rng;

// ANCHOR: masking
const VOCAB: u32 = 1000;
const MASK_ID: u32 = VOCAB - 1; // reserve the last id for [MASK] in this toy vocabulary

#[derive(Debug, Default)]
struct Counts {
    masked: usize,
    random: usize,
    unchanged: usize,
}

/// BERT-style corruption. Returns the corrupted input, the positions the loss is
/// computed on (the set M), and how the 80/10/10 rule played out.
fn corrupt(tokens: &[u32], rate: f64, rng: &mut Rng) -> (Vec<u32>, Vec<usize>, Counts) {
    let n = tokens.len();
    let num_targets = ((n as f64) * rate).round() as usize;
    // Partial Fisher-Yates shuffle: the first `num_targets` entries become M.
    let mut positions: Vec<usize> = (0..n).collect();
    for i in 0..num_targets {
        let j = i + rng.below(n - i);
        positions.swap(i, j);
    }
    let mut targets = positions[..num_targets].to_vec();
    targets.sort_unstable();

    let mut input = tokens.to_vec();
    let mut counts = Counts::default();
    for &pos in &targets {
        let roll = rng.uniform();
        if roll < 0.8 {
            input[pos] = MASK_ID;
            counts.masked += 1;
        } else if roll < 0.9 {
            input[pos] = rng.below(MASK_ID as usize) as u32; // any real token
            counts.random += 1;
        } else {
            counts.unchanged += 1; // the model must still predict it
        }
    }
    (input, targets, counts)
}

/// Prints a `t` x `t` attention mask: 1 where query `i` may see key `j`.
fn print_mask(
    out: &mut impl Write,
    name: &str,
    t: usize,
    allowed: impl Fn(usize, usize) -> bool,
) -> io::Result<()> {
    writeln!(out, "{name}:")?;
    for i in 0..t {
        let row: Vec<&str> = (0..t).map(|j| if allowed(i, j) { "1" } else { "0" }).collect();
        writeln!(out, "  {}", row.join(" "))?;
    }
    Ok(())
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let mut rng = Rng::new(0x5EED_1234_ABCD_0001);
    let tokens: Vec<u32> = (0..512).map(|_| rng.below(MASK_ID as usize) as u32).collect();
    let (input, targets, counts) = corrupt(&tokens, 0.15, &mut rng);
    let still_mask = input.iter().filter(|&&t| t == MASK_ID).count();
    writeln!(out, "sequence length      : {}", tokens.len())?;
    writeln!(out, "MLM prediction targets: {}", targets.len())?;
    writeln!(out, "  replaced by [MASK] : {}", counts.masked)?;
    writeln!(out, "  replaced at random : {}", counts.random)?;
    writeln!(out, "  left unchanged     : {}", counts.unchanged)?;
    writeln!(out, "[MASK] ids in input  : {still_mask}")?;
    writeln!(out, "CLM prediction targets: {}", tokens.len() - 1)?;
    print_mask(out, "bidirectional (encoder)", 4, |_, _| true)?;
    print_mask(out, "causal (decoder)", 4, |i, j| j <= i)?;
    Ok(())
}
// ANCHOR_END: masking
