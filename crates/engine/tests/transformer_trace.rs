//! Chapter 2's trace, pinned three ways.
//!
//! 1. Every number the chapter prints, at the precision it prints it. The chapter's numbers
//!    were computed in f64 and rounded to four decimals; the engine runs in f32, whose
//!    rounding error here is about 1e-6, so a printed value p must satisfy
//!    |engine − p| ≤ half a unit in the last printed place, plus 2e-6.
//! 2. A second, deliberately plain f64 implementation written below with loops and nested
//!    `Vec`s (no `Tensor`, no engine kernels), which must agree with the f32 trace to 1e-4 on
//!    random sentences under all eight combinations of the options.
//! 3. The gradient of the mean loss from the engine's autograd tape, against central
//!    differences of `trace_with`'s loss.

// The plain f64 implementation is an independent reference: it uses std's exp on purpose,
// not the engine's libm path it checks.
#![allow(clippy::disallowed_methods)]

use engine::assert_close;
use engine::core::autograd::Graph;
use engine::core::rng::Rng;
use engine::core::tensor::Tensor;
use engine::labs::transformer_trace::{
    self, mean_loss_graph, next_word_targets, trace, trace_with, NormPlacement, Trace, TraceOptions,
    WeightVars, Weights, D_FF, D_MODEL, LAYER_NORM_EPS, VOCAB_SIZE,
};

// -----------------------------------------------------------------------------------------
// 1. The chapter's printed numbers
// -----------------------------------------------------------------------------------------

/// Checks `got` against a matrix printed with `decimals` decimals: rounded the same way, and
/// within the rounding interval.
fn assert_printed(name: &str, got: &Tensor, printed: &[&[f64]], decimals: i32) {
    let tolerance = 0.5 * 10f64.powi(-decimals) + 2e-6;
    assert_eq!(got.rows(), printed.len(), "{name}: rows");
    for (i, (row, want_row)) in got.row_slices().zip(printed).enumerate() {
        assert_eq!(row.len(), want_row.len(), "{name}: row {i} length");
        for (j, (&g, &w)) in row.iter().zip(want_row.iter()).enumerate() {
            // The page shows what the engine computes at the chapter's precision, so the
            // rounded f32 value must read exactly as the chapter prints it.
            let shown: f64 = format!("{g:.prec$}", prec = decimals as usize).parse().unwrap();
            assert_eq!(shown, w, "{name}[{i}][{j}] = {g} is shown as {shown}, the chapter prints {w}");
            let g = g as f64;
            assert!((g - w).abs() <= tolerance, "{name}[{i}][{j}] = {g}, the chapter prints {w}");
        }
    }
}

/// Row `i` of a matrix, as a `[1, cols]` matrix.
fn row(m: &Tensor, i: usize) -> Tensor {
    Tensor::from_rows(&[m.row_slices().nth(i).unwrap().to_vec()]).unwrap()
}

/// The chapter's trace: "the cat sat", targets "cat sat on", causal, scaled, post-norm.
fn chapter_trace() -> Trace {
    trace(&[0, 1, 2], Some(3), &TraceOptions::default()).unwrap()
}

#[test]
fn the_chapter_numbers_up_to_attention() {
    let t = chapter_trace();
    assert_printed("X", &t.x, &[&[0.2, 0.1, -0.3, 0.5], &[-0.1, 0.4, 0.2, -0.2], &[0.3, -0.2, 0.1, 0.4]], 1);
    assert_printed(
        "X'",
        &t.x_pos,
        &[&[0.2, 0.1, -0.2, 0.5], &[-0.1, 0.5, 0.2, -0.2], &[0.4, -0.2, 0.1, 0.4]],
        1,
    );
    // Q, K and V are printed exactly (three and two decimals); "exact, not rounded".
    let a = &t.attention;
    assert_printed(
        "Q",
        &a.q,
        &[&[0.216, 0.116, -0.182, 0.484], &[-0.080, 0.496, 0.182, -0.220], &[0.383, -0.182, 0.120, 0.417]],
        3,
    );
    assert_printed(
        "K",
        &a.k,
        &[&[0.25, 0.12, -0.19, 0.48], &[-0.12, 0.49, 0.25, -0.18], &[0.44, -0.16, 0.08, 0.41]],
        2,
    );
    assert_printed(
        "V",
        &a.v,
        &[&[0.19, 0.12, -0.25, 0.50], &[-0.15, 0.48, 0.22, -0.20], &[0.42, -0.21, 0.06, 0.40]],
        2,
    );
    // Rounded to two decimals, Q is the source's printed Q; the largest difference is 0.004.
    let source_q = [[0.22, 0.12, -0.18, 0.48], [-0.08, 0.50, 0.18, -0.22], [0.38, -0.18, 0.12, 0.42]];
    let mut largest = 0.0f64;
    for (row, source_row) in a.q.row_slices().zip(source_q) {
        for (&q, s) in row.iter().zip(source_row) {
            assert!(((q as f64 * 100.0).round() / 100.0 - s).abs() < 1e-9, "Q rounds to the source");
            largest = largest.max((q as f64 - s).abs());
        }
    }
    assert!((largest - 0.004).abs() < 1e-6, "largest difference {largest}");
    assert_printed(
        "QKᵀ",
        &a.scores,
        &[&[0.3348, -0.1017, 0.2604], &[-0.1007, 0.3377, -0.1902], &[0.2513, -0.1802, 0.3782]],
        4,
    );
    assert_printed(
        "S",
        &a.scaled_scores,
        // S[0][1] is exactly −0.1017 / 2 = −0.05085, a tie at four decimals. The chapter and
        // the page both round it away from zero; f32 lands just beyond the tie, so it does too.
        &[&[0.1674, -0.0509, 0.1302], &[-0.0503, 0.1689, -0.0951], &[0.1256, -0.0901, 0.1891]],
        4,
    );
    // The mask: 0 on and below the diagonal, −∞ above; the masked scores follow.
    for i in 0..3 {
        for j in 0..3 {
            let (m, s) = (a.mask.at(i, j), a.masked_scores.at(i, j));
            if j > i {
                assert!(m == f32::NEG_INFINITY && s == f32::NEG_INFINITY, "M[{i}][{j}]");
            } else {
                assert!(m == 0.0 && s == a.scaled_scores.at(i, j), "M[{i}][{j}]");
            }
        }
    }
    assert_printed(
        "α",
        &a.weights,
        &[&[1.0, 0.0, 0.0], &[0.4454, 0.5546, 0.0], &[0.3483, 0.2807, 0.3711]],
        4,
    );
    assert_printed(
        "αV",
        &a.output,
        &[
            &[0.1900, 0.1200, -0.2500, 0.5000],
            &[0.0014, 0.3196, 0.0107, 0.1118],
            &[0.1799, 0.0986, -0.0031, 0.2664],
        ],
        4,
    );
}

#[test]
fn the_chapter_numbers_from_the_residual_to_the_loss() {
    let t = chapter_trace();
    assert_printed(
        "X' + Attn",
        &t.residual_1,
        &[
            &[0.3900, 0.2200, -0.4500, 1.0000],
            &[-0.0986, 0.8196, 0.2107, -0.0882],
            &[0.5799, -0.1014, 0.0969, 0.6664],
        ],
        4,
    );
    assert_printed(
        "H'",
        &t.ffn_input,
        &[
            &[0.1937, -0.1356, -1.4330, 1.3749],
            &[-0.8301, 1.6331, -0.0006, -0.8023],
            &[0.8370, -1.2794, -0.6632, 1.1056],
        ],
        4,
    );
    // "Each row now has mean 0 and a variance just below 1: 0.99996, 0.99993 and 0.99990."
    for (row, printed) in t.ffn_input.row_slices().zip([0.99996, 0.99993, 0.99990]) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / 4.0;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - printed).abs() <= 0.5e-5 + 2e-6, "mean {mean}, variance {var}");
    }
    assert_printed(
        "H'W1",
        &t.ffn_hidden,
        &[
            &[0.8017, 0.2614, -0.6042, 0.6487, -1.2336, -0.6545, 0.5887, -0.6797],
            &[-0.5753, 0.8276, -0.9026, 0.8168, 0.0743, 0.1549, 0.3378, 0.1576],
            &[0.8386, -0.5985, 0.4312, -0.3081, -0.5622, -0.3412, -0.0821, -0.3806],
        ],
        4,
    );
    assert_printed(
        "ReLU",
        &t.ffn_relu,
        &[
            &[0.8017, 0.2614, 0.0, 0.6487, 0.0, 0.0, 0.5887, 0.0],
            &[0.0, 0.8276, 0.0, 0.8168, 0.0743, 0.1549, 0.3378, 0.1576],
            &[0.8386, 0.0, 0.4312, 0.0, 0.0, 0.0, 0.0, 0.0],
        ],
        4,
    );
    // "Four for 'the', six for 'cat', two for 'sat'."
    let active: Vec<usize> =
        t.ffn_relu.row_slices().map(|r| r.iter().filter(|&&v| v > 0.0).count()).collect();
    assert_eq!(active, [4, 6, 2]);
    assert_printed(
        "FFN",
        &t.ffn_out,
        &[
            &[0.5486, 0.0899, -0.1603, -0.0616],
            &[0.0012, 0.5627, 0.0060, -0.1966],
            &[0.3354, -0.0862, 0.0048, 0.2132],
        ],
        4,
    );
    assert_printed(
        "H' + FFN",
        &t.residual_2,
        &[
            &[0.7423, -0.0457, -1.5934, 1.3133],
            &[-0.8289, 2.1957, 0.0054, -0.9990],
            &[1.1724, -1.3656, -0.6585, 1.3189],
        ],
        4,
    );
    assert_printed(
        "H''",
        &t.output,
        &[
            &[0.5842, -0.1372, -1.5539, 1.1069],
            &[-0.7250, 1.6529, -0.0691, -0.8587],
            &[0.9121, -1.2809, -0.6698, 1.0386],
        ],
        4,
    );
    assert_printed(
        "logits",
        &t.logits,
        &[
            &[1.1227, -0.6454, 0.4901, 0.3940, -0.9349],
            &[-0.3883, 0.8916, -0.8985, 0.2585, 0.6063],
            &[0.7746, -0.9453, 0.8783, -0.0183, -0.9016],
        ],
        4,
    );
    assert_printed(
        "softmax",
        &t.probs,
        &[
            &[0.4325, 0.0738, 0.2297, 0.2087, 0.0553],
            &[0.1019, 0.3666, 0.0612, 0.1947, 0.2756],
            &[0.3415, 0.0612, 0.3788, 0.1546, 0.0639],
        ],
        4,
    );
    assert_eq!(t.targets, [Some(1), Some(2), Some(3)]);
    let mut losses: Vec<f32> = t.losses.iter().map(|l| l.unwrap()).collect();
    losses.push(t.mean_loss.unwrap());
    let losses = Tensor::from_rows(&[losses]).unwrap();
    assert_printed("losses, then their mean", &losses, &[&[2.6063, 2.7936, 1.8672, 2.4224]], 4);
}

#[test]
fn the_chapter_claims_about_the_untrained_model() {
    let t = chapter_trace();
    // The top-ranked word at each position is the current word, and each row ranks the
    // vocabulary exactly as the rows of E·Eᵀ do.
    let rank = |row: &[f32]| {
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        order
    };
    let rankings: Vec<Vec<usize>> = t.probs.row_slices().map(rank).collect();
    assert_eq!(rankings, [vec![0, 2, 3, 1, 4], vec![1, 4, 3, 0, 2], vec![2, 0, 3, 4, 1]]);
    let e = Weights::chapter().embeddings;
    let gram = engine::core::tensor::matmul_transposed(&e, false, &e, true).unwrap();
    for (word, model_ranking) in rankings.iter().enumerate() {
        assert_eq!(&rank(gram.row_slices().nth(word).unwrap()), model_ranking, "E·Eᵀ row {word}");
    }
}

#[test]
fn the_chapter_numbers_without_scaling_and_without_the_mask() {
    // "Without [scaling], the last row of attention weights would be [0.3591, 0.2332, 0.4077]."
    let unscaled = TraceOptions { scale: false, ..TraceOptions::default() };
    let t = trace(&[0, 1, 2], Some(3), &unscaled).unwrap();
    assert_printed("unscaled α, last row", &row(&t.attention.weights, 2), &[&[0.3591, 0.2332, 0.4077]], 4);
    // Exercise 2.1: without the mask, rows 0 and 1 and row 0 of α·V; row 2 is unchanged.
    let open = TraceOptions { causal: false, ..TraceOptions::default() };
    let t = trace(&[0, 1, 2], Some(3), &open).unwrap();
    // "The exponentials are 1.1822, 0.9504 and 1.1390, summing to 3.2717."
    let exps: Vec<f64> =
        t.attention.scaled_scores.row_slices().next().unwrap().iter().map(|&s| (s as f64).exp()).collect();
    for (got, printed) in
        exps.iter().chain([exps.iter().sum::<f64>()].iter()).zip([1.1822, 0.9504, 1.1390, 3.2717])
    {
        assert!((got - printed).abs() <= 0.5e-4 + 2e-6, "{got} vs {printed}");
    }
    assert_printed(
        "α without the mask",
        &t.attention.weights,
        &[&[0.3614, 0.2905, 0.3481], &[0.3124, 0.3889, 0.2987], &[0.3483, 0.2807, 0.3711]],
        4,
    );
    assert_printed(
        "αV without the mask, row 0",
        &row(&t.attention.output, 0),
        &[&[0.1713, 0.1097, -0.0055, 0.2618]],
        4,
    );
}

#[test]
fn with_the_mask_each_row_is_the_model_run_on_that_prefix() {
    // "The three rows of our output are exactly what we would get by running the model three
    // times": with the causal mask, row t depends only on words 0..=t.
    let options = TraceOptions::default();
    let full = chapter_trace();
    for n in 1..=3 {
        let prefix = trace(&[0, 1, 2][..n], None, &options).unwrap();
        for (t, (row, full_row)) in prefix.probs.row_slices().zip(full.probs.row_slices()).enumerate() {
            for (a, b) in row.iter().zip(full_row) {
                assert!((a - b).abs() < 1e-6, "prefix {n}, row {t}: {a} vs {b}");
            }
        }
    }
    // Without the mask, an earlier row changes when a later word is appended.
    let open = TraceOptions { causal: false, ..options };
    let one = trace(&[0], None, &open).unwrap();
    let three = trace(&[0, 1, 2], None, &open).unwrap();
    assert!((one.probs.at(0, 0) - three.probs.at(0, 0)).abs() > 1e-3);
}

// -----------------------------------------------------------------------------------------
// 2. An independent computation in f64, with plain loops
// -----------------------------------------------------------------------------------------

type Matrix = Vec<Vec<f64>>;

fn to_f64<const C: usize>(rows: &[[f32; C]]) -> Matrix {
    rows.iter().map(|r| r.iter().map(|&v| v as f64).collect()).collect()
}

/// C[i][j] = Σ_p A[i][p]·B[p][j].
fn product(a: &Matrix, b: &Matrix) -> Matrix {
    let mut c = vec![vec![0.0; b[0].len()]; a.len()];
    for i in 0..a.len() {
        for j in 0..b[0].len() {
            for p in 0..b.len() {
                c[i][j] += a[i][p] * b[p][j];
            }
        }
    }
    c
}

fn sum(a: &Matrix, b: &Matrix) -> Matrix {
    a.iter().zip(b).map(|(x, y)| x.iter().zip(y).map(|(u, v)| u + v).collect()).collect()
}

fn normalized(a: &Matrix) -> Matrix {
    let eps = LAYER_NORM_EPS as f64;
    a.iter()
        .map(|row| {
            let mean = row.iter().sum::<f64>() / row.len() as f64;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / row.len() as f64;
            row.iter().map(|v| (v - mean) / (var + eps).sqrt()).collect()
        })
        .collect()
}

/// Every intermediate, in f64.
struct Reference {
    x_pos: Matrix,
    attention_input: Matrix,
    q: Matrix,
    k: Matrix,
    v: Matrix,
    scores: Matrix,
    scaled: Matrix,
    weights: Matrix,
    attention: Matrix,
    residual_1: Matrix,
    ffn_input: Matrix,
    hidden: Matrix,
    relu: Matrix,
    ffn_out: Matrix,
    residual_2: Matrix,
    output: Matrix,
    logits: Matrix,
    probs: Matrix,
    losses: Vec<Option<f64>>,
    mean_loss: Option<f64>,
}

fn reference(tokens: &[usize], last_target: Option<usize>, options: &TraceOptions) -> Reference {
    let n = tokens.len();
    let e = to_f64(&transformer_trace::EMBEDDINGS);
    let p = to_f64(&transformer_trace::POSITIONS);
    let mut x_pos = vec![vec![0.0; D_MODEL]; n];
    for t in 0..n {
        for c in 0..D_MODEL {
            x_pos[t][c] = e[tokens[t]][c] + p[t][c];
        }
    }
    let pre = options.norm == NormPlacement::Pre;
    let attention_input = if pre { normalized(&x_pos) } else { x_pos.clone() };
    let q = product(&attention_input, &to_f64(&transformer_trace::W_Q));
    let k = product(&attention_input, &to_f64(&transformer_trace::W_K));
    let v = product(&attention_input, &to_f64(&transformer_trace::W_V));
    let mut scores = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            for c in 0..D_MODEL {
                scores[i][j] += q[i][c] * k[j][c];
            }
        }
    }
    let divisor = if options.scale { (D_MODEL as f64).sqrt() } else { 1.0 };
    let scaled: Matrix = scores.iter().map(|r| r.iter().map(|s| s / divisor).collect()).collect();
    // Softmax over the visible keys only; a masked key gets weight exactly 0.
    let mut weights = vec![vec![0.0; n]; n];
    for i in 0..n {
        let visible = if options.causal { i + 1 } else { n };
        let max = scaled[i][..visible].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = scaled[i][..visible].iter().map(|s| (s - max).exp()).sum();
        for j in 0..visible {
            weights[i][j] = (scaled[i][j] - max).exp() / total;
        }
    }
    let attention = product(&weights, &v);
    let residual_1 = sum(&x_pos, &attention);
    let ffn_input = normalized(&residual_1);
    let hidden = product(&ffn_input, &to_f64(&transformer_trace::W_1));
    let relu: Matrix =
        hidden.iter().map(|r| r.iter().map(|&h| if h > 0.0 { h } else { 0.0 }).collect()).collect();
    let ffn_out = product(&relu, &to_f64(&transformer_trace::W_2));
    let residual_2 = if pre { sum(&residual_1, &ffn_out) } else { sum(&ffn_input, &ffn_out) };
    let output = normalized(&residual_2);
    let mut logits = vec![vec![0.0; VOCAB_SIZE]; n];
    for t in 0..n {
        for word in 0..VOCAB_SIZE {
            for c in 0..D_MODEL {
                logits[t][word] += output[t][c] * e[word][c];
            }
        }
    }
    let probs: Matrix = logits
        .iter()
        .map(|row| {
            let total: f64 = row.iter().map(|z| z.exp()).sum();
            row.iter().map(|z| z.exp() / total).collect()
        })
        .collect();
    let mut losses = vec![None; n];
    for t in 0..n {
        let target = if t + 1 < n { Some(tokens[t + 1]) } else { last_target };
        losses[t] = target.map(|y| -probs[t][y].ln());
    }
    let counted: Vec<f64> = losses.iter().flatten().copied().collect();
    let mean_loss = (!counted.is_empty()).then(|| counted.iter().sum::<f64>() / counted.len() as f64);
    Reference {
        x_pos,
        attention_input,
        q,
        k,
        v,
        scores,
        scaled,
        weights,
        attention,
        residual_1,
        ffn_input,
        hidden,
        relu,
        ffn_out,
        residual_2,
        output,
        logits,
        probs,
        losses,
        mean_loss,
    }
}

fn all_options() -> Vec<TraceOptions> {
    let mut all = vec![];
    for causal in [true, false] {
        for scale in [true, false] {
            for norm in [NormPlacement::Post, NormPlacement::Pre] {
                all.push(TraceOptions { causal, scale, norm });
            }
        }
    }
    all
}

fn assert_matches_f64(name: &str, got: &Tensor, want: &Matrix, context: &str) {
    assert_eq!(got.shape, [want.len(), want[0].len()], "{name} shape, {context}");
    for (i, (row, want_row)) in got.row_slices().zip(want).enumerate() {
        let row: Vec<f64> = row.iter().map(|&g| f64::from(g)).collect();
        assert_close!(row, want_row, 1e-4, "{name} row {i}; {context}");
    }
}

#[test]
fn a_plain_f64_computation_agrees_on_random_sentences() {
    let mut rng = Rng::new(2024);
    for case in 0..60 {
        let n = 1 + rng.below(3);
        let tokens: Vec<usize> = (0..n).map(|_| rng.below(VOCAB_SIZE)).collect();
        let last_target = if rng.bernoulli(0.7) { Some(rng.below(VOCAB_SIZE)) } else { None };
        for options in all_options() {
            let context = format!("case {case}: {tokens:?} then {last_target:?}, {options:?}");
            let t = trace(&tokens, last_target, &options).unwrap();
            let r = reference(&tokens, last_target, &options);
            let a = &t.attention;
            for (name, got, want) in [
                ("X'", &t.x_pos, &r.x_pos),
                ("attention input", &t.attention_input, &r.attention_input),
                ("Q", &a.q, &r.q),
                ("K", &a.k, &r.k),
                ("V", &a.v, &r.v),
                ("scores", &a.scores, &r.scores),
                ("scaled", &a.scaled_scores, &r.scaled),
                ("weights", &a.weights, &r.weights),
                ("attention", &a.output, &r.attention),
                ("R1", &t.residual_1, &r.residual_1),
                ("LN(R1)", &t.ffn_input, &r.ffn_input),
                ("hidden", &t.ffn_hidden, &r.hidden),
                ("ReLU", &t.ffn_relu, &r.relu),
                ("FFN", &t.ffn_out, &r.ffn_out),
                ("R2", &t.residual_2, &r.residual_2),
                ("H''", &t.output, &r.output),
                ("logits", &t.logits, &r.logits),
                ("probs", &t.probs, &r.probs),
            ] {
                assert_matches_f64(name, got, want, &context);
            }
            // The mask and masked scores: −∞ exactly where the reference hides a key.
            for i in 0..n {
                for j in 0..n {
                    let hidden = options.causal && j > i;
                    assert_eq!(a.mask.at(i, j) == f32::NEG_INFINITY, hidden, "mask; {context}");
                    assert_eq!(a.masked_scores.at(i, j) == f32::NEG_INFINITY, hidden, "masked; {context}");
                }
            }
            assert_eq!(t.targets, next_word_targets(&tokens, last_target));
            assert_eq!(t.losses.len(), r.losses.len());
            for (got, want) in t.losses.iter().zip(&r.losses) {
                match (got, want) {
                    (Some(g), Some(w)) => assert!((*g as f64 - w).abs() < 1e-4, "loss; {context}"),
                    (None, None) => {}
                    _ => panic!("a loss exists in one computation only; {context}"),
                }
            }
            match (t.mean_loss, r.mean_loss) {
                (Some(g), Some(w)) => assert!((g as f64 - w).abs() < 1e-4, "mean loss; {context}"),
                (None, None) => {}
                _ => panic!("the mean loss exists in one computation only; {context}"),
            }
        }
    }
}

// -----------------------------------------------------------------------------------------
// 3. The tape's gradient against finite differences
// -----------------------------------------------------------------------------------------

/// The largest central-difference step. As in the autograd tests: with f32 losses near 2,
/// rounding error is about 1e-7·2/h and truncation about h², both near 1e-5 at h = 1e-2.
const H: f32 = 1e-2;

/// The step for one sentence: at most [`H`], and a tenth of the distance from the nearest
/// pre-ReLU hidden value to 0. A step that carries a hidden unit across ReLU's kink measures
/// the average of two different slopes (one sentence below has a hidden value of −0.0056, and
/// h = 1e-2 misses the true slope by 25%); staying ten times closer keeps every unit on its
/// side of the kink, since no weight moves a hidden value by more than a few times its own step.
fn step_for(t: &Trace) -> f32 {
    let margin = t.ffn_hidden.data.iter().fold(f32::INFINITY, |m, h| m.min(h.abs()));
    H.min(margin / 10.0)
}

/// Picks one matrix out of the weights.
type Pick = fn(&mut Weights) -> &mut Tensor;

/// d(mean loss)/d(entry) of one weight matrix by central differences of `trace_with`.
fn numeric_gradient(
    h: f32,
    pick: Pick,
    tokens: &[usize],
    last_target: Option<usize>,
    options: &TraceOptions,
) -> Vec<f64> {
    let base = Weights::chapter();
    let count = pick(&mut base.clone()).len();
    (0..count)
        .map(|i| {
            let loss_at = |delta: f32| {
                let mut w = base.clone();
                let entry = &mut pick(&mut w).data[i];
                *entry += delta;
                let moved = *entry;
                let loss = trace_with(&w, tokens, last_target, options).unwrap().mean_loss.unwrap();
                (loss as f64, moved as f64)
            };
            let ((up, x_up), (down, x_down)) = (loss_at(h), loss_at(-h));
            (up - down) / (x_up - x_down)
        })
        .collect()
}

#[test]
fn the_tape_gradient_matches_finite_differences() {
    let sentences: [(&[usize], Option<usize>); 4] =
        [(&[0, 1, 2], Some(3)), (&[4, 3], None), (&[2], Some(0)), (&[1, 1, 4], Some(2))];
    for (tokens, last_target) in sentences {
        for options in all_options() {
            let mut graph = Graph::new();
            let w = WeightVars::new(&mut graph, &Weights::chapter());
            let loss = mean_loss_graph(&mut graph, &w, tokens, last_target, &options).unwrap();
            let traced = trace(tokens, last_target, &options).unwrap();
            let h = step_for(&traced);
            let traced = traced.mean_loss.unwrap();
            assert!((graph.value(loss).data[0] - traced).abs() < 1e-6, "tape and trace disagree");
            graph.backward(loss).unwrap();
            // X' = X + P, so d(loss)/dP (rows 0..n) is exactly d(loss)/d(input embeddings X).
            // d(loss)/dE adds the lookup's gradient and the tied output layer's.
            let checks: [(&str, Pick, _); 3] = [
                ("input embeddings (via P)", |w| &mut w.positions, w.positions),
                ("E", |w| &mut w.embeddings, w.embeddings),
                ("W1", |w| &mut w.w_1, w.w_1),
            ];
            for (name, pick, var) in checks {
                let tape = graph.grad(var).expect("the loss depends on every weight");
                let numeric = numeric_gradient(h, pick, tokens, last_target, &options);
                for (i, (&a, &n)) in tape.data.iter().zip(&numeric).enumerate() {
                    assert!(
                        (a as f64 - n).abs() <= 1e-3 * (1.0 + n.abs()),
                        "d loss / d {name}[{i}]: tape {a}, numeric {n} (h = {h}); {tokens:?} {options:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn shapes_follow_the_sentence_length() {
    let t = trace(&[3, 4], None, &TraceOptions::default()).unwrap();
    assert_eq!(t.x.shape, [2, D_MODEL]);
    assert_eq!(t.attention.weights.shape, [2, 2]);
    assert_eq!(t.ffn_hidden.shape, [2, D_FF]);
    assert_eq!(t.logits.shape, [2, VOCAB_SIZE]);
    assert_eq!(t.losses, [t.losses[0], None]);
    assert!(trace(&[3], None, &TraceOptions::default()).unwrap().mean_loss.is_none());
}
