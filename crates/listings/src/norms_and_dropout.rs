//! Chapter 7: LayerNorm, training-mode BatchNorm and inverted dropout on the chapter's
//! numbers, computed by the engine's own operations.

use std::io::{self, Write};

use engine::core::autograd::Graph;
use engine::core::tensor::{Result, Tensor};
use engine::labs::dropout_lab::apply;
use engine::labs::norm_axes_lab::{norm_axes, EPS};

// ANCHOR: norms
/// LayerNorm of one example with gain `gamma` and shift `beta`, on the autograd tape.
fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32]) -> Result<Vec<f32>> {
    let mut graph = Graph::new();
    let x = graph.input(Tensor::from_vec(&[1, x.len()], x.to_vec())?);
    let gamma = graph.input(Tensor::from_vec(&[gamma.len()], gamma.to_vec())?);
    let beta = graph.input(Tensor::from_vec(&[beta.len()], beta.to_vec())?);
    let y = graph.layer_norm(x, gamma, beta, EPS)?;
    Ok(graph.value(y).data.clone())
}

/// Numbers to four decimals, as a list.
fn show(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:7.4}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Prints both norms of the chapter's batch and dropout's average over every mask.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let x = [2.0, 4.0, 6.0, 8.0];
    let plain = layer_norm(&x, &[1.0; 4], &[0.0; 4]).map_err(io::Error::other)?;
    let scaled = layer_norm(&x, &[1.0, 1.0, 2.0, 2.0], &[0.0, 0.0, 0.5, 0.5]).map_err(io::Error::other)?;
    writeln!(out, "LayerNorm([2,4,6,8])   = {}", show(&plain))?;
    writeln!(out, "with gamma, beta       = {}", show(&scaled))?;

    let rows = [vec![2.0, 4.0, 6.0, 8.0], vec![1.0, 3.0, 2.0, 6.0], vec![3.0, 8.0, 4.0, 2.0]];
    let batch = Tensor::from_rows(&rows).map_err(io::Error::other)?;
    let norms = norm_axes(&batch, EPS).map_err(io::Error::other)?;
    writeln!(out, "LayerNorm, row by row:")?;
    for row in norms.layer_norm.row_slices() {
        writeln!(out, "  {}", show(row))?;
    }
    writeln!(out, "BatchNorm, column by column:")?;
    for row in norms.batch_norm.row_slices() {
        writeln!(out, "  {}", show(row))?;
    }

    // Average the dropout output over all 2^4 keep-masks (each equally likely when p = 0.5).
    let p = 0.5;
    let mut total = [0.0; 4];
    for bits in 0..16u32 {
        let keep: Vec<bool> = (0..4).map(|i| bits & (1 << i) != 0).collect();
        for (t, y) in total.iter_mut().zip(apply(&x, &keep, p)) {
            *t += y;
        }
    }
    let mean: Vec<f32> = total.iter().map(|t| t / 16.0).collect();
    writeln!(out, "one mask [1,0,1,0]     = {}", show(&apply(&x, &[true, false, true, false], p)))?;
    writeln!(out, "mean over all 16 masks = {}", show(&mean))?;
    Ok(())
}
// ANCHOR_END: norms
