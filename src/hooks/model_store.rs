//! Keeping a trained tiny GPT in the browser's own storage (`localStorage`), so it survives
//! a reload.
//!
//! `localStorage` holds text, not bytes, so the checkpoint (`engine::models::checkpoint`'s format) is
//! written as Base64: every 3 bytes become 4 characters from a 64-letter alphabet. The cost
//! is a third more space; browsers allow a few megabytes per site, which the book's small
//! models fit and the largest preset may not, and the page says so in words.

use engine::models::checkpoint::Checkpoint;

/// The storage key the checkpoint is kept under.
pub const STORAGE_KEY: &str = "mlbook.tiny-gpt.checkpoint";

/// Base64's alphabet (RFC 4648): the character for each 6-bit value.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Bytes as Base64 text, padded with `=` to a multiple of 4 characters.
pub fn to_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // Three bytes make 24 bits, read as four 6-bit letters; a short last chunk is
        // filled with zero bits and its missing letters written as '='.
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let bits = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 text back to bytes, or a sentence saying what is wrong with it.
pub fn from_base64(text: &str) -> Result<Vec<u8>, String> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return Err(format!("its length, {} characters, is not a multiple of 4", text.len()));
    }
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|v| v as u32);
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let groups = text.len() / 4;
    for (g, group) in text.chunks(4).enumerate() {
        let padding = group.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && g + 1 != groups) {
            return Err("it has '=' padding in the wrong place".into());
        }
        let mut bits = 0u32;
        for (i, &c) in group.iter().enumerate() {
            let v = if i >= 4 - padding {
                0
            } else {
                value(c).ok_or_else(|| format!("{:?} is not a Base64 character", c as char))?
            };
            bits = bits << 6 | v;
        }
        let decoded = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Ok(out)
}

/// Reads a stored checkpoint back: Base64, then the checkpoint format's own checks.
pub fn decode_checkpoint(text: &str) -> Result<Checkpoint, String> {
    let bytes = from_base64(text).map_err(|e| format!("The saved model is damaged: {e}."))?;
    Checkpoint::from_bytes(&bytes).map_err(|e| format!("The saved model could not be read: {e}."))
}

/// Kilobytes, for messages.
fn kb(chars: usize) -> String {
    format!("{:.0} KB", chars as f64 / 1000.0)
}

fn storage() -> Result<web_sys::Storage, String> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or_else(|| "This browser does not let the page store data (private browsing, or site storage turned off), so the model cannot be saved here.".to_string())
}

/// Saves `checkpoint`; returns what the reader is told.
pub fn save(checkpoint: &Checkpoint) -> Result<String, String> {
    let text = to_base64(&checkpoint.to_bytes());
    let storage = storage()?;
    match storage.set_item(STORAGE_KEY, &text) {
        Ok(()) => Ok(format!("Saved: {} of Base64 text in this browser's storage.", kb(text.len()))),
        Err(_) => Err(format!(
            "This browser's storage is full or refused the write: the model needs {} as text. Try a smaller model, or clear this site's data.",
            kb(text.len())
        )),
    }
}

/// Loads the saved checkpoint, checking every field.
pub fn load() -> Result<Checkpoint, String> {
    let storage = storage()?;
    match storage.get_item(STORAGE_KEY) {
        Ok(Some(text)) => decode_checkpoint(&text),
        Ok(None) => Err("Nothing is saved in this browser yet: train a model, pause, then Save.".into()),
        Err(_) => Err("This browser refused to read the page's storage.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::models::transformer::{Activation, Norm, Transformer, TransformerConfig};
    use engine::models::vocab::Vocab;

    #[test]
    fn base64_matches_the_rfc_examples() {
        // RFC 4648, section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(to_base64(plain.as_bytes()), encoded);
            assert_eq!(from_base64(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in [0, 1, 2, 3, 100, 511, 512] {
            assert_eq!(from_base64(&to_base64(&bytes[..len])).unwrap(), &bytes[..len]);
        }
    }

    #[test]
    fn damaged_text_is_explained() {
        assert!(from_base64("Zm9").unwrap_err().contains("multiple of 4"));
        assert!(from_base64("Zm!v").unwrap_err().contains("'!'"));
        assert!(from_base64("Zg==Zm9v").unwrap_err().contains("padding"));
        assert!(from_base64("Z===").unwrap_err().contains("padding"));
    }

    #[test]
    fn a_checkpoint_survives_the_text_round_trip_and_junk_is_refused() {
        let config = TransformerConfig {
            vocab: 5,
            context: 8,
            d_model: 8,
            n_heads: 2,
            n_layers: 1,
            d_ff: 16,
            norm: Norm::Pre,
            activation: Activation::Gelu,
            eps: 1e-5,
        };
        let checkpoint =
            Checkpoint::new(Transformer::new(config, 3).unwrap(), Vocab::from_text("abcde").unwrap())
                .unwrap();
        let text = to_base64(&checkpoint.to_bytes());
        assert_eq!(decode_checkpoint(&text).unwrap(), checkpoint);
        assert!(decode_checkpoint("Zm9v").unwrap_err().starts_with("The saved model could not be read"));
        assert!(decode_checkpoint("Zm9").unwrap_err().starts_with("The saved model is damaged"));
    }
}
