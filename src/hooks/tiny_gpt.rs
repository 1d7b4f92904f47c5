//! The tiny GPT that chapter 5's widgets sample from: the checkpoint shipped with the site
//! (trained by `cargo xtask train-gpt`), until the reader trains or loads one of their own.
//!
//! One copy lives in the app's context. The first widget that asks for it starts the
//! download; every widget on the page then shares the same model, and a model the reader
//! trains replaces it for all of them.

use std::rc::Rc;

use engine::models::checkpoint::Checkpoint;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where the shipped checkpoint lives, relative to the page.
pub const SHIPPED_PATH: &str = "tiny-gpt/tiny-gpt.bin";
/// What `cargo xtask train-gpt` wrote about the shipped model.
pub const SHIPPED_REPORT: &str = include_str!("../../assets/tiny-gpt/REPORT.md");

/// The held-out loss the training report states, e.g. "1.6812 nats per character".
pub fn shipped_held_out_loss() -> Option<&'static str> {
    let line = SHIPPED_REPORT.lines().find(|l| l.starts_with("- Held-out loss:"))?;
    let rest = line.trim_start_matches("- Held-out loss:").trim();
    rest.split(" (").next()
}

/// Which model the widgets are using.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// The checkpoint that ships with the book.
    Shipped,
    /// One the reader trained in this page, after this many steps.
    Trained { steps: u64 },
    /// One the reader loaded from the browser's storage.
    Saved,
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Shipped => match shipped_held_out_loss() {
                Some(loss) => format!("the shipped tiny GPT (held-out loss {loss})"),
                None => "the shipped tiny GPT".into(),
            },
            Origin::Trained { steps } => format!("your tiny GPT, trained here for {steps} steps"),
            Origin::Saved => "your tiny GPT, loaded from this browser's storage".into(),
        }
    }
}

/// A model with its vocabulary and where it came from.
#[derive(Clone, Debug)]
pub struct TinyGpt {
    pub checkpoint: Rc<Checkpoint>,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub enum ModelState {
    Loading,
    Ready(TinyGpt),
    Failed(String),
}

/// The shared model slot, created once by the app shell.
#[derive(Clone, Copy)]
pub struct ModelSlot(RwSignal<ModelState, LocalStorage>);

impl ModelSlot {
    pub fn get(&self) -> ModelState {
        self.0.get()
    }

    pub fn get_untracked(&self) -> ModelState {
        self.0.get_untracked()
    }

    /// The model now, or the message a widget shows when a button is pressed before it is
    /// ready.
    pub fn ready_untracked(&self) -> Result<TinyGpt, String> {
        match self.0.get_untracked() {
            ModelState::Ready(gpt) => Ok(gpt),
            _ => Err("The model is still loading.".into()),
        }
    }

    /// Replaces the model every widget uses.
    pub fn set(&self, gpt: TinyGpt) {
        self.0.set(ModelState::Ready(gpt));
    }
}

/// Puts an empty slot in the context; call once, at the top of the app.
pub fn provide_model_slot() {
    provide_context(ModelSlot(RwSignal::new_local(ModelState::Loading)));
}

/// The shared model; the first call starts downloading the shipped checkpoint.
pub fn use_tiny_gpt() -> ModelSlot {
    let slot = use_context::<ModelSlot>().unwrap_or_else(|| {
        // Only reached if a widget is mounted outside the app shell (never in the book).
        let slot = ModelSlot(RwSignal::new_local(ModelState::Loading));
        provide_context(slot);
        slot
    });
    thread_local! { static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) }; }
    if !STARTED.with(|s| s.replace(true)) {
        spawn_local(async move {
            let state = match crate::browser::bytes(SHIPPED_PATH).await {
                Ok(bytes) => match Checkpoint::from_bytes(&bytes) {
                    Ok(checkpoint) => ModelState::Ready(TinyGpt {
                        checkpoint: Rc::new(checkpoint),
                        origin: Origin::Shipped,
                    }),
                    Err(e) => ModelState::Failed(format!("The shipped model could not be read: {e}")),
                },
                Err(e) => ModelState::Failed(format!("The shipped model could not be downloaded: {e}")),
            };
            // A model the reader trained in the meantime wins.
            if matches!(slot.0.get_untracked(), ModelState::Loading) {
                slot.0.set(state);
            }
        });
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_states_a_held_out_loss() {
        let loss = shipped_held_out_loss().expect("REPORT.md has a held-out loss line");
        let value: f64 = loss.split_whitespace().next().unwrap().parse().unwrap();
        assert!(value > 0.5 && value < 4.3, "{loss}");
    }
}
