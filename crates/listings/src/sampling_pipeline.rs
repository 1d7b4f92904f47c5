//! Chapter 5: temperature, top-k and top-p sampling from one list of logits, with the
//! engine's pipeline (the functions the sampling bench calls).

use std::io::{self, Write};

use engine::models::sampling::{entropy, renormalize, sample_at, softmax_with_temperature, top_k, top_p};

// ANCHOR: main
/// Probabilities to four decimals, as a list.
fn show(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Runs each stage of the pipeline on three logits and prints what it gives.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let logits = [2.0, 1.0, 0.5];
    for t in [1.0, 0.5, 2.0] {
        let probs = softmax_with_temperature(&logits, t);
        writeln!(out, "T = {t:<3}  probs = {}  entropy = {:.4} nats", show(&probs), entropy(&probs))?;
    }
    let probs = softmax_with_temperature(&logits, 1.0);
    writeln!(out, "top-k, k = 2:   {}", show(&renormalize(&probs, &top_k(&probs, 2))))?;
    writeln!(out, "top-p, p = 0.8: {}", show(&renormalize(&probs, &top_p(&probs, 0.8))))?;
    writeln!(out, "top-p, p = 0.9: {}", show(&renormalize(&probs, &top_p(&probs, 0.9))))?;
    let filtered = renormalize(&probs, &top_p(&probs, 0.8));
    for u in [0.10, 0.70, 0.95] {
        writeln!(out, "u = {u:.2} -> token {}", sample_at(&filtered, u))?;
    }
    Ok(())
}
// ANCHOR_END: main
