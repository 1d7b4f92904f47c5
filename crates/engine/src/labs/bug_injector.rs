//! Chapter 3's bug injector: each common bug, run for real, beside the correct code.
//!
//! Every function returns what the page needs to show the symptom: a loss curve that climbs,
//! attention rows that stop summing to 1, a softmax that overflows to NaN, the error message a
//! transposed weight produces, attention landing on padding, a learning rate that diverges.

use crate::core::autograd::Graph;
use crate::core::tensor::{matmul, softmax_rows, Result, Tensor};
use crate::labs::attention_lab::{self_attention, AttentionOptions, AttentionTrace};

/// The bugs of the chapter's table, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    NoZeroGrad,
    SoftmaxWrongAxis,
    NoMaxSubtraction,
    TransposedWeight,
    UnmaskedPadding,
    LearningRateTooHigh,
}

impl Bug {
    pub const ALL: [Bug; 6] = [
        Bug::NoZeroGrad,
        Bug::SoftmaxWrongAxis,
        Bug::NoMaxSubtraction,
        Bug::TransposedWeight,
        Bug::UnmaskedPadding,
        Bug::LearningRateTooHigh,
    ];

    /// A short name for a menu.
    pub fn label(self) -> &'static str {
        match self {
            Bug::NoZeroGrad => "Forgetting to zero gradients",
            Bug::SoftmaxWrongAxis => "Softmax over the wrong axis",
            Bug::NoMaxSubtraction => "No max-subtraction in softmax",
            Bug::TransposedWeight => "Transposed weight matrix",
            Bug::UnmaskedPadding => "Padding left unmasked",
            Bug::LearningRateTooHigh => "Learning rate too high",
        }
    }
}

/// The data for the two training bugs: fit y = 2x with one weight and mean squared error.
const XS: [f32; 4] = [0.5, 1.0, 1.5, 2.0];

/// Loss and gradient of mean((w·x − 2x)²) at `w`, computed on the autograd tape.
fn line_fit_loss_and_grad(w: f32) -> Result<(f32, f32)> {
    let mut graph = Graph::new();
    let weight = graph.param(Tensor::from_vec(&[1, 1], vec![w])?);
    let x = graph.input(Tensor::from_vec(&[4, 1], XS.to_vec())?);
    let y = graph.input(Tensor::from_vec(&[4, 1], XS.iter().map(|x| 2.0 * x).collect())?);
    let prediction = graph.matmul(x, weight)?;
    let error = graph.sub(prediction, y)?;
    let squared = graph.mul(error, error)?;
    let loss = graph.mean(squared);
    graph.backward(loss)?;
    let grad = graph.grad(weight).map_or(0.0, |g| g.data[0]);
    Ok((graph.value(loss).data[0], grad))
}

// ANCHOR: no_zero_grad
/// Gradient descent on the line fit from w = 0. With `zero_grad` false the gradient buffer is
/// never cleared, so each step applies the sum of every gradient so far: the update keeps
/// growing, overshoots, and the loss climbs back up instead of settling.
pub fn train_line_fit(steps: usize, lr: f32, zero_grad: bool) -> Result<Vec<f32>> {
    let mut w = 0.0f32;
    let mut grad_buffer = 0.0f32;
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (loss, grad) = line_fit_loss_and_grad(w)?;
        losses.push(loss);
        if zero_grad {
            grad_buffer = 0.0;
        }
        grad_buffer += grad; // backward() adds into the buffer; it never replaces it
        w -= lr * grad_buffer;
        if !w.is_finite() {
            break;
        }
    }
    Ok(losses)
}
// ANCHOR_END: no_zero_grad

/// The largest loss after the first `skip` steps (0 when there is none): with gradients never
/// cleared, the loss climbs back up long after the start.
pub fn largest_loss_after(losses: &[f32], skip: usize) -> f32 {
    losses.iter().skip(skip).cloned().fold(0.0f32, f32::max)
}

/// Softmax of `scores` along the right axis (each row, over keys) and the wrong one (each
/// column, over queries), with each version's row sums.
pub fn softmax_axes(scores: &Tensor) -> Result<(Tensor, Tensor)> {
    let right = softmax_rows(scores);
    let wrong = softmax_rows(&scores.transpose()?).transpose()?;
    Ok((right, wrong))
}

/// The sum of each row of a matrix.
pub fn row_sums(t: &Tensor) -> Vec<f32> {
    t.row_slices().map(|row| row.iter().sum()).collect()
}

/// Softmax of one row of logits the naive way, exp(z) / Σ exp(z), in f32. For logits above
/// about 88.7, exp overflows to infinity and infinity / infinity is NaN.
pub fn naive_softmax(logits: &[f32]) -> Vec<f32> {
    let exps: Vec<f32> = logits.iter().map(|&z| libm::expf(z)).collect();
    let total: f32 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

/// The stable softmax (the engine's): subtract the row maximum first.
pub fn stable_softmax(logits: &[f32]) -> Result<Vec<f32>> {
    let row = Tensor::from_vec(&[1, logits.len()], logits.to_vec())?;
    Ok(softmax_rows(&row).data)
}

/// A layer computes x·W with x `[batch, d_in]` and W `[d_in, d_out]`. Storing W as
/// `[d_out, d_in]` instead fails with the engine's shape message (returned as the error).
pub fn transposed_weight_error(batch: usize, d_in: usize, d_out: usize) -> Result<Tensor> {
    let x = Tensor::filled(&[batch, d_in], 1.0);
    let w_transposed = Tensor::filled(&[d_out, d_in], 0.1);
    matmul(&x, &w_transposed)
}

/// Attention over a sequence whose last `n_pad` positions are padding, with and without the
/// padding mask. Returns (masked, unmasked) traces.
pub fn padding_attention(x: &Tensor, w: &Tensor, n_pad: usize) -> Result<(AttentionTrace, AttentionTrace)> {
    let n = x.rows();
    let key_is_padding: Vec<bool> = (0..n).map(|j| j + n_pad >= n).collect();
    let masked = AttentionOptions { key_is_padding, ..AttentionOptions::default() };
    let with_mask = self_attention(x, w, w, w, &masked)?;
    let without = self_attention(x, w, w, w, &AttentionOptions::default())?;
    Ok((with_mask, without))
}

/// Total attention weight that real (non-padding) queries put on padding keys, averaged per
/// query.
pub fn weight_on_padding(weights: &Tensor, n_pad: usize) -> f32 {
    let n = weights.rows();
    let real = n - n_pad;
    let total: f32 = weights.row_slices().take(real).map(|row| row[real..].iter().sum::<f32>()).sum();
    total / real.max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_late_loss_skips_the_start() {
        assert_eq!(largest_loss_after(&[9.0, 1.0, 3.0, 2.0], 1), 3.0);
        assert_eq!(largest_loss_after(&[9.0], 1), 0.0);
    }

    #[test]
    fn zeroing_gradients_converges_and_forgetting_does_not() {
        let good = train_line_fit(30, 0.1, true).unwrap();
        let bad = train_line_fit(30, 0.1, false).unwrap();
        assert!(good.last().unwrap() < &1e-4, "{good:?}");
        let worst_late = bad[10..].iter().cloned().fold(0.0f32, f32::max);
        assert!(worst_late > bad[0], "accumulated gradients overshoot past the start: {bad:?}");
    }

    #[test]
    fn the_wrong_axis_breaks_row_sums() {
        let scores =
            Tensor::from_rows(&[vec![2.0, 0.5, -1.0], vec![0.1, 1.5, 0.3], vec![-0.4, 0.2, 2.2]]).unwrap();
        let (right, wrong) = softmax_axes(&scores).unwrap();
        assert!(row_sums(&right).iter().all(|s| (s - 1.0).abs() < 1e-6));
        assert!(row_sums(&wrong).iter().any(|s| (s - 1.0).abs() > 0.05));
    }

    #[test]
    fn large_logits_overflow_without_max_subtraction() {
        let naive = naive_softmax(&[1000.0, 999.0, 998.0]);
        assert!(naive.iter().all(|p| p.is_nan()), "{naive:?}");
        let stable = stable_softmax(&[1000.0, 999.0, 998.0]).unwrap();
        assert!((stable[0] - 0.665241).abs() < 1e-5, "{stable:?}");
        assert!(naive_softmax(&[88.0, 0.0]).iter().all(|p| p.is_finite()));
    }

    #[test]
    fn a_transposed_weight_explains_itself() {
        let message = transposed_weight_error(4, 3, 2).unwrap_err().to_string();
        assert!(message.contains("[4, 3]") && message.contains("[2, 3]"), "{message}");
    }

    #[test]
    fn unmasked_padding_takes_attention() {
        let x = Tensor::from_rows(&[
            vec![0.2, 0.1, -0.3],
            vec![-0.1, 0.4, 0.2],
            vec![0.0, 0.0, 0.0],
            vec![0.0, 0.0, 0.0],
        ])
        .unwrap();
        let w = Tensor::from_rows(&[vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]]).unwrap();
        let (masked, unmasked) = padding_attention(&x, &w, 2).unwrap();
        assert_eq!(weight_on_padding(&masked.weights, 2), 0.0);
        assert!(weight_on_padding(&unmasked.weights, 2) > 0.4);
    }

    #[test]
    fn too_high_a_learning_rate_diverges() {
        // Loss is mean((w - 2)^2 x^2); SGD is stable only for lr < 2 / (2 mean(x^2)) = 0.53.
        let calm = train_line_fit(40, 0.3, true).unwrap();
        let wild = train_line_fit(40, 0.7, true).unwrap();
        assert!(calm.last().unwrap() < &1e-6);
        assert!(wild.last().unwrap() > &wild[0]);
    }
}
