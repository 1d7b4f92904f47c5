//! The book's graded exercises: for every exercise part with a numeric answer, the value
//! computed from the exercise's inputs by the engine code the chapter teaches, the tolerance
//! a typed answer is held to, and the likely mistakes, each one the value that a typical error
//! gives, computed the same way, with a line naming it.
//!
//! The page asks [`parse_answer`] to read what the reader typed and [`Exercise::grade`] to
//! judge it; the Markdown names an exercise part with `{{#answer ID}}`, one of [`IDS`].

use crate::core::optim::{self, Method, Optimizer, Schedule};
use crate::core::tensor::Tensor;
use crate::labs::backprop_stepper::{bce_from_logit, Example, TinyNet};
use crate::labs::dropout_lab::keep_scale;
use crate::labs::masked_lm::{self, MaskKind};
use crate::labs::memory_calculator::{model_states_per_gpu, ModelShape, StateBytes, ZeroStage};
use crate::labs::norm_axes_lab::{mean_and_variance, norm_axes};
use crate::labs::number_formats::{FP16, FP32};
use crate::labs::one_gradient::Problem;
use crate::labs::random_cosines::expected_max_abs_cosine;
use crate::labs::transformer_trace::{self, TraceOptions, Weights};
use crate::models::minilm::masked_mean;
use crate::models::sampling::{self, KvCacheShape};
use crate::models::word_vectors::cosine;

/// A wrong answer that a typical slip produces, and the line that names the slip.
#[derive(Clone, Debug, PartialEq)]
pub struct Mistake {
    pub value: f64,
    pub message: &'static str,
}

/// One exercise part with a numeric answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Exercise {
    /// The id the Markdown uses, `1.1a`.
    pub id: &'static str,
    /// What is asked, in a few words, as the answer box's label.
    pub prompt: &'static str,
    /// The engine's value.
    pub value: f64,
    /// Answers within this distance of `value` count as right.
    pub tolerance: f64,
    /// The answer as the worked answer prints it (Markdown source), checked by a test.
    pub printed: &'static str,
    pub mistakes: Vec<Mistake>,
}

/// How a typed answer fares.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Correct,
    /// Wrong, and within tolerance of this likely mistake.
    Mistake(&'static str),
    Wrong,
}

impl Exercise {
    /// Right within the tolerance, or the first likely mistake it matches, or just wrong.
    pub fn grade(&self, answer: f64) -> Verdict {
        if (answer - self.value).abs() <= self.tolerance {
            return Verdict::Correct;
        }
        match self.mistakes.iter().find(|m| (answer - m.value).abs() <= self.tolerance) {
            Some(m) => Verdict::Mistake(m.message),
            None => Verdict::Wrong,
        }
    }
}

/// Every exercise part with a numeric answer, in the book's order.
pub const IDS: &[&str] = &[
    "1.1a", "1.1b", "1.2", "1.3", "2.1", "2.2a", "2.2b", "3.2", "3.3", "4.1", "4.2", "4.4", "5.1", "5.2a",
    "5.2c", "5.3", "6.1", "6.2", "7.1", "7.2", "7.3", "8.3", "8.4b", "8.4c", "8.5", "9.1", "9.2", "9.3",
    "10.3", "10.4", "11.1", "11.2b", "11.2c",
];

/// A tolerance of `share` of `value`'s size.
fn rel(value: f64, share: f64) -> f64 {
    value.abs() * share
}

fn mistake(value: f64, message: &'static str) -> Mistake {
    Mistake { value, message }
}

/// Chapter 1's example: x = [1.0, 0.5], learning rate 0.5.
const X: [f64; 2] = [1.0, 0.5];
const LR_CH1: f64 = 0.5;
/// Exercise 5.2's cache: 32 layers of 32 heads of 128 dimensions, a 4,096-token context,
/// fp16, a batch of 16.
const EXERCISE_5_2: KvCacheShape =
    KvCacheShape { layers: 32, kv_heads: 32, head_dim: 128, context: 4096, bytes_per_value: 2.0, batch: 16 };

/// −log₁₀ p, the loss with the wrong logarithm.
fn minus_log10(p: f64) -> f64 {
    -libm::log10(p)
}

/// The parameter count of chapter 2's model: every matrix of the trace, the FFN biases and
/// both layer norms' γ and β.
struct TraceCount {
    matrices: f64,
    biases: f64,
    norms: f64,
    output: f64,
}

fn trace_count() -> TraceCount {
    let w = Weights::chapter();
    let matrices = [&w.embeddings, &w.positions, &w.w_q, &w.w_k, &w.w_v, &w.w_1, &w.w_2]
        .iter()
        .map(|t| t.data.len())
        .sum::<usize>() as f64;
    let d = w.w_q.shape[0] as f64;
    // b₁ is as wide as W₁'s output, b₂ as W₂'s.
    let biases = (w.w_1.shape[1] + w.w_2.shape[1]) as f64;
    TraceCount { matrices, biases, norms: 2.0 * 2.0 * d, output: w.embeddings.data.len() as f64 }
}

/// Mean binary cross-entropy over `n` inputs when a group of `k` share one output and `m` of
/// them have label 1, the rest fitted perfectly: the group's best shared output is m/k.
fn plateau_loss(k: f64, m: f64, n: f64, log: fn(f64) -> f64) -> f64 {
    let p = m / k;
    let group = -(m * log(p) + (k - m) * log(1.0 - p));
    group / n
}

/// The 32-layer, 4096-wide model of chapters 4 and 11.
fn llama_like(layers: u64, d_model: u64) -> ModelShape {
    ModelShape { layers, d_model, ..ModelShape::LLAMA_7B }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Chapter 11's schedule: 2T tokens in 4M-token batches, 2% warmup, 3e-4 down to 3e-5.
fn chapter_11_schedule(warmup_fraction: f64) -> Schedule {
    let total = optim::steps_for_tokens(2_000_000_000_000, 4_000_000);
    Schedule::WarmupCosine {
        max_lr: 3e-4,
        min_lr: 3e-5,
        warmup_steps: optim::warmup_steps(total, warmup_fraction),
        total_steps: total,
    }
}

/// The fraction of η that Adam's first step moves a parameter whose gradient is `g`, found
/// by taking that step with η = 1.
fn adam_first_step(g: f32, method: Method) -> f64 {
    let mut theta = [0.0f32];
    let mut adam = Optimizer::new(method, 1);
    // One parameter and one gradient: the shapes match, so the step cannot fail.
    if adam.step(&mut theta, &[g], 1.0).is_err() {
        return f64::NAN;
    }
    f64::from(-theta[0])
}

/// The contrastive loss −log softmax(s/τ)[0] for cosines `s`, the positive first, with
/// natural or base-10 logs.
fn contrastive(s: &[f64], tau: f64, log: fn(f64) -> f64) -> f64 {
    let logits: Vec<f64> = s.iter().map(|c| c / tau).collect();
    let probs = sampling::softmax_with_temperature(&logits, 1.0);
    -log(probs[0])
}

fn cos64(a: &[f32], b: &[f32]) -> f64 {
    f64::from(cosine(a, b))
}

/// The exercise part with this id.
pub fn exercise(id: &str) -> Option<Exercise> {
    let net = TinyNet::chapter_one();
    let one = Example { x: X, y: 1.0 };
    let zero = Example { x: X, y: 0.0 };
    Some(match id {
        "1.1a" => {
            let f = net.forward(&zero);
            Exercise {
                id: "1.1a",
                prompt: "the loss with y = 0",
                value: f.loss,
                tolerance: 0.005,
                printed: "1.4460",
                mistakes: vec![
                    mistake(
                        bce_from_logit(f.z2, 1.0),
                        "That is −log ŷ, the y = 1 term. With y = 0 only −log(1 − ŷ) is left.",
                    ),
                    mistake(
                        minus_log10(1.0 - f.y_hat),
                        "That is log base 10; cross-entropy uses the natural log, ln.",
                    ),
                    mistake(-f.loss, "Check the sign: the loss is −log(1 − ŷ), a positive number."),
                ],
            }
        }
        "1.1b" => {
            let f = net.forward(&zero);
            let b = net.backward(&zero, &f);
            Exercise {
                id: "1.1b",
                prompt: "δ⁽²⁾ with y = 0",
                value: b.delta2,
                tolerance: 0.001,
                printed: "0.7645",
                mistakes: vec![
                    mistake(-b.delta2, "The sign is flipped: δ⁽²⁾ = ŷ − y, prediction minus label."),
                    mistake(f.y_hat - 1.0, "That is δ⁽²⁾ for the old label y = 1; the label is now 0."),
                ],
            }
        }
        "1.2" => {
            let dead = TinyNet { w1: [[-0.60, 0.20], net.w1[1]], ..net };
            let f = dead.forward(&one);
            // The slip: feeding z = −0.15 on instead of ReLU(z) = 0.
            let z2_pre = dead.w2[0] * f.z1[0] + dead.w2[1] * f.a1[1] + dead.b2;
            Exercise {
                id: "1.2",
                prompt: "the loss",
                value: f.loss,
                tolerance: 0.001,
                printed: "0.3305",
                mistakes: vec![
                    mistake(
                        bce_from_logit(z2_pre, 1.0),
                        "You used the pre-activation z = −0.15 instead of the activation ReLU(z) = 0.",
                    ),
                    mistake(
                        minus_log10(f.y_hat),
                        "That is log base 10; cross-entropy uses the natural log, ln.",
                    ),
                    mistake(f.y_hat, "That is the prediction ŷ; the loss is −ln ŷ."),
                ],
            }
        }
        "1.3" => {
            let before = net.forward(&one);
            let step = net.step(&one, LR_CH1);
            let after = step.updated.forward(&one);
            let uphill = net.updated(&step.backward.grads, -LR_CH1).forward(&one);
            Exercise {
                id: "1.3",
                prompt: "the new loss",
                value: after.loss,
                tolerance: 0.001,
                printed: "0.1982",
                mistakes: vec![
                    mistake(
                        before.loss,
                        "That is the loss before the update; run the forward pass with the new parameters.",
                    ),
                    mistake(
                        uphill.loss,
                        "The parameters moved with the gradient: the update is θ − η·∂L/∂θ.",
                    ),
                    mistake(
                        minus_log10(after.y_hat),
                        "That is log base 10; cross-entropy uses the natural log, ln.",
                    ),
                ],
            }
        }
        "2.1" => {
            // Row 0's weight on position 1 ("cat"), from the chapter's trace of "the cat sat".
            let weight = |causal: bool, scale: bool| {
                let options = TraceOptions { causal, scale, ..TraceOptions::default() };
                match transformer_trace::trace(&[0, 1, 2], None, &options) {
                    Ok(t) => f64::from(t.attention.weights.data[1]),
                    Err(_) => f64::NAN,
                }
            };
            Exercise {
                id: "2.1",
                prompt: "row 0's weight on position 1 without the mask",
                value: weight(false, true),
                tolerance: 0.0005,
                printed: "0.2905",
                mistakes: vec![
                    mistake(weight(true, true), "That is with the mask, which hides position 1 from row 0."),
                    mistake(weight(false, false), "Use the scaled scores S, divided by √d_k = 2."),
                    mistake(1.0 / 3.0, "That is a uniform split; softmax weighs the three scores by e^s."),
                ],
            }
        }
        "2.2a" => {
            let c = trace_count();
            let tied = c.matrices + c.biases + c.norms;
            Exercise {
                id: "2.2a",
                prompt: "parameters with the tied output",
                value: tied,
                tolerance: 0.5,
                printed: "172",
                mistakes: vec![
                    mistake(tied - c.biases, "You left out the FFN biases b₁ and b₂."),
                    mistake(tied - c.norms, "You left out the two layer norms' γ and β."),
                    mistake(tied - c.norms / 2.0, "There are two layer norms, each with a γ and a β."),
                    mistake(
                        tied + c.output,
                        "That counts a separate output matrix; with tying the output reuses E.",
                    ),
                ],
            }
        }
        "2.2b" => {
            let c = trace_count();
            let tied = c.matrices + c.biases + c.norms;
            let share = c.output / (tied + c.output);
            Exercise {
                id: "2.2b",
                prompt: "the share of the untied total that tying saves",
                value: share,
                tolerance: 0.0005,
                printed: "10.4\\%",
                mistakes: vec![
                    mistake(
                        c.output / tied,
                        "That divides by the tied count; the saving is a share of the untied total.",
                    ),
                    mistake(share * 100.0, "That is a percentage: add a % sign, or write it as a fraction."),
                ],
            }
        }
        "3.2" => Exercise {
            id: "3.2",
            prompt: "the loss with three inputs merged",
            value: plateau_loss(3.0, 2.0, 4.0, libm::log),
            tolerance: 0.0005,
            printed: "0.4774",
            mistakes: vec![
                mistake(
                    plateau_loss(3.0, 2.0, 1.0, libm::log),
                    "That is the sum; the loss is the mean over N = 4.",
                ),
                mistake(
                    plateau_loss(3.0, 2.0, 3.0, libm::log),
                    "That divides by the 3 merged inputs; the mean is over all N = 4.",
                ),
                mistake(plateau_loss(3.0, 2.0, 4.0, libm::log10), "That is log base 10; use ln."),
            ],
        },
        "3.3" => {
            let largest = FP16.largest();
            Exercise {
                id: "3.3",
                prompt: "the input above which exp overflows FP16",
                value: libm::log(largest),
                tolerance: 0.005,
                printed: "11.09",
                mistakes: vec![
                    mistake(libm::log10(largest), "That is log base 10; e^x overflows at x = ln 65,504."),
                    mistake(libm::log2(largest), "That is log base 2; e^x overflows at x = ln 65,504."),
                    mistake(
                        libm::log(FP32.largest()),
                        "That is FP32's limit; FP16's largest value is 65,504.",
                    ),
                ],
            }
        }
        "4.1" => {
            let shape = llama_like(32, 4096);
            let (l, d) = (shape.layers as f64, shape.d_model as f64);
            Exercise {
                id: "4.1",
                prompt: "12·L·d²",
                value: shape.twelve_l_d_squared() as f64,
                tolerance: rel(shape.twelve_l_d_squared() as f64, 0.005),
                printed: "6{,}442{,}450{,}944",
                mistakes: vec![
                    mistake(12.0 * l * d, "d is squared: 12 · 32 · 4096²."),
                    mistake(
                        4.0 * l * d * d,
                        "That is only the attention's 4d² per layer; add the FFN's 8d².",
                    ),
                    mistake(
                        8.0 * l * d * d,
                        "That is only the FFN's 8d² per layer; add the attention's 4d².",
                    ),
                ],
            }
        }
        "4.2" => {
            let steps = optim::steps_for_tokens(2_000_000_000_000, 4_000_000) as f64;
            Exercise {
                id: "4.2",
                prompt: "gradient updates",
                value: steps,
                tolerance: 0.5,
                printed: "500{,}000",
                mistakes: vec![
                    mistake(
                        libm::round(2e12 / f64::from(1u32 << 22)),
                        "That uses 4M = 2²² tokens; here 4M means 4 × 10⁶.",
                    ),
                    mistake(2e12 / 4e3, "4M is 4 × 10⁶, not 4 × 10³."),
                    mistake(2e9 / 4e6, "A trillion is 10¹², not 10⁹."),
                ],
            }
        }
        "4.4" => {
            let bytes = StateBytes::MIXED_FP32_GRADIENTS;
            let gb = |b: f64| b / 1e9;
            let sharded = gb(model_states_per_gpu(70_000_000_000, bytes, ZeroStage::Zero3, 64).total());
            let all = gb(model_states_per_gpu(70_000_000_000, bytes, ZeroStage::Zero0, 1).total());
            let min_gpus = libm::ceil(all / 80.0);
            Exercise {
                id: "4.4",
                prompt: "GB per GPU under ZeRO stage 3 on 64 GPUs",
                value: sharded,
                tolerance: 0.05,
                printed: "19.7",
                mistakes: vec![
                    mistake(all / min_gpus, "That shares the states over the 16-GPU minimum; here there are 64."),
                    mistake(all, "That is the whole 1,260 GB; stage 3 splits all of it across the 64 GPUs."),
                    mistake(
                        gb(model_states_per_gpu(70_000_000_000, bytes, ZeroStage::Zero2, 64).total()),
                        "That keeps a full copy of the weights on every GPU (stage 2); stage 3 shards them too.",
                    ),
                ],
            }
        }
        "5.1" => {
            let logits = [2.0, 1.0, 0.5];
            let d = sampling::distribution(&logits, 0.5, logits.len(), 0.9);
            let raw = sampling::softmax_with_temperature(&logits, 0.5);
            let t1 = sampling::softmax_with_temperature(&logits, 1.0);
            let t1_kept = sampling::renormalize(&t1, &sampling::top_p(&t1, 0.9));
            Exercise {
                id: "5.1",
                prompt: "the top token's probability at T = 0.5 after top-p",
                value: d.final_probs[0],
                tolerance: 0.0005,
                printed: "0.8808",
                mistakes: vec![
                    mistake(raw[0], "That is before renormalizing: divide by the kept mass, 0.9580."),
                    mistake(t1_kept[0], "That uses T = 1; divide the logits by T = 0.5 first."),
                ],
            }
        }
        "5.2a" => {
            let shape = EXERCISE_5_2;
            Exercise {
                id: "5.2a",
                prompt: "bytes per token",
                value: shape.bytes_per_token(),
                tolerance: 0.5,
                printed: "524{,}288",
                mistakes: vec![
                    mistake(
                        shape.bytes_per_token() / 2.0,
                        "A factor of 2 is missing: the cache holds a key and a value, each 2 bytes in fp16.",
                    ),
                    mistake(
                        KvCacheShape { bytes_per_value: 4.0, ..shape }.bytes_per_token(),
                        "fp16 is 2 bytes a value, not 4.",
                    ),
                    mistake(
                        shape.bytes_per_token() / 4.0,
                        "Two factors of 2 are missing: a key and a value, and 2 bytes per fp16 value.",
                    ),
                ],
            }
        }
        "5.2c" => {
            let shape = EXERCISE_5_2;
            Exercise {
                id: "5.2c",
                prompt: "GiB for the batch of 16",
                value: shape.total_bytes() / GIB,
                tolerance: 0.05,
                printed: "32",
                mistakes: vec![
                    mistake(
                        shape.total_bytes() / 1e9,
                        "That is in GB (10⁹ bytes); the answer is in GiB (2³⁰ bytes).",
                    ),
                    mistake(
                        KvCacheShape { batch: 1, ..shape }.total_bytes() / GIB,
                        "That is one sequence; multiply by the batch of 16.",
                    ),
                    mistake(
                        KvCacheShape { kv_heads: 8, ..shape }.total_bytes() / GIB,
                        "That is part (d), with 8 key-value heads.",
                    ),
                ],
            }
        }
        "5.3" => {
            // The beam-search example's two best finished hypotheses, from its table of
            // next-token probabilities: "a dog sat <eos>" (4 tokens) and "a dog <eos>" (3).
            let long = (libm::log(0.4 * 0.9 * 0.6 * 0.5), 4.0);
            let short = (libm::log(0.4 * 0.9 * 0.4), 3.0);
            let gap = |alpha: f64| {
                let score = |(sum, len): (f64, f64)| sum / libm::pow(len, alpha);
                score(long) - score(short)
            };
            Exercise {
                id: "5.3",
                prompt: "how far the winner's score is ahead at α = 0.5",
                value: gap(0.5),
                tolerance: 0.0005,
                printed: "0.006",
                mistakes: vec![
                    mistake(gap(1.0), "That divides by L (α = 1); α = 0.5 divides by √L."),
                    mistake(
                        -gap(0.0),
                        "That is the raw-score gap (α = 0), where the shorter hypothesis wins.",
                    ),
                    mistake(
                        long.0 / 2.0,
                        "That is the winner's own score; the question asks for its lead over a dog <eos>.",
                    ),
                ],
            }
        }
        "6.1" => {
            let e = masked_lm::expected(512);
            Exercise {
                id: "6.1",
                prompt: "expected [MASK] positions",
                value: e.masked,
                tolerance: 0.05,
                printed: "61.6",
                mistakes: vec![
                    mistake(
                        0.8 * e.share,
                        "That takes 80% of 76.8; BERT first rounds the selection to a whole 77 positions.",
                    ),
                    mistake(
                        e.chosen as f64,
                        "That is every selected position; only 80% of them become [MASK].",
                    ),
                    mistake(
                        e.share,
                        "That is 15% of 512 before rounding, all selected positions; 80% of them are masked.",
                    ),
                ],
            }
        }
        "6.2" => {
            let t = 512u64;
            Exercise {
                id: "6.2",
                prompt: "ones in the causal mask for T = 512",
                value: MaskKind::Causal.attended_pairs(t) as f64,
                tolerance: 0.5,
                printed: "131{,}328",
                mistakes: vec![
                    mistake(
                        (t * t / 2) as f64,
                        "Exactly half leaves out the diagonal: each token also sees itself.",
                    ),
                    mistake(
                        (t * (t - 1) / 2) as f64,
                        "That is T(T − 1)/2, without the diagonal; each token sees itself too.",
                    ),
                    mistake(
                        MaskKind::Bidirectional.attended_pairs(t) as f64,
                        "That is the bidirectional mask, T².",
                    ),
                ],
            }
        }
        "7.1" => {
            // Shrink by 1 − ηλ until the weight is at most half of what it was.
            let halving_steps = |factor: f64| libm::ceil(libm::log(0.5) / libm::log(factor));
            let (lr, lambda) = (0.1, 0.01);
            Exercise {
                id: "7.1",
                prompt: "steps to halve the weight",
                value: halving_steps(1.0 - lr * lambda),
                tolerance: 0.5,
                printed: "693",
                mistakes: vec![
                    mistake(halving_steps(1.0 - lambda), "The factor is 1 − ηλ = 0.999: multiply λ by η."),
                    mistake(halving_steps(1.0 - lr), "The factor is 1 − ηλ = 0.999, not 1 − η."),
                    mistake(
                        1.0 / (lr * lambda),
                        "1/(ηλ) is the time to fall to 1/e; halving takes ln 2/(ηλ).",
                    ),
                ],
            }
        }
        "7.2" => {
            let (a, p) = (3.0f64, 0.1f32);
            let kept = a * f64::from(keep_scale(p));
            let keep = 1.0 - f64::from(p);
            let mean = keep * kept;
            let square = keep * kept * kept;
            Exercise {
                id: "7.2",
                prompt: "the variance of the output",
                value: square - mean * mean,
                tolerance: 0.005,
                printed: "1.0",
                mistakes: vec![
                    mistake(square, "That is E[ã²]; subtract the squared mean, 3.0², to get the variance."),
                    mistake(
                        keep * a * a - (keep * a) * (keep * a),
                        "That leaves out the 1/(1 − p) scale: the kept output is 3.0/0.9.",
                    ),
                ],
            }
        }
        "7.3" => {
            let x = [1.0f32, 2.0, 3.0, 4.0];
            let eps = 1e-5f32;
            let normed = Tensor { shape: vec![1, 4], data: x.to_vec() };
            let first = match norm_axes(&normed, eps) {
                Ok(n) => f64::from(n.layer_norm.data[0]),
                Err(_) => f64::NAN,
            };
            let (mean, var) = mean_and_variance(&x);
            let (mean, var, n) = (f64::from(mean), f64::from(var), x.len() as f64);
            let dev = f64::from(x[0]) - mean;
            Exercise {
                id: "7.3",
                prompt: "the first entry of LayerNorm([1, 2, 3, 4])",
                value: first,
                tolerance: 0.0005,
                printed: "-1.3416",
                mistakes: vec![
                    mistake(
                        dev / libm::sqrt(var * n / (n - 1.0)),
                        "LayerNorm's variance divides by d = 4, not d − 1.",
                    ),
                    mistake(dev / var, "Divide by the standard deviation √σ², not the variance σ²."),
                    mistake(f64::from(x[0]) / libm::sqrt(var), "Subtract the mean μ = 2.5 first."),
                    mistake(-first, "The sign: 1 is below the mean, so its entry is negative."),
                ],
            }
        }
        "8.3" => {
            let total = optim::steps_for_tokens(2_000_000_000_000, 4_000_000);
            Exercise {
                id: "8.3",
                prompt: "warmup steps",
                value: optim::warmup_steps(total, 0.02) as f64,
                tolerance: 0.5,
                printed: "10{,}000",
                mistakes: vec![
                    mistake(optim::warmup_steps(total, 0.2) as f64, "2% is 0.02, not 0.2."),
                    mistake(total as f64, "That is the whole run; warmup is 2% of it."),
                ],
            }
        }
        "8.4b" => {
            let (lr, h) = (0.04, 1.0);
            let steps = |factor: f64| libm::ceil(libm::log(1e-4) / libm::log(factor));
            Exercise {
                id: "8.4b",
                prompt: "steps for x to shrink by 10⁻⁴",
                value: steps(1.0 - lr * h),
                tolerance: 0.5,
                printed: "226",
                mistakes: vec![
                    mistake(
                        1.0,
                        "That is the y coordinate, which η = 1/25 zeroes in one step; x shrinks by 0.96.",
                    ),
                    mistake(
                        libm::floor(libm::log(1e-4) / libm::log(1.0 - lr * h)),
                        "225 steps leave x just above 10⁻⁴; round up.",
                    ),
                ],
            }
        }
        "8.4c" => {
            let (alpha, beta) = (0.01, 0.9);
            Exercise {
                id: "8.4c",
                prompt: "the learning rate in the EMA form",
                value: alpha / (1.0 - beta),
                tolerance: 0.0005,
                printed: "0.1",
                mistakes: vec![
                    mistake(alpha * (1.0 - beta), "Upside down: α = η(1 − β), so η = α/(1 − β)."),
                    mistake(alpha / beta, "Divide by 1 − β, not by β."),
                    mistake(alpha, "The two forms differ by the factor 1 − β."),
                ],
            }
        }
        "8.5" => Exercise {
            id: "8.5",
            prompt: "the fraction of η when g₁ = 10⁻⁹",
            value: adam_first_step(1e-9, Method::adam()),
            tolerance: 0.0005,
            printed: "0.091",
            mistakes: vec![
                mistake(1e-9 / 1e-8, "That is g/ε; the denominator is |g| + ε."),
                mistake(
                    adam_first_step(1.0, Method::adam()),
                    "That is the case g₁ = 1; here g₁ = 10⁻⁹ is below ε.",
                ),
                mistake(1e-8 / (1e-9 + 1e-8), "That is ε/(|g| + ε); the fraction is |g|/(|g| + ε)."),
            ],
        },
        "9.1" => {
            let (paris, france, italy) = ([0.9f32, 0.8, 0.0], [0.1f32, 0.9, 0.0], [0.1f32, 0.0, 0.9]);
            let rome = [0.9f32, 0.0, 0.8];
            let milan = [0.5f32, 0.0, 0.9];
            let target: Vec<f32> = (0..3).map(|i| paris[i] - france[i] + italy[i]).collect();
            let wrong: Vec<f32> = (0..3).map(|i| paris[i] + france[i] - italy[i]).collect();
            let dot: f32 = target.iter().zip(&rome).map(|(a, b)| a * b).sum();
            Exercise {
                id: "9.1",
                prompt: "the cosine with rome",
                value: cos64(&target, &rome),
                tolerance: 0.0005,
                printed: "0.9952",
                mistakes: vec![
                    mistake(
                        f64::from(dot),
                        "That is the dot product; divide by both lengths for the cosine.",
                    ),
                    mistake(cos64(&target, &milan), "That is the cosine with milan."),
                    mistake(cos64(&wrong, &rome), "The signs: paris − france + italy."),
                ],
            }
        }
        "9.2" => {
            // Three real tokens and one padding row, pooled the way MiniLM's sentence vector is.
            let h = [1.0f32, 0.0, 2.0, 3.0, 2.0, 0.0, 2.0, 4.0, 1.0, 5.0, -1.0, 3.0];
            let masked = masked_mean(&h, 3, &[true, true, true, false]);
            let unmasked = masked_mean(&h, 3, &[true; 4]);
            let by_four: Vec<f32> = masked.iter().map(|v| v * 3.0 / 4.0).collect();
            Exercise {
                id: "9.2",
                prompt: "the cosine between the two pooled vectors",
                value: cos64(&masked, &unmasked),
                tolerance: 0.0005,
                printed: "0.939",
                mistakes: vec![mistake(
                    cos64(&masked, &by_four),
                    "Masking the sum but dividing by 4 only rescales the vector: compare with all four rows averaged.",
                )],
            }
        }
        "9.3" => {
            let s = [0.8, 0.75, 0.1];
            Exercise {
                id: "9.3",
                prompt: "the loss at τ = 0.05",
                value: contrastive(&s, 0.05, libm::log),
                tolerance: 0.0005,
                printed: "0.313",
                mistakes: vec![
                    mistake(
                        contrastive(&s, 1.0, libm::log),
                        "That is the loss at τ = 1: divide the cosines by τ = 0.05.",
                    ),
                    mistake(contrastive(&s, 0.05, libm::log10), "That is log base 10; use ln."),
                    mistake(
                        sampling::softmax_with_temperature(&[16.0, 15.0, 2.0], 1.0)[0],
                        "That is the positive's probability; the loss is −ln of it.",
                    ),
                ],
            }
        }
        "10.3" => {
            // 100,000 random unit directions in 4,096 dimensions: the median of the largest
            // |cosine| among their 4,999,950,000 pairs.
            let (d, n) = (4096, 100_000);
            Exercise {
                id: "10.3",
                prompt: "the typical worst |cosine| among the 100,000 directions",
                value: expected_max_abs_cosine(d, n),
                tolerance: 0.002,
                printed: "0.100",
                mistakes: vec![
                    mistake(
                        1.0 / libm::sqrt(d as f64),
                        "That is a typical pair's cosine, 1/√d; the worst of about five billion pairs is far larger.",
                    ),
                    mistake(
                        expected_max_abs_cosine(d, 100),
                        "That is the worst pair among 100 vectors, as in the program; here there are 100,000.",
                    ),
                ],
            }
        }
        "10.4" => {
            // L(a) = (0.9 − a)² + λa is smallest where its slope −2(0.9 − a) + λ is zero.
            let (x, lambda) = (0.9, 0.1);
            Exercise {
                id: "10.4",
                prompt: "the best activation a for d₃",
                value: x - lambda / 2.0,
                tolerance: 0.0005,
                printed: "0.85",
                mistakes: vec![
                    mistake(x, "That is the exact code; the L1 term pulls the best a below 0.9."),
                    mistake(x - lambda, "The slope of (0.9 − a)² is −2(0.9 − a): the shift is λ/2, not λ."),
                ],
            }
        }
        "11.1" => {
            let schedule = chapter_11_schedule(0.02);
            let lr = f64::from(schedule.lr_at(255_000));
            Exercise {
                id: "11.1",
                prompt: "the learning rate at step 255,000",
                value: lr,
                tolerance: 5e-7,
                printed: "1.65 \\times 10^{-4}",
                mistakes: vec![
                    mistake(
                        f64::from(schedule.lr_at(5_000)),
                        "That is η_max/2, step 5,000's rate; halfway down the cosine is halfway between η_max and η_min.",
                    ),
                    mistake(3e-5, "That is η_min, reached at the last step; 255,000 is halfway."),
                ],
            }
        }
        "11.2b" => {
            let problem = Problem::exercise();
            let loss = |method: Method, lr: f32| match problem.step(method, lr) {
                Ok(step) => f64::from(step.after.loss),
                Err(_) => f64::NAN,
            };
            let before = f64::from(problem.predict_with(&problem.embeddings).loss);
            Exercise {
                id: "11.2b",
                prompt: "the loss after the SGD step",
                value: loss(Method::Sgd, 0.1),
                tolerance: 0.0005,
                printed: "0.9471",
                mistakes: vec![
                    mistake(loss(Method::Sgd, -0.1), "The step went with the gradient; subtract η times it."),
                    mistake(before, "That is the loss before the step."),
                    mistake(loss(Method::adam(), 0.1), "That is Adam's first step, part (c)."),
                ],
            }
        }
        "11.2c" => {
            let problem = Problem::exercise();
            let loss = |method: Method, lr: f32| match problem.step(method, lr) {
                Ok(step) => f64::from(step.after.loss),
                Err(_) => f64::NAN,
            };
            Exercise {
                id: "11.2c",
                prompt: "the loss after Adam's first step",
                value: loss(Method::adam(), 0.1),
                tolerance: 0.0005,
                printed: "0.9208",
                mistakes: vec![
                    mistake(loss(Method::Sgd, 0.1), "That is the plain SGD step of part (b)."),
                    mistake(
                        loss(Method::adam(), -0.1),
                        "Adam moves each coordinate against its gradient's sign.",
                    ),
                ],
            }
        }
        _ => return None,
    })
}

/// Reads a typed answer: a decimal (`0.27`, `-1.5`, `.5`), scientific notation (`1.5e-3`,
/// `1.5 × 10^-3`), thousands separated by commas or thin spaces (`500,000`), a fraction
/// (`2/3`) or a percentage (`10.4%`, which is 0.104). Anything else is refused with a reason.
pub fn parse_answer(text: &str) -> Result<f64, String> {
    let cleaned: String = text
        .trim()
        .replace(['\u{2212}', '\u{2013}'], "-")
        .replace(['×', '·'], "*")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{2009}')
        .collect();
    if cleaned.is_empty() {
        return Err("Type a number first.".into());
    }
    let (body, scale) = match cleaned.strip_suffix('%') {
        Some(rest) => (rest, 0.01),
        None => (cleaned.as_str(), 1.0),
    };
    let value = match body.split_once('/') {
        Some((top, bottom)) => {
            let (top, bottom) = (plain_number(top)?, plain_number(bottom)?);
            if bottom == 0.0 {
                return Err("A fraction cannot have 0 below the line.".into());
            }
            top / bottom
        }
        None => plain_number(body)?,
    };
    let value = value * scale;
    if value.is_finite() {
        Ok(value)
    } else {
        Err("That number is too large to check.".into())
    }
}

/// One number without a fraction bar: digits with optional comma groups, a decimal point, an
/// exponent written `e-3`, `E-3` or `*10^-3`.
fn plain_number(text: &str) -> Result<f64, String> {
    let refuse = || Err(format!("“{text}” is not a number. Try a form like 0.27, -1.5e-3, 500,000 or 2/3."));
    let lower = text.to_ascii_lowercase();
    let (mantissa, exponent) = if let Some((m, e)) = lower.split_once("*10^") {
        (m.to_string(), Some(e.trim_start_matches('(').trim_end_matches(')').to_string()))
    } else if let Some((m, e)) = lower.split_once('e') {
        (m.to_string(), Some(e.to_string()))
    } else {
        (lower.clone(), None)
    };
    if !commas_are_grouping(&mantissa) {
        return refuse();
    }
    let mantissa = mantissa.replace(',', "");
    let digits_ok = |s: &str, decimals: bool| {
        let s = s.strip_prefix(['-', '+']).unwrap_or(s);
        let mut points = 0;
        let all = s.chars().all(|c| {
            if c == '.' {
                points += 1;
                decimals
            } else {
                c.is_ascii_digit()
            }
        });
        all && points <= 1 && s.chars().any(|c| c.is_ascii_digit())
    };
    if !digits_ok(&mantissa, true) {
        return refuse();
    }
    let Ok(m) = mantissa.parse::<f64>() else { return refuse() };
    match exponent {
        None => Ok(m),
        Some(e) if digits_ok(&e, false) => match e.parse::<i32>() {
            Ok(e) if e.abs() <= 300 => Ok(m * libm::pow(10.0, f64::from(e))),
            _ => Err("That exponent is out of range.".into()),
        },
        Some(_) => refuse(),
    }
}

/// Commas may only group the integer part's digits in threes: `6,442,450,944`, not `1,5`.
fn commas_are_grouping(text: &str) -> bool {
    if !text.contains(',') {
        return true;
    }
    let integer = text.split('.').next().unwrap_or("");
    let integer = integer.strip_prefix(['-', '+']).unwrap_or(integer);
    let groups: Vec<&str> = integer.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    first_ok
        && groups[1..].iter().all(|g| g.len() == 3)
        && !text.split('.').nth(1).is_some_and(|f| f.contains(','))
}

/// The engine's value with more digits than the chapter prints: 6 significant figures,
/// grouped thousands for whole numbers.
pub fn format_value(value: f64) -> String {
    if value == libm::round(value) && value.abs() < 1e15 {
        let digits = format!("{}", value.abs() as u64);
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        return if value < 0.0 { format!("−{grouped}") } else { grouped };
    }
    let magnitude = value.abs();
    let text = if (1e-3..1e6).contains(&magnitude) {
        let decimals = (5 - libm::floor(libm::log10(magnitude)) as i32).max(0) as usize;
        format!("{magnitude:.decimals$}")
    } else {
        format!("{magnitude:.5e}")
    };
    if value < 0.0 {
        format!("−{text}")
    } else {
        text
    }
}

/// A tolerance as the page states it: whole numbers grouped, small ones as short as they
/// can be written (0.005, 5e-7).
pub fn format_tolerance(tolerance: f64) -> String {
    if tolerance >= 1.0 {
        format_value(libm::round(tolerance))
    } else if tolerance >= 1e-3 {
        format!("{tolerance}")
    } else {
        format!("{tolerance:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printed answer as a number: LaTeX's `{,}` and `\times 10^{e}` and `\%` undone.
    fn printed_value(printed: &str) -> f64 {
        let text =
            printed.replace("{,}", ",").replace("\\times", "×").replace(['{', '}'], "").replace("\\%", "%");
        parse_answer(&text).unwrap_or_else(|e| panic!("{printed}: {e}"))
    }

    /// Half a unit in the last digit the answer prints (of the mantissa, in scientific form).
    fn printed_half_unit(printed: &str) -> f64 {
        let (mantissa, exponent) = match printed.split_once("\\times 10^{") {
            Some((m, e)) => (m.trim(), e.trim_end_matches('}').parse::<i32>().unwrap()),
            None => (printed, 0),
        };
        let mantissa = mantissa.trim_end_matches("\\%");
        let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
        let percent = if printed.ends_with("\\%") { 2 } else { 0 };
        0.5 * libm::pow(10.0, f64::from(exponent - decimals - percent))
    }

    #[test]
    fn every_id_has_an_exercise_named_after_it() {
        for &id in IDS {
            let e = exercise(id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(e.id, id);
            assert!(e.value.is_finite() && e.tolerance > 0.0, "{id}");
        }
        assert!(exercise("0.0").is_none());
    }

    /// Each value equals the worked answer's number to the digits it prints, and the
    /// tolerance is at least that rounding (a reader who copies the printed answer is right).
    #[test]
    fn values_match_the_printed_answers() {
        for &id in IDS {
            let e = exercise(id).unwrap();
            let printed = printed_value(e.printed);
            let half = printed_half_unit(e.printed);
            assert!(
                (e.value - printed).abs() <= half * 1.000001,
                "{id}: engine {} but the answer prints {} (±{half})",
                e.value,
                e.printed
            );
            assert_eq!(e.grade(printed), Verdict::Correct, "{id}: the printed answer must pass");
        }
    }

    /// Every likely mistake is wrong by more than the tolerance, so it can never be taken for
    /// the right answer, and grading it names it.
    #[test]
    fn mistakes_are_outside_the_tolerance_and_named() {
        for &id in IDS {
            let e = exercise(id).unwrap();
            assert!(!e.mistakes.is_empty(), "{id} names no likely mistake");
            for m in &e.mistakes {
                assert!(m.value.is_finite(), "{id}: {}", m.message);
                assert!(
                    (m.value - e.value).abs() > e.tolerance,
                    "{id}: mistake {} = {} is within {} of {}",
                    m.message,
                    m.value,
                    e.tolerance,
                    e.value
                );
                assert_eq!(e.grade(m.value), Verdict::Mistake(m.message), "{id}: {}", m.message);
            }
        }
    }

    /// The numbers the worked answers are built on, pinned here as well.
    #[test]
    fn pinned_values() {
        let e = |id| exercise(id).unwrap();
        crate::assert_close!(e("1.1a").value, 1.446_036, 1e-6);
        crate::assert_close!(e("1.1a").mistakes[0].value, 0.268_536, 1e-6);
        crate::assert_close!(e("1.1a").mistakes[1].value, 0.627_999, 1e-5);
        crate::assert_close!(e("1.2").mistakes[0].value, 0.347_7, 1e-4);
        crate::assert_close!(e("2.1").value, 0.2905, 5e-5);
        crate::assert_close!(e("7.3").value, -1.341_635, 1e-5);
        crate::assert_close!(e("7.3").mistakes[0].value, -1.161_895, 1e-6);
        assert_eq!(e("2.2a").value, 172.0);
        crate::assert_close!(e("5.3").value, 0.006_059, 1e-6);
        assert_eq!(e("4.1").value, 6_442_450_944.0);
        assert_eq!(e("4.2").mistakes[0].value, 476_837.0);
        assert_eq!(e("5.2a").value, 524_288.0);
        crate::assert_close!(e("5.2c").mistakes[0].value, 34.359_738, 1e-6);
        assert_eq!(e("6.2").value, 131_328.0);
        assert_eq!(e("7.1").value, 693.0);
        crate::assert_close!(e("4.4").value, 19.687_5, 1e-9);
        crate::assert_close!(e("8.5").value, 1.0 / 11.0, 1e-6);
        crate::assert_close!(e("11.1").value, 1.65e-4, 1e-9);
        crate::assert_close!(e("10.3").value, 0.1000, 5e-4);
        crate::assert_close!(e("10.3").mistakes[1].value, 0.0595, 5e-4);
        // 9.2's pooled vectors: [2, 2, 1] with the mask, [2.75, 1.25, 1.5] without.
        crate::assert_close!(e("9.2").value, 9.5 / (3.0 * libm::sqrt(11.375)), 1e-6);
    }

    #[test]
    fn answers_parse_in_the_usual_forms() {
        let ok = |s: &str, v: f64| {
            let got = parse_answer(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert!((got - v).abs() <= 1e-12 * v.abs().max(1.0), "{s}: {got} ≠ {v}");
        };
        ok("0.27", 0.27);
        ok(" -1.5e-3 ", -1.5e-3);
        ok("−1.5E-3", -1.5e-3);
        ok("1.65 × 10^-4", 1.65e-4);
        ok("1.65*10^(-4)", 1.65e-4);
        ok("2/3", 2.0 / 3.0);
        ok("500,000", 500_000.0);
        ok("6,442,450,944", 6_442_450_944.0);
        ok("10.4%", 0.104);
        ok(".5", 0.5);
        ok("+3", 3.0);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in [
            "", "   ", "abc", "1.2.3", "1,5", "12,34", "e5", "1e", "1e5.5", "--1", "1/0", "0x10", "NaN",
            "inf", "1e999",
        ] {
            let err = parse_answer(bad).expect_err(bad);
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(parse_answer("abc").unwrap_err().contains("not a number"));
    }

    #[test]
    fn grading_tells_right_mistake_and_wrong_apart() {
        let e = exercise("1.1a").unwrap();
        assert_eq!(e.grade(1.446), Verdict::Correct);
        assert_eq!(e.grade(1.45), Verdict::Correct);
        assert_eq!(e.grade(0.2685), Verdict::Mistake(e.mistakes[0].message));
        assert_eq!(e.grade(0.628), Verdict::Mistake(e.mistakes[1].message));
        assert_eq!(e.grade(7.0), Verdict::Wrong);
    }

    #[test]
    fn values_print_with_more_digits() {
        assert_eq!(format_value(1.446_016_3), "1.44602");
        assert_eq!(format_value(524_288.0), "524,288");
        assert_eq!(format_value(0.090_909_1), "0.0909091");
        assert_eq!(format_value(1.65e-4), "1.65000e-4");
        assert_eq!(format_value(-0.7645), "−0.764500");
        assert_eq!(format_tolerance(0.005), "0.005");
        assert_eq!(format_tolerance(5e-7), "5e-7");
        assert_eq!(format_tolerance(0.5), "0.5");
        assert_eq!(format_tolerance(32_212_254.72), "32,212,255");
    }

    /// Every id appears exactly once in the book, inside an exercise whose worked answer
    /// prints the value this module checks against.
    #[test]
    fn the_book_places_every_id_once_beside_its_printed_answer() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let mut book = String::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "md") {
                book.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
        for &id in IDS {
            let directive = format!("{{{{#answer {id}}}}}");
            assert_eq!(book.matches(&directive).count(), 1, "{directive} must appear once");
            let at = book.find(&directive).unwrap();
            let rest = &book[at..];
            let answer_start = rest.find(":::answer").unwrap();
            let answer_end = answer_start + rest[answer_start..].find("\n:::\n").unwrap();
            let worked = &rest[answer_start..answer_end];
            let printed = exercise(id).unwrap().printed;
            assert!(worked.contains(printed), "{id}: the worked answer does not print {printed}");
        }
    }
}
