//! Every op's backward rule, checked against finite differences on random shapes.
//!
//! # The check
//!
//! An op maps inputs x to an output y (any shape). Backpropagating a random upstream gradient
//! r makes the tape compute ∂L/∂x for the scalar L = Σ r·y, which exercises every entry of the
//! Jacobian rather than one direction. We compare that with the central difference
//! (L(x + h) − L(x − h)) / 2h, one input element at a time.
//!
//! # Tolerance
//!
//! The forward runs in f32 (it is the code under test), and L is summed in f64. With inputs of
//! size about 1, a central difference has two errors: truncation, about h²·|L'''|/6, and
//! rounding, about (f32 epsilon ≈ 6e-8)·|L|/h. The step h = 1e-2 keeps both near 1e-5 to
//! 1e-4 for these ops, and we divide by the step actually taken (x + h and x − h are rounded
//! to f32 first). We accept |tape − numeric| ≤ 1e-3·(1 + |numeric|). The largest discrepancy
//! seen in 1,000 random cases per property was below 2e-4, so the bound has a margin of five;
//! a wrong rule (a missing term, a transpose, a factor of 2) is off by far more.
//!
//! Two ops are not smooth everywhere, and the inputs keep away from the trouble: ReLU's kink
//! at 0 (inputs are pushed at least 0.05 from 0), and normalization, which is steep when a
//! row's values nearly coincide (rows get spread apart by a ramp).

use super::*;
use crate::assert_close;
use crate::core::rng::Rng;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Finite-difference step.
const H: f32 = 1e-2;
/// Accept |tape − numeric| ≤ TOLERANCE·(1 + |numeric|). See the module doc.
const TOLERANCE: f64 = 1e-3;

/// 32 random cases per property keeps the whole suite fast in a debug build.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() }
}

/// A tensor of uniform values in [-2, 2) from a seeded generator.
fn random(shape: &[usize], rng: &mut Rng) -> Tensor {
    Tensor::zeros(shape).map(|_| rng.uniform_in(-2.0, 2.0))
}

/// Moves values within 0.05 of 0 away from it, so ReLU's kink is never within a step.
fn away_from_zero(t: Tensor) -> Tensor {
    t.map(|v| if v.abs() < 0.05 { v.signum() * 0.05 + v } else { v })
}

/// Values u_j in [-0.5, 0.5) plus 1.5·j along each row: neighbours differ by at least 0.5,
/// so no row is nearly constant.
fn spread_rows(shape: &[usize], rng: &mut Rng) -> Tensor {
    let mut t = Tensor::zeros(shape);
    for row in t.row_slices_mut() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = rng.uniform_in(-0.5, 0.5) + 1.5 * j as f32;
        }
    }
    t
}

/// Checks the gradient the tape gives every input of `build` against central differences.
pub(crate) fn check_gradients(
    inputs: &[Tensor],
    seed: u64,
    build: impl Fn(&mut Graph, &[Var]) -> Var,
) -> std::result::Result<(), TestCaseError> {
    let mut graph = Graph::new();
    let vars: Vec<Var> = inputs.iter().map(|t| graph.input(t.clone())).collect();
    let y = build(&mut graph, &vars);
    // The random upstream gradient r. Outputs that are −∞ (masked) are constants: weight 0.
    let mut rng = Rng::new(seed ^ 0x00C0_FFEE);
    let r = graph.value(y).map(|v| if v.is_finite() { rng.uniform_in(-1.0, 1.0) } else { 0.0 });
    graph.backward_from(y, r.clone()).unwrap();

    // L = Σ r·y, computed in f64 from a fresh forward pass.
    let projected = |inputs: &[Tensor]| -> f64 {
        let mut g = Graph::new();
        let vars: Vec<Var> = inputs.iter().map(|t| g.input(t.clone())).collect();
        let y = build(&mut g, &vars);
        let weighted = g.value(y).data.iter().zip(&r.data).filter(|(_, &w)| w != 0.0);
        weighted.map(|(&v, &w)| v as f64 * w as f64).sum()
    };
    for (k, input) in inputs.iter().enumerate() {
        let zeros = Tensor::zeros(&input.shape);
        let analytic = graph.grad(vars[k]).unwrap_or(&zeros);
        prop_assert_eq!(&analytic.shape, &input.shape);
        for j in 0..input.len() {
            let mut plus = inputs.to_vec();
            let mut minus = inputs.to_vec();
            plus[k].data[j] += H;
            minus[k].data[j] -= H;
            let step = plus[k].data[j] as f64 - minus[k].data[j] as f64;
            let numeric = (projected(&plus) - projected(&minus)) / step;
            let tape = analytic.data[j] as f64;
            prop_assert!(
                (tape - numeric).abs() <= TOLERANCE * (1.0 + numeric.abs()),
                "input {k} {:?}, element {j}: tape {tape}, finite differences {numeric}",
                input.shape
            );
        }
    }
    Ok(())
}

/// A side length in 1..=7.
fn dim() -> std::ops::RangeInclusive<usize> {
    1..=7
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matmul_with_transposes(
        m in dim(), k in 1..=13usize, n in dim(), ta: bool, tb: bool, seed: u64
    ) {
        let mut rng = Rng::new(seed);
        let a = random(&if ta { [k, m] } else { [m, k] }, &mut rng);
        let b = random(&if tb { [n, k] } else { [k, n] }, &mut rng);
        check_gradients(&[a, b], seed, |g, v| g.matmul_transposed(v[0], ta, v[1], tb).unwrap())?;
    }

    /// Batches on both sides, or a single matrix shared across the other side's batch.
    #[test]
    fn batched_matmul(
        batch in 1..=3usize, m in dim(), k in dim(), n in dim(),
        ta: bool, tb: bool, which in 0..3usize, seed: u64
    ) {
        let mut rng = Rng::new(seed);
        let a_matrix = if ta { vec![k, m] } else { vec![m, k] };
        let b_matrix = if tb { vec![n, k] } else { vec![k, n] };
        let batched = |s: &[usize]| [&[batch], s].concat();
        let (a_shape, b_shape) = match which {
            0 => (batched(&a_matrix), batched(&b_matrix)),
            1 => (batched(&a_matrix), b_matrix),
            _ => (a_matrix, batched(&b_matrix)),
        };
        let (a, b) = (random(&a_shape, &mut rng), random(&b_shape, &mut rng));
        check_gradients(&[a, b], seed, |g, v| g.matmul_transposed(v[0], ta, v[1], tb).unwrap())?;
    }

    /// add, sub and mul with the second operand broadcast in each of the common ways, on
    /// either side.
    #[test]
    fn broadcasting_arithmetic(
        r in dim(), c in dim(), which in 0..5usize, op in 0..3usize, swap: bool, seed: u64
    ) {
        let mut rng = Rng::new(seed);
        let small_shape: Vec<usize> = match which {
            0 => vec![r, c],
            1 => vec![c],
            2 => vec![r, 1],
            3 => vec![1, c],
            _ => vec![],
        };
        let (big, small) = (random(&[r, c], &mut rng), random(&small_shape, &mut rng));
        let inputs = if swap { [small, big] } else { [big, small] };
        check_gradients(&inputs, seed, |g, v| match op {
            0 => g.add(v[0], v[1]).unwrap(),
            1 => g.sub(v[0], v[1]).unwrap(),
            _ => g.mul(v[0], v[1]).unwrap(),
        })?;
    }

    #[test]
    fn scale_sum_mean(r in dim(), c in dim(), k in -3.0f32..3.0, seed: u64) {
        let x = [random(&[r, c], &mut Rng::new(seed))];
        check_gradients(&x, seed, |g, v| g.scale(v[0], k))?;
        check_gradients(&x, seed, |g, v| g.sum(v[0]))?;
        check_gradients(&x, seed, |g, v| g.mean(v[0]))?;
    }

    #[test]
    fn reshape_and_transpose(b in 1..=3usize, r in dim(), c in dim(), seed: u64) {
        let batch = [random(&[b, r, c], &mut Rng::new(seed))];
        check_gradients(&batch, seed, |g, v| g.reshape(v[0], &[b * r, c]).unwrap())?;
        check_gradients(&batch, seed, |g, v| g.transpose(v[0]).unwrap())?;
        let matrix = [batch[0].reshape(&[b * r, c]).unwrap()];
        check_gradients(&matrix, seed, |g, v| g.transpose(v[0]).unwrap())?;
    }

    /// Any reordering of a rank-1 to rank-4 tensor's dimensions.
    #[test]
    fn permute_any_axes(shape in prop::collection::vec(1..=4usize, 1..=4), order_seed: u64, seed: u64) {
        let x = [random(&shape, &mut Rng::new(seed))];
        // A random permutation of 0..rank (Fisher–Yates with the seeded generator).
        let mut axes: Vec<usize> = (0..shape.len()).collect();
        let mut rng = Rng::new(order_seed);
        for i in (1..axes.len()).rev() {
            axes.swap(i, rng.below(i + 1));
        }
        check_gradients(&x, seed, |g, v| g.permute(v[0], &axes).unwrap())?;
    }

    #[test]
    fn activations(r in dim(), c in dim(), seed: u64) {
        let x = [random(&[r, c], &mut Rng::new(seed))];
        check_gradients(&[away_from_zero(x[0].clone())], seed, |g, v| g.relu(v[0]))?;
        check_gradients(&x, seed, |g, v| g.gelu(v[0]))?;
        check_gradients(&x, seed, |g, v| g.sigmoid(v[0]))?;
        check_gradients(&x, seed, |g, v| g.tanh(v[0]))?;
    }

    #[test]
    fn softmax_and_log_softmax(b in 1..=2usize, r in dim(), c in 1..=13usize, seed: u64) {
        let x = [random(&[b, r, c], &mut Rng::new(seed))];
        check_gradients(&x, seed, |g, v| g.softmax_rows(v[0]))?;
        check_gradients(&x, seed, |g, v| g.log_softmax_rows(v[0]))?;
    }

    /// Scores plus a causal and/or padding mask, then softmax: the path attention takes.
    /// Padding every key makes every row fully masked.
    #[test]
    fn masked_softmax(n in dim(), causal: bool, padding_seed: u64, seed: u64) {
        let mut rng = Rng::new(padding_seed);
        let key_is_padding: Vec<bool> = (0..n).map(|_| rng.bernoulli(0.4)).collect();
        let mut mask = tensor::padding_mask(n, &key_is_padding);
        if causal {
            mask = tensor::add(&mask, &tensor::causal_mask(n)).unwrap();
        }
        let scores = random(&[n, n], &mut Rng::new(seed));
        check_gradients(&[scores], seed, |g, v| {
            let m = g.input(mask.clone());
            let masked = g.add(v[0], m).unwrap();
            g.softmax_rows(masked)
        })?;
    }

    #[test]
    fn cross_entropy_with_padding(rows in dim(), classes in 1..=13usize, ignore: bool, seed: u64) {
        let mut rng = Rng::new(seed);
        let logits = random(&[rows, classes], &mut rng);
        let targets: Vec<usize> = (0..rows).map(|_| rng.below(classes)).collect();
        // When `ignore` is set, rows whose target is class 0 count as padding.
        let ignore_index = if ignore { Some(0) } else { None };
        check_gradients(&[logits], seed, |g, v| {
            g.cross_entropy(v[0], &targets, ignore_index).unwrap()
        })?;
    }

    #[test]
    fn binary_cross_entropy_with_logits(r in dim(), c in dim(), seed: u64) {
        let mut rng = Rng::new(seed);
        let logits = random(&[r, c], &mut rng);
        let targets = Tensor::zeros(&[r, c]).map(|_| rng.uniform());
        check_gradients(&[logits], seed, |g, v| g.bce_with_logits(v[0], &targets).unwrap())?;
    }

    #[test]
    fn layer_norm_over_the_last_dim(r in dim(), d in dim(), seed: u64) {
        let mut rng = Rng::new(seed);
        let x = spread_rows(&[r, d], &mut rng);
        let (gamma, beta) = (random(&[d], &mut rng), random(&[d], &mut rng));
        check_gradients(&[x, gamma, beta], seed, |g, v| {
            g.layer_norm(v[0], v[1], v[2], 1e-5).unwrap()
        })?;
    }

    #[test]
    fn batch_norm_over_the_batch_dim(n in dim(), d in dim(), seed: u64) {
        let mut rng = Rng::new(seed);
        // Spread each feature (column) over the batch: build [d, n] spread rows, transpose.
        let x = spread_rows(&[d, n], &mut rng).transpose().unwrap();
        let (gamma, beta) = (random(&[d], &mut rng), random(&[d], &mut rng));
        check_gradients(&[x, gamma, beta], seed, |g, v| {
            g.batch_norm(v[0], v[1], v[2], 1e-5).unwrap().output
        })?;
    }

    #[test]
    fn embedding_gathers_and_scatter_adds(
        vocab in dim(), width in dim(), len in 1..=10usize, seed: u64
    ) {
        let mut rng = Rng::new(seed);
        let table = random(&[vocab, width], &mut rng);
        // With more positions than rows, some rows are looked up several times.
        let indices: Vec<usize> = (0..len).map(|_| rng.below(vocab)).collect();
        check_gradients(&[table], seed, |g, v| g.embedding(v[0], &indices).unwrap())?;
    }

    #[test]
    fn dropout_in_training(r in dim(), c in dim(), p in 0.0f32..0.9, seed: u64) {
        let x = random(&[r, c], &mut Rng::new(seed));
        // A fresh generator with the same seed on every forward pass gives the same mask.
        check_gradients(&[x], seed, |g, v| g.dropout(v[0], p, &mut Rng::new(seed), true))?;
    }
}

// -------------------------------------------------------------------------------------------
// Examples worked by hand
// -------------------------------------------------------------------------------------------

fn matrix(rows: &[Vec<f32>]) -> Tensor {
    Tensor::from_rows(rows).unwrap()
}

#[test]
fn a_value_used_twice_gets_both_contributions() {
    // y = x·x, so dy/dx = 2x: the two uses each contribute x.
    let mut g = Graph::new();
    let x = g.param(Tensor::scalar(3.0));
    let y = g.mul(x, x).unwrap();
    g.backward(y).unwrap();
    assert_eq!(g.grad(x).unwrap().data, vec![6.0]);
}

#[test]
fn gradients_accumulate_until_zero_grad() {
    let mut g = Graph::new();
    let w = g.param(Tensor::from_vec(&[2], vec![1.0, 2.0]).unwrap());
    let x = g.input(Tensor::from_vec(&[2], vec![3.0, 4.0]).unwrap());
    let wx = g.mul(w, x).unwrap();
    let loss = g.sum(wx);
    g.backward(loss).unwrap();
    assert_eq!(g.grad(w).unwrap().data, vec![3.0, 4.0]);
    g.backward(loss).unwrap();
    assert_eq!(g.grad(w).unwrap().data, vec![6.0, 8.0], "a second backward adds");
    g.zero_grad();
    assert!(g.grad(w).is_none());
    g.backward(loss).unwrap();
    assert_eq!(g.grad(w).unwrap().data, vec![3.0, 4.0]);
    assert_eq!(g.params(), vec![w]);
}

#[test]
fn a_linear_layer_by_hand() {
    // y = x·W + b with x = [1, 2], W = [[1, 2, 3], [4, 5, 6]], b = [0.5, 0.5, 0.5].
    // x·W = [1+8, 2+10, 3+12] = [9, 12, 15]. With L = Σ y: dL/dW[i][j] = x_i, dL/db = 1,
    // dL/dx_i = Σ_j W[i][j] = [6, 15].
    let mut g = Graph::new();
    let x = g.input(matrix(&[vec![1.0, 2.0]]));
    let w = g.param(matrix(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]));
    let b = g.param(Tensor::filled(&[3], 0.5));
    let xw = g.matmul(x, w).unwrap();
    let y = g.add(xw, b).unwrap();
    assert_eq!(g.value(y).data, vec![9.5, 12.5, 15.5]);
    let loss = g.sum(y);
    g.backward(loss).unwrap();
    assert_eq!(g.grad(w).unwrap().data, vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    assert_eq!(g.grad(b).unwrap().data, vec![1.0, 1.0, 1.0]);
    assert_eq!(g.grad(x).unwrap().data, vec![6.0, 15.0]);
}

#[test]
fn shape_errors_are_errors_not_panics() {
    let mut g = Graph::new();
    let a = g.input(Tensor::zeros(&[2, 3]));
    let b = g.input(Tensor::zeros(&[2, 4]));
    let err = g.matmul(a, b).unwrap_err();
    assert_eq!(
        err.message,
        "matmul: [2, 3] x [2, 4]: inner dimensions 3 and 2 differ (is a weight transposed?)"
    );
    assert!(g.add(a, b).is_err());
    assert!(g.reshape(a, &[5]).is_err());
    assert!(g.backward(a).unwrap_err().message.contains("single number"));
    assert!(g.cross_entropy(a, &[0], None).unwrap_err().message.contains("2 rows but 1 targets"));
    assert!(g.cross_entropy(a, &[0, 3], None).unwrap_err().message.contains("target 3 in row 1"));
    assert!(g.bce_with_logits(a, &Tensor::zeros(&[3, 2])).is_err());
    let gamma = g.param(Tensor::filled(&[2], 1.0));
    let beta = g.param(Tensor::zeros(&[3]));
    let err = g.layer_norm(a, gamma, beta, 1e-5).unwrap_err();
    assert_eq!(err.message, "layer_norm: gamma has shape [2] but x [2, 3] has 3 features");
    assert!(g.embedding(a, &[0, 2]).unwrap_err().message.contains("index 2 at position 1"));
    // Nothing was recorded by the failed ops: only the four leaves are on the tape.
    assert_eq!(g.len(), 4);
}

#[test]
fn cross_entropy_values() {
    // Uniform logits over 4 classes: every class has p = 1/4, so the loss is ln 4.
    let mut g = Graph::new();
    let z = g.input(Tensor::zeros(&[2, 4]));
    let loss = g.cross_entropy(z, &[1, 3], None).unwrap();
    assert!((g.value(loss).data[0] - libm::logf(4.0)).abs() < 1e-6);
    // dL/dz = (1/4 − onehot) / 2 rows.
    g.backward(loss).unwrap();
    assert_eq!(g.grad(z).unwrap().data, vec![0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]);

    // A padded row (target = ignore index) changes neither the loss nor the average.
    let mut g = Graph::new();
    let z = g.input(matrix(&[vec![0.0, 0.0, 0.0, 0.0], vec![5.0, -1.0, 2.0, 0.0]]));
    let loss = g.cross_entropy(z, &[1, 99], Some(99)).unwrap();
    assert!((g.value(loss).data[0] - libm::logf(4.0)).abs() < 1e-6);
    g.backward(loss).unwrap();
    assert_eq!(&g.grad(z).unwrap().data[4..], &[0.0; 4]);
    // All rows ignored: loss 0, not 0/0.
    let loss = g.cross_entropy(z, &[99, 99], Some(99)).unwrap();
    assert_eq!(g.value(loss).data, vec![0.0]);
}

#[test]
fn bce_with_logits_is_stable_for_extreme_logits() {
    let mut g = Graph::new();
    let z = g.input(Tensor::from_vec(&[3], vec![100.0, -100.0, 0.0]).unwrap());
    let y = Tensor::from_vec(&[3], vec![1.0, 1.0, 0.0]).unwrap();
    let loss = g.bce_with_logits(z, &y).unwrap();
    // Per element: ≈0 (confident and right), 100 (confident and wrong), ln 2; the mean of those.
    let expected = (100.0 + libm::logf(2.0)) / 3.0;
    assert!((g.value(loss).data[0] - expected).abs() < 1e-4);
    g.backward(loss).unwrap();
    let grad = &g.grad(z).unwrap().data;
    assert!(grad.iter().all(|v| v.is_finite()));
    assert!((grad[1] + 1.0 / 3.0).abs() < 1e-6, "σ(−100) − 1 ≈ −1, over 3 elements");
}

#[test]
fn fully_masked_rows_give_zeros_and_zero_gradient() {
    let mut g = Graph::new();
    let scores = g.input(matrix(&[vec![1.0, 2.0], vec![3.0, 4.0]]));
    let mask = g.input(tensor::padding_mask(2, &[true, true]));
    let masked = g.add(scores, mask).unwrap();
    let probs = g.softmax_rows(masked);
    assert_eq!(g.value(probs).data, vec![0.0; 4]);
    let loss = g.sum(probs);
    g.backward(loss).unwrap();
    assert_eq!(g.grad(scores).unwrap().data, vec![0.0; 4]);
    let log_probs = g.log_softmax_rows(masked);
    let loss = g.sum(log_probs);
    g.zero_grad();
    g.backward(loss).unwrap();
    assert_eq!(g.grad(scores).unwrap().data, vec![0.0; 4], "no NaN from −∞ − (−∞)");
}

#[test]
fn dropout_scales_survivors_and_is_the_identity_at_inference() {
    let mut g = Graph::new();
    let x = g.input(Tensor::filled(&[100, 100], 1.0));
    let mut rng = Rng::new(5);
    assert_eq!(g.dropout(x, 0.5, &mut rng, false), x, "not training: the same node, no new op");
    let y = g.dropout(x, 0.25, &mut rng, true);
    let values = &g.value(y).data;
    assert!(values.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    let dropped = values.iter().filter(|&&v| v == 0.0).count() as f32 / 10_000.0;
    assert!((dropped - 0.25).abs() < 0.02, "dropped {dropped}");
    // Inverted scaling keeps the mean: about 1.
    assert!((g.value(y).mean() - 1.0).abs() < 0.03);
    // Same seed, same mask.
    let again = g.dropout(x, 0.25, &mut Rng::new(5), true);
    let first = g.dropout(x, 0.25, &mut Rng::new(5), true);
    assert_eq!(g.value(again), g.value(first));
}

#[test]
fn layer_and_batch_norm_values() {
    // Row [1, 2, 3]: mean 2, variance 2/3, so x̂ = (−1, 0, 1)/√(2/3) = (−1.2247, 0, 1.2247).
    let mut g = Graph::new();
    let x = g.input(matrix(&[vec![1.0, 2.0, 3.0]]));
    let gamma = g.param(Tensor::filled(&[3], 2.0));
    let beta = g.param(Tensor::filled(&[3], 1.0));
    let y = g.layer_norm(x, gamma, beta, 0.0).unwrap();
    let expected = [1.0 - 2.0 * 1.224_745, 1.0, 1.0 + 2.0 * 1.224_745];
    for (got, want) in g.value(y).data.iter().zip(expected) {
        assert!((got - want).abs() < 1e-5);
    }
    // Batch norm over a batch of two examples with features (1, 10) and (3, 30):
    // means (2, 20), variances (1, 100); each feature normalizes to (−1, 1).
    let mut g = Graph::new();
    let x = g.input(matrix(&[vec![1.0, 10.0], vec![3.0, 30.0]]));
    let gamma = g.param(Tensor::filled(&[2], 1.0));
    let beta = g.param(Tensor::zeros(&[2]));
    let bn = g.batch_norm(x, gamma, beta, 0.0).unwrap();
    assert_eq!((bn.mean.clone(), bn.var.clone()), (vec![2.0, 20.0], vec![1.0, 100.0]));
    assert_eq!(g.value(bn.output).data, vec![-1.0, -1.0, 1.0, 1.0]);
    assert!(g.batch_norm(gamma, gamma, beta, 0.0).unwrap_err().message.contains("[examples, features]"));
}

#[test]
fn embedding_scatter_adds_repeated_rows() {
    let mut g = Graph::new();
    let table = g.param(matrix(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]));
    let rows = g.embedding(table, &[2, 0, 2]).unwrap();
    assert_eq!(g.value(rows).data, vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    let loss = g.sum(rows);
    g.backward(loss).unwrap();
    // Row 2 was used twice, row 0 once, row 1 never.
    assert_eq!(g.grad(table).unwrap().data, vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
}

#[test]
fn gelu_matches_reference_values() {
    // Values of the tanh approximation: GELU(1) ≈ 0.841192, GELU(−1) ≈ −0.158808.
    let mut g = Graph::new();
    let x = g.input(Tensor::from_vec(&[3], vec![1.0, -1.0, 0.0]).unwrap());
    let y = g.gelu(x);
    let v = &g.value(y).data;
    assert!((v[0] - 0.841_192).abs() < 1e-5 && (v[1] + 0.158_808).abs() < 1e-5 && v[2] == 0.0);
}

/// Inputs for the GELU tests: a dense grid over [−12, 12], where GELU goes from 0 to x
/// (step 0.001), every power of ten from 10⁻⁴⁵ (a subnormal) to 10³⁸ with both signs, and
/// the extremes: ±0, the smallest normal float, the largest, the infinities and NaN.
fn gelu_inputs() -> Vec<f32> {
    let mut xs: Vec<f32> = (-12_000..=12_000).map(|i| i as f32 * 0.001).collect();
    for k in -45..=38 {
        let power: f32 = format!("1e{k}").parse().unwrap();
        xs.extend([power, -power]);
    }
    xs.extend([-0.0, f32::MIN_POSITIVE, f32::MAX, f32::MIN, f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
    xs
}

/// GELU in the tanh form, 0.5·x·(1 + tanh(u)) with libm's tanh in f32: what the engine
/// computed before it used [`exp_by_parts`].
fn gelu_by_tanh(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::tanhf(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)))
}

/// How many f32 values lie between `a` and `b` (0 when they are equal; both finite).
fn ulps_apart(a: f32, b: f32) -> u32 {
    // Map the bit patterns onto a line where neighbouring floats are neighbouring integers,
    // negative numbers below positive ones (−0 and +0 meet at 0).
    let line = |v: f32| {
        let bits = v.to_bits() as i64;
        if bits & 0x8000_0000 != 0 {
            -(bits & 0x7FFF_FFFF)
        } else {
            bits
        }
    };
    (line(a) - line(b)).unsigned_abs() as u32
}

#[test]
fn gelu_by_one_exponential_is_within_4_ulps_of_the_tanh_form() {
    // The two forms are the same function and differ by rounding only: at most 4 floats
    // apart, or 2e-7 apart where GELU is near 0 (x < −5 or so, where the tanh form's
    // 1 + tanh(u) cancels and keeps few digits). Infinities and NaN come out alike, and
    // beyond the exponential's range both give exactly 0 (x < −10) or exactly x (x > 10).
    let mut worst = (0, 0.0);
    for x in gelu_inputs() {
        let (ours, theirs) = (gelu(x), gelu_by_tanh(x));
        if !theirs.is_finite() || !ours.is_finite() {
            assert!(
                ours == theirs || (ours.is_nan() && theirs.is_nan()),
                "GELU({x}): {ours} against {theirs}"
            );
            continue;
        }
        if x.abs() > 12.0 {
            assert_eq!(ours, theirs, "GELU({x}) beyond the grid");
            continue;
        }
        let ulps = ulps_apart(ours, theirs);
        assert!(
            ulps <= 4 || (ours - theirs).abs() <= 2e-7,
            "GELU({x}): {ours} against {theirs}, {ulps} ulps"
        );
        if ulps <= 4 && ulps > worst.0 {
            worst = (ulps, x);
        }
    }
    println!("worst: {} ulps, at x = {}", worst.0, worst.1);
    // The exact cases: GELU(0) = 0, GELU(+∞) = +∞, and −∞ · 0 is NaN in both forms.
    assert_eq!(gelu(0.0), 0.0);
    assert_eq!(gelu(f32::INFINITY), f32::INFINITY);
    assert!(gelu(f32::NEG_INFINITY).is_nan() && gelu(f32::NAN).is_nan());
    assert_eq!(gelu(-20.0), 0.0);
    assert_eq!(gelu(20.0), 20.0);
}

#[test]
fn gelu_on_the_tape_gives_the_tape_free_bits_and_the_textbook_slope() {
    // The tape computes value and slope from one exponential; the value must equal the
    // tape-free `gelu` bit for bit (what the inference path computes), and on the grid both
    // must match the textbook formulas with tanh, 0.5·x·(1 + tanh(u)) and its derivative
    // 0.5·(1 + t) + 0.5·x·(1 − t²)·u', computed in f64.
    let xs = gelu_inputs();
    let mut g = Graph::new();
    let x = g.input(Tensor::from_vec(&[xs.len()], xs.clone()).unwrap());
    let y = g.gelu(x);
    let total = g.sum(y);
    g.backward(total).unwrap();
    let (values, slopes) = (&g.value(y).data, &g.grad(x).unwrap().data);
    let close = crate::core::tolerance::Tolerance { abs: 2e-7, rel: 5e-7 };
    for (i, &v) in xs.iter().enumerate() {
        assert_eq!(values[i].to_bits(), gelu(v).to_bits(), "GELU({v})");
        let slope = slopes[i];
        if v.is_nan() || v.abs() > 1.8e19 {
            // NaN in, NaN out; and beyond 1.8e19, x² overflows in u' and 0·∞ makes the
            // slope NaN, as in the tanh form.
            assert!(slope.is_nan(), "GELU'({v}) = {slope}");
        } else if v.abs() > 12.0 {
            // Flat on the left, the identity on the right, exactly.
            assert_eq!(slope, if v > 0.0 { 1.0 } else { 0.0 }, "GELU'({v})");
        } else {
            let v64 = v as f64;
            let t = libm::tanh(0.797_884_560_802_865_4 * (v64 + 0.044_715 * v64 * v64 * v64));
            let inner_slope = 0.797_884_560_802_865_4 * (1.0 + 3.0 * 0.044_715 * v64 * v64);
            let value = 0.5 * v64 * (1.0 + t);
            let textbook_slope = 0.5 * (1.0 + t) + 0.5 * v64 * (1.0 - t * t) * inner_slope;
            assert_close!(values[i], value as f32, close, "GELU({v})");
            assert_close!(slope, textbook_slope as f32, close, "GELU'({v})");
        }
    }
}

#[test]
fn exp_by_parts_is_within_an_ulp_of_e_to_the_x() {
    // Against libm's exp in f64, over the whole clamped range and beyond it.
    let mut worst = 0.0f64;
    for i in -870_000..=880_000 {
        let x = i as f32 * 1e-4;
        let exact = libm::exp(x as f64);
        let error = ((exp_by_parts(x) as f64 - exact) / exact).abs();
        worst = worst.max(error);
    }
    // One unit in the last place is 2^-23 relative at most (about 1.19e-7).
    assert!(worst < f32::EPSILON as f64, "worst relative error {worst:e}");
    assert_eq!(exp_by_parts(0.0), 1.0);
    assert_close!(exp_by_parts(1.0), std::f32::consts::E, 1e-7);
    // Out of range: clamped, finite and positive; NaN stays NaN.
    assert_eq!(exp_by_parts(1000.0), exp_by_parts(88.0));
    assert_eq!(exp_by_parts(-1000.0), exp_by_parts(-87.0));
    assert_eq!(exp_by_parts(f32::INFINITY), exp_by_parts(88.0));
    assert!(exp_by_parts(88.0).is_finite() && exp_by_parts(-87.0) > 0.0);
    assert!(exp_by_parts(f32::NAN).is_nan());
}

/// The output and the gradient of every input in `inputs` that `build` gives, after
/// backpropagating a fixed random upstream gradient, as bits.
fn value_and_grads_bits(
    inputs: &[Tensor],
    seed: u64,
    build: impl Fn(&mut Graph, &[Var]) -> Var,
) -> (Vec<u32>, Vec<Vec<u32>>) {
    let mut graph = Graph::new();
    let vars: Vec<Var> = inputs.iter().map(|t| graph.input(t.clone())).collect();
    let y = build(&mut graph, &vars);
    let mut rng = Rng::new(seed);
    let r = graph.value(y).map(|_| rng.uniform_in(-1.0, 1.0));
    graph.backward_from(y, r).unwrap();
    let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    (bits(graph.value(y)), vars.iter().map(|&v| bits(graph.grad(v).unwrap())).collect())
}

proptest! {
    #![proptest_config(config())]

    /// Layer norm, bias + GELU and attention's scale + mask + softmax each run as one node on
    /// the tape; they give the same bits, forward and backward, as the separate ops.
    #[test]
    fn fused_ops_give_the_separate_ops_bits(r in dim(), d in dim(), causal: bool, seed: u64) {
        let mut rng = Rng::new(seed);
        let x = spread_rows(&[r, d], &mut rng);
        let (gamma, beta) = (random(&[d], &mut rng), random(&[d], &mut rng));
        let inputs = [x.clone(), gamma, beta];
        let fused = value_and_grads_bits(&inputs, seed, |g, v| g.layer_norm(v[0], v[1], v[2], 1e-5).unwrap());
        let separate = value_and_grads_bits(&inputs, seed, |g, v| {
            let x_hat = g.normalize_rows(v[0], 1e-5);
            let scaled = g.mul(x_hat, v[1]).unwrap();
            g.add(scaled, v[2]).unwrap()
        });
        prop_assert_eq!(fused, separate);

        let inputs = [random(&[r, d], &mut rng), random(&[d], &mut rng)];
        let fused = value_and_grads_bits(&inputs, seed, |g, v| g.add_gelu(v[0], v[1]).unwrap());
        let separate = value_and_grads_bits(&inputs, seed, |g, v| {
            let z = g.add(v[0], v[1]).unwrap();
            g.gelu(z)
        });
        prop_assert_eq!(fused, separate);

        let mask = if causal { tensor::causal_mask(d) } else { Tensor::zeros(&[d, d]) };
        let scores = [random(&[r, d, d], &mut rng)];
        let c = 0.3;
        let fused = value_and_grads_bits(&scores, seed, |g, v| g.scaled_masked_softmax_rows(v[0], c, &mask).unwrap());
        let separate = value_and_grads_bits(&scores, seed, |g, v| {
            let scaled = g.scale(v[0], c);
            let m = g.input(mask.clone());
            let masked = g.add(scaled, m).unwrap();
            g.softmax_rows(masked)
        });
        prop_assert_eq!(fused, separate);
    }
}
