//! The transformer's tape-free forward pass with every intermediate kept, for chapter 10's
//! interpretability widgets.
//!
//! [`inspect`] runs one sequence through a pre-norm [`Transformer`] with the same arithmetic,
//! in the same order, as [`Transformer::forward_cached`], and keeps:
//!
//! ```text
//! residuals[0]          x₀ = E[t_i] + P[i]                      after the embeddings
//! residuals[2l + 1]     x after layer l's attention sub-block     x + Attn(LN1(x))
//! residuals[2l + 2]     x after layer l's MLP sub-block           x + FFN(LN2(x))
//! weights[l]            [n_heads, n, n]  α_ij of every head (0 above the diagonal)
//! values[l]             [n, d_model]     V = LN1(x)·W_V, heads side by side
//! logits                [n, vocab]       LN_final(residuals[2L])·Eᵀ
//! ```
//!
//! It can also silence one head (its output zeroed before W_O), which is how chapter 10
//! measures what a head does by taking it away. [`lens_logits`] decodes any residual stream
//! the way the model decodes its last one: the final layer norm, then the tied unembedding.

use crate::core::autograd::gelu;
use crate::core::tensor::{self, Tensor};
use crate::models::transformer::{layer_norm, Activation, ModelError, Norm, Result, Transformer};

/// One attention head: layer and head, both counted from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadId {
    pub layer: usize,
    pub head: usize,
}

/// Everything one forward pass computed that chapter 10 looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    pub tokens: Vec<usize>,
    /// The residual stream, `[n, d_model]` each: after the embeddings, then after every
    /// attention and every MLP sub-block (2·n_layers + 1 in all).
    pub residuals: Vec<Tensor>,
    /// Per layer, `[n_heads, n, n]`: row i of head h is the softmax over keys 0..=i.
    pub weights: Vec<Tensor>,
    /// Per layer, the value vectors `[n, d_model]`, head h in columns h·d_head ….
    pub values: Vec<Tensor>,
    /// The model's output, `[n, vocab]`.
    pub logits: Tensor,
}

/// What each recorded residual stream is, for labels: "embeddings", "layer 1 attention",
/// "layer 1 MLP", … (layers counted from 1, as the book does).
pub fn stream_names(n_layers: usize) -> Vec<String> {
    let mut names = vec!["embeddings".to_string()];
    for l in 1..=n_layers {
        names.push(format!("layer {l} attention"));
        names.push(format!("layer {l} MLP"));
    }
    names
}

fn named<'a>(model: &'a Transformer, name: &str) -> Result<&'a Tensor> {
    model.param(name).ok_or_else(|| ModelError::invalid(format!("the model has no parameter {name}")))
}

/// Checks that the model is one these tools can read: pre-norm, with a final layer norm.
pub fn check_inspectable(model: &Transformer) -> Result<()> {
    model.check_params()?;
    if model.config.norm != Norm::Pre {
        return Err(ModelError::invalid(
            "these tools read pre-norm models, whose residual stream is never normalised in place",
        ));
    }
    Ok(())
}

/// Runs `tokens` (1 to context ids) through `model`, keeping every intermediate; `silenced`
/// zeroes one head's output.
pub fn inspect(model: &Transformer, tokens: &[usize], silenced: Option<HeadId>) -> Result<Inspection> {
    check_inspectable(model)?;
    let c = model.config;
    if tokens.is_empty() {
        return Err(ModelError::invalid("there are no tokens to run the model on"));
    }
    if tokens.len() > c.context {
        return Err(ModelError::invalid(format!(
            "{} tokens do not fit in the model's context of {}",
            tokens.len(),
            c.context
        )));
    }
    if let Some(&bad) = tokens.iter().find(|&&t| t >= c.vocab) {
        return Err(ModelError::invalid(format!("token id {bad} is outside the vocabulary of {}", c.vocab)));
    }
    if let Some(h) = silenced {
        if h.layer >= c.n_layers || h.head >= c.n_heads {
            return Err(ModelError::invalid(format!(
                "there is no head {} in layer {}: the model has {} layers of {} heads",
                h.head + 1,
                h.layer + 1,
                c.n_layers,
                c.n_heads
            )));
        }
    }
    let (n, d, heads, dh) = (tokens.len(), c.d_model, c.n_heads, c.d_head());
    let embedding = named(model, "token_embedding")?;
    let positions = named(model, "position_embedding")?;
    let mut x = Tensor::zeros(&[n, d]);
    for (i, (row, &token)) in x.row_slices_mut().zip(tokens).enumerate() {
        let e = &embedding.data[token * d..(token + 1) * d];
        let pos = &positions.data[i * d..(i + 1) * d];
        for (v, (a, b)) in row.iter_mut().zip(e.iter().zip(pos)) {
            *v = a + b;
        }
    }
    let mut residuals = vec![x.clone()];
    let (mut all_weights, mut all_values) = (vec![], vec![]);
    let scale = 1.0 / libm::sqrtf(dh as f32);
    for l in 0..c.n_layers {
        let p = |name: &str| named(model, &format!("layers.{l}.{name}"));
        let normed = layer_norm(&x, p("ln1.gamma")?, p("ln1.beta")?, c.eps);
        let q = tensor::matmul(&normed, p("attn.w_q")?)?;
        let k = tensor::matmul(&normed, p("attn.w_k")?)?;
        let v = tensor::matmul(&normed, p("attn.w_v")?)?;
        let mut weights = Tensor::zeros(&[heads, n, n]);
        let mut out = Tensor::zeros(&[n, d]);
        for (i, out_row) in out.row_slices_mut().enumerate() {
            let q_row = &q.data[i * d..(i + 1) * d];
            for h in 0..heads {
                let cols = h * dh..(h + 1) * dh;
                let q_h = &q_row[cols.clone()];
                // The same steps as the cached forward: scores, shifted exponentials, then
                // each value added with weight w / total.
                let mut w: Vec<f32> = (0..=i)
                    .map(|j| {
                        let k_h = &k.data[j * d + cols.start..j * d + cols.end];
                        scale * q_h.iter().zip(k_h).map(|(a, b)| a * b).sum::<f32>()
                    })
                    .collect();
                let max = w.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
                let mut total = 0.0;
                for s in w.iter_mut() {
                    *s = libm::expf(*s - max);
                    total += *s;
                }
                let o_h = &mut out_row[cols.clone()];
                for (j, s) in w.iter().enumerate() {
                    weights.data[(h * n + i) * n + j] = s / total;
                    let v_h = &v.data[j * d + cols.start..j * d + cols.end];
                    for (o, vv) in o_h.iter_mut().zip(v_h) {
                        *o += s / total * vv;
                    }
                }
                if silenced == Some(HeadId { layer: l, head: h }) {
                    o_h.fill(0.0);
                }
            }
        }
        let attended = tensor::matmul(&out, p("attn.w_o")?)?;
        x = tensor::add(&x, &attended)?;
        residuals.push(x.clone());
        let normed = layer_norm(&x, p("ln2.gamma")?, p("ln2.beta")?, c.eps);
        let z = tensor::add(&tensor::matmul(&normed, p("ffn.w1")?)?, p("ffn.b1")?)?;
        let a = match c.activation {
            Activation::Gelu => z.map(gelu),
            Activation::Relu => z.map(|v| v.max(0.0)),
        };
        let fed = tensor::add(&tensor::matmul(&a, p("ffn.w2")?)?, p("ffn.b2")?)?;
        x = tensor::add(&x, &fed)?;
        residuals.push(x.clone());
        all_weights.push(weights);
        all_values.push(v);
    }
    let logits = lens_logits(model, &x)?;
    Ok(Inspection { tokens: tokens.to_vec(), residuals, weights: all_weights, values: all_values, logits })
}

/// Decodes residual-stream rows `[n, d_model]` as if they were the last layer's: the final
/// layer norm, then the tied unembedding, giving logits `[n, vocab]`.
pub fn lens_logits(model: &Transformer, residual: &Tensor) -> Result<Tensor> {
    check_inspectable(model)?;
    let normed = layer_norm(
        residual,
        named(model, "final_ln.gamma")?,
        named(model, "final_ln.beta")?,
        model.config.eps,
    );
    Ok(tensor::matmul_transposed(&normed, false, named(model, "token_embedding")?, true)?)
}

impl Inspection {
    /// How many positions were run.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Head `head`'s attention weight from query `i` to key `j` in `layer` (0 for j > i).
    pub fn weight(&self, layer: usize, head: usize, i: usize, j: usize) -> f32 {
        let n = self.len();
        self.weights[layer].data[(head * n + i) * n + j]
    }

    /// ‖v_j^h · W_O^h‖ for every head h and position j of `layer`, `[n_heads, n]`: the length
    /// of what position j's value adds to the residual stream through head h when it gets
    /// all of the weight. W_O^h is the block of W_O's rows that multiplies head h's output.
    pub fn value_output_norms(&self, model: &Transformer, layer: usize) -> Result<Tensor> {
        let c = model.config;
        let (n, d, dh) = (self.len(), c.d_model, c.d_head());
        let w_o = named(model, &format!("layers.{layer}.attn.w_o"))?;
        let values = self
            .values
            .get(layer)
            .ok_or_else(|| ModelError::invalid(format!("there is no layer {}", layer + 1)))?;
        let mut norms = Tensor::zeros(&[c.n_heads, n]);
        for h in 0..c.n_heads {
            for j in 0..n {
                let v_h = &values.data[j * d + h * dh..j * d + (h + 1) * dh];
                let mut sum_sq = 0.0f64;
                for col in 0..d {
                    let y: f32 =
                        v_h.iter().enumerate().map(|(r, vv)| vv * w_o.data[(h * dh + r) * d + col]).sum();
                    sum_sq += f64::from(y) * f64::from(y);
                }
                norms.data[h * n + j] = libm::sqrt(sum_sq) as f32;
            }
        }
        Ok(norms)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::tolerance::Tolerance;
    use crate::models::checkpoint::Checkpoint;
    use crate::models::transformer::tests::{scrambled, tiny};
    use crate::models::transformer::{Activation, KvCache, Norm};

    /// The checkpoint the book ships, read from the repository.
    pub(crate) fn shipped() -> Checkpoint {
        let bytes = include_bytes!("../../../../assets/tiny-gpt/tiny-gpt.bin");
        Checkpoint::from_bytes(bytes).expect("the shipped checkpoint reads")
    }

    #[test]
    fn the_inspected_forward_matches_the_models_own() {
        for activation in [Activation::Gelu, Activation::Relu] {
            let model = scrambled(tiny(Norm::Pre, activation), 7);
            let tokens = [3, 0, 4, 1];
            let seen = inspect(&model, &tokens, None).unwrap();
            let expected = model.logits_for(&tokens).unwrap();
            crate::assert_close!(seen.logits.data, expected.data, Tolerance { abs: 1e-6, rel: 1e-6 });
            assert_eq!(seen.residuals.len(), 5);
            // Each row of attention weights is a distribution over the visible keys.
            for l in 0..2 {
                for h in 0..2 {
                    for i in 0..4 {
                        let row: f32 = (0..4).map(|j| seen.weight(l, h, i, j)).sum();
                        crate::assert_close!(row, 1.0, 1e-6);
                        assert!((i + 1..4).all(|j| seen.weight(l, h, i, j) == 0.0));
                    }
                }
            }
        }
    }

    #[test]
    fn the_shipped_model_inspected_equals_its_forward() {
        let ckpt = shipped();
        let tokens = ckpt.vocab.encode("ROMEO:\nWhat light through yonder window breaks?").unwrap();
        let seen = inspect(&ckpt.model, &tokens, None).unwrap();
        let mut cache = KvCache::new(&ckpt.model.config);
        let hidden = ckpt.model.forward_cached(&mut cache, &tokens).unwrap();
        let expected = ckpt.model.project_to_vocab(&mut cache, &hidden).unwrap();
        crate::assert_close!(seen.logits.data, expected.data, Tolerance { abs: 1e-5, rel: 1e-5 });
        // The lens on the last stream is the model's own output.
        let last = lens_logits(&ckpt.model, seen.residuals.last().unwrap()).unwrap();
        assert_eq!(last.data, seen.logits.data);
    }

    #[test]
    fn silencing_a_head_zeroes_its_part_and_changes_only_what_follows() {
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 3);
        let tokens = [1, 2, 3, 4];
        let base = inspect(&model, &tokens, None).unwrap();
        let quiet = inspect(&model, &tokens, Some(HeadId { layer: 1, head: 0 })).unwrap();
        // Layer 0 and everything before layer 1's attention is untouched.
        assert_eq!(base.residuals[..3], quiet.residuals[..3]);
        assert_ne!(base.residuals[3], quiet.residuals[3]);
        // Silencing head h is adding −(head h's output)·W_O^h to the stream: check one row.
        let (d, dh) = (4, 2);
        let w_o = model.param("layers.1.attn.w_o").unwrap();
        let v = &base.values[1];
        for i in 0..4 {
            let mut o_h = [0.0f32; 2];
            for j in 0..=i {
                for (r, o) in o_h.iter_mut().enumerate() {
                    *o += base.weight(1, 0, i, j) * v.data[j * d + r];
                }
            }
            for col in 0..d {
                let part: f32 = (0..dh).map(|r| o_h[r] * w_o.data[r * d + col]).sum();
                crate::assert_close!(
                    quiet.residuals[3].at(i, col),
                    base.residuals[3].at(i, col) - part,
                    Tolerance { abs: 1e-5, rel: 1e-5 }
                );
            }
        }
        assert!(inspect(&model, &tokens, Some(HeadId { layer: 2, head: 0 }))
            .unwrap_err()
            .to_string()
            .contains("no head 1 in layer 3"));
    }

    #[test]
    fn post_norm_models_and_bad_ids_are_refused_in_words() {
        let post = scrambled(tiny(Norm::Post, Activation::Gelu), 1);
        assert!(inspect(&post, &[0], None).unwrap_err().to_string().contains("pre-norm"));
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 1);
        assert!(inspect(&model, &[], None).is_err());
        assert!(inspect(&model, &[0; 5], None).unwrap_err().to_string().contains("context of 4"));
        assert!(inspect(&model, &[5], None).unwrap_err().to_string().contains("outside"));
    }

    #[test]
    fn value_output_norms_are_lengths_of_v_times_w_o() {
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 5);
        let seen = inspect(&model, &[0, 1, 2], None).unwrap();
        let norms = seen.value_output_norms(&model, 0).unwrap();
        let w_o = model.param("layers.0.attn.w_o").unwrap();
        // Head 1, position 2, by hand: v = values[2, 2..4], y = v·W_O[2..4, :].
        let v = &seen.values[0].data[2 * 4 + 2..2 * 4 + 4];
        let y: Vec<f32> = (0..4).map(|c| v[0] * w_o.at(2, c) + v[1] * w_o.at(3, c)).collect();
        let len = libm::sqrtf(y.iter().map(|a| a * a).sum());
        crate::assert_close!(norms.at(1, 2), len, 1e-6);
    }
}
