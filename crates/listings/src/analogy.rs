//! Chapter 9: king - man + woman, ranked by cosine similarity over the toy table.

use std::io::{self, Write};

// ANCHOR: analogy
use crate::toy_embeddings::{cosine, lookup, TABLE};

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let (king, man, woman) = (lookup("king"), lookup("man"), lookup("woman"));
    let target: [f64; 4] = std::array::from_fn(|i| king[i] - man[i] + woman[i]);
    writeln!(out, "king - man + woman = {target:.2?}")?;

    let mut ranked: Vec<(&str, f64)> = TABLE.iter().map(|(w, v)| (*w, cosine(&target, v))).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (word, cos) in &ranked {
        writeln!(out, "{word:>9}  {cos:+.4}")?;
    }
    Ok(())
}
// ANCHOR_END: analogy
