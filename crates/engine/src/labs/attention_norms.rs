//! Chapter 10's "attention, honestly": every head of the tiny GPT on a prompt, its attention
//! weights α_ij beside what each attended position actually adds to the residual stream,
//! α_ij·‖v_j·W_O^h‖ (Kobayashi et al., 2020), and what the prompt's loss does when one head
//! is silenced.
//!
//! W_O^h is the block of W_O's rows that head h's output multiplies, so v_j·W_O^h is the
//! vector position j's value becomes in the stream through head h; the head's output at
//! position i is Σ_j α_ij·v_j·W_O^h. Silencing a head zeroes that sum
//! ([`transformer_inspect::inspect`](inspect) with a [`HeadId`]).

use crate::core::tensor;
use crate::models::transformer::{Result, Transformer};
use crate::models::transformer_inspect::{inspect, HeadId, Inspection};

/// The prompt the widget opens with: a speech heading and Hamlet's line, as the plays print
/// them.
pub const DEFAULT_PROMPT: &str = "Ham.\nTo be, or not to be,--that is the question:--";

/// One head's two maps on a prompt of n characters, row-major `[n, n]` (query i, key j;
/// zero above the diagonal).
#[derive(Clone, Debug, PartialEq)]
pub struct HeadMaps {
    pub head: HeadId,
    /// α_ij: each row sums to 1.
    pub weights: Vec<f32>,
    /// α_ij·‖v_j·W_O^h‖: the length of what key j contributes to query i's output.
    pub contributions: Vec<f32>,
}

impl HeadMaps {
    /// Row i of the contributions as shares of the row's total (each row sums to 1, like
    /// the weights, so the two maps can be drawn on one scale).
    pub fn contribution_shares(&self, n: usize, i: usize) -> Vec<f32> {
        let row = &self.contributions[i * n..(i + 1) * n];
        let total: f32 = row.iter().sum();
        row.iter().map(|&c| if total > 0.0 { c / total } else { 0.0 }).collect()
    }

    /// The key with the largest weight and the key with the largest contribution, for
    /// query i (ties to the earlier key).
    pub fn top_keys(&self, n: usize, i: usize) -> (usize, usize) {
        let argmax = |row: &[f32]| (0..=i).fold(0, |best, j| if row[j] > row[best] { j } else { best });
        (argmax(&self.weights[i * n..(i + 1) * n]), argmax(&self.contributions[i * n..(i + 1) * n]))
    }

    /// How many queries' most-weighted key is not their largest contributor.
    pub fn disagreements(&self, n: usize) -> usize {
        (0..n)
            .filter(|&i| {
                let (a, b) = self.top_keys(n, i);
                a != b
            })
            .count()
    }
}

/// Every head's maps, layer by layer.
pub fn head_maps(model: &Transformer, tokens: &[usize]) -> Result<Vec<HeadMaps>> {
    let seen: Inspection = inspect(model, tokens, None)?;
    let (n, heads) = (tokens.len(), model.config.n_heads);
    let mut maps = vec![];
    for layer in 0..model.config.n_layers {
        let norms = seen.value_output_norms(model, layer)?;
        for head in 0..heads {
            let weights: Vec<f32> = seen.weights[layer].data[head * n * n..(head + 1) * n * n].to_vec();
            let contributions =
                weights.iter().enumerate().map(|(ij, &a)| a * norms.data[head * n + ij % n]).collect();
            maps.push(HeadMaps { head: HeadId { layer, head }, weights, contributions });
        }
    }
    Ok(maps)
}

/// The prompt's loss per position (−log P of the character that follows), with every head
/// and with one head silenced.
#[derive(Clone, Debug, PartialEq)]
pub struct Ablation {
    pub head: HeadId,
    /// `[n − 1]`: the loss at positions 0 … n − 2 (the last has no next character).
    pub base: Vec<f32>,
    pub silenced: Vec<f32>,
}

impl Ablation {
    /// Mean loss over the prompt with every head and with the head silenced.
    pub fn means(&self) -> (f64, f64) {
        let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len().max(1) as f64;
        (mean(&self.base), mean(&self.silenced))
    }
}

fn losses(seen: &Inspection) -> Vec<f32> {
    let log_probs = tensor::log_softmax_rows(&seen.logits);
    seen.tokens.windows(2).enumerate().map(|(i, pair)| -log_probs.at(i, pair[1])).collect()
}

/// Silences `head` and measures the prompt's loss at every position, with and without it.
/// The prompt needs at least two characters (one to predict).
pub fn ablate(model: &Transformer, tokens: &[usize], head: HeadId) -> Result<Ablation> {
    if tokens.len() < 2 {
        return Err(crate::models::transformer::ModelError::invalid(
            "the prompt needs at least two characters, so that one of them can be predicted",
        ));
    }
    let base = losses(&inspect(model, tokens, None)?);
    let silenced = losses(&inspect(model, tokens, Some(head))?);
    Ok(Ablation { head, base, silenced })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::tolerance::Tolerance;
    use crate::models::transformer::tests::{scrambled, tiny};
    use crate::models::transformer::{Activation, Norm};
    use crate::models::transformer_inspect::tests::shipped;

    #[test]
    fn contributions_are_weights_times_value_output_norms() {
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 9);
        let tokens = [2, 0, 1];
        let maps = head_maps(&model, &tokens).unwrap();
        assert_eq!(maps.len(), 4);
        let seen = inspect(&model, &tokens, None).unwrap();
        let norms = seen.value_output_norms(&model, 1).unwrap();
        let m = &maps[3]; // layer 1, head 1
        assert_eq!(m.head, HeadId { layer: 1, head: 1 });
        crate::assert_close!(m.contributions[2 * 3 + 1], seen.weight(1, 1, 2, 1) * norms.at(1, 1), 1e-7);
        let shares = m.contribution_shares(3, 2);
        crate::assert_close!(shares.iter().sum::<f32>(), 1.0, 1e-6);
        assert_eq!(m.contributions[2], 0.0, "nothing above the diagonal");
    }

    #[test]
    fn silencing_no_head_is_the_normal_forward() {
        let ckpt = shipped();
        let tokens = ckpt.vocab.encode(DEFAULT_PROMPT).unwrap();
        let seen = inspect(&ckpt.model, &tokens, None).unwrap();
        let expected = ckpt.model.logits_for(&tokens).unwrap();
        crate::assert_close!(seen.logits.data, expected.data, Tolerance { abs: 1e-5, rel: 1e-5 });
        assert!(ablate(&ckpt.model, &tokens[..1], HeadId { layer: 0, head: 0 }).is_err());
    }

    #[test]
    fn on_hamlets_line_weights_and_contributions_disagree_and_heads_matter_unequally() {
        let ckpt = shipped();
        let tokens = ckpt.vocab.encode(DEFAULT_PROMPT).unwrap();
        let n = tokens.len();
        assert_eq!(n, 50);
        let maps = head_maps(&ckpt.model, &tokens).unwrap();
        // Queries whose most-weighted key is not their largest contributor, head by head.
        let disagree: Vec<usize> = maps.iter().map(|m| m.disagreements(n)).collect();
        assert_eq!(disagree, vec![8, 8, 5, 9, 2, 5, 6, 7]);
        // Layer 1, head 2 at "a" of "Ham": most of the weight on "H", much less of the sum.
        let m = &maps[1];
        crate::assert_close!(m.weights[n], 0.7942, 5e-5);
        crate::assert_close!(m.contribution_shares(n, 1)[0], 0.5284, 5e-5);
        // The prompt's mean loss with every head, and with each head silenced in turn.
        let means: Vec<f64> =
            maps.iter().map(|m| ablate(&ckpt.model, &tokens, m.head).unwrap().means().1).collect();
        let base = ablate(&ckpt.model, &tokens, HeadId { layer: 0, head: 0 }).unwrap().means().0;
        crate::assert_close!(base, 1.2869, 5e-5);
        crate::assert_close!(
            means,
            vec![1.3548, 1.7150, 1.6653, 1.7193, 1.3844, 1.3767, 1.3143, 1.3739],
            5e-5
        );
    }
}
