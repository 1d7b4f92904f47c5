//! The transformer against finite differences, against itself (tape vs. no tape vs. KV
//! cache), and against its own formulas.

use super::*;
use crate::core::autograd::tests::check_gradients;

/// A model small enough for finite differences: 2 layers, 2 heads of width 2.
pub(crate) fn tiny(norm: Norm, activation: Activation) -> TransformerConfig {
    TransformerConfig {
        vocab: 5,
        context: 4,
        d_model: 4,
        n_heads: 2,
        n_layers: 2,
        d_ff: 8,
        norm,
        activation,
        eps: 1e-5,
    }
}

/// A model with parameters drawn uniformly from [-1, 1) instead of GPT-2's small normals, so
/// every nonlinearity is exercised away from its linear regime.
pub(crate) fn scrambled(config: TransformerConfig, seed: u64) -> Transformer {
    let mut model = Transformer::new(config, seed).unwrap();
    let mut rng = Rng::new(seed ^ 0xABCD);
    for p in &mut model.params {
        *p = p.map(|_| rng.uniform_in(-1.0, 1.0));
    }
    model
}

fn batch_of(rows: &[&[usize]], targets: &[&[usize]]) -> Batch {
    Batch { batch: rows.len(), len: rows[0].len(), inputs: rows.concat(), targets: targets.concat() }
}

fn all_variants() -> [(Norm, Activation); 4] {
    [
        (Norm::Pre, Activation::Gelu),
        (Norm::Pre, Activation::Relu),
        (Norm::Post, Activation::Gelu),
        (Norm::Post, Activation::Relu),
    ]
}

#[test]
fn validation_says_what_to_change() {
    let good = tiny(Norm::Pre, Activation::Gelu);
    assert!(good.validate().is_ok());
    let message = |c: TransformerConfig| c.validate().unwrap_err().to_string();
    assert_eq!(
        message(TransformerConfig { d_model: 6, n_heads: 4, ..good }),
        "d_model (6) must be divisible by the number of heads (4): each head gets d_model / \
         heads dimensions"
    );
    assert_eq!(message(TransformerConfig { n_heads: 0, ..good }), "the number of heads must be at least 1");
    assert_eq!(message(TransformerConfig { vocab: 0, ..good }), "the vocabulary size must be at least 1");
    assert!(message(TransformerConfig { eps: 0.0, ..good }).contains("eps"));
    assert!(message(TransformerConfig { eps: f32::NAN, ..good }).contains("eps"));
    let huge = TransformerConfig { d_model: 1 << 20, n_heads: 1, ..good };
    assert!(message(huge).contains("too many"));
    let absurd = TransformerConfig { d_model: usize::MAX, n_heads: 1, ..good };
    assert!(message(absurd).contains("too many"), "no overflow panic");
}

#[test]
fn the_parameter_list_is_in_the_documented_order() {
    let c = tiny(Norm::Pre, Activation::Gelu);
    let specs = c.param_specs();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 2 + 12 * 2 + 2);
    assert_eq!(
        &names[..4],
        ["token_embedding", "position_embedding", "layers.0.ln1.gamma", "layers.0.ln1.beta"]
    );
    assert_eq!(names[13], "layers.0.ffn.b2");
    assert_eq!(names[14], "layers.1.ln1.gamma");
    assert_eq!(&names[26..], ["final_ln.gamma", "final_ln.beta"]);
    assert_eq!(specs[10].shape, vec![4, 8], "ffn.w1 is [d_model, d_ff]");
    // Post-norm has no final layer norm.
    let post = TransformerConfig { norm: Norm::Post, ..c };
    assert_eq!(post.param_specs().len(), 26);
    // Counting by hand: embeddings (5 + 4)·4 = 36; per layer 4·16 + 2·32 + 8 + 4 + 4·4 = 156;
    // final LN 8. Total 36 + 312 + 8 = 356.
    assert_eq!(c.param_count(), 356);
    assert_eq!(c.checked_param_count(), Some(356));
    assert_eq!(post.checked_param_count(), Some(post.param_count()));
    // The named parts follow the same order as the names.
    let indices: Vec<usize> = (0..specs.len()).collect();
    let p = parts(&c, &indices);
    assert_eq!(names[p.layers[1].w_o], "layers.1.attn.w_o");
    assert_eq!(names[p.layers[0].b1], "layers.0.ffn.b1");
    assert_eq!(p.final_ln.map(|(g, b)| (names[g], names[b])), Some(("final_ln.gamma", "final_ln.beta")));
}

#[test]
fn initialization_follows_gpt2() {
    let c = TransformerConfig {
        vocab: 64,
        context: 32,
        d_model: 64,
        n_heads: 4,
        n_layers: 2,
        d_ff: 256,
        ..tiny(Norm::Pre, Activation::Gelu)
    };
    let model = Transformer::new(c, 1).unwrap();
    assert_eq!(model, Transformer::new(c, 1).unwrap(), "same seed, same weights");
    assert_ne!(model, Transformer::new(c, 2).unwrap());
    let std = |name: &str| {
        let t = model.param(name).unwrap();
        let n = t.len() as f64;
        let mean = t.data.iter().map(|&v| v as f64).sum::<f64>() / n;
        (t.data.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
    };
    // 16,384 draws: the sample std is within about 0.6% of the true one; allow 5%.
    assert!((std("layers.0.ffn.w1") / 0.02 - 1.0).abs() < 0.05);
    assert!((std("token_embedding") / 0.02 - 1.0).abs() < 0.05);
    // Residual projections: 0.02/√(2·2 layers) = 0.01.
    assert!((std("layers.1.ffn.w2") / 0.01 - 1.0).abs() < 0.05);
    assert!((std("layers.0.attn.w_o") / 0.01 - 1.0).abs() < 0.05);
    assert!(model.param("layers.1.ln2.gamma").unwrap().data.iter().all(|&g| g == 1.0));
    assert!(model.param("layers.1.ffn.b1").unwrap().data.iter().all(|&b| b == 0.0));
    assert!(model.param("final_ln.beta").unwrap().data.iter().all(|&b| b == 0.0));
    assert!(model.param("no_such").is_none());
    // With tiny weights every logit is near 0, so the first loss is close to ln(vocab).
    let batch = Batch { batch: 1, len: 8, inputs: (0..8).collect(), targets: (1..9).collect() };
    let loss = model.loss(&batch).unwrap();
    assert!((loss - libm::logf(64.0)).abs() < 0.05, "loss {loss}");
}

/// Every parameter's gradient, for every variant, against central differences (the check and
/// its tolerance are described in `autograd/tests.rs`). With ReLU a step of ±0.01 could carry
/// an FFN pre-activation across the kink at 0 and spoil the difference quotient; that would
/// show up as a failure here, and with these fixed seeds it does not happen.
#[test]
fn whole_model_gradients_match_finite_differences() {
    for (i, (norm, activation)) in all_variants().into_iter().enumerate() {
        let model = scrambled(tiny(norm, activation), 10 + i as u64);
        // Two windows of three tokens; token 1 appears at several positions, so the tied
        // embedding collects gradient from lookups and from the output layer.
        let batch = batch_of(&[&[1, 4, 1], &[0, 1, 2]], &[&[4, 1, 3], &[1, 2, 2]]);
        check_gradients(&model.params, 7, |g, vars| {
            let logits = model.forward_on_tape(g, vars, &batch).unwrap();
            g.cross_entropy(logits, &batch.targets, None).unwrap()
        })
        .unwrap_or_else(|e| panic!("{norm:?} {activation:?}: {e}"));
    }
}

#[test]
fn loss_and_grads_cover_every_parameter() {
    let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 3);
    let batch = batch_of(&[&[1, 2, 3, 4]], &[&[2, 3, 4, 0]]);
    let (loss, grads) = model.loss_and_grads(&batch).unwrap();
    assert_eq!(grads.len(), model.params.len());
    for ((g, p), spec) in grads.iter().zip(&model.params).zip(model.config.param_specs()) {
        assert_eq!(g.shape, p.shape);
        assert!(g.data.iter().any(|&v| v != 0.0), "{} got no gradient", spec.name);
    }
    // The tape's loss and the tape-free loss agree.
    assert!((loss - model.loss(&batch).unwrap()).abs() < 1e-5);
}

/// The tape, the tape-free forward and the KV cache one token at a time all give the same
/// logits.
#[test]
fn three_forward_passes_agree() {
    for (i, (norm, activation)) in all_variants().into_iter().enumerate() {
        let config =
            TransformerConfig { vocab: 7, context: 6, d_model: 6, n_heads: 3, ..tiny(norm, activation) };
        let model = scrambled(config, 20 + i as u64);
        let rows: [&[usize]; 2] = [&[3, 1, 4, 1, 5, 6], &[2, 6, 5, 3, 5, 0]];
        let batch = batch_of(&rows, &rows);
        let mut graph = Graph::new();
        let vars: Vec<Var> = model.params.iter().map(|p| graph.input(p.clone())).collect();
        let logits = model.forward_on_tape(&mut graph, &vars, &batch).unwrap();
        let tape = graph.value(logits).clone();
        for (r, row) in rows.iter().enumerate() {
            let full = model.logits_for(row).unwrap();
            let tape_rows = &tape.data[r * 6 * 7..(r + 1) * 6 * 7];
            let mut cache = KvCache::new(&config);
            for (t, &token) in row.iter().enumerate() {
                let hidden = model.forward_cached(&mut cache, &[token]).unwrap();
                let step = model.project_to_vocab(&mut cache, &hidden).unwrap();
                for j in 0..7 {
                    let (a, b, c) = (tape_rows[t * 7 + j], full.data[t * 7 + j], step.data[j]);
                    assert!(
                        (a - b).abs() < 1e-5 && (a - c).abs() < 1e-5,
                        "{norm:?} {activation:?} row {r} position {t}: tape {a}, full {b}, cached {c}"
                    );
                }
            }
            assert_eq!(cache.len(), 6);
            assert_eq!(cache.stored_values(), 2 * 2 * 6 * 6);
        }
    }
}

/// The multiply-adds counted while computing match the formulas.
#[test]
fn counted_multiply_adds_match_the_formulas() {
    let c = TransformerConfig {
        vocab: 11,
        context: 9,
        d_model: 6,
        n_heads: 2,
        n_layers: 3,
        d_ff: 10,
        ..tiny(Norm::Pre, Activation::Gelu)
    };
    let model = Transformer::new(c, 4).unwrap();
    let tokens = [1, 2, 3, 4, 5, 6, 7];
    let mut cache = KvCache::new(&c);
    for (position, &t) in tokens.iter().enumerate() {
        let before = cache.multiply_adds;
        let hidden = model.forward_cached(&mut cache, &[t]).unwrap();
        model.project_to_vocab(&mut cache, &hidden).unwrap();
        assert_eq!(cache.multiply_adds - before, cached_step_multiply_adds(&c, position));
        // Without a cache: the whole prefix again, scoring only its last position.
        let mut fresh = KvCache::new(&c);
        let hidden = model.forward_cached(&mut fresh, &tokens[..=position]).unwrap();
        let last = Tensor::from_vec(&[1, 6], hidden.data[position * 6..].to_vec()).unwrap();
        model.project_to_vocab(&mut fresh, &last).unwrap();
        assert_eq!(fresh.multiply_adds, uncached_step_multiply_adds(&c, position + 1));
    }
    // By hand for one token at position 0: per layer 4·36 + 2·60 + 2·6·1 = 276, three layers
    // 828, plus 6·11 = 66 for the vocabulary: 894. For a window of 2 without a cache:
    // 3·(2·(144 + 120) + 6·2·3) + 66 = 3·564 + 66 = 1758.
    assert_eq!(cached_step_multiply_adds(&c, 0), 894);
    assert_eq!(uncached_step_multiply_adds(&c, 2), 1758);
    assert_eq!(uncached_step_multiply_adds(&c, 1), cached_step_multiply_adds(&c, 0));
}

#[test]
fn bad_inputs_are_errors_with_reasons() {
    let c = tiny(Norm::Pre, Activation::Gelu);
    let model = Transformer::new(c, 0).unwrap();
    assert_eq!(
        model.logits_for(&[1, 9]).unwrap_err().to_string(),
        "token id 9 at position 2 is outside the vocabulary of 5 tokens"
    );
    assert!(model.logits_for(&[]).unwrap_err().to_string().contains("no tokens"));
    assert_eq!(
        model.logits_for(&[0, 1, 2, 3, 4]).unwrap_err().to_string(),
        "5 tokens do not fit in the model's context of 4"
    );
    let mut cache = KvCache::new(&c);
    model.forward_cached(&mut cache, &[0, 1, 2]).unwrap();
    assert!(model.forward_cached(&mut cache, &[0, 1]).unwrap_err().to_string().contains("context of 4"));
    let other = KvCache::new(&TransformerConfig { n_layers: 1, ..c });
    assert!(model
        .forward_cached(&mut other.clone(), &[0])
        .unwrap_err()
        .to_string()
        .contains("different model"));
    let long = Batch { batch: 1, len: 5, inputs: vec![0; 5], targets: vec![0; 5] };
    assert!(model.loss_and_grads(&long).unwrap_err().to_string().contains("longer than the model's context"));
    let ragged = Batch { batch: 2, len: 2, inputs: vec![0; 4], targets: vec![0; 3] };
    assert!(model.loss(&ragged).unwrap_err().to_string().contains("needs 4 inputs and 4 targets"));
    let bad_target = Batch { batch: 1, len: 2, inputs: vec![0, 1], targets: vec![0, 5] };
    assert!(model.loss_and_grads(&bad_target).unwrap_err().to_string().contains("token id 5"));
    let mut params = model.params.clone();
    params.pop();
    assert!(Transformer::from_params(c, params)
        .unwrap_err()
        .to_string()
        .contains("has 28 parameter tensors but 27 were given"));
    let mut params = model.params.clone();
    params[3] = Tensor::zeros(&[3]);
    assert_eq!(
        Transformer::from_params(c, params).unwrap_err().to_string(),
        "parameter layers.0.ln1.beta should have shape [4] but has [3]"
    );
    assert_eq!(Transformer::from_params(c, model.params.clone()).unwrap(), model);
    // The fields are public: a tensor replaced by one of the wrong shape is an error, not a
    // panic, in every forward pass.
    let mut broken = model.clone();
    broken.params[0] = Tensor::zeros(&[2, 2]);
    let expected = "parameter token_embedding should have shape [5, 4] but has [2, 2]";
    assert_eq!(broken.logits_for(&[1]).unwrap_err().to_string(), expected);
    assert!(broken.loss_and_grads(&bad_target).unwrap_err().to_string().contains("token id 5"));
    let fine = Batch { batch: 1, len: 2, inputs: vec![0, 1], targets: vec![1, 2] };
    assert_eq!(broken.loss_and_grads(&fine).unwrap_err().to_string(), expected);
    assert_eq!(
        broken.project_to_vocab(&mut KvCache::new(&c), &Tensor::zeros(&[1, 4])).unwrap_err().to_string(),
        expected
    );
    broken.params.pop();
    assert!(broken.logits_for(&[1]).unwrap_err().to_string().contains("27 were given"));
}
