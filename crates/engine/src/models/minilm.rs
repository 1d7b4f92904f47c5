//! all-MiniLM-L6-v2, a small BERT encoder trained to map sentences to unit vectors whose cosine
//! measures how close their meanings are.
//!
//! Six layers of width 384 with 12 attention heads of width 32 and a 1,536-wide feed-forward
//! block. Unlike the book's GPT, it is an *encoder*: every token attends to every other token,
//! before and after it, so a word's vector depends on the whole sentence. Layer norm comes
//! *after* each residual addition (the original BERT arrangement), and the feed-forward block
//! uses the exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)).
//!
//! A sentence's vector is the mean of the last layer's token vectors (`[CLS]` and `[SEP]`
//! included), scaled to unit length, as sentence-transformers computes it.
//!
//! The weights come from `assets/minilm/minilm-l6.bin` (see `xtask/minilm.py` for the format):
//! matrices as signed bytes with f32 scales, expanded to f32 on loading, except the word
//! embedding table, which stays in bytes and is expanded one looked-up row at a time.

use crate::core::rng::Rng;
use crate::core::tensor::matmul_into;
use crate::models::wordpiece::{Encoding, WordPiece};

/// The magic bytes that open the weights file.
const MAGIC: &[u8; 4] = b"MLM1";
/// Encoder weight rows share one scale per this many entries.
const BLOCK: usize = 64;
/// BERT's layer-norm epsilon.
pub const EPS: f32 = 1e-12;

/// Sizes read from the file's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    /// The longest input, in tokens (`[CLS]` and `[SEP]` included).
    pub positions: usize,
}

/// A linear map y = x·W + b, with W stored `[in, out]` (row-major) for `matmul_into`.
#[derive(Clone, Debug)]
struct Linear {
    w: Vec<f32>,
    b: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    /// `[n, inputs]` → `[n, outputs]`.
    fn apply(&self, x: &[f32], n: usize) -> Vec<f32> {
        let mut y = vec![0.0; n * self.outputs];
        matmul_into(x, &self.w, &mut y, n, self.inputs, self.outputs);
        for row in y.chunks_exact_mut(self.outputs) {
            for (v, b) in row.iter_mut().zip(&self.b) {
                *v += b;
            }
        }
        y
    }
}

#[derive(Clone, Debug)]
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn apply(&self, x: &mut [f32]) {
        let d = self.gamma.len();
        for row in x.chunks_exact_mut(d) {
            let mean = row.iter().sum::<f32>() / d as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let inv = 1.0 / libm::sqrtf(var + EPS);
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    output_norm: Norm,
}

/// The encoder's weights.
#[derive(Clone, Debug)]
pub struct MiniLm {
    pub config: Config,
    /// The word embedding table as bytes, `[vocab, hidden]`, with one scale per row.
    word_bytes: Vec<i8>,
    word_scales: Vec<f32>,
    /// Position embeddings `[positions, hidden]`, expanded.
    positions: Vec<f32>,
    /// The token-type-0 embedding (every token of a single sentence has type 0).
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

/// Hidden states of one input: `states[0]` after the embeddings, `states[l]` after layer l,
/// each `[tokens, hidden]` row-major.
#[derive(Clone, Debug)]
pub struct HiddenStates {
    pub tokens: usize,
    pub hidden: usize,
    pub states: Vec<Vec<f32>>,
}

/// A linear map's weights, borrowed: `w` is `[inputs, outputs]` row-major (y = x·W + b).
#[derive(Clone, Copy, Debug)]
pub struct LinearWeights<'a> {
    pub w: &'a [f32],
    pub b: &'a [f32],
}

/// A layer norm's scale γ and shift β, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct NormWeights<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
}

/// One encoder layer's weights, borrowed, in the order the forward pass uses them: what a
/// copy of the model elsewhere (the GPU's, `gpu::models::minilm`) uploads.
#[derive(Clone, Copy, Debug)]
pub struct LayerWeights<'a> {
    pub query: LinearWeights<'a>,
    pub key: LinearWeights<'a>,
    pub value: LinearWeights<'a>,
    pub attention_out: LinearWeights<'a>,
    pub attention_norm: NormWeights<'a>,
    pub up: LinearWeights<'a>,
    pub down: LinearWeights<'a>,
    pub output_norm: NormWeights<'a>,
}

impl Linear {
    fn weights(&self) -> LinearWeights<'_> {
        LinearWeights { w: &self.w, b: &self.b }
    }
}

impl Norm {
    fn weights(&self) -> NormWeights<'_> {
        NormWeights { gamma: &self.gamma, beta: &self.beta }
    }
}

impl HiddenStates {
    /// The vector of token `t` at layer `layer` (0 = embeddings).
    pub fn token(&self, layer: usize, t: usize) -> &[f32] {
        &self.states[layer][t * self.hidden..(t + 1) * self.hidden]
    }

    /// The mean over tokens of one layer, scaled to unit length.
    pub fn mean_unit(&self, layer: usize) -> Vec<f32> {
        unit(&masked_mean(&self.states[layer], self.hidden, &vec![true; self.tokens]))
    }

    /// The sentence embedding: the last layer's mean, unit length.
    pub fn sentence_vector(&self) -> Vec<f32> {
        self.mean_unit(self.states.len() - 1)
    }
}

/// Mean pooling with an attention mask: the mean of the rows of `rows` (`hidden` wide,
/// row-major) whose `mask` entry is true, the sum divided by the number of those rows, so
/// padding neither enters the sum nor the count. Zeros when no row is kept.
pub fn masked_mean(rows: &[f32], hidden: usize, mask: &[bool]) -> Vec<f32> {
    let mut mean = vec![0.0; hidden];
    let mut kept = 0usize;
    for (row, _) in rows.chunks_exact(hidden.max(1)).zip(mask).filter(|(_, m)| **m) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
        kept += 1;
    }
    if kept > 0 {
        for m in &mut mean {
            *m /= kept as f32;
        }
    }
    mean
}

/// `v` scaled to unit length (zeros stay zeros).
pub fn unit(v: &[f32]) -> Vec<f32> {
    let norm = libm::sqrtf(v.iter().map(|x| x * x).sum());
    if norm == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|x| x / norm).collect()
}

/// Cosine of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = libm::sqrtf(a.iter().map(|x| x * x).sum());
    let nb = libm::sqrtf(b.iter().map(|x| x * x).sum());
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// The exact GELU, x·Φ(x).
pub fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Reads the file front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("weights file truncated at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<usize, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn f32s(&mut self, n: usize) -> Result<Vec<f32>, String> {
        let b = self.take(n * 4)?;
        Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// A q8 matrix `[rows, cols]` in blocks of `block`: its scales and its bytes.
    fn q8(&mut self, rows: usize, cols: usize, block: usize) -> Result<(Vec<f32>, Vec<i8>), String> {
        let scales = self.f32s(rows * (cols / block))?;
        let bytes = self.take(rows * cols)?.iter().map(|&b| b as i8).collect();
        Ok((scales, bytes))
    }

    /// A q8 matrix expanded to f32, `[rows, cols]`.
    fn q8_expanded(&mut self, rows: usize, cols: usize, block: usize) -> Result<Vec<f32>, String> {
        let (scales, bytes) = self.q8(rows, cols, block)?;
        Ok(bytes.iter().enumerate().map(|(i, &b)| f32::from(b) * scales[i / block]).collect())
    }

    /// A PyTorch linear layer (weight `[out, in]`, then bias), stored transposed as `[in, out]`.
    fn linear(&mut self, inputs: usize, outputs: usize) -> Result<Linear, String> {
        let w_out_in = self.q8_expanded(outputs, inputs, BLOCK)?;
        let mut w = vec![0.0; inputs * outputs];
        for o in 0..outputs {
            for i in 0..inputs {
                w[i * outputs + o] = w_out_in[o * inputs + i];
            }
        }
        Ok(Linear { w, b: self.f32s(outputs)?, inputs, outputs })
    }

    fn norm(&mut self, d: usize) -> Result<Norm, String> {
        Ok(Norm { gamma: self.f32s(d)?, beta: self.f32s(d)? })
    }
}

impl MiniLm {
    /// Parses `minilm-l6.bin`.
    pub fn from_bytes(bytes: &[u8]) -> Result<MiniLm, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err("not a MiniLM weights file (bad magic bytes)".into());
        }
        let config = Config {
            vocab: r.u32()?,
            hidden: r.u32()?,
            layers: r.u32()?,
            heads: r.u32()?,
            intermediate: r.u32()?,
            positions: r.u32()?,
        };
        let Config { vocab, hidden: d, layers, heads, intermediate, positions } = config;
        if heads == 0 || d % heads != 0 || d % BLOCK != 0 || intermediate % BLOCK != 0 || positions < 2 {
            return Err(format!("unexpected sizes in the weights file: {config:?}"));
        }
        let (word_scales, word_bytes) = r.q8(vocab, d, d)?;
        let positions = r.q8_expanded(positions, d, d)?;
        let token_type = r.f32s(d)?;
        let embedding_norm = r.norm(d)?;
        let mut all = Vec::with_capacity(layers);
        for _ in 0..layers {
            let query = r.linear(d, d)?;
            let key = r.linear(d, d)?;
            let value = r.linear(d, d)?;
            let attention_out = r.linear(d, d)?;
            let attention_norm = r.norm(d)?;
            let up = r.linear(d, intermediate)?;
            let down = r.linear(intermediate, d)?;
            let output_norm = r.norm(d)?;
            all.push(Layer { query, key, value, attention_out, attention_norm, up, down, output_norm });
        }
        if r.at != bytes.len() {
            return Err(format!("weights file has {} bytes after the last layer", bytes.len() - r.at));
        }
        Ok(MiniLm { config, word_bytes, word_scales, positions, token_type, embedding_norm, layers: all })
    }

    /// A model of the given sizes with seeded random weights, written in the weights file's
    /// own format and read back by [`MiniLm::from_bytes`]: small models for tests.
    pub fn random(config: Config, seed: u64) -> Result<MiniLm, String> {
        MiniLm::from_bytes(&random_file(config, seed))
    }

    /// The word embedding table expanded to f32, `[vocab, hidden]` row-major.
    pub fn word_embeddings(&self) -> Vec<f32> {
        self.word_embedding_rows(0..self.config.vocab)
    }

    /// Rows `rows` of the word embedding table expanded to f32 (each int8 times its row's
    /// scale), row-major: a slice of the table, for copying it elsewhere a part at a time.
    /// Rows past the vocabulary are left out.
    pub fn word_embedding_rows(&self, rows: std::ops::Range<usize>) -> Vec<f32> {
        let d = self.config.hidden;
        let (start, end) = (rows.start.min(self.config.vocab), rows.end.min(self.config.vocab));
        let bytes = &self.word_bytes[start * d..end.max(start) * d];
        bytes.iter().enumerate().map(|(i, &b)| f32::from(b) * self.word_scales[start + i / d]).collect()
    }

    /// The position embeddings, `[positions, hidden]`.
    pub fn position_embeddings(&self) -> &[f32] {
        &self.positions
    }

    /// The token-type-0 embedding, `[hidden]`, added to every token.
    pub fn token_type_embedding(&self) -> &[f32] {
        &self.token_type
    }

    /// The layer norm applied to the summed embeddings.
    pub fn embedding_norm(&self) -> NormWeights<'_> {
        self.embedding_norm.weights()
    }

    /// Layer `l`'s weights (0-based).
    pub fn layer(&self, l: usize) -> LayerWeights<'_> {
        let layer = &self.layers[l];
        LayerWeights {
            query: layer.query.weights(),
            key: layer.key.weights(),
            value: layer.value.weights(),
            attention_out: layer.attention_out.weights(),
            attention_norm: layer.attention_norm.weights(),
            up: layer.up.weights(),
            down: layer.down.weights(),
            output_norm: layer.output_norm.weights(),
        }
    }

    /// Runs the encoder on token ids (`[CLS]` … `[SEP]`) and keeps every layer's hidden states.
    pub fn forward(&self, ids: &[u32]) -> Result<HiddenStates, String> {
        let d = self.config.hidden;
        let n = ids.len();
        if n == 0 || n > self.config.positions {
            return Err(format!("MiniLM takes 1 to {} tokens, got {n}", self.config.positions));
        }
        let mut x = vec![0.0; n * d];
        for (t, (row, &id)) in x.chunks_exact_mut(d).zip(ids).enumerate() {
            let id = id as usize;
            if id >= self.config.vocab {
                return Err(format!("token id {id} is outside the vocabulary"));
            }
            let scale = self.word_scales[id];
            let word = &self.word_bytes[id * d..(id + 1) * d];
            let position = &self.positions[t * d..(t + 1) * d];
            for (j, v) in row.iter_mut().enumerate() {
                *v = f32::from(word[j]) * scale + position[j] + self.token_type[j];
            }
        }
        self.embedding_norm.apply(&mut x);
        let mut states = Vec::with_capacity(self.layers.len() + 1);
        states.push(x.clone());
        for layer in &self.layers {
            let attended = self.attention(layer, &x, n);
            let mut y = layer.attention_out.apply(&attended, n);
            for (a, b) in y.iter_mut().zip(&x) {
                *a += b;
            }
            layer.attention_norm.apply(&mut y);
            let mut h = layer.up.apply(&y, n);
            for v in &mut h {
                *v = gelu_erf(*v);
            }
            let mut z = layer.down.apply(&h, n);
            for (a, b) in z.iter_mut().zip(&y) {
                *a += b;
            }
            layer.output_norm.apply(&mut z);
            states.push(z.clone());
            x = z;
        }
        Ok(HiddenStates { tokens: n, hidden: d, states })
    }

    /// Multi-head self-attention without a mask: every token sees every token.
    fn attention(&self, layer: &Layer, x: &[f32], n: usize) -> Vec<f32> {
        let d = self.config.hidden;
        let heads = self.config.heads;
        let w = d / heads;
        let q = layer.query.apply(x, n);
        let k = layer.key.apply(x, n);
        let v = layer.value.apply(x, n);
        let scale = 1.0 / libm::sqrtf(w as f32);
        let mut out = vec![0.0; n * d];
        let mut scores = vec![0.0; n];
        for h in 0..heads {
            let cols = h * w..(h + 1) * w;
            for i in 0..n {
                let qi = &q[i * d..(i + 1) * d][cols.clone()];
                for (j, s) in scores.iter_mut().enumerate() {
                    let kj = &k[j * d..(j + 1) * d][cols.clone()];
                    *s = qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale;
                }
                let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
                let mut total = 0.0;
                for s in &mut scores {
                    *s = libm::expf(*s - max);
                    total += *s;
                }
                let oi = &mut out[i * d..(i + 1) * d][cols.clone()];
                for (j, s) in scores.iter().enumerate() {
                    let p = s / total;
                    let vj = &v[j * d..(j + 1) * d][cols.clone()];
                    for (o, val) in oi.iter_mut().zip(vj) {
                        *o += p * val;
                    }
                }
            }
        }
        out
    }

    /// Tokenizes and encodes a text (cut to the model's length limit).
    pub fn encode(&self, tokenizer: &WordPiece, text: &str) -> Result<(Encoding, HiddenStates), String> {
        let enc = tokenizer.encode(text, self.config.positions);
        let states = self.forward(&enc.ids)?;
        Ok((enc, states))
    }
}

/// A weights file (the layout `MiniLm::from_bytes` reads) of the given sizes, filled with
/// seeded random numbers: bytes uniform in −127..=127 with scales that make embeddings of at
/// most ±1 and weights of at most ±0.1, layer-norm γ in 0.9..1.1, β and biases in ±0.1.
fn random_file(config: Config, seed: u64) -> Vec<u8> {
    let Config { vocab, hidden: d, layers, heads, intermediate, positions } = config;
    let mut w = RandomWriter { rng: Rng::new(seed), out: MAGIC.to_vec() };
    for n in [vocab, d, layers, heads, intermediate, positions] {
        w.out.extend((n as u32).to_le_bytes());
    }
    // The embeddings have one scale per row.
    for rows in [vocab, positions] {
        w.matrix(rows, d, d, 1.0 / 127.0);
    }
    w.f32s(d, -0.1, 0.1);
    w.norm(d);
    for _ in 0..layers {
        for _ in 0..4 {
            w.linear(d, d);
        }
        w.norm(d);
        w.linear(d, intermediate);
        w.linear(intermediate, d);
        w.norm(d);
    }
    w.out
}

/// Appends seeded random sections to a weights file.
struct RandomWriter {
    rng: Rng,
    out: Vec<u8>,
}

impl RandomWriter {
    fn f32s(&mut self, n: usize, low: f32, high: f32) {
        for _ in 0..n {
            let x = self.rng.uniform_in(low, high);
            self.out.extend(x.to_le_bytes());
        }
    }

    /// A q8 matrix: its scales (all `scale`), then its bytes.
    fn matrix(&mut self, rows: usize, cols: usize, block: usize, scale: f32) {
        self.f32s(rows * (cols / block), scale, scale);
        for _ in 0..rows * cols {
            self.out.push((self.rng.below(255) as i32 - 127) as i8 as u8);
        }
    }

    /// A PyTorch linear layer: weight `[outputs, inputs]`, then bias.
    fn linear(&mut self, inputs: usize, outputs: usize) {
        self.matrix(outputs, inputs, BLOCK, 0.1 / 127.0);
        self.f32s(outputs, -0.1, 0.1);
    }

    fn norm(&mut self, d: usize) {
        self.f32s(d, 0.9, 1.1);
        self.f32s(d, -0.1, 0.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    fn asset(name: &str) -> String {
        format!("{}/../../assets/minilm/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn model() -> MiniLm {
        MiniLm::from_bytes(&std::fs::read(asset("minilm-l6.bin")).expect("the shipped weights"))
            .expect("valid")
    }

    struct Reference {
        sentence: String,
        ids: Vec<u32>,
        layers: Vec<Vec<f32>>,
        vector: Vec<f32>,
    }

    fn reference() -> Vec<Reference> {
        let text = std::fs::read_to_string(asset("reference.txt")).expect("the reference file");
        let numbers = |s: &str| s.split(' ').map(|x| x.parse::<f32>().expect("a number")).collect::<Vec<_>>();
        let mut out: Vec<Reference> = Vec::new();
        for line in text.lines() {
            let (tag, rest) = line.split_once(' ').expect("a tagged line");
            match tag {
                "sentence" => out.push(Reference {
                    sentence: rest.to_string(),
                    ids: Vec::new(),
                    layers: Vec::new(),
                    vector: Vec::new(),
                }),
                "ids" => {
                    out.last_mut().expect("a sentence").ids =
                        numbers(rest).iter().map(|&x| x as u32).collect()
                }
                "layer" => {
                    let (_, values) = rest.split_once(' ').expect("a layer number");
                    out.last_mut().expect("a sentence").layers.push(numbers(values));
                }
                "vector" => out.last_mut().expect("a sentence").vector = numbers(rest),
                _ => panic!("unknown line {tag}"),
            }
        }
        out
    }

    #[test]
    fn random_models_load_and_run() {
        let config = Config { vocab: 50, hidden: 64, layers: 2, heads: 4, intermediate: 128, positions: 16 };
        let m = MiniLm::random(config, 7).expect("a valid file");
        assert_eq!(m.config, config);
        assert_eq!(m.word_embeddings().len(), 50 * 64);
        assert!(m.word_embeddings().iter().all(|w| w.abs() <= 1.0));
        // The table a slice at a time is the table.
        let sliced: Vec<f32> =
            [0..7, 7..30, 30..64].into_iter().flat_map(|r| m.word_embedding_rows(r)).collect();
        assert_eq!(sliced, m.word_embeddings());
        assert!(m.word_embedding_rows(60..70).is_empty());
        assert_eq!(m.layer(1).up.w.len(), 64 * 128);
        let a = m.forward(&[1, 5, 9, 2]).expect("runs");
        let b = MiniLm::random(config, 7).expect("valid").forward(&[1, 5, 9, 2]).expect("runs");
        assert_eq!(a.states, b.states, "a seed gives the same model");
        assert_eq!(a.states.len(), 3);
        // Every layer ends in a layer norm: each token's vector has mean β's mean, and the
        // numbers are finite and not all equal.
        assert!(a.states.iter().flatten().all(|v| v.is_finite()));
        assert!(cosine(a.token(2, 0), a.token(2, 1)) < 0.999);
    }

    #[test]
    fn gelu_is_the_exact_one() {
        assert_close!(gelu_erf(0.0), 0.0, 1e-7);
        // Φ(1) = 0.841344746...
        assert_close!(gelu_erf(1.0), 0.841_344_7, 1e-6);
        assert_close!(gelu_erf(-1.0), -0.158_655_25, 1e-6);
    }

    #[test]
    fn rejects_bad_files() {
        assert!(MiniLm::from_bytes(b"nope").is_err());
        let bytes = std::fs::read(asset("minilm-l6.bin")).expect("the shipped weights");
        assert!(MiniLm::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let m = model();
        assert!(m.forward(&[]).is_err());
        assert!(m.forward(&[101, 40_000, 102]).is_err());
        assert!(m.forward(&vec![101; 257]).is_err());
    }

    /// Every layer's mean vector and the sentence vector agree with a float64 numpy forward
    /// pass over the original f32 weights despite the int8 weights: layer means to cosine > 0.999,
    /// sentence vectors to > 0.9997 (the worst of the nine is 0.99973).
    #[test]
    fn matches_the_reference_forward_pass() {
        let m = model();
        let tokenizer = WordPiece::from_vocab(&std::fs::read_to_string(asset("vocab.txt")).expect("vocab"))
            .expect("valid vocabulary");
        let mut worst: f32 = 1.0;
        for r in reference() {
            let (enc, states) = m.encode(&tokenizer, &r.sentence).expect("encodes");
            assert_eq!(enc.ids, r.ids, "{}", r.sentence);
            assert_eq!(states.states.len(), 7);
            for (l, expected) in r.layers.iter().enumerate() {
                let c = cosine(&states.mean_unit(l), expected);
                assert!(c > 0.999, "{} layer {l}: cosine {c}", r.sentence);
            }
            let v = states.sentence_vector();
            assert_close!(v.iter().map(|x| x * x).sum::<f32>(), 1.0, 1e-5);
            let c = cosine(&v, &r.vector);
            worst = worst.min(c);
            assert!(c > 0.9997, "{}: cosine {c}", r.sentence);
        }
        eprintln!("worst sentence-vector cosine to the reference: {worst}");
    }
}
