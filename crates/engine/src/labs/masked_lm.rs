//! Chapter 6: what BERT, GPT and T5 do to a sequence before the loss sees it.
//!
//! - The two attention masks for `T` positions and how many query-key pairs each lets through:
//!   `T²` for the bidirectional encoder, `T(T+1)/2` for the causal decoder.
//! - BERT's masked-LM corruption: choose 15% of the positions (a whole number of them, as BERT's
//!   data pipeline does), then roll 80/10/10 dice for each chosen one: `[MASK]`, a random
//!   token, or left as it was. Also the expected counts for a window of `n` tokens and the
//!   counts over many seeded rolls.
//! - T5's span corruption: noise spans chosen as T5's `random_spans_noise_mask` does (15%
//!   noise density, mean span length 3), each span replaced by a sentinel `<extra_id_k>` in the
//!   encoder's input, and the decoder's target spelling out the spans behind their sentinels.
//!
//! All randomness comes from [`Rng`], so a seed replays a roll exactly.

use crate::core::autograd::{self, Graph, Var};
use crate::core::rng::Rng;
use crate::core::tensor::{causal_mask, Tensor};
use crate::models::transformer::{Attention, Batch, ModelError, Transformer};

/// Which attention mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskKind {
    /// BERT's encoder: every query sees every key.
    Bidirectional,
    /// GPT's decoder: query `i` sees keys `j ≤ i`.
    Causal,
}

impl MaskKind {
    /// Whether query `i` may attend to key `j`.
    pub fn allows(self, i: usize, j: usize) -> bool {
        match self {
            MaskKind::Bidirectional => true,
            MaskKind::Causal => j <= i,
        }
    }

    /// The additive mask `[t, t]` added to the scores before the softmax: 0 where attention is
    /// allowed, −∞ where it is not. The causal one is the tensor kernels' own.
    pub fn additive(self, t: usize) -> Tensor {
        match self {
            MaskKind::Bidirectional => Tensor::zeros(&[t, t]),
            MaskKind::Causal => causal_mask(t),
        }
    }

    /// The 0/1 matrix, one row per query.
    pub fn matrix(self, t: usize) -> Vec<Vec<bool>> {
        (0..t).map(|i| (0..t).map(|j| self.allows(i, j)).collect()).collect()
    }

    /// How many (query, key) pairs the mask lets through for `t` positions: `t²` or
    /// `t(t+1)/2`. Exact for every `t` up to 2³² (the products fit in a `u64`).
    pub fn attended_pairs(self, t: u64) -> u64 {
        match self {
            MaskKind::Bidirectional => t * t,
            // One of t and t + 1 is even, so halve that one first: no overflow, no rounding.
            MaskKind::Causal if t.is_multiple_of(2) => (t / 2) * (t + 1),
            MaskKind::Causal => t * t.div_ceil(2),
        }
    }
}

/// The share of BERT's positions chosen for prediction, in percent.
pub const MLM_PERCENT: u64 = 15;
/// The token written at a chosen position that the dice send to `[MASK]`.
pub const MASK_TOKEN: &str = "[MASK]";

/// What the 80/10/10 rule did at one position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Not chosen: no prediction here, the token stays.
    Untouched,
    /// Chosen and replaced by `[MASK]` (probability 0.8).
    Masked,
    /// Chosen and replaced by the vocabulary's token with this index (probability 0.1). The
    /// draw may hit the original token itself, as BERT's does.
    Random(usize),
    /// Chosen and left as it was (probability 0.1); still a prediction target.
    Kept,
}

impl Action {
    /// Whether the loss is computed at this position.
    pub fn is_target(self) -> bool {
        self != Action::Untouched
    }
}

/// How many chosen positions went each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub chosen: usize,
    pub masked: usize,
    pub random: usize,
    pub kept: usize,
}

impl Counts {
    /// The counts of a roll's actions.
    pub fn of(actions: &[Action]) -> Counts {
        let mut c = Counts::default();
        for a in actions {
            match a {
                Action::Untouched => continue,
                Action::Masked => c.masked += 1,
                Action::Random(_) => c.random += 1,
                Action::Kept => c.kept += 1,
            }
            c.chosen += 1;
        }
        c
    }
}

/// How many of `n` positions BERT chooses: 15% of `n` rounded to the nearest whole number
/// (halves up), and at least one when there is a token at all.
pub fn chosen_count(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // Integer arithmetic, so 15% of 30 is exactly 4.5 and rounds to 5 on every platform.
    let rounded = (n as u64 * MLM_PERCENT + 50) / 100;
    rounded.max(1) as usize
}

/// The expected counts for a window of `n` tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expected {
    /// 0.15·n before rounding: what "15% of the positions" comes to.
    pub share: f64,
    /// The whole number actually chosen, [`chosen_count`].
    pub chosen: usize,
    /// 0.8, 0.1 and 0.1 of the chosen count: the means of the dice.
    pub masked: f64,
    pub random: f64,
    pub kept: f64,
}

/// The expected counts for `n` tokens. The chosen count is fixed; the split is random.
pub fn expected(n: usize) -> Expected {
    let chosen = chosen_count(n);
    let k = chosen as f64;
    Expected {
        share: n as f64 * MLM_PERCENT as f64 / 100.0,
        chosen,
        masked: 0.8 * k,
        random: 0.1 * k,
        kept: 0.1 * k,
    }
}

/// One roll of BERT's corruption over `n` positions, random replacements drawn from a
/// vocabulary of `vocab` tokens. The chosen positions are a uniform sample without
/// replacement (a partial Fisher-Yates shuffle); then each chosen position, in order, gets
/// its own die: below 0.8 `[MASK]`, below 0.9 a random token, otherwise kept.
pub fn corrupt(n: usize, vocab: usize, rng: &mut Rng) -> Vec<Action> {
    let k = chosen_count(n);
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below(n - i);
        order.swap(i, j);
    }
    let mut chosen = order[..k].to_vec();
    chosen.sort_unstable();
    let mut actions = vec![Action::Untouched; n];
    for pos in chosen {
        let die = rng.uniform();
        actions[pos] = if die < 0.8 {
            Action::Masked
        } else if die < 0.9 {
            Action::Random(rng.below(vocab))
        } else {
            Action::Kept
        };
    }
    actions
}

/// The model's input after a roll: `[MASK]`, the random vocabulary word, or the token itself.
pub fn apply(tokens: &[String], vocab: &[String], actions: &[Action]) -> Vec<String> {
    tokens
        .iter()
        .zip(actions)
        .map(|(token, action)| match action {
            Action::Masked => MASK_TOKEN.to_string(),
            Action::Random(v) => vocab.get(*v).cloned().unwrap_or_else(|| token.clone()),
            Action::Untouched | Action::Kept => token.clone(),
        })
        .collect()
}

/// The counts of `rolls` independent rolls over `n` positions, all from one generator seeded
/// with `seed`.
pub fn many_rolls(n: usize, vocab: usize, rolls: usize, seed: u64) -> Vec<Counts> {
    let mut rng = Rng::new(seed);
    (0..rolls).map(|_| Counts::of(&corrupt(n, vocab, &mut rng))).collect()
}

/// How often each value occurs: entry `v` counts the values equal to `v`, for `v` in
/// `0..=max`. Values above `max` are left out.
pub fn histogram(values: impl IntoIterator<Item = usize>, max: usize) -> Vec<usize> {
    let mut bins = vec![0; max + 1];
    for v in values {
        if let Some(b) = bins.get_mut(v) {
            *b += 1;
        }
    }
    bins
}

/// The target id at positions the masked-LM loss skips (not chosen).
pub const NOT_A_TARGET: usize = usize::MAX;

/// Token ids after a roll: `mask_id` where the dice chose `[MASK]`, the drawn id where they
/// chose a random token, the original elsewhere.
pub fn corrupt_ids(original: &[usize], actions: &[Action], mask_id: usize) -> Vec<usize> {
    original
        .iter()
        .zip(actions)
        .map(|(&id, action)| match action {
            Action::Masked => mask_id,
            Action::Random(v) => *v,
            Action::Untouched | Action::Kept => id,
        })
        .collect()
}

/// The masked-LM targets of a roll: the original id at every chosen position (masked,
/// random or kept alike), [`NOT_A_TARGET`] elsewhere.
pub fn mlm_targets(original: &[usize], actions: &[Action]) -> Vec<usize> {
    original.iter().zip(actions).map(|(&id, a)| if a.is_target() { id } else { NOT_A_TARGET }).collect()
}

/// Records BERT's loss on the tape: the bidirectional forward pass over `batch.inputs` (the
/// corrupted windows) and the mean cross-entropy over the positions whose target is not
/// [`NOT_A_TARGET`]. Positions outside the chosen set add nothing.
pub fn mlm_loss_on_tape(
    model: &Transformer,
    graph: &mut Graph,
    params: &[Var],
    batch: &Batch,
) -> Result<Var, ModelError> {
    if batch.targets.iter().all(|&t| t == NOT_A_TARGET) {
        return Err(ModelError::invalid("a masked-LM batch needs at least one chosen position"));
    }
    // The forward pass checks ids, so it gets a copy with the skipped targets set to 0.
    let checked = Batch {
        targets: batch.targets.iter().map(|&t| if t == NOT_A_TARGET { 0 } else { t }).collect(),
        ..batch.clone()
    };
    let logits = model.forward_on_tape_with(graph, params, &checked, Attention::Bidirectional)?;
    Ok(graph.cross_entropy(logits, &batch.targets, Some(NOT_A_TARGET))?)
}

/// BERT's loss for a batch and its gradient with respect to every parameter, in layout order.
pub fn mlm_loss_and_grads(model: &Transformer, batch: &Batch) -> Result<(f32, Vec<Tensor>), ModelError> {
    autograd::loss_and_grads(&model.params, |graph, vars| mlm_loss_on_tape(model, graph, vars, batch))
}

/// T5's noise density: the share of tokens inside the corrupted spans.
pub const T5_NOISE_DENSITY: f64 = 0.15;
/// T5's mean span length.
pub const T5_MEAN_SPAN: f64 = 3.0;

/// The `k`-th sentinel token.
pub fn sentinel(k: usize) -> String {
    format!("<extra_id_{k}>")
}

/// How many noise tokens and spans T5 uses for `length` tokens: noise = round(0.15·length),
/// kept between 1 and length − 1; spans = round(noise / 3), at least 1. Rounding is half to
/// even, as TensorFlow's `round`. Needs `length ≥ 2`.
pub fn span_budget(length: usize) -> (usize, usize) {
    let noise = (length as f64 * T5_NOISE_DENSITY).round_ties_even() as usize;
    let noise = noise.clamp(1, length.saturating_sub(1).max(1));
    let spans = (noise as f64 / T5_MEAN_SPAN).round_ties_even() as usize;
    (noise, spans.max(1))
}

/// Splits `items` into `segments` non-empty runs at random: `segments − 1` of the `items − 1`
/// gaps, chosen uniformly without replacement, become cuts. Returns the run lengths in order.
fn random_segmentation(items: usize, segments: usize, rng: &mut Rng) -> Vec<usize> {
    let gaps = items - 1;
    let cuts = segments - 1;
    let mut order: Vec<usize> = (0..gaps).collect();
    for i in 0..cuts {
        let j = i + rng.below(gaps - i);
        order.swap(i, j);
    }
    let mut is_cut = vec![false; gaps];
    for &g in &order[..cuts] {
        is_cut[g] = true;
    }
    let mut lengths = Vec::with_capacity(segments);
    let mut run = 1;
    for cut in is_cut {
        if cut {
            lengths.push(run);
            run = 1;
        } else {
            run += 1;
        }
    }
    lengths.push(run);
    lengths
}

/// T5's noise mask for `length ≥ 2` tokens: true inside a corrupted span. The noise tokens and
/// the kept tokens are each split at random into as many runs as there are spans, and the
/// runs alternate starting with kept text, so (as in T5's own function, without its later
/// random-roll option) the text always ends inside a span.
pub fn noise_mask(length: usize, rng: &mut Rng) -> Vec<bool> {
    let (noise, spans) = span_budget(length);
    let noise_runs = random_segmentation(noise, spans, rng);
    let kept_runs = random_segmentation(length - noise, spans, rng);
    let mut mask = Vec::with_capacity(length);
    for (kept, noisy) in kept_runs.into_iter().zip(noise_runs) {
        mask.extend(std::iter::repeat_n(false, kept));
        mask.extend(std::iter::repeat_n(true, noisy));
    }
    mask
}

/// A span-corrupted example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanExample {
    /// True at the tokens inside a span.
    pub noise: Vec<bool>,
    /// The spans as (first token, length), in order.
    pub spans: Vec<(usize, usize)>,
    /// The encoder's input: the text with each span replaced by its sentinel.
    pub input: Vec<String>,
    /// The decoder's target: each run of kept text replaced by its sentinel, leaving the
    /// spans spelled out behind the sentinel that marks their place in the input.
    pub target: Vec<String>,
}

/// Builds the encoder input and decoder target for `tokens` under a noise mask. Runs of kept
/// text in the target get sentinels numbered in the same order, so the sentinel before a
/// span in the target is the one that replaced it in the input.
pub fn span_example(tokens: &[String], noise: &[bool]) -> SpanExample {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut input = Vec::new();
    let mut target = Vec::new();
    let (mut in_sentinels, mut out_sentinels) = (0, 0);
    for (i, (token, &noisy)) in tokens.iter().zip(noise).enumerate() {
        let starts_run = i == 0 || noise[i - 1] != noisy;
        if noisy {
            if starts_run {
                spans.push((i, 0));
                input.push(sentinel(in_sentinels));
                in_sentinels += 1;
            }
            if let Some(last) = spans.last_mut() {
                last.1 += 1;
            }
            target.push(token.clone());
        } else {
            if starts_run {
                target.push(sentinel(out_sentinels));
                out_sentinels += 1;
            }
            input.push(token.clone());
        }
    }
    SpanExample { noise: noise.to_vec(), spans, input, target }
}

/// T5's span corruption of `tokens` (at least 2) with a seeded generator.
pub fn span_corrupt(tokens: &[String], seed: u64) -> Option<SpanExample> {
    if tokens.len() < 2 {
        return None;
    }
    let mut rng = Rng::new(seed);
    let mask = noise_mask(tokens.len(), &mut rng);
    Some(span_example(tokens, &mask))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    use crate::core::autograd::tests::check_gradients;
    use crate::core::tensor::log_softmax_rows;
    use crate::models::transformer::tests::{scrambled, tiny};
    use crate::models::transformer::{Activation, Norm};

    /// One window of four tokens from a vocabulary of five, id 4 standing for `[MASK]`:
    /// positions 1 and 3 chosen (1 masked, 3 kept), the others skipped.
    fn mlm_batch() -> Batch {
        let original = [2, 0, 3, 1];
        let actions = [Action::Untouched, Action::Masked, Action::Untouched, Action::Kept];
        let inputs = corrupt_ids(&original, &actions, 4);
        let targets = mlm_targets(&original, &actions);
        assert_eq!(inputs, vec![2, 4, 3, 1]);
        assert_eq!(targets, vec![NOT_A_TARGET, 0, NOT_A_TARGET, 1]);
        Batch { batch: 1, len: 4, inputs, targets }
    }

    #[test]
    fn bidirectional_attention_lets_early_positions_see_later_tokens() {
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 5);
        let logits = |inputs: Vec<usize>, attention| {
            let batch = Batch { batch: 1, len: 4, targets: vec![0; 4], inputs };
            let mut graph = Graph::new();
            let vars: Vec<Var> = model.params.iter().map(|p| graph.input(p.clone())).collect();
            let out = model.forward_on_tape_with(&mut graph, &vars, &batch, attention).unwrap();
            graph.value(out).data[..5].to_vec() // position 0's logits
        };
        // Changing the last token leaves position 0 alone under the causal mask only.
        let (a, b) = (vec![1, 2, 3, 0], vec![1, 2, 3, 4]);
        assert_eq!(logits(a.clone(), Attention::Causal), logits(b.clone(), Attention::Causal));
        assert_ne!(logits(a, Attention::Bidirectional), logits(b, Attention::Bidirectional));
    }

    #[test]
    fn the_mlm_loss_counts_only_the_chosen_positions() {
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 6);
        let batch = mlm_batch();
        let (loss, grads) = mlm_loss_and_grads(&model, &batch).unwrap();
        assert_eq!(grads.len(), model.params.len());
        // By hand: the bidirectional logits, −log p(original) at positions 1 and 3, averaged.
        let mut graph = Graph::new();
        let vars: Vec<Var> = model.params.iter().map(|p| graph.input(p.clone())).collect();
        let probe = Batch { targets: vec![0; 4], ..batch.clone() };
        let out = model.forward_on_tape_with(&mut graph, &vars, &probe, Attention::Bidirectional).unwrap();
        let log_p = log_softmax_rows(graph.value(out));
        let by_hand = -(log_p.data[5] + log_p.data[3 * 5 + 1]) / 2.0;
        assert_close!(loss, by_hand, 1e-6);
        // No chosen position: an error, not a silent zero.
        let empty = Batch { targets: vec![NOT_A_TARGET; 4], ..batch };
        assert!(mlm_loss_and_grads(&model, &empty).is_err());
    }

    /// Every parameter's gradient of the masked-LM loss against central differences, for both
    /// norm placements (the check and its tolerance are described in `autograd/tests.rs`).
    #[test]
    fn mlm_gradients_match_finite_differences() {
        for (i, norm) in [Norm::Pre, Norm::Post].into_iter().enumerate() {
            let model = scrambled(tiny(norm, Activation::Gelu), 30 + i as u64);
            let batch = mlm_batch();
            check_gradients(&model.params, 9, |g, vars| mlm_loss_on_tape(&model, g, vars, &batch).unwrap())
                .unwrap_or_else(|e| panic!("{norm:?}: {e}"));
        }
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn mask_pair_counts_match_the_formulas_and_the_tensor_masks() {
        for t in [1usize, 2, 3, 4, 7, 64] {
            for kind in [MaskKind::Bidirectional, MaskKind::Causal] {
                let finite = kind.additive(t).data.iter().filter(|v| v.is_finite()).count() as u64;
                let ones = kind.matrix(t).iter().flatten().filter(|&&b| b).count() as u64;
                assert_eq!(finite, kind.attended_pairs(t as u64), "{kind:?} t={t}");
                assert_eq!(ones, finite);
            }
        }
        assert_eq!(MaskKind::Causal.attended_pairs(4), 10);
        assert_eq!([MaskKind::Causal.attended_pairs(6), MaskKind::Bidirectional.attended_pairs(6)], [21, 36]);
        assert_eq!(MaskKind::Bidirectional.attended_pairs(4), 16);
        assert_eq!(MaskKind::Causal.attended_pairs(512), 131_328);
        assert_eq!(MaskKind::Bidirectional.attended_pairs(512), 262_144);
        // Just over half of the score matrix: 513 / 1024.
        assert_close!(131_328.0 / 262_144.0, 0.50098, 5e-6);
        assert_eq!(MaskKind::Causal.attended_pairs(1_000_001), 500_001_500_001);
        assert_eq!(MaskKind::Causal.attended_pairs(1 << 32), (1u64 << 31) * ((1 << 32) + 1));
        assert_eq!(MaskKind::Causal.matrix(2), vec![vec![true, false], vec![true, true]]);
    }

    #[test]
    fn a_512_token_window_chooses_77_positions() {
        let e = expected(512);
        assert_close!(e.share, 76.8, 1e-12);
        assert_eq!(e.chosen, 77);
        assert_close!([e.masked, e.random, e.kept], [61.6, 7.7, 7.7], 1e-12);
        // The chapter's 61.44 and 7.68 are 0.8 and 0.1 of the unrounded 76.8.
        assert_close!([0.8 * e.share, 0.1 * e.share], [61.44, 7.68], 1e-12);
        // A causal model grades 511 (or 512) positions of the same window: 6.64 (6.65) times 77.
        assert_close!([511.0 / e.chosen as f64, 512.0 / e.chosen as f64], [6.636, 6.649], 0.0005);
        // Dividing by the unrounded 76.8 instead: 6.65 (6.67).
        assert_close!([511.0 / e.share, 512.0 / e.share], [6.654, 6.667], 0.0005);
        // [MASK] is 0.8 · 77 / 512 of the input on average: 12.03%.
        assert_close!(e.masked / 512.0, 0.1203, 0.00005);
        assert_eq!([chosen_count(0), chosen_count(1), chosen_count(10), chosen_count(30)], [0, 1, 2, 5]);
        assert_eq!(chosen_count(40), 6);
    }

    #[test]
    fn a_roll_chooses_the_right_number_and_is_replayed_by_its_seed() {
        let a = corrupt(512, 1000, &mut Rng::new(7));
        let b = corrupt(512, 1000, &mut Rng::new(7));
        assert_eq!(a, b);
        let c = Counts::of(&a);
        assert_eq!(c.chosen, 77);
        assert_eq!(c.masked + c.random + c.kept, 77);
        assert!(a.iter().all(|x| !matches!(x, Action::Random(v) if *v >= 1000)));
        assert_ne!(a, corrupt(512, 1000, &mut Rng::new(8)));
    }

    #[test]
    fn a_fixed_seed_gives_this_roll() {
        let tokens = words("the cat sat on the mat and then it slept in the warm sun all day long");
        let vocab = words("the cat sat on mat and then it slept in warm sun all day long");
        let actions = corrupt(tokens.len(), vocab.len(), &mut Rng::new(10));
        assert_eq!(tokens.len(), 17);
        assert_eq!(Counts::of(&actions), Counts { chosen: 3, masked: 1, random: 1, kept: 1 });
        let chosen: Vec<(usize, Action)> =
            actions.iter().copied().enumerate().filter(|(_, a)| a.is_target()).collect();
        assert_eq!(chosen, vec![(0, Action::Random(12)), (3, Action::Kept), (12, Action::Masked)]);
        let input = apply(&tokens, &vocab, &actions);
        assert_eq!(
            input.join(" "),
            "all cat sat on the mat and then it slept in the [MASK] sun all day long"
        );
        assert_eq!(input.len(), 17);
        for (i, a) in actions.iter().enumerate() {
            match a {
                Action::Masked => assert_eq!(input[i], MASK_TOKEN),
                Action::Untouched | Action::Kept => assert_eq!(input[i], tokens[i]),
                Action::Random(v) => assert_eq!(input[i], vocab[*v]),
            }
        }
    }

    #[test]
    fn the_80_10_10_split_converges_over_many_rolls() {
        // 10,000 rolls of 512 tokens: 770,000 dice. The standard error of each share is below
        // 0.0005, so a tolerance of 0.003 is six standard errors.
        let rolls = many_rolls(512, 30_000, 10_000, 2024);
        let total = |f: fn(&Counts) -> usize| rolls.iter().map(f).sum::<usize>() as f64;
        let chosen = total(|c| c.chosen);
        assert_eq!(chosen, 770_000.0);
        let shares = [total(|c| c.masked) / chosen, total(|c| c.random) / chosen, total(|c| c.kept) / chosen];
        assert_close!(shares, [0.8, 0.1, 0.1], 0.003);
        // The mean [MASK] count per window approaches the expected 61.6.
        assert_close!(total(|c| c.masked) / 10_000.0, 61.6, 0.25);
        let bins = histogram(rolls.iter().map(|c| c.masked), 77);
        assert_eq!(bins.iter().sum::<usize>(), 10_000);
    }

    #[test]
    fn every_position_is_chosen_equally_often() {
        let mut rng = Rng::new(99);
        let mut hits = vec![0usize; 100];
        for _ in 0..20_000 {
            for (i, a) in corrupt(100, 50, &mut rng).into_iter().enumerate() {
                hits[i] += usize::from(a.is_target());
            }
        }
        // Each position: 15 of 100 chosen per roll, so a share of 0.15 with standard error 0.0025.
        let shares: Vec<f64> = hits.iter().map(|&h| h as f64 / 20_000.0).collect();
        assert_close!(shares, vec![0.15; 100], 0.015);
    }

    #[test]
    fn histograms_count_values() {
        assert_eq!(histogram([0, 2, 2, 5], 3), vec![1, 0, 2, 0]);
    }

    #[test]
    fn t5_budgets_follow_its_rounding() {
        // 512 tokens: 76.8 rounds to 77 noise tokens in round(25.67) = 26 spans.
        assert_eq!(span_budget(512), (77, 26));
        // 30 tokens: 4.5 rounds to even, 4 tokens, in round(1.33) = 1 span.
        assert_eq!(span_budget(30), (4, 1));
        assert_eq!(span_budget(2), (1, 1));
        assert_eq!(span_budget(100), (15, 5));
        // A 512-token text: 77 words leave, 26 sentinels arrive; the target is spans + sentinels.
        let tokens: Vec<String> = (0..512).map(|i| format!("w{i}")).collect();
        let ex = span_corrupt(&tokens, 11).expect("512 tokens");
        assert_eq!((ex.input.len(), ex.target.len()), (461, 103));
    }

    #[test]
    fn noise_masks_have_the_budgeted_spans_and_end_in_one() {
        for (length, seed) in [(2, 0), (10, 1), (100, 2), (512, 3), (37, 4)] {
            let mask = noise_mask(length, &mut Rng::new(seed));
            let (noise, spans) = span_budget(length);
            assert_eq!(mask.len(), length);
            assert_eq!(mask.iter().filter(|&&b| b).count(), noise);
            let starts = (0..length).filter(|&i| mask[i] && (i == 0 || !mask[i - 1])).count();
            assert_eq!(starts, spans, "length {length}");
            assert!(!mask[0] && mask[length - 1]);
        }
    }

    #[test]
    fn sentinels_number_the_spans_in_input_and_target() {
        // The T5 paper's example, with its spans marked by hand.
        let tokens = words("Thank you for inviting me to your party last week .");
        let noise = [false, false, true, true, false, false, false, false, true, false, false];
        let ex = span_example(&tokens, &noise);
        assert_eq!(ex.input.join(" "), "Thank you <extra_id_0> me to your party <extra_id_1> week .");
        assert_eq!(ex.target.join(" "), "<extra_id_0> for inviting <extra_id_1> last <extra_id_2>");
        assert_eq!(ex.spans, vec![(2, 2), (8, 1)]);
    }

    #[test]
    fn a_fixed_seed_gives_this_span_layout() {
        let tokens = words(
            "The encoder reads the corrupted sentence in both directions while the decoder \
             writes out only the missing spans one token at a time after the sentinel that \
             marks each gap in the input",
        );
        assert_eq!(tokens.len(), 33);
        let ex = span_corrupt(&tokens, 6).expect("33 tokens");
        assert_eq!(span_budget(33), (5, 2));
        assert_eq!(ex.spans, PINNED_SPANS);
        assert_eq!(ex.input.join(" "), PINNED_INPUT);
        assert_eq!(ex.target.join(" "), PINNED_TARGET);
        assert!(span_corrupt(&tokens[..1], 6).is_none());
    }

    const PINNED_SPANS: [(usize, usize); 2] = [(13, 3), (31, 2)];
    const PINNED_INPUT: &str =
        "The encoder reads the corrupted sentence in both directions while the decoder \
        writes <extra_id_0> missing spans one token at a time after the sentinel that marks each gap in \
        <extra_id_1>";
    const PINNED_TARGET: &str = "<extra_id_0> out only the <extra_id_1> the input";
}
