//! Chapter 11's worked exercise, live: one gradient through the whole stack. A final hidden
//! state meets a few output embeddings; their dot products are the logits, softmax turns
//! them into probabilities, cross-entropy scores the correct token, and one optimizer step
//! (chapter 8's `Optimizer`, unchanged) moves every embedding. The widget shows each number.

use crate::core::optim::{Method, Optimizer};

/// The exercise's setting: a hidden state, one output embedding per token, the correct token.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub hidden: Vec<f32>,
    pub embeddings: Vec<Vec<f32>>,
    pub target: usize,
}

/// What the model predicts for one set of embeddings.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// uⱼ·h for each token j.
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
    /// −log p(target).
    pub loss: f32,
}

/// One step, every intermediate kept.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub before: Prediction,
    /// pⱼ − yⱼ: the loss's gradient with respect to each logit.
    pub errors: Vec<f32>,
    /// (pⱼ − yⱼ)·h: the gradient with respect to each embedding.
    pub grads: Vec<Vec<f32>>,
    /// The embeddings after the step.
    pub embeddings: Vec<Vec<f32>>,
    pub after: Prediction,
}

/// The most tokens and the widest vectors the lab takes.
pub const MAX_TOKENS: usize = 8;
pub const MAX_WIDTH: usize = 8;

impl Problem {
    /// The exercise as printed: h = [1, 2], u_a = [0.5, 0], u_b = [0, 0.5], u_c = [0.2, 0.2],
    /// and the correct token is a.
    pub fn exercise() -> Problem {
        Problem {
            hidden: vec![1.0, 2.0],
            embeddings: vec![vec![0.5, 0.0], vec![0.0, 0.5], vec![0.2, 0.2]],
            target: 0,
        }
    }

    /// Checks the shapes, in words: at least two tokens, every embedding as wide as h.
    pub fn check(&self) -> Result<(), String> {
        let width = self.hidden.len();
        if width == 0 || width > MAX_WIDTH {
            return Err(format!("The hidden state needs 1 to {MAX_WIDTH} numbers; it has {width}."));
        }
        if !(2..=MAX_TOKENS).contains(&self.embeddings.len()) {
            return Err(format!("Use 2 to {MAX_TOKENS} tokens; there are {}.", self.embeddings.len()));
        }
        if let Some(j) = self.embeddings.iter().position(|u| u.len() != width) {
            return Err(format!(
                "Embedding {} has {} numbers; the hidden state has {width}.",
                j + 1,
                self.embeddings[j].len()
            ));
        }
        if self.target >= self.embeddings.len() {
            return Err("The correct token must be one of the tokens.".into());
        }
        Ok(())
    }

    /// Logits, probabilities and loss with the given embeddings.
    pub fn predict_with(&self, embeddings: &[Vec<f32>]) -> Prediction {
        let logits: Vec<f32> =
            embeddings.iter().map(|u| u.iter().zip(&self.hidden).map(|(a, b)| a * b).sum()).collect();
        // Softmax with the largest logit subtracted first, so no exponential overflows.
        let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = logits.iter().map(|&z| libm::expf(z - top)).collect();
        let total: f32 = exps.iter().sum();
        let probs: Vec<f32> = exps.iter().map(|e| e / total).collect();
        let loss = -libm::logf(probs[self.target]);
        Prediction { logits, probs, loss }
    }

    /// One step of `method` with learning rate `lr` from the problem's embeddings (a fresh
    /// optimizer, so Adam's step is its first: lr times each gradient's sign).
    pub fn step(&self, method: Method, lr: f32) -> Result<Step, String> {
        self.check()?;
        let before = self.predict_with(&self.embeddings);
        let errors: Vec<f32> = before
            .probs
            .iter()
            .enumerate()
            .map(|(j, &p)| p - if j == self.target { 1.0 } else { 0.0 })
            .collect();
        // Each logit is uⱼ·h, so ∂loss/∂uⱼ = (pⱼ − yⱼ)·h: the error times the input.
        let grads: Vec<Vec<f32>> =
            errors.iter().map(|&e| self.hidden.iter().map(|&h| e * h).collect()).collect();
        let mut params: Vec<f32> = self.embeddings.concat();
        let mut optimizer = Optimizer::new(method, params.len());
        optimizer.step(&mut params, &grads.concat(), lr).map_err(|e| e.to_string())?;
        let embeddings: Vec<Vec<f32>> = params.chunks(self.hidden.len()).map(<[f32]>::to_vec).collect();
        let after = self.predict_with(&embeddings);
        if !after.loss.is_finite() {
            return Err("The step made the loss infinite: try a smaller learning rate.".into());
        }
        Ok(Step { before, errors, grads, embeddings, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    /// The exercise's answers: (a) the prediction, (b) the SGD step, (c) Adam's first step.
    #[test]
    fn the_exercise_step_by_step() {
        let problem = Problem::exercise();
        let sgd = problem.step(Method::Sgd, 0.1).unwrap();
        assert_close!(sgd.before.logits, [0.5, 1.0, 0.6], 1e-6);
        assert_close!(sgd.before.probs, [0.2664, 0.4392, 0.2944], 5e-5);
        assert_close!(sgd.before.loss, 1.3228, 5e-5);
        assert_close!(sgd.errors, [-0.7336, 0.4392, 0.2944], 5e-5);
        assert_close!(sgd.grads.concat(), [-0.7336, -1.4672, 0.4392, 0.8784, 0.2944, 0.5888], 5e-5);
        assert_close!(sgd.embeddings.concat(), [0.5734, 0.1467, -0.0439, 0.4122, 0.1706, 0.1411], 5e-5);
        assert_close!(sgd.after.logits, [0.8668, 0.7804, 0.4528], 5e-5);
        assert_close!(sgd.after.probs, [0.3879, 0.3558, 0.2564], 5e-5);
        assert_close!(sgd.after.loss, 0.9471, 5e-5);

        let adam = problem.step(Method::adam(), 0.1).unwrap();
        assert_close!(adam.embeddings.concat(), [0.6, 0.1, -0.1, 0.4, 0.1, 0.1], 1e-6);
        assert_close!(adam.after.logits, [0.8, 0.7, 0.3], 1e-6);
        assert_close!(adam.after.probs, [0.3982, 0.3603, 0.2415], 5e-5);
        assert_close!(adam.after.loss, 0.9208, 5e-5);
    }

    /// The analytic gradient agrees with finite differences of the loss.
    #[test]
    fn gradients_match_finite_differences() {
        let problem = Problem {
            hidden: vec![0.3, -1.2, 0.7],
            embeddings: vec![vec![0.1, 0.4, -0.2], vec![-0.5, 0.2, 0.3], vec![0.6, -0.1, 0.0]],
            target: 2,
        };
        let step = problem.step(Method::Sgd, 0.0).unwrap();
        let h = 1e-2f32;
        for j in 0..3 {
            for k in 0..3 {
                let mut plus = problem.embeddings.clone();
                let mut minus = problem.embeddings.clone();
                plus[j][k] += h;
                minus[j][k] -= h;
                let slope =
                    (problem.predict_with(&plus).loss - problem.predict_with(&minus).loss) / (2.0 * h);
                assert_close!(step.grads[j][k], slope, 1e-3);
            }
        }
    }

    #[test]
    fn bad_shapes_are_refused_in_words() {
        let mut p = Problem::exercise();
        p.embeddings[1] = vec![1.0];
        assert!(p.check().unwrap_err().contains("Embedding 2 has 1"));
        let mut p = Problem::exercise();
        p.target = 3;
        assert!(p.check().is_err());
        let mut p = Problem::exercise();
        p.embeddings.truncate(1);
        assert!(p.check().unwrap_err().contains("2 to 8 tokens"));
        // A huge step overflows the embeddings; the lab says so instead of showing NaN.
        let p = Problem { hidden: vec![1e4, 1e4], ..Problem::exercise() };
        assert!(p.step(Method::Sgd, 1e36).unwrap_err().contains("smaller learning rate"));
    }
}
