//! Chapter 7's LayerNorm versus BatchNorm: the same formula, (x − μ)/√(σ² + ε), along the
//! two axes of a batch matrix (one row per example, one column per feature).
//!
//! LayerNorm takes μ and σ² over each row, one example's features; BatchNorm takes them over
//! each column, one feature across the batch. The outputs come from the autograd ops
//! [`Graph::layer_norm`] and [`Graph::batch_norm`] with γ = 1 and β = 0, so the lab shows
//! what a model built on the tape computes.

use crate::core::autograd::Graph;
use crate::core::tensor::{Result, ShapeError, Tensor};

/// The ε of the chapter's worked examples (and PyTorch's default).
pub const EPS: f32 = 1e-5;

/// Both normalizations of one batch, with the statistics each used.
#[derive(Clone, Debug, PartialEq)]
pub struct NormAxes {
    /// Per row (example): the mean and variance of its features.
    pub row_mean: Vec<f32>,
    pub row_var: Vec<f32>,
    /// LayerNorm's output, same shape as the input.
    pub layer_norm: Tensor,
    /// Per column (feature): the mean and variance over the batch.
    pub column_mean: Vec<f32>,
    pub column_var: Vec<f32>,
    /// BatchNorm's output (training mode: the batch's own statistics).
    pub batch_norm: Tensor,
}

/// The mean and the variance (dividing by the count, as both norms do) of some numbers.
pub fn mean_and_variance(values: &[f32]) -> (f32, f32) {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, var)
}

// ANCHOR: norm_axes
/// LayerNorm and BatchNorm of `x`, shape `[examples, features]`, with γ = 1 and β = 0.
pub fn norm_axes(x: &Tensor, eps: f32) -> Result<NormAxes> {
    let [_, features] = x.shape[..] else {
        return Err(ShapeError::new("norm_axes: expected a matrix [examples, features]"));
    };
    let mut graph = Graph::new();
    let input = graph.input(x.clone());
    let gamma = graph.input(Tensor::filled(&[features], 1.0));
    let beta = graph.input(Tensor::zeros(&[features]));
    // LayerNorm: statistics along each row.
    let ln = graph.layer_norm(input, gamma, beta, eps)?;
    let (row_mean, row_var) = x.row_slices().map(mean_and_variance).unzip();
    // BatchNorm: statistics down each column (the op transposes, normalizes rows, transposes back).
    let bn = graph.batch_norm(input, gamma, beta, eps)?;
    Ok(NormAxes {
        row_mean,
        row_var,
        layer_norm: graph.value(ln).clone(),
        column_mean: bn.mean,
        column_var: bn.var,
        batch_norm: graph.value(bn.output).clone(),
    })
}
// ANCHOR_END: norm_axes

/// How much example `row`'s output moved between two batches, under each norm: the largest
/// absolute change in that row, (LayerNorm, BatchNorm).
pub fn row_change(before: &NormAxes, after: &NormAxes, row: usize) -> (f32, f32) {
    let largest = |a: &Tensor, b: &Tensor| {
        let width = a.row_len();
        let span = row * width..(row + 1) * width;
        match (a.data.get(span.clone()), b.data.get(span)) {
            (Some(a), Some(b)) => a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max),
            _ => f32::NAN,
        }
    };
    (largest(&before.layer_norm, &after.layer_norm), largest(&before.batch_norm, &after.batch_norm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    fn chapter_batch() -> Tensor {
        Tensor::from_rows(&[vec![2.0, 4.0, 6.0, 8.0], vec![1.0, 3.0, 2.0, 6.0], vec![3.0, 8.0, 4.0, 2.0]])
            .unwrap()
    }

    /// The chapter's table, by hand.
    #[test]
    fn the_chapters_table() {
        let n = norm_axes(&chapter_batch(), EPS).unwrap();
        assert_close!(&n.row_mean, &[5.0, 3.0, 4.25], 1e-6);
        assert_close!(&n.row_var, &[5.0, 3.5, 5.1875], 1e-5);
        assert_close!(&n.column_mean, &[2.0, 5.0, 4.0, 5.333_333], 1e-5);
        assert_close!(&n.column_var, &[0.666_667, 4.666_667, 2.666_667, 6.222_222], 1e-5);
        assert_close!(&n.layer_norm.data[..4], &[-1.3416, -0.4472, 0.4472, 1.3416], 1e-4);
        assert_close!(&n.layer_norm.data[4..8], &[-1.0690, 0.0, -0.5345, 1.6036], 1e-4);
        assert_close!(&n.layer_norm.data[8..], &[-0.5488, 1.6465, -0.1098, -0.9879], 1e-4);
        assert_close!(&n.batch_norm.data[..4], &[0.0, -0.4629, 1.2247, 1.0690], 1e-4);
        assert_close!(&n.batch_norm.data[4..8], &[-1.2247, -0.9258, -1.2247, 0.2673], 1e-4);
        assert_close!(&n.batch_norm.data[8..], &[1.2247, 1.3887, 0.0, -1.3363], 1e-4);
    }

    /// Each LayerNorm row and each BatchNorm column comes out with mean 0 and variance ≈ 1.
    #[test]
    fn each_norm_standardizes_its_own_axis() {
        let n = norm_axes(&chapter_batch(), EPS).unwrap();
        for row in n.layer_norm.row_slices() {
            let (m, v) = mean_and_variance(row);
            assert!(m.abs() < 1e-6 && (v - 1.0).abs() < 1e-4, "{m} {v}");
        }
        let columns = n.batch_norm.transpose().unwrap();
        for column in columns.row_slices() {
            let (m, v) = mean_and_variance(column);
            assert!(m.abs() < 1e-6 && (v - 1.0).abs() < 1e-4, "{m} {v}");
        }
    }

    /// Change example 3 only: example 1's BatchNorm output moves, its LayerNorm output does not.
    #[test]
    fn batch_norm_depends_on_the_rest_of_the_batch_and_layer_norm_does_not() {
        let before = norm_axes(&chapter_batch(), EPS).unwrap();
        let mut changed = chapter_batch();
        for v in &mut changed.data[8..] {
            *v += 5.0;
        }
        let after = norm_axes(&changed, EPS).unwrap();
        let (ln, bn) = row_change(&before, &after, 0);
        assert_eq!(ln, 0.0);
        assert!(bn > 0.1, "{bn}");
        // The changed example's own LayerNorm output does not move either: a shift is
        // removed by the mean.
        assert!(row_change(&before, &after, 2).0 < 1e-6);
    }

    #[test]
    fn a_vector_is_refused_in_words() {
        let err = norm_axes(&Tensor::from_vec(&[4], vec![1.0; 4]).unwrap(), EPS).unwrap_err();
        assert!(err.message.contains("matrix"));
    }
}
