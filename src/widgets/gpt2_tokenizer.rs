//! Chapter 4's GPT-2 tokenizer: typed text cut into GPT-2's tokens by
//! `engine::models::byte_bpe` over the real 50,256-token vocabulary (downloaded on first
//! use), each token with its id, and the count of tokens and characters per token. Beside
//! it, on request, the chapter's own BPE (`engine::models::bpe`) trained for 1,000 merges on
//! the Shakespeare text, a few merges per timer tick, splits the same text.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::models::bpe::{BpeConfig, BpeTrainer, Piece, TieBreak};
use engine::models::byte_bpe::ByteBpe;

use crate::controls::number_field::with_commas;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::gpt2_vocabulary::{use_gpt2_vocabulary, Gpt2State};
use crate::hooks::interval::use_interval;
use crate::plot::chart::LineChart;

/// The text the widget starts with: a contraction, digits, a run of spaces, a currency sign,
/// an accent, a dash and an emoji.
pub const DEFAULT_TEXT: &str = "Don't panic: 2,048 tokens   cost €3.50 — naïve? 🙂";
/// The longest text the widget takes, in characters.
const MAX_CHARS: usize = 500;

/// The text the chapter's BPE trains on, fetched from the site on first use.
const SHAKESPEARE_PATH: &str = "shakespeare/tragedies.txt";
/// Merges the chapter's BPE makes on it.
pub const BOOK_MERGES: usize = 1_000;
/// The chapter's BPE as the trainer above sets it up by default: no end-of-word marker,
/// ties to the pair met first.
pub const BOOK_CONFIG: BpeConfig = BpeConfig { end_of_word: false, tie_break: TieBreak::FirstMet };
/// Milliseconds of merging per tick, so the page stays responsive.
const BUDGET_MS: f64 = 12.0;
const TICK: Duration = Duration::from_millis(16);

/// Where the chapter's BPE stands.
#[derive(Clone, Debug, PartialEq)]
enum BookState {
    Idle,
    Downloading,
    Training(usize),
    Done,
    Failed(String),
}

/// The chapter's BPE on typed text: it splits on white space (which it never encodes), then
/// encodes each word on its own with its merges.
pub fn book_pieces(trainer: &BpeTrainer, text: &str) -> Vec<Piece> {
    text.split_whitespace().flat_map(|word| trainer.encode_word(word)).collect()
}

/// A piece of the chapter's BPE as the widget shows it, bytes in the same hex as GPT-2's.
pub fn piece_label(piece: &Piece) -> String {
    match piece {
        Piece::Symbol(s) => s.clone(),
        Piece::Byte(b) => format!("<{b:02X}>"),
    }
}

/// Checks typed text: at most 500 characters (empty text is fine: it has no tokens).
pub fn check_text(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(format!("This text has {chars} characters; the tokenizer takes at most 500."));
    }
    Ok(())
}

/// A token's bytes as the widget shows them: white space made visible (a space as ·, a
/// newline as ↵, a tab as →), and bytes that are only part of a character as `<E2>`.
pub fn token_label(bytes: &[u8]) -> String {
    let mut label = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            label.push(match c {
                ' ' => '·',
                '\n' => '↵',
                '\t' => '→',
                '\r' => '␍',
                c => c,
            });
        }
        for b in chunk.invalid() {
            label.push_str(&format!("<{b:02X}>"));
        }
    }
    label
}

/// True when a token's bytes are not whole characters (a piece of a character's UTF-8).
pub fn is_partial(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_err()
}

/// The bytes of a token in hex, for its tooltip: `20 77 6F 72 6C 64`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

/// Characters per token, to two decimals; a dash when there are no tokens.
pub fn chars_per_token(chars: usize, tokens: usize) -> String {
    if tokens == 0 {
        "—".to_string()
    } else {
        format!("{:.2}", chars as f64 / tokens as f64)
    }
}

/// The tokens as chips, alternating colours, each with its id underneath.
fn chips(bpe: &ByteBpe, ids: &[u32]) -> impl IntoView {
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            let bytes = bpe.token_bytes(id);
            let partial = is_partial(bytes);
            let class =
                if partial { "gpt2-token byte".to_string() } else { format!("gpt2-token tone-{}", i % 2) };
            let title = format!("token {} · id {id} · bytes {}", i + 1, hex(bytes));
            view! {
                <span class=class title=title data-id=id>
                    <span class="gpt2-text">{token_label(bytes)}</span>
                    <span class="gpt2-id">{id}</span>
                </span>
            }
        })
        .collect_view()
}

/// The widget.
#[component]
pub fn Gpt2Tokenizer() -> impl IntoView {
    let vocabulary = use_gpt2_vocabulary();
    let typed = RwSignal::new(DEFAULT_TEXT.to_string());
    let text = RwSignal::new(DEFAULT_TEXT.to_string());
    let error = RwSignal::new(None::<String>);
    let on_input = move |ev| {
        let value = event_target_value(&ev);
        match check_text(&value) {
            Ok(()) => {
                error.set(None);
                text.set(value.clone());
            }
            Err(m) => error.set(Some(format!("{m} Showing the last text that fit."))),
        }
        typed.set(value);
    };

    // The chapter's BPE, trained on request a few merges per tick.
    let book = RwSignal::new(BookState::Idle);
    let trainer = StoredValue::new_local(None::<BpeTrainer>);
    let training = RwSignal::new(false);
    // Milliseconds spent inside the trainer (counting and merging), and the curve of
    // symbols per character against merges made.
    let busy_ms = RwSignal::new(0.0f64);
    let curve = RwSignal::new(Vec::<f64>::new());
    let tick = move || {
        let t0 = crate::browser::now_ms();
        let made = trainer
            .try_update_value(|t| {
                let t = t.as_mut()?;
                let mut more = true;
                while more && t.merges().len() < BOOK_MERGES && crate::browser::now_ms() - t0 < BUDGET_MS {
                    more = t.step().is_some();
                }
                Some((t.merges().len(), !more || t.merges().len() >= BOOK_MERGES))
            })
            .flatten();
        busy_ms.update(|b| *b += crate::browser::now_ms() - t0);
        trainer.with_value(|t| {
            if let Some(t) = t {
                curve.set(t.tokens_per_character());
            }
        });
        match made {
            Some((_, true)) | None => {
                training.set(false);
                book.set(BookState::Done);
            }
            Some((n, false)) => book.set(BookState::Training(n)),
        }
    };
    use_interval(training, TICK, tick);
    let train_book = move |_| {
        if matches!(book.get_untracked(), BookState::Downloading | BookState::Training(_) | BookState::Done) {
            return;
        }
        book.set(BookState::Downloading);
        spawn_local(async move {
            match crate::browser::text(SHAKESPEARE_PATH).await {
                Ok(text) => {
                    let t0 = crate::browser::now_ms();
                    let counted = BpeTrainer::new(&text, BOOK_CONFIG);
                    let _ = busy_ms.try_set(crate::browser::now_ms() - t0);
                    if trainer.try_set_value(Some(counted)).is_none() {
                        let _ = book.try_set(BookState::Training(0));
                        let _ = training.try_set(true);
                    }
                }
                Err(e) => {
                    let _ = book
                        .try_set(BookState::Failed(format!("The Shakespeare text could not be loaded: {e}")));
                }
            }
        });
    };
    let book_status = move || match book.get() {
        BookState::Idle => String::new(),
        BookState::Downloading => "Downloading the Shakespeare text (0.8 MB)…".to_string(),
        BookState::Training(n) => {
            format!("Training: {} of {} merges…", with_commas(n as u64), with_commas(BOOK_MERGES as u64))
        }
        BookState::Done => format!(
            "Trained: {} merges on the Shakespeare text, a vocabulary of {} symbols, in {:.0} ms of work.",
            with_commas(trainer.with_value(|t| t.as_ref().map_or(0, |t| t.merges().len())) as u64),
            with_commas(trainer.with_value(|t| t.as_ref().map_or(0, |t| t.vocabulary().len())) as u64),
            busy_ms.get()
        ),
        BookState::Failed(e) => e,
    };
    let book_tokens = move || {
        if book.get() != BookState::Done {
            return None;
        }
        let text = text.get();
        let pieces = trainer.with_value(|t| t.as_ref().map(|t| book_pieces(t, &text)))?;
        let count = pieces.len();
        let chips = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let byte = matches!(p, Piece::Byte(_));
                let class =
                    if byte { "gpt2-token byte".to_string() } else { format!("gpt2-token tone-{}", i % 2) };
                view! { <span class=class><span class="gpt2-text">{piece_label(p)}</span></span> }
            })
            .collect_view();
        Some(view! {
            <dl class="bp-values">
                <div><dt>"tokens, white space left out"</dt><dd data-value="gpt2-book-count">{count}</dd></div>
            </dl>
            <div class="gpt2-tokens" data-value="gpt2-book-tokens">{chips}</div>
        })
    };

    let body = move || {
        match vocabulary.get() {
        Gpt2State::Loading => view! {
            <p class="widget-note" data-value="gpt2-status" role="status">"Downloading GPT-2's vocabulary (0.8 MB)…"</p>
        }
        .into_any(),
        Gpt2State::Failed(e) => view! {
            <p class="field-error" data-error-for="gpt2-vocabulary" role="alert">{e}</p>
        }
        .into_any(),
        Gpt2State::Ready(bpe) => {
            let text = text.get();
            let ids = bpe.encode(&text);
            let chars = text.chars().count();
            let bytes = text.len();
            let id_list = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
            let empty = ids.is_empty().then(|| view! { <span class="widget-note">"No text, no tokens."</span> });
            view! {
                <dl class="bp-values">
                    <div><dt>"tokens"</dt><dd data-value="gpt2-count">{ids.len()}</dd></div>
                    <div><dt>"characters"</dt><dd data-value="gpt2-chars">{chars}</dd></div>
                    <div><dt>"UTF-8 bytes"</dt><dd data-value="gpt2-bytes">{bytes}</dd></div>
                    <div><dt>"characters per token"</dt><dd data-value="gpt2-cpt">{chars_per_token(chars, ids.len())}</dd></div>
                </dl>
                <div class="gpt2-tokens" data-value="gpt2-tokens">{chips(&bpe, &ids)}{empty}</div>
                <p class="gpt2-ids">"ids: [" <span data-value="gpt2-ids">{id_list}</span> "]"</p>
                <p class="widget-note">{format!("Vocabulary: {} tokens read from GPT-2's rank file. A space is shown as ·, a newline as ↵; a dashed token is part of one character's UTF-8 bytes, written in hex.", with_commas(bpe.len() as u64))}</p>
            }
            .into_any()
        }
    }
    };

    view! {
        <WidgetFrame class="gpt2" label="GPT-2 tokenizer" title="Live: GPT-2's byte-level BPE on your text" badge="CPU · engine::models::byte_bpe">
            <label class="gpt2-input">"text "
                <textarea data-name="gpt2-text" rows="2" spellcheck="false" prop:value=move || typed.get() on:input=on_input aria-invalid=move || error.get().is_some().to_string()></textarea>
            </label>
            <p class="field-error" data-error-for="gpt2-text" role="status">{move || error.get()}</p>
            {body}
            <h4 class="lab-subtitle">"Beside it: the chapter's BPE, trained on Shakespeare"</h4>
            <button data-name="gpt2-train-book" on:click=train_book disabled=move || matches!(book.get(), BookState::Downloading | BookState::Training(_) | BookState::Done)>
                {format!("Train {} merges on the Shakespeare text", with_commas(BOOK_MERGES as u64))}
            </button>
            <p class="widget-note" data-value="gpt2-book-status" role="status">{book_status}</p>
            <span hidden data-value="gpt2-book-ms" data-number=move || format!("{:.1}", busy_ms.get())></span>
            <span hidden data-value="gpt2-book-ratio" data-number=move || curve.with(|c| c.last().map(|r| format!("{r:.4}")).unwrap_or_default())></span>
            <Show when=move || curve.with(|c| c.len() > 1)>
                <LineChart values=Signal::derive(move || curve.get()) x_label="merges made"
                    aria_label="Symbols per character of the Shakespeare text against the number of merges"
                    empty="The curve appears as the merges are made." />
                <p class="widget-note" data-value="gpt2-book-ratio-text">{move || curve.with(|c| match (c.first(), c.last()) {
                    (Some(a), Some(b)) => format!("Symbols per character: {a:.3} before any merge, {b:.3} after {} merges (whitespace not counted).", with_commas((c.len() - 1) as u64)),
                    _ => String::new(),
                })}</p>
            </Show>
            {book_tokens}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpt2() -> ByteBpe {
        ByteBpe::from_tiktoken(include_str!("../../assets/gpt2/r50k_base.tiktoken")).unwrap()
    }

    #[test]
    fn labels_show_white_space_and_partial_bytes() {
        assert_eq!(token_label(b" world"), "·world");
        assert_eq!(token_label(b"\n\n"), "↵↵");
        assert_eq!(token_label(b"\t"), "→");
        assert_eq!(token_label(&[0xF0, 0x9F]), "<F0><9F>");
        assert_eq!(token_label(&[0x20, 0xE2]), "·<E2>");
        assert!(is_partial(&[0xE2, 0x82]) && !is_partial("€".as_bytes()));
        assert_eq!(hex(b" a"), "20 61");
        assert_eq!(chars_per_token(0, 0), "—");
        assert_eq!(
            (with_commas(50_256), with_commas(999), with_commas(1_000), with_commas(0)),
            ("50,256".into(), "999".into(), "1,000".into(), "0".into())
        );
        assert_eq!(chars_per_token(11, 2), "5.50");
        assert!(
            check_text("").is_ok()
                && check_text(&"a".repeat(501)).is_err()
                && check_text(&"🙂".repeat(500)).is_ok()
        );
    }

    /// The chapter's BPE after 1,000 merges on the Shakespeare text, on the same strings.
    #[test]
    fn the_chapters_bpe_on_the_same_strings() {
        let text = include_str!("../../assets/shakespeare/tragedies.txt");
        let mut trainer = BpeTrainer::new(text, BOOK_CONFIG);
        trainer.run_to(BOOK_MERGES);
        assert_eq!(
            (trainer.merges().len(), trainer.alphabet().len(), trainer.vocabulary().len()),
            (1_000, 71, 1_071)
        );
        // The curve the widget draws: one symbol per character before any merge, 0.400 after.
        let curve = trainer.tokens_per_character();
        assert_eq!((curve.len(), curve[0]), (1_001, 1.0));
        assert!((curve[1_000] - 0.400).abs() < 5e-4, "{}", curve[1_000]);
        let labels = |s: &str| book_pieces(&trainer, s).iter().map(piece_label).collect::<Vec<_>>();
        assert_eq!(labels("Hello world"), ["He", "ll", "o", "world"]);
        assert_eq!(labels(DEFAULT_TEXT).len(), 37);
        assert_eq!(&labels(DEFAULT_TEXT)[..9], ["D", "on", "'t", "p", "an", "ic", ":", "2", ","]);
        // Shakespeare's text has no 0, 4 or 8: they fall back to bytes.
        assert_eq!(&labels(DEFAULT_TEXT)[9..12], ["<30>", "<34>", "<38>"]);
        assert_eq!(labels("🙂 東京").len(), 10);
        assert!(book_pieces(&trainer, "").is_empty());
    }

    /// The ids the chapter and the browser check quote, from the real rank file.
    #[test]
    fn gpt2_ids_of_the_pinned_strings() {
        let bpe = gpt2();
        let labels = |ids: &[u32]| ids.iter().map(|&id| token_label(bpe.token_bytes(id))).collect::<Vec<_>>();
        assert_eq!(bpe.encode("Hello world"), [15496, 995]);
        assert!(bpe.encode("").is_empty());
        let ids = bpe.encode(DEFAULT_TEXT);
        assert_eq!(
            ids,
            [
                3987, 470, 13619, 25, 362, 11, 47202, 16326, 220, 220, 1575, 10432, 18, 13, 1120, 851, 41492,
                30, 32485
            ]
        );
        assert_eq!(
            labels(&ids),
            [
                "Don", "'t", "·panic", ":", "·2", ",", "048", "·tokens", "·", "·", "·cost", "·€", "3", ".",
                "50", "·—", "·naïve", "?", "·🙂"
            ]
        );
        assert_eq!((DEFAULT_TEXT.chars().count(), chars_per_token(49, 19).as_str()), (49, "2.58"));
        // Alone, the emoji and each CJK character are cut into pieces of their UTF-8 bytes.
        let ids = bpe.encode("🙂 東京");
        assert_eq!(ids, [8582, 25081, 10545, 251, 109, 12859, 105]);
        assert_eq!(labels(&ids), ["<F0><9F>", "<99><82>", "·<E6>", "<9D>", "<B1>", "<E4><BA>", "<AC>"]);
        assert_eq!(chars_per_token(4, 7), "0.57");
    }
}
