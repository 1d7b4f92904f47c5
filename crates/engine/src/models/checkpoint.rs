//! Saving and loading a trained model with its vocabulary, as bytes.
//!
//! # Format (version 1)
//!
//! Every integer is an unsigned 32-bit little-endian number, every real an f32 little-endian.
//!
//! ```text
//! bytes      field
//! 8          magic "MLBKTRF1" (ML book transformer)
//! 4          format version = 1
//! 4 × 6      vocab, context, d_model, n_heads, n_layers, d_ff
//! 1          norm: 0 = pre-norm, 1 = post-norm
//! 1          activation: 0 = GELU, 1 = ReLU
//! 4          eps
//! 4          n, the number of vocabulary characters (= vocab)
//! 4 × n      the characters in id order, as Unicode scalar values
//! 4          p, the number of parameters (numbers, not tensors)
//! 4 × p      the parameters, tensor after tensor in the layout order of
//!            `TransformerConfig::param_specs`, each row-major
//! ```
//!
//! Nothing may follow. Reading checks every field and says in words what is wrong with a
//! file that is not a checkpoint, is cut short, comes from a newer format, or does not add up.

use crate::core::tensor::Tensor;
use crate::models::transformer::{Activation, ModelError, Norm, Result, Transformer, TransformerConfig};
use crate::models::vocab::Vocab;

/// The first eight bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"MLBKTRF1";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// A model and the vocabulary its token ids refer to.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub model: Transformer,
    pub vocab: Vocab,
}

impl Checkpoint {
    /// Pairs a model with its vocabulary; their sizes must agree.
    pub fn new(model: Transformer, vocab: Vocab) -> Result<Checkpoint> {
        if vocab.len() != model.config.vocab {
            return Err(ModelError::invalid(format!(
                "the vocabulary has {} characters but the model has {} token embeddings",
                vocab.len(),
                model.config.vocab
            )));
        }
        Ok(Checkpoint { model, vocab })
    }

    /// The checkpoint as bytes, in the format above.
    pub fn to_bytes(&self) -> Vec<u8> {
        let c = &self.model.config;
        let mut out = MAGIC.to_vec();
        let put = |v: u32, out: &mut Vec<u8>| out.extend_from_slice(&v.to_le_bytes());
        put(FORMAT_VERSION, &mut out);
        for size in [c.vocab, c.context, c.d_model, c.n_heads, c.n_layers, c.d_ff] {
            put(size as u32, &mut out);
        }
        out.push(match c.norm {
            Norm::Pre => 0,
            Norm::Post => 1,
        });
        out.push(match c.activation {
            Activation::Gelu => 0,
            Activation::Relu => 1,
        });
        out.extend_from_slice(&c.eps.to_le_bytes());
        put(self.vocab.len() as u32, &mut out);
        for &ch in self.vocab.chars() {
            put(ch as u32, &mut out);
        }
        put(c.param_count() as u32, &mut out);
        for v in self.model.params.iter().flat_map(|p| &p.data) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads a checkpoint, or says what is wrong with the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8, "file's first eight bytes").ok() != Some(&MAGIC[..]) {
            return Err(ModelError::invalid(
                "this is not a model checkpoint from this book (it does not start with \
                 \"MLBKTRF1\")",
            ));
        }
        let version = r.u32("format version")?;
        if version != FORMAT_VERSION {
            return Err(ModelError::invalid(if version > FORMAT_VERSION {
                format!(
                    "this checkpoint uses format version {version}, newer than the version \
                     {FORMAT_VERSION} this book reads"
                )
            } else {
                format!("this checkpoint has an unknown format version {version}")
            }));
        }
        let mut sizes = [0usize; 6];
        for (size, what) in sizes.iter_mut().zip(["vocab", "context", "d_model", "heads", "layers", "d_ff"]) {
            *size = r.u32(&format!("model configuration ({what})"))? as usize;
        }
        let norm = match r.take(1, "model configuration (norm)")?[0] {
            0 => Norm::Pre,
            1 => Norm::Post,
            other => {
                return Err(ModelError::invalid(format!(
                    "the checkpoint's norm setting is {other}; only 0 (pre-norm) and 1 \
                     (post-norm) exist"
                )))
            }
        };
        let activation = match r.take(1, "model configuration (activation)")?[0] {
            0 => Activation::Gelu,
            1 => Activation::Relu,
            other => {
                return Err(ModelError::invalid(format!(
                    "the checkpoint's activation is {other}; only 0 (GELU) and 1 (ReLU) exist"
                )))
            }
        };
        let eps = f32::from_le_bytes(r.array("model configuration (eps)")?);
        let [vocab, context, d_model, n_heads, n_layers, d_ff] = sizes;
        let config =
            TransformerConfig { vocab, context, d_model, n_heads, n_layers, d_ff, norm, activation, eps };
        config
            .validate()
            .map_err(|e| ModelError::invalid(format!("the checkpoint's model is not valid: {e}")))?;

        let n = r.u32("vocabulary size")? as usize;
        if n != vocab {
            return Err(ModelError::invalid(format!(
                "the checkpoint lists {n} vocabulary characters for a model of {vocab} tokens"
            )));
        }
        let mut chars = Vec::with_capacity(n);
        for i in 0..n {
            let code = r.u32("vocabulary")?;
            chars.push(char::from_u32(code).ok_or_else(|| {
                ModelError::invalid(format!(
                    "vocabulary entry {} (code {code:#x}) is not a Unicode character",
                    i + 1
                ))
            })?);
        }
        let vocab = Vocab::from_chars(chars)
            .map_err(|e| ModelError::invalid(format!("the checkpoint's vocabulary: {e}")))?;

        let p = r.u32("parameter count")? as usize;
        if p != config.param_count() {
            return Err(ModelError::invalid(format!(
                "the checkpoint holds {p} parameters but its configuration needs {}",
                config.param_count()
            )));
        }
        let mut params = Vec::new();
        for spec in config.param_specs() {
            let len: usize = spec.shape.iter().product();
            let raw = r.take(4 * len, &format!("parameters ({})", spec.name))?;
            let data: Vec<f32> =
                raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            if data.iter().any(|v| !v.is_finite()) {
                return Err(ModelError::invalid(format!(
                    "parameter {} holds a value that is not a finite number",
                    spec.name
                )));
            }
            params.push(Tensor::from_vec(&spec.shape, data)?);
        }
        if r.at != bytes.len() {
            return Err(ModelError::invalid(format!(
                "the checkpoint has {} unexpected bytes after its parameters",
                bytes.len() - r.at
            )));
        }
        Checkpoint::new(Transformer::from_params(config, params)?, vocab)
    }
}

/// Reads fields from the front of a byte slice, failing in words when it runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(ModelError::invalid(format!(
                "the checkpoint is cut short: it ends after {} bytes, in the {what}",
                self.bytes.len()
            )));
        };
        let field = &self.bytes[self.at..end];
        self.at = end;
        Ok(field)
    }

    fn array(&mut self, what: &str) -> Result<[u8; 4]> {
        let b = self.take(4, what)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::transformer::tests::{scrambled, tiny};

    fn checkpoint(norm: Norm, activation: Activation) -> Checkpoint {
        let vocab = Vocab::from_text("abcde").unwrap();
        Checkpoint::new(scrambled(tiny(norm, activation), 1), vocab).unwrap()
    }

    #[test]
    fn round_trips_bit_for_bit() {
        for (norm, activation) in [(Norm::Pre, Activation::Gelu), (Norm::Post, Activation::Relu)] {
            let ck = checkpoint(norm, activation);
            let bytes = ck.to_bytes();
            // 8 + 4 + 24 + 2 + 4 = 42 header bytes, 4 + 4·5 vocabulary, 4 + 4·params.
            assert_eq!(bytes.len(), 42 + 24 + 4 + 4 * ck.model.config.param_count());
            assert_eq!(&bytes[..8], b"MLBKTRF1");
            assert_eq!(&bytes[8..12], &[1, 0, 0, 0]);
            assert_eq!(&bytes[12..16], &[5, 0, 0, 0], "vocab size, little-endian");
            assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), ck);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = checkpoint(Norm::Pre, Activation::Gelu).to_bytes();
        for cut in 0..bytes.len() {
            let err = Checkpoint::from_bytes(&bytes[..cut]).unwrap_err().to_string();
            if cut >= 8 {
                assert!(err.starts_with("the checkpoint is cut short"), "cut at {cut}: {err}");
            }
        }
        assert_eq!(
            Checkpoint::from_bytes(&bytes[..18]).unwrap_err().to_string(),
            "the checkpoint is cut short: it ends after 18 bytes, in the model configuration \
             (context)"
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Checkpoint::from_bytes(&longer).unwrap_err().to_string(),
            "the checkpoint has 1 unexpected bytes after its parameters"
        );
    }

    #[test]
    fn malformed_fields_are_explained() {
        let good = checkpoint(Norm::Pre, Activation::Gelu).to_bytes();
        let with = |at: usize, new: &[u8]| {
            let mut b = good.clone();
            b[at..at + new.len()].copy_from_slice(new);
            Checkpoint::from_bytes(&b).unwrap_err().to_string()
        };
        assert!(with(0, b"PK").contains("not a model checkpoint"));
        assert!(Checkpoint::from_bytes(b"").unwrap_err().to_string().contains("not a model checkpoint"));
        assert_eq!(
            with(8, &2u32.to_le_bytes()),
            "this checkpoint uses format version 2, newer than the version 1 this book reads"
        );
        assert!(with(8, &0u32.to_le_bytes()).contains("unknown format version 0"));
        // d_model 4 with 3 heads.
        assert!(with(24, &3u32.to_le_bytes()).contains("must be divisible by the number of heads"));
        assert!(with(36, &[7]).contains("norm setting is 7"));
        assert!(with(37, &[2]).contains("activation is 2"));
        assert!(with(38, &(-1.0f32).to_le_bytes()).contains("eps"));
        assert!(with(42, &4u32.to_le_bytes()).contains("lists 4 vocabulary characters for a model of 5"));
        assert!(
            with(46, &0xD800u32.to_le_bytes()).contains("entry 1 (code 0xd800) is not a Unicode character")
        );
        assert!(with(46, &(b'z' as u32).to_le_bytes()).contains("'z' comes before 'b'"));
        assert!(with(66, &7u32.to_le_bytes()).contains("holds 7 parameters but its configuration needs 356"));
        assert!(with(70, &f32::NAN.to_le_bytes())
            .contains("token_embedding holds a value that is not a finite number"));
        let huge_vocab = with(12, &u32::MAX.to_le_bytes());
        assert!(huge_vocab.contains("too many"), "{huge_vocab}");
    }

    #[test]
    fn model_and_vocabulary_must_agree() {
        let model = scrambled(tiny(Norm::Pre, Activation::Gelu), 1);
        let err = Checkpoint::new(model, Vocab::from_text("abc").unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "the vocabulary has 3 characters but the model has 5 token embeddings");
    }
}
