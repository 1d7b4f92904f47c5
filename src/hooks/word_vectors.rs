//! Chapter 9's word vectors: GloVe's 50-dimensional vectors for 20,000 words and word2vec's
//! analogy questions, downloaded (1.5 MB) when the first widget that needs them appears, then
//! shared by every widget on the page.

use std::rc::Rc;

use engine::models::word_vectors::{analogy_questions, AnalogyCategory, WordVectors};
use leptos::prelude::*;
use leptos::task::spawn_local;

const VECTORS_PATH: &str = "glove/glove-50d-20k.bin";
const QUESTIONS_PATH: &str = "glove/analogies.txt";

/// The vectors with the analogy questions they can answer.
pub struct Glove {
    pub vectors: WordVectors,
    pub categories: Vec<AnalogyCategory>,
}

#[derive(Clone)]
pub enum GloveState {
    Loading,
    Ready(Rc<Glove>),
    Failed(String),
}

/// The slot every widget shares, created empty by the app shell.
#[derive(Clone, Copy)]
pub struct GloveSlot(RwSignal<GloveState, LocalStorage>);

/// Puts an empty slot in the context; call once, at the top of the app.
pub fn provide_word_vectors_slot() {
    provide_context(GloveSlot(RwSignal::new_local(GloveState::Loading)));
}

/// The shared vectors; the first call on a page starts the download.
pub fn use_word_vectors() -> RwSignal<GloveState, LocalStorage> {
    let GloveSlot(slot) = use_context::<GloveSlot>().unwrap_or_else(|| {
        // Only reached if a widget is mounted outside the app shell (never in the book).
        let slot = GloveSlot(RwSignal::new_local(GloveState::Loading));
        provide_context(slot);
        slot
    });
    thread_local! { static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) }; }
    if !STARTED.with(|s| s.replace(true)) {
        spawn_local(async move {
            slot.set(match load().await {
                Ok(glove) => GloveState::Ready(Rc::new(glove)),
                Err(e) => GloveState::Failed(format!("The word vectors could not be loaded: {e}")),
            });
        });
    }
    slot
}

async fn load() -> Result<Glove, String> {
    let vectors = WordVectors::from_bytes(&crate::browser::bytes(VECTORS_PATH).await?)?;
    let categories = analogy_questions(&crate::browser::text(QUESTIONS_PATH).await?, &vectors);
    Ok(Glove { vectors, categories })
}

impl Glove {
    /// The ids of typed words, separated by spaces or commas; at most `limit` of them.
    pub fn words(&self, text: &str, limit: usize) -> Result<Vec<usize>, String> {
        let typed: Vec<&str> = text.split([' ', ',', '\n', '\t']).filter(|w| !w.is_empty()).collect();
        if typed.len() > limit {
            return Err(format!("at most {limit} words, please"));
        }
        typed.iter().map(|w| self.vectors.id(w)).collect()
    }

    /// Word pairs typed as "he she, man woman": pairs separated by commas, at most `limit`.
    pub fn pairs(&self, text: &str, limit: usize) -> Result<Vec<(usize, usize)>, String> {
        let pairs: Vec<&str> = text.split([',', '\n']).map(str::trim).filter(|p| !p.is_empty()).collect();
        if pairs.is_empty() {
            return Err("type at least one pair, such as \u{201c}he she\u{201d}".into());
        }
        if pairs.len() > limit {
            return Err(format!("at most {limit} pairs, please"));
        }
        pairs
            .iter()
            .map(|pair| {
                if pair.split_whitespace().count() != 2 {
                    return Err(format!("\u{201c}{pair}\u{201d} is not a pair of two words"));
                }
                match self.words(pair, 2)?[..] {
                    [a, b] => Ok((a, b)),
                    _ => Err(format!("\u{201c}{pair}\u{201d} is not a pair of two words")),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glove() -> Glove {
        let words = ["he", "she", "king", "queen"].map(String::from).to_vec();
        let rows = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 1.0]].map(|r| r.to_vec());
        Glove { vectors: WordVectors::from_rows(words, &rows).unwrap(), categories: Vec::new() }
    }

    #[test]
    fn typed_words_and_pairs_are_read_or_refused() {
        let g = glove();
        assert_eq!(g.words("he, King\nqueen", 5), Ok(vec![0, 2, 3]));
        assert!(g.words("he she king", 2).unwrap_err().contains("at most 2"));
        assert!(g.words("he zzz", 5).unwrap_err().contains("zzz"));
        assert_eq!(g.pairs("he she, king queen", 4), Ok(vec![(0, 1), (2, 3)]));
        assert!(g.pairs("he she king", 4).unwrap_err().contains("not a pair"));
        assert!(g.pairs(" , ", 4).unwrap_err().contains("at least one"));
    }
}
