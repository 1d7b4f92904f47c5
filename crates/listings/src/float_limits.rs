//! Chapter 3: where `exp` overflows in f32 and f64, and why softmax subtracts the maximum.

use std::io::{self, Write};

// ANCHOR: main
/// Softmax as the formula reads, exponentiating the raw scores.
fn naive_softmax(v: &[f64]) -> Vec<f64> {
    let exps: Vec<f64> = v.iter().map(|&x| libm::exp(x)).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

/// The same softmax after subtracting the largest score, so every exponent is at most 0.
fn stable_softmax(v: &[f64]) -> Vec<f64> {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    naive_softmax(&v.iter().map(|x| x - max).collect::<Vec<f64>>())
}

/// Prints the overflow thresholds and both softmaxes of a large score vector.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "ln(f32::MAX) = {}", libm::logf(f32::MAX))?;
    writeln!(out, "exp(88.72f32) = {:e}, exp(88.73f32) = {}", libm::expf(88.72), libm::expf(88.73))?;
    // A naive softmax's first weight: e^1000 over e^1000 + e^999, both of them infinite.
    let (top, total) = (libm::exp(1000.0), libm::exp(1000.0) + libm::exp(999.0));
    writeln!(out, "exp(1000.0f64) = {top}")?;
    writeln!(out, "inf / inf = {}", top / total)?;
    let scores = [1000.0, 999.0, 998.0];
    writeln!(out, "naive  softmax [1000, 999, 998] = {:?}", naive_softmax(&scores))?;
    writeln!(out, "stable softmax [1000, 999, 998] = {:?}", stable_softmax(&scores))?;
    Ok(())
}
// ANCHOR_END: main
