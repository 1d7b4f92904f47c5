//! Chapter 4's GPT-2 vocabulary: the 50,256 byte-level BPE ranks, downloaded (0.8 MB) when
//! the tokenizer first appears and kept for the rest of the visit.

use std::cell::RefCell;
use std::rc::Rc;

use engine::models::byte_bpe::ByteBpe;
use leptos::prelude::*;
use leptos::task::spawn_local;

const RANKS_PATH: &str = "gpt2/r50k_base.tiktoken";

#[derive(Clone)]
pub enum Gpt2State {
    Loading,
    Ready(Rc<ByteBpe>),
    Failed(String),
}

thread_local! {
    /// The vocabulary once read, so a second visit to the chapter does not read it again.
    static LOADED: RefCell<Option<Rc<ByteBpe>>> = const { RefCell::new(None) };
}

/// The vocabulary's state for one widget; the first call on a page starts the download.
pub fn use_gpt2_vocabulary() -> ReadSignal<Gpt2State, LocalStorage> {
    if let Some(bpe) = LOADED.with(|l| l.borrow().clone()) {
        return RwSignal::new_local(Gpt2State::Ready(bpe)).read_only();
    }
    let state = RwSignal::new_local(Gpt2State::Loading);
    spawn_local(async move {
        let next = match load().await {
            Ok(bpe) => {
                let bpe = Rc::new(bpe);
                LOADED.with(|l| *l.borrow_mut() = Some(bpe.clone()));
                Gpt2State::Ready(bpe)
            }
            Err(e) => Gpt2State::Failed(format!("GPT-2's vocabulary could not be loaded: {e}")),
        };
        // The widget may have left the page while the file was downloading.
        let _ = state.try_set(next);
    });
    state.read_only()
}

async fn load() -> Result<ByteBpe, String> {
    ByteBpe::from_tiktoken(&crate::browser::text(RANKS_PATH).await?)
}
