//! Chapter 4's BPE trainer: byte pair encoding on an editable corpus, one merge at a time, from
//! `engine::models::bpe`. It shows the pair counts that decide the next merge, the merges and
//! vocabulary so far, an encoder for typed words, and the same words with the end-of-word
//! marker switched the other way, so the reader sees what the marker changes.

use std::time::Duration;

use leptos::prelude::*;

use engine::models::bpe::{BpeConfig, BpeTrainer, Merge, Piece, TieBreak, END_OF_WORD};

use crate::controls::choice::Choice;
use crate::controls::number_field::{is_whole_in, rule, NumberField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;

/// The chapter's corpus.
pub const DEFAULT_CORPUS: &str = "low low low low low lowest lowest newer newer newer wider wider";
/// The words the encoder starts with: a new word, a training word, and an unseen character.
const DEFAULT_WORDS: &str = "lower lowest low lowé";
/// The longest corpus the widget trains on, in characters.
const MAX_CORPUS_CHARS: usize = 20_000;
/// The longest text the encoder takes, in characters.
const MAX_WORDS_CHARS: usize = 200;
/// Rows of the pair-count table.
const TABLE_ROWS: usize = 12;
/// The most recent merges and merged symbols listed.
const SHOWN: usize = 60;
/// Time between two merges while playing.
const TICK: Duration = Duration::from_millis(700);

/// Checks a corpus before it reaches the trainer: at least one word, at most 20,000 characters.
pub fn check_corpus(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if text.split_whitespace().next().is_none() {
        return Err("Type at least one word to train on.".to_string());
    }
    rule(
        chars <= MAX_CORPUS_CHARS,
        &format!("This text has {chars} characters; the trainer takes at most 20,000."),
    )
}

/// Checks the encoder's text: at most 200 characters.
pub fn check_words(text: &str) -> Result<(), String> {
    rule(text.chars().count() <= MAX_WORDS_CHARS, "Type at most 200 characters to encode.")
}

/// The merge counts the jump box takes before asking the corpus: a whole number up to 1,000,
/// so that a jump on the longest corpus retrains in a fraction of a second.
fn merge_count(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 1_000.0), "A whole number of merges from 0 to 1,000.")
}

/// A piece as the encoder shows it: a symbol's text, or a byte as `<0xC3>`.
pub fn piece_text(piece: &Piece) -> String {
    match piece {
        Piece::Symbol(s) => s.clone(),
        Piece::Byte(b) => format!("<0x{b:02X}>"),
    }
}

/// A merge as the list writes it: `(l, o) → lo`.
fn merge_text(m: &Merge) -> String {
    format!("({}, {}) → {}", m.left, m.right, m.merged)
}

/// Two trainers on the same corpus and tie-break, one with the end-of-word marker and one
/// without, kept at the same number of merges. `shown` is the one the settings ask for.
#[derive(Clone)]
struct Trainers {
    shown: BpeTrainer,
    other: BpeTrainer,
}

impl Trainers {
    /// Trains both from scratch, up to `merges` merges each (fewer if a corpus runs out).
    fn new(corpus: &str, config: BpeConfig, merges: usize) -> Trainers {
        let mut shown = BpeTrainer::new(corpus, config);
        let mut other = BpeTrainer::new(corpus, BpeConfig { end_of_word: !config.end_of_word, ..config });
        shown.run_to(merges);
        other.run_to(merges);
        Trainers { shown, other }
    }

    /// One merge on the shown trainer (and on the other, to keep them level); false when
    /// the shown trainer has no pair left.
    fn step(&mut self) -> bool {
        let made = self.shown.step().is_some();
        if made {
            self.other.run_to(self.shown.merges().len());
        }
        made
    }

    /// The trainer without the marker, then the one with it.
    fn without_and_with(&self) -> (&BpeTrainer, &BpeTrainer) {
        if self.shown.alphabet().iter().any(|s| s == END_OF_WORD) {
            (&self.other, &self.shown)
        } else {
            (&self.shown, &self.other)
        }
    }
}

/// The first merge (1-based) where the two trainers differ, with what each made there.
fn first_difference(without: &BpeTrainer, with: &BpeTrainer) -> Option<(usize, String, String)> {
    let (a, b) = (without.merges(), with.merges());
    let none = || "nothing".to_string();
    (0..a.len().max(b.len())).find(|&i| a.get(i).map(|m| &m.merged) != b.get(i).map(|m| &m.merged)).map(|i| {
        (i + 1, a.get(i).map(merge_text).unwrap_or_else(none), b.get(i).map(merge_text).unwrap_or_else(none))
    })
}

/// One word's pieces as coloured chips; bytes get their own style.
fn chips(pieces: Vec<Piece>) -> impl IntoView {
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let byte = matches!(piece, Piece::Byte(_));
            let class = if byte { "bpe-chip byte".to_string() } else { format!("bpe-chip tone-{}", i % 4) };
            view! { <span class=class>{piece_text(&piece)}</span> }
        })
        .collect_view()
}

/// The widget.
#[component]
pub fn BpeTrainerLab() -> impl IntoView {
    let corpus_text = RwSignal::new(DEFAULT_CORPUS.to_string());
    let corpus = RwSignal::new(DEFAULT_CORPUS.to_string());
    let corpus_error = RwSignal::new(None::<String>);
    let end_of_word = RwSignal::new(false);
    let tie_break = RwSignal::new(TieBreak::FirstMet);
    // The settings as they stand, read when the reader changes something (never tracked).
    let config =
        move || BpeConfig { end_of_word: end_of_word.get_untracked(), tie_break: tie_break.get_untracked() };
    let trainers = RwSignal::new(Trainers::new(DEFAULT_CORPUS, config(), 0));
    let playing = RwSignal::new(false);
    let status = RwSignal::new(None::<String>);
    let jump_error = RwSignal::new(None::<String>);
    let words_text = RwSignal::new(DEFAULT_WORDS.to_string());
    let words = RwSignal::new(DEFAULT_WORDS.to_string());
    let words_error = RwSignal::new(None::<String>);

    let made = move || trainers.with(|t| t.shown.merges().len());
    // A new corpus or setting retrains from scratch, to the same number of merges.
    let retrain = move || {
        let merges = made();
        trainers.set(Trainers::new(&corpus.get_untracked(), config(), merges));
        status.set(None);
    };
    let step = move || {
        if !trainers.try_update(Trainers::step).unwrap_or(false) {
            playing.set(false);
            status.set(Some("No pair is left to merge: every word is a single symbol.".to_string()));
        }
    };
    use_interval(playing, TICK, step);
    let jump = move |n: f64| {
        let n = n as usize;
        let next = Trainers::new(&corpus.get_untracked(), config(), n);
        let reached = next.shown.merges().len();
        if reached < n {
            jump_error.set(Some(format!(
                "This corpus has no pair left after {reached} merges, so {n} cannot be reached."
            )));
        } else {
            jump_error.set(None);
            status.set(None);
            trainers.set(next);
        }
    };
    let on_corpus = move |ev| {
        let text = event_target_value(&ev);
        match check_corpus(&text) {
            Ok(()) => {
                corpus_error.set(None);
                corpus.set(text.clone());
                retrain();
            }
            Err(m) => corpus_error.set(Some(m)),
        }
        corpus_text.set(text);
    };
    let on_words = move |ev| {
        let text = event_target_value(&ev);
        match check_words(&text) {
            Ok(()) => {
                words_error.set(None);
                words.set(text.clone());
            }
            Err(m) => words_error.set(Some(m)),
        }
        words_text.set(text);
    };
    let reset = move |_| {
        playing.set(false);
        jump_error.set(None);
        status.set(None);
        trainers.set(Trainers::new(&corpus.get_untracked(), config(), 0));
    };

    let table = move || {
        trainers.with(|t| {
            let rows = t.shown.pair_table(TABLE_ROWS);
            let top = rows.first().map(|r| r.count);
            rows.into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let (winner, tied) = (i == 0, i > 0 && Some(row.count) == top);
                    let mark = if winner {
                        "next merge"
                    } else if tied {
                        "tied"
                    } else {
                        ""
                    };
                    view! {
                        <tr class:winner=winner class:tied=tied data-pair=i>
                            <td class="pair">{format!("({}, {})", row.left, row.right)}</td>
                            <td>{row.count}</td>
                            <td class="mark">{mark}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let merges = move || {
        trainers.with(|t| {
            let all = t.shown.merges();
            let first = all.len().saturating_sub(SHOWN);
            all[first..]
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    // Each tied pair stays on one line; the list wraps between pairs.
                    let ties = if m.tied_with.is_empty() {
                        view! { <span>"none"</span> }.into_any()
                    } else {
                        m.tied_with
                            .iter()
                            .map(|(l, r)| view! { <span class="bpe-tie">{format!("({l}, {r})")}</span> })
                            .collect_view()
                            .into_any()
                    };
                    view! {
                        <tr data-merge=first + i + 1 data-symbol=m.merged.clone() data-count=m.count data-ties=m.tied_with.len()>
                            <td>{first + i + 1}</td>
                            <td class="pair">{merge_text(m)}</td>
                            <td>{m.count}</td>
                            <td class="ties">{ties}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let vocabulary = move || {
        trainers.with(|t| {
            let alphabet = t.shown.alphabet().len();
            let vocabulary = t.shown.vocabulary();
            let merged = &vocabulary[alphabet..];
            let first = merged.len().saturating_sub(SHOWN);
            let base = vocabulary[..alphabet]
                .iter()
                .map(|s| view! { <span class="bpe-chip base" data-vocab=s.clone()>{s.clone()}</span> })
                .collect_view();
            let new = merged[first..]
                .iter()
                .map(|s| view! { <span class="bpe-chip tone-0" data-vocab=s.clone()>{s.clone()}</span> })
                .collect_view();
            let elided = (first > 0)
                .then(|| view! { <span class="widget-note">{format!("… {first} earlier merges …")}</span> });
            view! { {base}<span class="bpe-sep">"+"</span>{elided}{new} }
        })
    };
    let encoded = move || {
        let text = words.get();
        trainers.with(|t| {
            text.split_whitespace()
                .map(|w| {
                    let pieces = t.shown.encode_word(w);
                    view! { <div class="bpe-word" data-word=w.to_string()><span class="bpe-source">{w.to_string()}</span>{chips(pieces)}</div> }
                })
                .collect_view()
        })
    };
    let contrast = move || {
        let text = words.get();
        trainers.with(|t| {
            let (without, with) = t.without_and_with();
            text.split_whitespace()
                .map(|w| {
                    view! {
                        <tr data-contrast=w.to_string()>
                            <th scope="row">{w.to_string()}</th>
                            <td class="off">{chips(without.encode_word(w))}</td>
                            <td class="on">{chips(with.encode_word(w))}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let difference = move || {
        trainers.with(|t| {
            let (without, with) = t.without_and_with();
            match first_difference(without, with) {
                Some((k, off, on)) => {
                    format!("The two runs first differ at merge {k}: without the marker {off}, with it {on}.")
                }
                None => "So far both make the same merges.".to_string(),
            }
        })
    };

    view! {
        <WidgetFrame class="bpe" label="BPE trainer" title="Live: byte pair encoding, merge by merge" badge="CPU · engine::models::bpe">
            <label class="bpe-corpus">"corpus "
                <textarea data-name="bpe-corpus" rows="3" spellcheck="false" prop:value=move || corpus_text.get() on:input=on_corpus aria-invalid=move || corpus_error.get().is_some().to_string()></textarea>
            </label>
            <p class="field-error" data-error-for="bpe-corpus" role="status">{move || corpus_error.get().map(|e| format!("{e} Training on the last good corpus."))}</p>
            <div class="toggles">
                <label><input type="checkbox" data-name="bpe-eow" prop:checked=move || end_of_word.get() on:change=move |ev| { end_of_word.set(event_target_checked(&ev)); retrain(); } />" end-of-word marker </w>"</label>
                <Choice label="ties go to the pair" name="bpe-tie" value=tie_break on_change=Callback::new(move |t| { tie_break.set(t); retrain(); }) />
            </div>
            <div class="bp-controls">
                <button class="primary" on:click=move |_| step()>"Step"</button>
                <button data-name="bpe-play" on:click=move |_| playing.update(|p| *p = !*p)>{move || if playing.get() { "Pause" } else { "Play" }}</button>
                <button on:click=reset>"Reset"</button>
            </div>
            <div class="xor-controls">
                <NumberField label="jump to merges" name="bpe-jump" value=Signal::derive(move || made() as f64) on_change=Callback::new(jump) check=merge_count />
            </div>
            <p class="field-error" data-error-for="bpe-jump-limit" role="status">{move || jump_error.get()}</p>
            <dl class="bp-values">
                <div><dt>"merges made"</dt><dd data-value="bpe-merges">{made}</dd></div>
                <div><dt>"vocabulary"</dt><dd data-value="bpe-vocab-size">{move || trainers.with(|t| t.shown.vocabulary().len())}</dd></div>
                <div><dt>"tokens per character"</dt><dd data-value="bpe-tpc">{move || trainers.with(|t| t.shown.tokens_per_character().last().map(|v| format!("{v:.3}")).unwrap_or_default())}</dd></div>
            </dl>
            <p class="widget-note" data-value="bpe-status" role="status">{move || status.get()}</p>
            <div class="bpe-columns">
                <div>
                    <h4 class="lab-subtitle">"Pair counts now"</h4>
                    <div class="table-wrap">
                        <table class="bpe-table pairs">
                            <thead><tr><th scope="col">"pair"</th><th scope="col">"count"</th><th scope="col"><span class="visually-hidden">"bar"</span></th></tr></thead>
                            <tbody>{table}</tbody>
                        </table>
                    </div>
                </div>
                <div>
                    <h4 class="lab-subtitle">"Merges so far"</h4>
                    <div class="table-wrap bpe-scroll" tabindex="0" role="region" aria-label="Merges so far">
                        <table class="bpe-table merges">
                            <thead><tr><th scope="col">"#"</th><th scope="col">"merge"</th><th scope="col">"count"</th><th scope="col">"tied with"</th></tr></thead>
                            <tbody>{merges}</tbody>
                        </table>
                    </div>
                </div>
            </div>
            <h4 class="lab-subtitle">"Vocabulary: the alphabet, then one symbol per merge"</h4>
            <div class="bpe-vocab">{vocabulary}</div>
            <h4 class="lab-subtitle">"Encode words"</h4>
            <label class="bpe-words">"words "
                <input type="text" data-name="bpe-words" spellcheck="false" prop:value=move || words_text.get() on:input=on_words aria-invalid=move || words_error.get().is_some().to_string() />
            </label>
            <p class="field-error" data-error-for="bpe-words" role="status">{move || words_error.get()}</p>
            <div class="bpe-encoded">{encoded}</div>
            <p class="widget-note">"A character the corpus never showed falls back to its UTF-8 bytes, one token each, written <0x..>."</p>
            <h4 class="lab-subtitle">"The same words without and with the end-of-word marker"</h4>
            <div class="table-wrap" tabindex="0" role="region" aria-label="The same words without and with the end-of-word marker">
                <table class="bpe-table contrast">
                    <thead><tr><th scope="col">"word"</th><th scope="col">"without </w>"</th><th scope="col">"with </w>"</th></tr></thead>
                    <tbody>{contrast}</tbody>
                </table>
            </div>
            <p class="widget-note" data-value="bpe-difference">{difference}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_corpora_and_long_words_are_explained() {
        assert!(check_corpus(DEFAULT_CORPUS).is_ok());
        assert!(check_corpus("  \n ").unwrap_err().contains("at least one word"));
        assert!(check_corpus(&"a".repeat(20_001)).unwrap_err().contains("20,000"));
        assert!(check_words(&"a".repeat(201)).is_err() && check_words("lower").is_ok());
        assert!(merge_count(2.5).is_err() && merge_count(-1.0).is_err() && merge_count(1_001.0).is_err());
        assert!(merge_count(12.0).is_ok());
        assert_eq!(piece_text(&Piece::Byte(0xC3)), "<0xC3>");
    }

    #[test]
    fn the_marker_first_changes_merge_three() {
        let config = BpeConfig { end_of_word: false, tie_break: TieBreak::FirstMet };
        let mut both = Trainers::new(DEFAULT_CORPUS, config, 0);
        while both.step() {}
        assert_eq!(both.shown.merges().len(), 12);
        let (without, with) = both.without_and_with();
        assert_eq!(with.merges().len(), 12, "the other trainer is kept level");
        let (k, off, on) = first_difference(without, with).unwrap();
        assert_eq!((k, off.as_str(), on.as_str()), (3, "(e, r) → er", "(low, </w>) → low</w>"));
    }
}
