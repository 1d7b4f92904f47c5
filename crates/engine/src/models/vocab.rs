//! A character vocabulary: every distinct character of a training text is one token.
//!
//! Token ids are the characters' ranks in sorted order (by Unicode scalar value), so the
//! same text always gives the same vocabulary. Character-level models need no tokenizer
//! training and can spell anything they have seen, at the price of longer sequences than
//! subword tokens.

use crate::models::transformer::{ModelError, Result};

/// The sorted distinct characters of a text; id i is `chars[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<char>,
}

/// A character as an error message shows it: printable characters as themselves, others
/// escaped ('\n', '\t', '\u{7}').
fn shown(c: char) -> String {
    format!("'{}'", c.escape_debug())
}

/// How a character is drawn where whitespace must be seen (a beam tree, a bar's label):
/// newline as ⏎, space as ␣, any other character as itself.
pub fn visible(c: char) -> String {
    match c {
        '\n' => "⏎".into(),
        ' ' => "␣".into(),
        c => c.to_string(),
    }
}

impl Vocab {
    /// The vocabulary of `text`: its distinct characters, sorted.
    pub fn from_text(text: &str) -> Result<Vocab> {
        if text.is_empty() {
            return Err(ModelError::invalid(
                "the text is empty, so there are no characters to build a vocabulary from",
            ));
        }
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Ok(Vocab { chars })
    }

    /// A vocabulary from its characters in id order (as a checkpoint stores them). They must
    /// be sorted and distinct.
    pub fn from_chars(chars: Vec<char>) -> Result<Vocab> {
        if chars.is_empty() {
            return Err(ModelError::invalid("a vocabulary needs at least one character"));
        }
        if let Some(i) = chars.windows(2).position(|w| w[0] >= w[1]) {
            return Err(ModelError::invalid(format!(
                "the vocabulary's characters must be sorted and distinct, but {} comes before {}",
                shown(chars[i]),
                shown(chars[i + 1])
            )));
        }
        Ok(Vocab { chars })
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Never true for a vocabulary built by this module; here for completeness.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters in id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of one character, if it is in the vocabulary.
    pub fn id(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// The ids of `text`'s characters. An empty text, or a character the vocabulary lacks,
    /// is an error that names the character and its position (counting from 1).
    pub fn encode(&self, text: &str) -> Result<Vec<usize>> {
        if text.is_empty() {
            return Err(ModelError::invalid("the text is empty: type at least one character"));
        }
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                self.id(c).ok_or_else(|| {
                    ModelError::invalid(format!(
                        "{} at position {} is not in this model's {}-character vocabulary",
                        shown(c),
                        i + 1,
                        self.len()
                    ))
                })
            })
            .collect()
    }

    /// A prompt's ids, as [`Vocab::encode`], with the empty prompt refused in words that ask
    /// the reader for one.
    pub fn encode_prompt(&self, prompt: &str) -> Result<Vec<usize>> {
        if prompt.is_empty() {
            return Err(ModelError::invalid(
                "Type a prompt: the model needs at least one character to continue",
            ));
        }
        self.encode(prompt)
    }

    /// The text for some ids. An id outside the vocabulary is an error.
    pub fn decode(&self, ids: &[usize]) -> Result<String> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| {
                self.chars.get(id).copied().ok_or_else(|| {
                    ModelError::invalid(format!(
                        "token id {id} at position {} is outside this {}-character vocabulary",
                        i + 1,
                        self.len()
                    ))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_checked_with_reasons() {
        let vocab = Vocab::from_text("abc ").unwrap();
        assert_eq!(vocab.encode_prompt("ab c").unwrap(), vec![1, 2, 0, 3]);
        let empty = vocab.encode_prompt("").unwrap_err().to_string();
        assert_eq!(empty, "Type a prompt: the model needs at least one character to continue");
        assert!(vocab.encode_prompt("abz").is_err());
    }

    #[test]
    fn whitespace_is_drawn_visibly() {
        assert_eq!(visible('\n'), "⏎");
        assert_eq!(visible(' '), "␣");
        assert_eq!(visible('a'), "a");
    }

    #[test]
    fn ids_are_sorted_characters() {
        let v = Vocab::from_text("hello, world").unwrap();
        // Distinct characters in Unicode order: ' ' ',' 'd' 'e' 'h' 'l' 'o' 'r' 'w'.
        assert_eq!(v.chars(), [' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
        assert_eq!(v.len(), 9);
        assert_eq!(v.encode("hold").unwrap(), vec![4, 6, 5, 2]);
        assert_eq!(v.decode(&[4, 6, 5, 2]).unwrap(), "hold");
        let text = "world, hello";
        assert_eq!(v.decode(&v.encode(text).unwrap()).unwrap(), text);
    }

    #[test]
    fn errors_name_the_character_and_its_position() {
        let v = Vocab::from_text("abcd").unwrap();
        assert_eq!(
            v.encode("abcé").unwrap_err().to_string(),
            "'é' at position 4 is not in this model's 4-character vocabulary"
        );
        assert_eq!(
            v.encode("a\nb").unwrap_err().to_string(),
            "'\\n' at position 2 is not in this model's 4-character vocabulary"
        );
        assert!(v.encode("").unwrap_err().to_string().contains("empty"));
        assert!(Vocab::from_text("").unwrap_err().to_string().contains("empty"));
        assert_eq!(
            v.decode(&[0, 4]).unwrap_err().to_string(),
            "token id 4 at position 2 is outside this 4-character vocabulary"
        );
        assert_eq!(v.decode(&[]).unwrap(), "");
    }

    #[test]
    fn from_chars_round_trips_and_checks_order() {
        let v = Vocab::from_text("the cat").unwrap();
        assert_eq!(Vocab::from_chars(v.chars().to_vec()).unwrap(), v);
        assert!(Vocab::from_chars(vec!['b', 'a']).unwrap_err().to_string().contains("'b' comes before 'a'"));
        assert!(Vocab::from_chars(vec!['a', 'a']).is_err());
        assert!(Vocab::from_chars(vec![]).is_err());
    }
}
