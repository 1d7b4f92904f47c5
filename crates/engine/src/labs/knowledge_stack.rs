//! Chapter 11's knowledge stack with one number from each layer, computed by the engine code
//! of the chapter that teaches it: the layers are not slogans but things the book has run.

use crate::core::optim::Method;
use crate::labs::alignment::Toy;
use crate::labs::backprop_stepper::{Example, TinyNet};
use crate::labs::one_gradient::Problem;
use crate::models::gpt_recipe::Size;

/// One layer of the stack and the number that stands for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Its place, 1 (foundations) to 6 (alignment).
    pub level: u8,
    pub name: &'static str,
    /// The chapters that teach it, as (number, slug).
    pub chapters: &'static [(u8, &'static str)],
    /// What the number is.
    pub measure: &'static str,
    pub value: f64,
    /// Decimals to show (0 for a count).
    pub decimals: usize,
}

/// The vocabulary of the Shakespeare text chapter 5's tiny GPT reads: 73 characters.
pub const SHAKESPEARE_CHARACTERS: usize = 73;

/// The six layers, foundations first.
pub fn layers() -> Vec<Layer> {
    let net = TinyNet::chapter_one();
    let example = Example { x: [1.0, 0.5], y: 1.0 };
    let forward = net.forward(&example);
    let backprop = net.backward(&example, &forward).grads.to_params();
    let numerical = net.numerical_gradient(&example, 1e-5);
    let worst_gap = backprop.iter().zip(&numerical).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    let exercise = Problem::exercise().step(Method::Sgd, 0.1).expect("exercise 11.2's step is finite");
    let parameters = Size::Small.config(SHAKESPEARE_CHARACTERS).param_count();
    let aligned = Toy::example().optimum(1.0);
    vec![
        Layer {
            level: 1,
            name: "Foundations",
            chapters: &[(1, "backpropagation"), (2, "transformer-trace"), (7, "regularization")],
            measure: "Chapter 1's network on its worked example: the cross-entropy −log ŷ",
            value: forward.loss,
            decimals: 6,
        },
        Layer {
            level: 2,
            name: "Learning engine",
            chapters: &[(1, "backpropagation"), (3, "implementation-patterns"), (8, "optimizers")],
            measure: "The largest gap between backpropagation's 9 gradients there and finite differences",
            value: worst_gap,
            decimals: 12,
        },
        Layer {
            level: 3,
            name: "Representations",
            chapters: &[(2, "transformer-trace"), (9, "embeddings"), (10, "interpretability")],
            measure: "Exercise 11.2: the token whose embedding has the largest dot product with h gets p",
            value: exercise.before.probs[1] as f64,
            decimals: 4,
        },
        Layer {
            level: 4,
            name: "Training objective",
            chapters: &[(4, "training-pipeline"), (6, "bert-vs-gpt"), (8, "optimizers")],
            measure: "Exercise 11.2: cross-entropy of the correct token after one SGD step (from 1.3228)",
            value: exercise.after.loss as f64,
            decimals: 4,
        },
        Layer {
            level: 5,
            name: "Architecture",
            chapters: &[
                (2, "transformer-trace"),
                (5, "inference"),
                (6, "bert-vs-gpt"),
                (7, "regularization"),
            ],
            measure: "Parameters of chapter 5's tiny GPT (2 layers, width 64, 73 characters)",
            value: parameters as f64,
            decimals: 0,
        },
        Layer {
            level: 6,
            name: "Alignment",
            chapters: &[(4, "training-pipeline"), (11, "synthesis")],
            measure:
                "the optimal aligned policy's probability of the clear answer at β = 1 (π_ref gave it 0.25)",
            value: aligned[0],
            decimals: 4,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn one_number_per_layer() {
        let stack = layers();
        assert_eq!(stack.iter().map(|l| l.level).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
        assert_close!(stack[0].value, 0.268536, 5e-7);
        assert!(stack[1].value < 1e-9, "{}", stack[1].value);
        assert_close!(stack[2].value, 0.4392, 5e-5);
        assert_close!(stack[3].value, 0.9471, 5e-5);
        // The shipped checkpoint's report counts the same 108,352.
        assert_eq!(stack[4].value, 108_352.0);
        assert_close!(stack[5].value, 0.5855, 5e-5);
    }
}
