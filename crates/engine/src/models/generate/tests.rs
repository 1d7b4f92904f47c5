//! Generation checked against independent recomputation with [`Transformer::logits_for`].

use super::*;
use crate::models::transformer::tests::{scrambled, tiny};
use crate::models::transformer::{
    cached_step_multiply_adds, uncached_step_multiply_adds, Activation, Norm, TransformerConfig,
};

fn model() -> Transformer {
    let config = TransformerConfig { vocab: 6, context: 6, ..tiny(Norm::Pre, Activation::Gelu) };
    scrambled(config, 5)
}

/// The last row of the full forward pass over the last `context` tokens: the next-token
/// logits computed from scratch.
fn next_logits_from_scratch(model: &Transformer, tokens: &[usize]) -> Vec<f32> {
    let window = &tokens[tokens.len().saturating_sub(model.config.context)..];
    let logits = model.logits_for(window).unwrap();
    logits.data[logits.len() - model.config.vocab..].to_vec()
}

#[test]
fn cached_and_uncached_decoding_agree_past_the_context() {
    let model = model();
    let c = model.config;
    let prompt = [1, 2];
    let mut cached = Decoder::new(&model, &prompt, true).unwrap();
    let mut uncached = Decoder::new(&model, &prompt, false).unwrap();
    assert_eq!(cached.last_step_multiply_adds(), uncached_step_multiply_adds(&c, 2), "prefill");
    // Ten greedy steps: the sequence grows to 12 tokens, twice the context.
    for _ in 0..10 {
        let scratch = next_logits_from_scratch(&model, cached.tokens());
        for (a, (b, s)) in cached.logits().iter().zip(uncached.logits().iter().zip(&scratch)) {
            assert!((a - s).abs() < 1e-5 && (b - s).abs() < 1e-5, "{a} {b} {s}");
        }
        let token = argmax(cached.logits()).unwrap();
        assert_eq!(token, argmax(uncached.logits()).unwrap());
        let len_before = cached.tokens().len();
        cached.push(&model, token).unwrap();
        uncached.push(&model, token).unwrap();
        // Costs: the cache pays for one position while it has room; afterwards both rerun
        // the whole window.
        let window = (len_before + 1).min(c.context);
        assert_eq!(uncached.last_step_multiply_adds(), uncached_step_multiply_adds(&c, window));
        let expected = if len_before < c.context {
            cached_step_multiply_adds(&c, len_before)
        } else {
            uncached_step_multiply_adds(&c, c.context)
        };
        assert_eq!(cached.last_step_multiply_adds(), expected);
    }
    assert_eq!(cached.tokens(), uncached.tokens());
    assert_eq!(cached.tokens().len(), 12);
    assert!(cached.uses_cache() && !uncached.uses_cache());
    // At position 3 the cache saves the three earlier positions' work.
    assert!(cached_step_multiply_adds(&c, 3) < uncached_step_multiply_adds(&c, 4));
}

#[test]
fn sampling_is_seeded_and_the_same_with_or_without_the_cache() {
    let model = model();
    let sampler = Decoding::Sample { temperature: 1.3, top_k: 4, top_p: 0.95 };
    let run = |seed, cache| generate(&model, &[3], 15, sampler, seed, cache).unwrap();
    let tokens = |g: &[GeneratedToken]| g.iter().map(|t| t.token).collect::<Vec<_>>();
    let a = run(9, true);
    assert_eq!(tokens(&a), tokens(&run(9, false)));
    assert_eq!(a, run(9, true), "same seed, same tokens and probabilities");
    assert_ne!(tokens(&a), tokens(&run(10, true)), "another seed, another text");
    assert!(a.iter().all(|t| t.probability > 0.0 && t.probability <= 1.0));
    // The probability reported is the token's under temperature, top-k and top-p, which we
    // recompute here from scratch for the first token.
    let z: Vec<f64> = next_logits_from_scratch(&model, &[3]).iter().map(|&v| v as f64).collect();
    let d = sampling::distribution(&z, 1.3, 4, 0.95);
    assert!((a[0].probability - d.final_probs[a[0].token]).abs() < 1e-6);
    assert!(d.kept[a[0].token]);
}

#[test]
fn greedy_picks_the_argmax_and_top_k_1_is_greedy() {
    let model = model();
    let greedy = generate(&model, &[0, 5], 8, Decoding::Greedy, 0, true).unwrap();
    let mut sequence = vec![0, 5];
    for t in &greedy {
        let scratch = next_logits_from_scratch(&model, &sequence);
        let best = (0..6).max_by(|&a, &b| scratch[a].total_cmp(&scratch[b])).unwrap();
        assert_eq!(t.token, best);
        assert_eq!(t.probability, 1.0);
        sequence.push(t.token);
    }
    let top1 = Decoding::Sample { temperature: 1.0, top_k: 1, top_p: 1.0 };
    let sampled = generate(&model, &[0, 5], 8, top1, 42, false).unwrap();
    let tokens = |g: &[GeneratedToken]| g.iter().map(|t| t.token).collect::<Vec<_>>();
    assert_eq!(tokens(&sampled), tokens(&greedy));
    assert_eq!(argmax(&[1.0, 3.0, 3.0]).unwrap(), 1, "ties go to the lower id");
}

#[test]
fn bad_settings_and_logits_are_errors() {
    let model = model();
    let sample = |temperature, top_k, top_p| {
        generate(&model, &[1], 1, Decoding::Sample { temperature, top_k, top_p }, 0, true)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(sample(0.0, 3, 0.9), "the temperature must be a positive number, not 0");
    assert!(sample(f64::NAN, 3, 0.9).contains("temperature"));
    assert!(sample(f64::INFINITY, 3, 0.9).contains("temperature"));
    assert_eq!(sample(1.0, 0, 0.9), "top-k must keep at least 1 token");
    assert_eq!(sample(1.0, 3, 0.0), "top-p must be above 0 and at most 1, not 0");
    assert!(sample(1.0, 3, 1.5).contains("top-p"));
    // Extreme but valid settings work.
    assert!(generate(
        &model,
        &[1],
        3,
        Decoding::Sample { temperature: 1e-6, top_k: 1000, top_p: 1.0 },
        0,
        true
    )
    .is_ok());
    assert!(generate(&model, &[1], 3, Decoding::Sample { temperature: 1e6, top_k: 1, top_p: 1e-9 }, 0, true)
        .is_ok());
    assert!(Decoder::new(&model, &[], true).unwrap_err().to_string().contains("prompt is empty"));
    assert!(Decoder::new(&model, &[6], true).unwrap_err().to_string().contains("token id 6"));
    assert!(check_logits(&[0.0, f32::NAN]).unwrap_err().to_string().contains("token 1 is NaN"));
    assert!(argmax(&[f32::INFINITY]).is_err());
    assert!(argmax(&[]).is_err());
    let mut rng = Rng::new(0);
    assert!(Decoding::Greedy.choose(&[1.0, f32::NEG_INFINITY], &mut rng).is_err());
    let mut decoder = Decoder::new(&model, &[1], false).unwrap();
    assert!(decoder.push(&model, 99).unwrap_err().to_string().contains("token id 99"));
    assert!(beam_search(&model, &[1], 0, 3).unwrap_err().to_string().contains("between 1 and 16"));
    assert!(beam_search(&model, &[1], 17, 3).is_err());
    assert!(beam_search(&model, &[1], 2, 0).unwrap_err().to_string().contains("steps"));
    assert!(beam_search(&model, &[], 2, 2).unwrap_err().to_string().contains("prompt is empty"));
}

#[test]
fn beam_width_1_is_greedy() {
    let model = model();
    let greedy = generate(&model, &[2, 3], 9, Decoding::Greedy, 0, true).unwrap();
    let tree = beam_search(&model, &[2, 3], 1, 9).unwrap();
    assert_eq!(tree.best, greedy.iter().map(|t| t.token).collect::<Vec<_>>());
    assert_eq!(tree.nodes.len(), 9, "one candidate per step");
    assert!(tree.nodes.iter().all(|n| n.kept));
}

/// Recomputes the log-probability of `continuation` after `prompt` from scratch.
fn log_prob_from_scratch(model: &Transformer, prompt: &[usize], continuation: &[usize]) -> f64 {
    let mut sequence = prompt.to_vec();
    let mut total = 0.0;
    for &t in continuation {
        total += log_probs(&next_logits_from_scratch(model, &sequence))[t];
        sequence.push(t);
    }
    total
}

#[test]
fn the_beam_tree_is_consistent() {
    let model = model();
    let (width, steps, prompt) = (3, 5, [4, 1]);
    let tree = beam_search(&model, &prompt, width, steps).unwrap();
    for step in 0..steps {
        let at_step: Vec<usize> = (0..tree.nodes.len()).filter(|&i| tree.nodes[i].step == step).collect();
        let kept: Vec<usize> = at_step.iter().copied().filter(|&i| tree.nodes[i].kept).collect();
        // Step 0 expands the prompt alone (3 candidates); later steps 3 beams × 3.
        assert_eq!(at_step.len(), if step == 0 { width } else { width * width });
        assert_eq!(kept.len(), width);
        // The kept are the best of their step.
        let worst_kept = kept.iter().map(|&i| tree.nodes[i].log_prob).fold(f64::INFINITY, f64::min);
        for &i in &at_step {
            if !tree.nodes[i].kept {
                assert!(tree.nodes[i].log_prob <= worst_kept);
            }
        }
        for &i in &at_step {
            let node = tree.nodes[i];
            match node.parent {
                None => assert_eq!(step, 0),
                Some(p) => {
                    // Parents come from the previous step and were kept; scores only fall.
                    assert!(p < i && tree.nodes[p].step + 1 == step && tree.nodes[p].kept);
                    assert!(node.log_prob <= tree.nodes[p].log_prob);
                }
            }
            // Every node's score is the log-probability of its path, recomputed.
            let path = tree.path(i);
            assert_eq!(path.len(), step + 1);
            assert!((node.log_prob - log_prob_from_scratch(&model, &prompt, &path)).abs() < 1e-4);
        }
    }
    let last_kept = tree.nodes.iter().filter(|n| n.step == steps - 1 && n.kept);
    let best_score = last_kept.map(|n| n.log_prob).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(tree.best_log_prob, best_score);
    assert_eq!(tree.best.len(), steps);
    // Beam search keeps more than greedy's single path, so it never scores worse.
    let greedy = beam_search(&model, &prompt, 1, steps).unwrap();
    assert!(tree.best_log_prob >= greedy.best_log_prob - 1e-9);
}

#[test]
fn a_beam_as_wide_as_the_vocabulary_finds_the_best_continuation() {
    let model = model();
    let tree = beam_search(&model, &[2], 6, 2).unwrap();
    // Every two-token continuation, scored from scratch.
    let mut best = (f64::NEG_INFINITY, vec![]);
    for a in 0..6 {
        for b in 0..6 {
            let score = log_prob_from_scratch(&model, &[2], &[a, b]);
            if score > best.0 {
                best = (score, vec![a, b]);
            }
        }
    }
    assert_eq!(tree.best, best.1);
    assert!((tree.best_log_prob - best.0).abs() < 1e-4);
}

#[test]
fn the_winning_path_runs_from_the_best_last_node_to_the_root() {
    let node = |step, parent, kept, log_prob| BeamNode { token: 0, log_prob, parent, step, kept };
    let tree = BeamTree {
        width: 2,
        nodes: vec![
            node(0, None, true, -1.0),
            node(0, None, true, -0.5),
            node(1, Some(0), true, -1.2),
            node(1, Some(0), false, -3.0),
            node(1, Some(1), true, -1.4),
            node(1, Some(1), false, -0.1),
        ],
        best: vec![0, 0],
        best_log_prob: -1.2,
    };
    // Node 5 scores highest but was pruned; the best kept node at step 2 is node 2.
    assert_eq!(tree.on_best_path(), vec![true, false, true, false, false, false]);
    assert_eq!(tree.kept_count(), 4);
}
