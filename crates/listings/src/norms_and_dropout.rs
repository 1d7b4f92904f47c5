//! Chapter 7: LayerNorm, training-mode BatchNorm and inverted dropout on the chapter's numbers.

use std::io::{self, Write};

// ANCHOR: norms
const EPS: f64 = 1e-5;

/// Mean and (population) variance of a slice.
fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

/// LayerNorm of one example: statistics over its own features.
fn layer_norm(x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let (mean, var) = mean_var(x);
    let inv_std = 1.0 / (var + EPS).sqrt();
    x.iter().zip(gamma.iter().zip(beta)).map(|(xi, (g, b))| (xi - mean) * inv_std * g + b).collect()
}

/// BatchNorm in training mode (gamma = 1, beta = 0): statistics per feature, over the batch.
fn batch_norm(batch: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let features = batch[0].len();
    let mut out = vec![vec![0.0; features]; batch.len()];
    for j in 0..features {
        let column: Vec<f64> = batch.iter().map(|row| row[j]).collect();
        let (mean, var) = mean_var(&column);
        for (i, row) in batch.iter().enumerate() {
            out[i][j] = (row[j] - mean) / (var + EPS).sqrt();
        }
    }
    out
}

/// Inverted dropout with an explicit keep-mask (true = keep).
fn dropout(a: &[f64], keep: &[bool], p: f64) -> Vec<f64> {
    a.iter().zip(keep).map(|(ai, &k)| if k { ai / (1.0 - p) } else { 0.0 }).collect()
}

fn show(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:7.4}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let x = [2.0, 4.0, 6.0, 8.0];
    let ones = [1.0; 4];
    let zeros = [0.0; 4];
    writeln!(out, "LayerNorm([2,4,6,8])   = {}", show(&layer_norm(&x, &ones, &zeros)))?;
    writeln!(
        out,
        "with gamma, beta       = {}",
        show(&layer_norm(&x, &[1.0, 1.0, 2.0, 2.0], &[0.0, 0.0, 0.5, 0.5]))
    )?;

    let batch = vec![vec![2.0, 4.0, 6.0, 8.0], vec![1.0, 3.0, 2.0, 6.0], vec![3.0, 8.0, 4.0, 2.0]];
    writeln!(out, "LayerNorm, row by row:")?;
    for row in &batch {
        writeln!(out, "  {}", show(&layer_norm(row, &ones, &zeros)))?;
    }
    writeln!(out, "BatchNorm, column by column:")?;
    for row in batch_norm(&batch) {
        writeln!(out, "  {}", show(&row))?;
    }

    // Average the dropout output over all 2^4 keep-masks (each equally likely when p = 0.5).
    let p = 0.5;
    let mut total = [0.0; 4];
    for bits in 0..16u32 {
        let keep: Vec<bool> = (0..4).map(|i| bits & (1 << i) != 0).collect();
        for (t, y) in total.iter_mut().zip(dropout(&x, &keep, p)) {
            *t += y;
        }
    }
    let mean: Vec<f64> = total.iter().map(|t| t / 16.0).collect();
    writeln!(out, "one mask [1,0,1,0]     = {}", show(&dropout(&x, &[true, false, true, false], p)))?;
    writeln!(out, "mean over all 16 masks = {}", show(&mean))?;
    Ok(())
}
// ANCHOR_END: norms
