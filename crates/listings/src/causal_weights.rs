//! Chapter 2: causal attention weights for "the cat sat", the mask applied by slicing each row.

use std::io::{self, Write};

// ANCHOR: causal_weights
/// Row-wise softmax of scaled scores under a causal mask: position i only sees j <= i.
fn causal_attention_weights(raw: &[Vec<f64>], d_k: usize) -> Vec<Vec<f64>> {
    let scale = (d_k as f64).sqrt();
    raw.iter()
        .enumerate()
        .map(|(i, row)| {
            // Masked entries are -inf; exp(-inf) = 0, so we simply skip them.
            let visible: Vec<f64> = row[..=i].iter().map(|s| s / scale).collect();
            let max = visible.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = visible.iter().map(|s| libm::exp(s - max)).collect();
            let total: f64 = exps.iter().sum();
            let mut weights: Vec<f64> = exps.iter().map(|e| e / total).collect();
            weights.resize(row.len(), 0.0); // the future positions get exactly zero
            weights
        })
        .collect()
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    // Q K^T for "the cat sat", computed in full precision.
    let q = [[0.216, 0.116, -0.182, 0.484], [-0.080, 0.496, 0.182, -0.220], [0.383, -0.182, 0.120, 0.417]];
    let k = [[0.25, 0.12, -0.19, 0.48], [-0.12, 0.49, 0.25, -0.18], [0.44, -0.16, 0.08, 0.41]];
    let raw: Vec<Vec<f64>> =
        q.iter().map(|qi| k.iter().map(|kj| qi.iter().zip(kj).map(|(a, b)| a * b).sum()).collect()).collect();
    for row in causal_attention_weights(&raw, 4) {
        let cells: Vec<String> = row.iter().map(|w| format!("{w:.4}")).collect();
        writeln!(out, "[{}]", cells.join(", "))?;
    }
    Ok(())
}
// ANCHOR_END: causal_weights
