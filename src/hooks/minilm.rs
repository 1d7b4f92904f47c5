//! Chapter 9's sentence encoder: all-MiniLM-L6-v2's weights (23.3 MB) and WordPiece vocabulary,
//! downloaded only when the reader asks for them, and kept for the rest of the visit.

use std::cell::RefCell;
use std::rc::Rc;

use engine::models::minilm::MiniLm;
use engine::models::wordpiece::WordPiece;
use leptos::prelude::*;
use leptos::task::spawn_local;

const WEIGHTS_PATH: &str = "minilm/minilm-l6.bin";
const VOCAB_PATH: &str = "minilm/vocab.txt";

/// The model and its tokenizer.
pub struct Encoder {
    pub model: MiniLm,
    pub tokenizer: WordPiece,
}

#[derive(Clone)]
pub enum MiniLmState {
    /// Not asked for yet.
    Idle,
    Downloading,
    /// Downloaded; the bytes are being turned into f32 matrices.
    Expanding,
    Ready(Rc<Encoder>),
    Failed(String),
}

thread_local! {
    static LOADED: RefCell<Option<Rc<Encoder>>> = const { RefCell::new(None) };
}

/// The encoder's state for one widget, and the action that starts the download.
pub fn use_minilm() -> (ReadSignal<MiniLmState, LocalStorage>, impl Fn() + Copy + 'static) {
    let first = LOADED.with(|l| l.borrow().clone()).map_or(MiniLmState::Idle, MiniLmState::Ready);
    let state = RwSignal::new_local(first);
    let start = move || {
        if matches!(
            state.get_untracked(),
            MiniLmState::Downloading | MiniLmState::Expanding | MiniLmState::Ready(_)
        ) {
            return;
        }
        state.set(MiniLmState::Downloading);
        spawn_local(async move {
            let next = match load(state).await {
                Ok(encoder) => {
                    let encoder = Rc::new(encoder);
                    LOADED.with(|l| *l.borrow_mut() = Some(encoder.clone()));
                    MiniLmState::Ready(encoder)
                }
                Err(e) => MiniLmState::Failed(format!("MiniLM could not be loaded: {e}")),
            };
            // The widget may have left the page while the file was downloading.
            let _ = state.try_set(next);
        });
    };
    (state.read_only(), start)
}

async fn load(state: RwSignal<MiniLmState, LocalStorage>) -> Result<Encoder, String> {
    let vocab = crate::browser::text(VOCAB_PATH).await?;
    let bytes = crate::browser::bytes(WEIGHTS_PATH).await?;
    let _ = state.try_set(MiniLmState::Expanding);
    crate::browser::pause(0).await;
    Ok(Encoder { model: MiniLm::from_bytes(&bytes)?, tokenizer: WordPiece::from_vocab(&vocab)? })
}
