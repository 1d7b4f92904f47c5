//! Single-head self-attention, with every intermediate kept so a page can show each step.
//!
//! For a sequence x of n positions (shape `[n, d_model]`) and projection matrices
//! Wq, Wk, Wv (each `[d_model, d_head]`):
//!
//!   Q = x·Wq, K = x·Wk, V = x·Wv                queries, keys, values: [n, d_head]
//!   scores = Q·Kᵀ                               how well query i matches key j: [n, n]
//!   scaled = scores / √d_head                   keeps the softmax out of saturation
//!   masked = scaled + mask                      mask is 0 where allowed, −∞ where not
//!   weights = softmax of each row of masked     each row sums to 1 (or is 0 if fully masked)
//!   output = weights·V                          a weighted average of values: [n, d_head]
//!
//! [`self_attention`] computes this directly and returns every line; [`self_attention_graph`]
//! records the same computation on the autograd tape, so it can be trained.

use crate::core::autograd::{Graph, Var};
use crate::core::tensor::{
    self, causal_mask, matmul, matmul_transposed, padding_mask, Result, ShapeError, Tensor,
};

/// The switches a page can flip.
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionOptions {
    /// Each position may attend only to itself and earlier positions.
    pub causal: bool,
    /// Divide the scores by √d_head. Turning it off shows why it is there: with large scores
    /// the softmax puts nearly all weight on one key.
    pub scale: bool,
    /// `key_is_padding[j]` marks position j as padding, which no query may attend to. Empty
    /// means no padding.
    pub key_is_padding: Vec<bool>,
}

impl Default for AttentionOptions {
    /// Scaled, not causal, no padding.
    fn default() -> AttentionOptions {
        AttentionOptions { causal: false, scale: true, key_is_padding: vec![] }
    }
}

/// Every intermediate of one attention pass, in the order it is computed.
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionTrace {
    /// Queries, x·Wq: `[n, d_head]`.
    pub q: Tensor,
    /// Keys, x·Wk: `[n, d_head]`.
    pub k: Tensor,
    /// Values, x·Wv: `[n, d_head]`.
    pub v: Tensor,
    /// Raw scores, Q·Kᵀ: `[n, n]`.
    pub scores: Tensor,
    /// Scores divided by √d_head (the raw scores again if scaling is off).
    pub scaled_scores: Tensor,
    /// The additive mask: 0 where query i may attend to key j, −∞ elsewhere.
    pub mask: Tensor,
    /// Scaled scores plus the mask.
    pub masked_scores: Tensor,
    /// Attention weights, the softmax of each row of the masked scores.
    pub weights: Tensor,
    /// The result, weights·V: `[n, d_head]`.
    pub output: Tensor,
}

/// The number of positions in `x`, which must be `[n, d_model]`.
fn positions(x: &Tensor) -> Result<usize> {
    match x.shape[..] {
        [n, _] => Ok(n),
        _ => Err(ShapeError::new(format!(
            "attention: x must be [positions, features], got {}",
            tensor::shape_str(&x.shape)
        ))),
    }
}

/// The additive mask `[n, n]` that `options` ask for: causal, padding, both or neither.
pub fn attention_mask(n: usize, options: &AttentionOptions) -> Result<Tensor> {
    let mut mask = Tensor::zeros(&[n, n]);
    if options.causal {
        mask = causal_mask(n);
    }
    if !options.key_is_padding.is_empty() {
        if options.key_is_padding.len() != n {
            return Err(ShapeError::new(format!(
                "attention: {} padding flags for {n} positions",
                options.key_is_padding.len()
            )));
        }
        mask = tensor::add(&mask, &padding_mask(n, &options.key_is_padding))?;
    }
    Ok(mask)
}

/// The factor the scores are multiplied by: 1/√d_head, or 1 if scaling is off.
fn score_scale(d_head: usize, options: &AttentionOptions) -> f32 {
    if options.scale {
        1.0 / libm::sqrtf(d_head as f32)
    } else {
        1.0
    }
}

// ANCHOR: self_attention
/// Self-attention computed directly, returning every intermediate.
pub fn self_attention(
    x: &Tensor,
    wq: &Tensor,
    wk: &Tensor,
    wv: &Tensor,
    options: &AttentionOptions,
) -> Result<AttentionTrace> {
    let n = positions(x)?;
    let q = matmul(x, wq)?;
    let k = matmul(x, wk)?;
    let v = matmul(x, wv)?;
    let scores = matmul_transposed(&q, false, &k, true)?;
    let c = score_scale(q.row_len(), options);
    let scaled_scores = scores.map(|s| c * s);
    let mask = attention_mask(n, options)?;
    let masked_scores = tensor::add(&scaled_scores, &mask)?;
    let weights = tensor::softmax_rows(&masked_scores);
    let output = matmul(&weights, &v)?;
    Ok(AttentionTrace { q, k, v, scores, scaled_scores, mask, masked_scores, weights, output })
}
// ANCHOR_END: self_attention

/// The same computation recorded on the tape; returns the output `[n, d_head]`.
pub fn self_attention_graph(
    graph: &mut Graph,
    x: Var,
    wq: Var,
    wk: Var,
    wv: Var,
    options: &AttentionOptions,
) -> Result<Var> {
    let n = positions(graph.value(x))?;
    let q = graph.matmul(x, wq)?;
    let k = graph.matmul(x, wk)?;
    let v = graph.matmul(x, wv)?;
    let scores = graph.matmul_transposed(q, false, k, true)?;
    let c = score_scale(graph.value(q).row_len(), options);
    let scaled = graph.scale(scores, c);
    let mask = graph.input(attention_mask(n, options)?);
    let masked = graph.add(scaled, mask)?;
    let weights = graph.softmax_rows(masked);
    graph.matmul(weights, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::autograd::tests::check_gradients;
    use crate::core::rng::Rng;
    use proptest::prelude::*;

    fn random(shape: &[usize], rng: &mut Rng) -> Tensor {
        Tensor::zeros(shape).map(|_| rng.uniform_in(-1.0, 1.0))
    }

    /// A random sequence and projections: x `[n, d_model]`, three `[d_model, d_head]`.
    fn setup(n: usize, d_model: usize, d_head: usize, seed: u64) -> [Tensor; 4] {
        let mut rng = Rng::new(seed);
        let x = random(&[n, d_model], &mut rng);
        [
            x,
            random(&[d_model, d_head], &mut rng),
            random(&[d_model, d_head], &mut rng),
            random(&[d_model, d_head], &mut rng),
        ]
    }

    #[test]
    fn a_worked_example() {
        // x = I (2x2) and every projection is I, so Q = K = V = I and scores = I.
        // Scaled by 1/√2: [[0.7071, 0], [0, 0.7071]]. Row 0's softmax:
        // e^0.7071 / (e^0.7071 + 1) = 2.0281 / 3.0281 = 0.66976, and 0.33024.
        let eye = Tensor::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
        let t = self_attention(&eye, &eye, &eye, &eye, &AttentionOptions::default()).unwrap();
        assert_eq!(t.scores, eye);
        assert!((t.scaled_scores.at(0, 0) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!((t.weights.at(0, 0) - 0.669_762).abs() < 1e-5);
        assert!((t.weights.at(0, 1) - 0.330_238).abs() < 1e-5);
        assert_eq!(t.output, t.weights, "V = I, so the output is the weights");
        // Causal: position 0 sees only itself.
        let causal = AttentionOptions { causal: true, ..AttentionOptions::default() };
        let t = self_attention(&eye, &eye, &eye, &eye, &causal).unwrap();
        assert_eq!(t.weights.data[..2], [1.0, 0.0]);
    }

    #[test]
    fn rows_sum_to_one_and_the_future_gets_no_weight() {
        for (causal, scale) in [(false, false), (false, true), (true, false), (true, true)] {
            let [x, wq, wk, wv] = setup(6, 5, 3, 17);
            let options = AttentionOptions { causal, scale, key_is_padding: vec![] };
            let t = self_attention(&x, &wq, &wk, &wv, &options).unwrap();
            for (i, row) in t.weights.row_slices().enumerate() {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
                if causal {
                    assert!(row[i + 1..].iter().all(|&w| w == 0.0), "row {i} attends to the future");
                }
            }
        }
    }

    #[test]
    fn without_scaling_the_softmax_is_sharper() {
        // Bigger projections make bigger scores; unscaled, the largest weight per row grows.
        let [x, wq, wk, wv] = setup(5, 16, 16, 3).map(|t| t.map(|v| 2.0 * v));
        let peak = |scale| {
            let options = AttentionOptions { scale, ..AttentionOptions::default() };
            let t = self_attention(&x, &wq, &wk, &wv, &options).unwrap();
            t.weights.row_slices().map(|r| r.iter().fold(0.0f32, |m, &w| m.max(w))).sum::<f32>()
        };
        assert!(peak(false) > peak(true));
    }

    #[test]
    fn padding_and_fully_masked_rows() {
        let [x, wq, wk, wv] = setup(4, 3, 2, 5);
        // Position 3 is padding: no query attends to it.
        let options = AttentionOptions {
            key_is_padding: vec![false, false, false, true],
            ..AttentionOptions::default()
        };
        let t = self_attention(&x, &wq, &wk, &wv, &options).unwrap();
        assert!(t.weights.row_slices().all(|r| r[3] == 0.0 && (r.iter().sum::<f32>() - 1.0).abs() < 1e-6));
        // Causal plus padding at position 0: query 0 may only see key 0, which is padding, so
        // its row is fully masked. It gets zero weights and a zero output, not NaN.
        let options =
            AttentionOptions { causal: true, scale: true, key_is_padding: vec![true, false, false, false] };
        let t = self_attention(&x, &wq, &wk, &wv, &options).unwrap();
        assert_eq!(t.weights.row_slices().next().unwrap(), &[0.0; 4]);
        assert_eq!(t.output.row_slices().next().unwrap(), &[0.0; 2]);
        assert!(t.output.data.iter().all(|v| v.is_finite()));
        // Wrong inputs are errors.
        let bad = AttentionOptions { key_is_padding: vec![true], ..AttentionOptions::default() };
        assert!(self_attention(&x, &wq, &wk, &wv, &bad)
            .unwrap_err()
            .message
            .contains("1 padding flags for 4"));
        assert!(self_attention(&x, &wq.transpose().unwrap(), &wk, &wv, &AttentionOptions::default()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 32,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The tape computes exactly what the direct version computes, bit for bit, and its
        /// gradients agree with finite differences.
        #[test]
        fn the_autograd_version_matches(
            n in 1..=6usize, d_model in 1..=5usize, d_head in 1..=4usize,
            causal: bool, scale: bool, pad_seed: u64, seed: u64
        ) {
            let mut rng = Rng::new(pad_seed);
            let key_is_padding = (0..n).map(|_| rng.bernoulli(0.3)).collect();
            let options = AttentionOptions { causal, scale, key_is_padding };
            let inputs = setup(n, d_model, d_head, seed);
            let [x, wq, wk, wv] = &inputs;
            let direct = self_attention(x, wq, wk, wv, &options).unwrap();
            let mut graph = Graph::new();
            let v = inputs.clone().map(|t| graph.input(t));
            let out = self_attention_graph(&mut graph, v[0], v[1], v[2], v[3], &options).unwrap();
            prop_assert_eq!(graph.value(out), &direct.output);
            check_gradients(&inputs, seed, |g, v| {
                self_attention_graph(g, v[0], v[1], v[2], v[3], &options).unwrap()
            })?;
        }
    }
}
