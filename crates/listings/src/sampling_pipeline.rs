//! Chapter 5: temperature, top-k and top-p sampling from one list of logits.

use std::io::{self, Write};

// ANCHOR: pipeline
/// Turn raw logits into probabilities, dividing every logit by `temperature` first.
fn softmax_with_temperature(logits: &[f64], temperature: f64) -> Vec<f64> {
    assert!(temperature > 0.0, "use argmax for T = 0");
    let scaled: Vec<f64> = logits.iter().map(|z| z / temperature).collect();
    // Subtracting the largest logit keeps exp() from overflowing; it cancels in the ratio.
    let max = scaled.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scaled.iter().map(|z| libm::exp(z - max)).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

/// Token indices ordered from most to least probable.
fn ranked(probs: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..probs.len()).collect();
    idx.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    idx
}

/// Zero out everything outside `keep`, then rescale the survivors to sum to one.
fn keep_and_renormalize(probs: &[f64], keep: &[usize]) -> Vec<f64> {
    let mass: f64 = keep.iter().map(|&i| probs[i]).sum();
    let mut out = vec![0.0; probs.len()];
    for &i in keep {
        out[i] = probs[i] / mass;
    }
    out
}

fn top_k(probs: &[f64], k: usize) -> Vec<f64> {
    let order = ranked(probs);
    keep_and_renormalize(probs, &order[..k.min(order.len())])
}

fn top_p(probs: &[f64], p: f64) -> Vec<f64> {
    let order = ranked(probs);
    let mut cumulative = 0.0;
    let mut size = 0;
    for &i in &order {
        cumulative += probs[i];
        size += 1;
        if cumulative >= p {
            break; // smallest prefix whose mass reaches p
        }
    }
    keep_and_renormalize(probs, &order[..size])
}

/// Entropy in nats.
fn entropy(probs: &[f64]) -> f64 {
    probs.iter().filter(|&&q| q > 0.0).map(|q| -q * libm::log(*q)).sum()
}

/// Inverse-CDF sampling: `u` is a uniform draw from [0, 1).
fn sample(probs: &[f64], u: f64) -> usize {
    let mut cumulative = 0.0;
    for (i, q) in probs.iter().enumerate() {
        cumulative += q;
        if u < cumulative {
            return i;
        }
    }
    probs.len() - 1 // guard against rounding leaving cumulative a hair below 1
}

fn show(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let logits = [2.0, 1.0, 0.5];
    for t in [1.0, 0.5, 2.0] {
        let probs = softmax_with_temperature(&logits, t);
        writeln!(out, "T = {t:<3}  probs = {}  entropy = {:.4} nats", show(&probs), entropy(&probs))?;
    }
    let probs = softmax_with_temperature(&logits, 1.0);
    writeln!(out, "top-k, k = 2:   {}", show(&top_k(&probs, 2)))?;
    writeln!(out, "top-p, p = 0.8: {}", show(&top_p(&probs, 0.8)))?;
    writeln!(out, "top-p, p = 0.9: {}", show(&top_p(&probs, 0.9)))?;
    let filtered = top_p(&probs, 0.8);
    for u in [0.10, 0.70, 0.95] {
        writeln!(out, "u = {u:.2} -> token {}", sample(&filtered, u))?;
    }
    Ok(())
}
// ANCHOR_END: pipeline
