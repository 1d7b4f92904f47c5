//! Chapter 10's logit lens on the tiny GPT: every residual stream the model computes (after
//! the embeddings, after each attention and each MLP sub-block) decoded as if it were the
//! last one, through the final layer norm and the tied unembedding
//! ([`transformer_inspect::lens_logits`](lens_logits)).
//!
//! [`lens`] shows, for a typed prompt, the top predictions of every stream at every
//! position. [`LensScore`] averages, over held-out text, the loss each stream would give the
//! true next character, one window at a time so a page can spread the work over frames.
//! Its windows are [`validation_loss`](crate::models::train::validation_loss)'s, so the last
//! stream's loss is the model's validation loss.

use crate::core::tensor::{self, Tensor};
use crate::models::gpt_recipe::VALIDATION_CHARS;
use crate::models::transformer::{Result, Transformer};
use crate::models::transformer_inspect::{inspect, lens_logits, stream_names};
use crate::models::vocab::Vocab;

/// The prompt the widget opens with: Hamlet's line, stopped inside a word.
pub const DEFAULT_PROMPT: &str = "To be, or not to be, that is the ques";

/// Predictions listed per stream and position.
pub const TOP: usize = 3;

/// A prompt's ids: 1 to `context` characters, each in the vocabulary; otherwise a sentence
/// saying what to change.
pub fn prompt_ids(vocab: &Vocab, prompt: &str, context: usize) -> std::result::Result<Vec<usize>, String> {
    let len = prompt.chars().count();
    if len > context {
        return Err(format!(
            "The prompt has {len} characters; the model reads at most {context}. Shorten it."
        ));
    }
    vocab.encode_prompt(prompt).map_err(|e| format!("{e}."))
}

/// The held-out text the lens is scored on: the first [`VALIDATION_CHARS`] + 1 characters
/// of the text's last tenth (the part the shipped model never trained on), as ids.
pub fn held_out_slice(text: &str, vocab: &Vocab) -> std::result::Result<Vec<usize>, String> {
    let chars: Vec<char> = text.chars().collect();
    let split = chars.len() - chars.len() / 10;
    let slice: String = chars[split..].iter().take(VALIDATION_CHARS + 1).collect();
    if slice.chars().count() < 2 {
        return Err("The held-out text is too short to score.".into());
    }
    vocab.encode(&slice).map_err(|e| format!("The held-out text does not fit this model: {e}."))
}

/// One guess of a stream: a token and its probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guess {
    pub token: usize,
    pub prob: f32,
}

/// The lens on one prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Lens {
    /// What each stream is ("embeddings", "layer 1 attention", …).
    pub streams: Vec<String>,
    /// `[stream][position]`: the [`TOP`] most probable next tokens, most probable first.
    pub top: Vec<Vec<Vec<Guess>>>,
    /// `[stream][position]`: the probability given to the prompt's own next character
    /// (none after the last one).
    pub next_prob: Vec<Vec<Option<f32>>>,
}

/// The k most probable tokens of one row of probabilities, ties to the lower id.
fn top_k(probs: &[f32], k: usize) -> Vec<Guess> {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    order.into_iter().take(k).map(|token| Guess { token, prob: probs[token] }).collect()
}

/// Every stream of `model` on `tokens`, decoded.
pub fn lens(model: &Transformer, tokens: &[usize]) -> Result<Lens> {
    let seen = inspect(model, tokens, None)?;
    let mut top = vec![];
    let mut next_prob = vec![];
    for residual in &seen.residuals {
        let probs = tensor::softmax_rows(&lens_logits(model, residual)?);
        top.push(probs.row_slices().map(|row| top_k(row, TOP)).collect());
        next_prob
            .push((0..tokens.len()).map(|i| tokens.get(i + 1).map(|&t| probs.at(i, t))).collect::<Vec<_>>());
    }
    Ok(Lens { streams: stream_names(model.config.n_layers), top, next_prob })
}

/// The loss and top-1 accuracy of every stream over a held-out text, accumulated a window
/// at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct LensScore {
    tokens: Vec<usize>,
    window: usize,
    start: usize,
    totals: Vec<f64>,
    correct: Vec<u64>,
    /// Characters scored so far (each stream scores the same ones).
    pub scored: usize,
}

impl LensScore {
    /// A score over `tokens` in windows of `window` (at most the context), for a model with
    /// `n_layers` layers.
    pub fn new(tokens: Vec<usize>, window: usize, n_layers: usize) -> LensScore {
        let streams = 2 * n_layers + 1;
        LensScore {
            tokens,
            window: window.max(1),
            start: 0,
            totals: vec![0.0; streams],
            correct: vec![0; streams],
            scored: 0,
        }
    }

    /// How many characters the whole score covers.
    pub fn total(&self) -> usize {
        let windows = self.tokens.len().saturating_sub(1) / self.window;
        windows * self.window
    }

    pub fn done(&self) -> bool {
        self.start + self.window >= self.tokens.len()
    }

    /// Scores the next window; does nothing once [`LensScore::done`].
    pub fn step(&mut self, model: &Transformer) -> Result<()> {
        if self.done() {
            return Ok(());
        }
        let (s, w) = (self.start, self.window);
        let seen = inspect(model, &self.tokens[s..s + w], None)?;
        let targets = &self.tokens[s + 1..s + w + 1];
        for (k, residual) in seen.residuals.iter().enumerate() {
            let log_probs: Tensor = tensor::log_softmax_rows(&lens_logits(model, residual)?);
            for (i, &target) in targets.iter().enumerate() {
                let row = &log_probs.data[i * log_probs.row_len()..(i + 1) * log_probs.row_len()];
                self.totals[k] -= f64::from(row[target]);
                if top_k(row, 1)[0].token == target {
                    self.correct[k] += 1;
                }
            }
        }
        self.scored += w;
        self.start += w;
        Ok(())
    }

    /// Mean loss per character of each stream so far, nats.
    pub fn losses(&self) -> Vec<f64> {
        self.totals.iter().map(|t| t / self.scored.max(1) as f64).collect()
    }

    /// The fraction of characters each stream's top guess got right so far.
    pub fn accuracies(&self) -> Vec<f64> {
        self.correct.iter().map(|&c| c as f64 / self.scored.max(1) as f64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::tolerance::Tolerance;
    use crate::models::train::validation_loss;
    use crate::models::transformer_inspect::tests::shipped;

    const TEXT: &str = include_str!("../../../../assets/shakespeare/tragedies.txt");

    #[test]
    fn prompts_are_checked_in_words() {
        let ckpt = shipped();
        let v = &ckpt.vocab;
        assert_eq!(prompt_ids(v, "To be", 64).unwrap().len(), 5);
        assert!(prompt_ids(v, "", 64).unwrap_err().contains("Type a prompt"));
        assert!(prompt_ids(v, "caf\u{e9}", 64).unwrap_err().contains("position 4"));
        assert!(prompt_ids(v, &"a".repeat(65), 64).unwrap_err().contains("65 characters"));
        assert_eq!(prompt_ids(v, &"a".repeat(64), 64).unwrap().len(), 64);
    }

    #[test]
    fn the_held_out_slice_is_the_start_of_the_last_tenth() {
        let ckpt = shipped();
        let ids = held_out_slice(TEXT, &ckpt.vocab).unwrap();
        assert_eq!(ids.len(), VALIDATION_CHARS + 1);
        assert_eq!(ckpt.vocab.decode(&ids[..21]).unwrap(), "ds, and to steel with");
    }

    #[test]
    fn the_lens_on_a_prompt_sharpens_layer_by_layer() {
        let ckpt = shipped();
        let tokens = prompt_ids(&ckpt.vocab, DEFAULT_PROMPT, 64).unwrap();
        let lens = lens(&ckpt.model, &tokens).unwrap();
        assert_eq!(lens.streams.len(), 5);
        let show = |k: usize, i: usize| -> String {
            lens.top[k][i]
                .iter()
                .map(|g| format!("{:?} {:.3}", ckpt.vocab.chars()[g.token], g.prob))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let last = tokens.len() - 1;
        // After "…the ques": the embeddings alone say the current character again, the
        // first MLP already says "t", and the last stream is sure of it.
        assert_eq!(show(0, last), "'s' 1.000, 't' 0.000, 'n' 0.000");
        assert_eq!(show(1, last), "'s' 0.982, 't' 0.006, 'S' 0.004");
        assert_eq!(show(2, last), "'t' 0.823, 'e' 0.040, 's' 0.037");
        assert_eq!(show(3, last), "'t' 0.877, 's' 0.044, 'e' 0.025");
        assert_eq!(show(4, last), "'t' 0.989, 'i' 0.002, 'h' 0.002");
        // With the output tied to the embedding, the embedding stream's top guess is the
        // character it is at, everywhere in the prompt.
        assert!((0..tokens.len()).all(|i| lens.top[0][i][0].token == tokens[i]));
        // The last stream's guesses are the model's own softmax.
        let probs = tensor::softmax_rows(&ckpt.model.logits_for(&tokens).unwrap());
        crate::assert_close!(
            lens.top[4][last][0].prob,
            top_k(probs.row_slices().nth(last).unwrap(), 1)[0].prob,
            1e-6
        );
    }

    #[test]
    fn the_lens_over_held_out_text_ends_at_the_validation_loss() {
        let ckpt = shipped();
        let ids = held_out_slice(TEXT, &ckpt.vocab).unwrap();
        let mut score = LensScore::new(ids.clone(), 64, 2);
        assert_eq!(score.total(), 4_096);
        while !score.done() {
            score.step(&ckpt.model).unwrap();
        }
        assert_eq!(score.scored, 4_096);
        let losses = score.losses();
        // Worse than uniform (4.2905) from the embeddings, which guess the current character
        // again; most of the way after layer 1's MLP; the model's loss at the end.
        crate::assert_close!(losses, vec![11.7289, 7.8238, 2.0974, 1.9493, 1.5810], 5e-5);
        let right: Vec<u64> = score.correct.clone();
        assert_eq!(right, vec![116, 116, 1_558, 1_777, 2_111]);
        crate::assert_close!(score.accuracies()[4], 2_111.0 / 4_096.0, 1e-12);
        let validation = validation_loss(&ckpt.model, &ids, 64).unwrap();
        crate::assert_close!(losses[4], f64::from(validation), Tolerance { abs: 1e-5, rel: 1e-5 });
    }
}
