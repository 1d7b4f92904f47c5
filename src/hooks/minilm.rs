//! Chapter 9's sentence encoder: all-MiniLM-L6-v2's weights (23.3 MB) and WordPiece vocabulary,
//! downloaded only when the reader asks for them, and kept for the rest of the visit.
//!
//! One download serves every widget: whichever widget starts it, every MiniLM widget on the
//! page shows its progress, and any error, with a retry.

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
    /// The weights are arriving; the progress signal says how far.
    Downloading,
    /// Downloaded; the bytes are being turned into f32 matrices.
    Expanding,
    Ready(Rc<Encoder>),
    Failed(String),
}

/// Bytes of the weights file received so far, and its size when the server says.
pub type Progress = (u64, Option<u64>);

type Watcher = (RwSignal<MiniLmState, LocalStorage>, RwSignal<Progress>);

thread_local! {
    static LOADED: RefCell<Option<Rc<Encoder>>> = const { RefCell::new(None) };
    /// The widgets on the page waiting for the model (empty once it is loaded).
    static WATCHERS: RefCell<Vec<Watcher>> = const { RefCell::new(Vec::new()) };
    static LOADING: RefCell<Option<(MiniLmState, Progress)>> = const { RefCell::new(None) };
}

/// Tells every widget still on the page; forgets those that have left.
fn tell(state: Option<MiniLmState>, progress: Option<Progress>) {
    LOADING.with(|l| {
        if let Some((s, p)) = l.borrow_mut().as_mut() {
            if let Some(state) = &state {
                *s = state.clone();
            }
            if let Some(progress) = progress {
                *p = progress;
            }
        }
    });
    // Set outside the borrow, in case setting a signal runs code that registers a widget.
    let watchers = WATCHERS.with(|w| std::mem::take(&mut *w.borrow_mut()));
    let alive: Vec<Watcher> = watchers
        .into_iter()
        .filter(|(s, p)| {
            let state_ok = state.clone().is_none_or(|state| s.try_set(state).is_none());
            let progress_ok = progress.is_none_or(|progress| p.try_set(progress).is_none());
            state_ok && progress_ok
        })
        .collect();
    WATCHERS.with(|w| {
        let mut w = w.borrow_mut();
        let joined = std::mem::take(&mut *w);
        *w = alive;
        w.extend(joined);
    });
}

/// The encoder's state for one widget, the download's progress, and the action that starts
/// (or retries) the download.
pub fn use_minilm() -> (ReadSignal<MiniLmState, LocalStorage>, Signal<Progress>, impl Fn() + Copy + 'static) {
    let first = LOADED.with(|l| l.borrow().clone()).map_or(MiniLmState::Idle, MiniLmState::Ready);
    let state = RwSignal::new_local(first);
    let progress = RwSignal::new((0, None));
    // A download already on its way: follow it.
    if let Some((s, p)) = LOADING.with(|l| l.borrow().clone()) {
        state.set(s);
        progress.set(p);
    }
    // Every widget hears of every download, whichever widget started it.
    if !matches!(state.get_untracked(), MiniLmState::Ready(_)) {
        WATCHERS.with(|w| w.borrow_mut().push((state, progress)));
    }
    let start = move || {
        if matches!(state.get_untracked(), MiniLmState::Ready(_)) {
            return;
        }
        if LOADING.with(|l| l.borrow().is_some()) {
            return;
        }
        LOADING.with(|l| *l.borrow_mut() = Some((MiniLmState::Downloading, (0, None))));
        tell(Some(MiniLmState::Downloading), Some((0, None)));
        spawn_local(async move {
            let next = match load().await {
                Ok(encoder) => {
                    let encoder = Rc::new(encoder);
                    LOADED.with(|l| *l.borrow_mut() = Some(encoder.clone()));
                    MiniLmState::Ready(encoder)
                }
                Err(e) => MiniLmState::Failed(format!("MiniLM could not be loaded: {e}")),
            };
            let done = matches!(next, MiniLmState::Ready(_));
            tell(Some(next), None);
            LOADING.with(|l| *l.borrow_mut() = None);
            if done {
                WATCHERS.with(|w| w.borrow_mut().clear());
            }
        });
    };
    (state.read_only(), progress.into(), start)
}

async fn load() -> Result<Encoder, String> {
    let vocab = crate::browser::text(VOCAB_PATH).await?;
    let bytes = crate::browser::bytes_with_progress(WEIGHTS_PATH, |received, total| {
        tell(None, Some((received, total)));
    })
    .await?;
    tell(Some(MiniLmState::Expanding), None);
    crate::browser::pause(0).await;
    Ok(Encoder { model: MiniLm::from_bytes(&bytes)?, tokenizer: WordPiece::from_vocab(&vocab)? })
}
