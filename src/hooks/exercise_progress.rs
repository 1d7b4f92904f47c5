//! Which graded exercises the reader has solved, kept in the browser's `localStorage` so it
//! survives a reload, and shared by the answer boxes (which mark an exercise solved) and the
//! sidebar (which counts them per chapter).

use std::collections::BTreeSet;

use leptos::prelude::*;

use bookgen::directive::ANSWER_IDS;

const STORAGE_KEY: &str = "mlbook-exercises";

/// The set of solved exercise ids, one per page.
#[derive(Clone, Copy)]
pub struct Progress(RwSignal<BTreeSet<String>>);

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The stored ids, space separated; anything that is not a known id is dropped.
fn parse(text: &str) -> BTreeSet<String> {
    text.split_whitespace().filter(|id| ANSWER_IDS.contains(id)).map(str::to_string).collect()
}

/// Reads the stored progress and makes it available to every answer box and the sidebar.
pub fn provide_progress() {
    let stored = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).unwrap_or_default();
    provide_context(Progress(RwSignal::new(parse(&stored))));
}

/// The page's progress. Outside the app (no provider) a fresh, unsaved one.
pub fn use_progress() -> Progress {
    use_context::<Progress>().unwrap_or_else(|| Progress(RwSignal::new(BTreeSet::new())))
}

impl Progress {
    fn save(&self) {
        let text = self.0.with_untracked(|ids| ids.iter().cloned().collect::<Vec<_>>().join(" "));
        if let Some(storage) = storage() {
            // A full or disabled storage only means progress is not remembered.
            let _ = storage.set_item(STORAGE_KEY, &text);
        }
    }

    /// Whether `id` is solved (tracked: a view that asks updates when it changes).
    pub fn is_solved(&self, id: &str) -> bool {
        self.0.with(|ids| ids.contains(id))
    }

    /// How many of `ids` are solved (tracked).
    pub fn solved_among<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        self.0.with(|solved| ids.into_iter().filter(|id| solved.contains(*id)).count())
    }

    /// How many exercises are solved in all (tracked).
    pub fn solved_count(&self) -> usize {
        self.0.with(BTreeSet::len)
    }

    /// Marks `id` solved and remembers it.
    pub fn mark_solved(&self, id: &str) {
        if !self.0.with_untracked(|ids| ids.contains(id)) {
            self.0.update(|ids| {
                ids.insert(id.to_string());
            });
            self.save();
        }
    }

    /// Forgets every solved exercise.
    pub fn reset(&self) {
        self.0.set(BTreeSet::new());
        if let Some(storage) = storage() {
            let _ = storage.remove_item(STORAGE_KEY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_keeps_only_known_ids() {
        let ids = parse(" 1.1a 9.9z 1.3\n1.1a ");
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["1.1a", "1.3"]);
        assert!(parse("").is_empty());
    }
}
