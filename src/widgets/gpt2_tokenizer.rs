//! Chapter 4's GPT-2 tokenizer: typed text cut into GPT-2's tokens by
//! `engine::models::byte_bpe` over the real 50,256-token vocabulary (downloaded on first
//! use), each token with its id, and the count of tokens and characters per token. Beside
//! it, on request, the chapter's own BPE (`engine::models::bpe`) trained on the whole
//! Shakespeare text in a Web Worker (the training worker's BPE job), with the number of
//! merges, the end-of-word marker and the tie-break chosen by the reader, splits the same text.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::models::bpe::{BpeConfig, BpeEncoder, Piece, TieBreak};
use engine::models::byte_bpe::ByteBpe;
use train_worker::{Merged, Reply, Request, MAX_MERGES};

use crate::controls::choice::Choice;
use crate::controls::number_field::{is_whole_in, rule, with_commas, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::cpu_runner::CpuRunner;
use crate::hooks::gpt2_vocabulary::{use_gpt2_vocabulary, Gpt2State};
use crate::plot::chart::{Chart, Series};

/// The text the widget starts with: a contraction, digits, a run of spaces, a currency sign,
/// an accent, a dash and an emoji.
pub const DEFAULT_TEXT: &str = "Don't panic: 2,048 tokens   cost €3.50 — naïve? 🙂";
/// The longest text the widget takes, in characters.
const MAX_CHARS: usize = 500;

/// The text the chapter's BPE trains on, fetched from the site on first use.
const SHAKESPEARE_PATH: &str = "shakespeare/tragedies.txt";
/// Merges the chapter's BPE makes on it unless the reader asks for another number.
pub const BOOK_MERGES: usize = 1_000;
/// The chapter's BPE as the trainer above sets it up by default: no end-of-word marker,
/// ties to the pair met first.
pub const BOOK_CONFIG: BpeConfig = BpeConfig { end_of_word: false, tie_break: TieBreak::FirstMet };
/// The longest a merging request runs before it reports progress.
const REPORT_EVERY_MS: f64 = 40.0;

/// Where the chapter's BPE stands.
#[derive(Clone, Debug, PartialEq)]
enum BookState {
    Idle,
    Downloading,
    /// Merges made so far, of how many.
    Training(usize, usize),
    Done,
    Failed(String),
}

/// The chapter's BPE on typed text: it splits on white space (which it never encodes), then
/// encodes each word on its own with its merges.
pub fn book_pieces(encoder: &BpeEncoder, text: &str) -> Vec<Piece> {
    text.split_whitespace().flat_map(|word| encoder.encode_word(word)).collect()
}

/// Checks the number of merges asked for.
fn merges_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, MAX_MERGES as f64), "Use a whole number of merges from 1 to 5,000.")
}

/// What a finished run leaves: its encoder, its curve, and what it cost.
#[derive(Clone, Debug, Default)]
struct BookRun {
    alphabet: Vec<String>,
    pairs: Vec<(String, String)>,
    curve: Vec<f64>,
    /// Milliseconds of work in the worker, counting the pairs included.
    work_ms: f64,
}

impl BookRun {
    fn add(&mut self, reply: Merged) {
        if !reply.alphabet.is_empty() {
            self.alphabet = reply.alphabet;
        }
        self.pairs.extend(reply.pairs);
        self.curve.extend(reply.symbols_per_char);
        self.work_ms += reply.millis;
    }
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

    // The chapter's BPE: the reader's settings, and the run they last started.
    let merges_wanted = RwSignal::new(BOOK_MERGES as f64);
    let end_of_word = RwSignal::new(BOOK_CONFIG.end_of_word);
    let tie_break = RwSignal::new(BOOK_CONFIG.tie_break);
    let book = RwSignal::new(BookState::Idle);
    let run = RwSignal::new(BookRun::default());
    let encoder = RwSignal::new(None::<BpeEncoder>);
    let runs_where = RwSignal::new(String::new());
    // Each run has a number; a run that sees a newer one has been replaced and stops.
    let latest = StoredValue::new(0u64);
    let runner = StoredValue::new_local(None::<Rc<CpuRunner>>);
    let shakespeare = StoredValue::new(None::<String>);

    let train_book = move |_| {
        if matches!(book.get_untracked(), BookState::Downloading | BookState::Training(..)) {
            return;
        }
        let id = latest.get_value() + 1;
        latest.set_value(id);
        let total = merges_wanted.get_untracked() as usize;
        let config =
            BpeConfig { end_of_word: end_of_word.get_untracked(), tie_break: tie_break.get_untracked() };
        encoder.set(None);
        run.set(BookRun::default());
        book.set(BookState::Downloading);
        spawn_local(async move {
            let outcome =
                train_in_worker(id, total, config, latest, runner, shakespeare, run, book, runs_where).await;
            if latest.try_get_value() != Some(id) {
                return;
            }
            match outcome {
                Ok(()) => {
                    let made =
                        run.with_untracked(|r| BpeEncoder::new(config.end_of_word, &r.alphabet, &r.pairs));
                    match made {
                        Ok(e) => {
                            let _ = encoder.try_set(Some(e));
                            let _ = book.try_set(BookState::Done);
                        }
                        Err(e) => drop(book.try_set(BookState::Failed(e))),
                    }
                }
                Err(e) => drop(book.try_set(BookState::Failed(e))),
            }
        });
    };
    let book_status = move || match book.get() {
        BookState::Idle => String::new(),
        BookState::Downloading => {
            "Downloading the Shakespeare text (0.8 MB) and counting its pairs…".to_string()
        }
        BookState::Training(n, total) => {
            format!(
                "Training {}: {} of {} merges…",
                runs_where.get(),
                with_commas(n as u64),
                with_commas(total as u64)
            )
        }
        BookState::Done => format!(
            "Trained: {} merges on the Shakespeare text, a vocabulary of {} symbols, in {:.0} ms of work {}.",
            with_commas(run.with(|r| r.pairs.len()) as u64),
            with_commas(encoder.with(|e| e.as_ref().map_or(0, |e| e.vocabulary().len())) as u64),
            run.with(|r| r.work_ms),
            runs_where.get()
        ),
        BookState::Failed(e) => e,
    };
    let progress = move || match book.get() {
        BookState::Training(n, total) => {
            Some(view! { <progress max=total value=n data-value="gpt2-book-progress"></progress> })
        }
        _ => None,
    };
    let curve = Signal::derive(move || run.with(|r| r.curve.clone()));
    // The same curve against the vocabulary's size: the base alphabet, then one symbol per merge.
    let by_vocabulary = Signal::derive(move || {
        run.with(|r| {
            let points =
                r.curve.iter().enumerate().map(|(i, &v)| ((r.alphabet.len() + i) as f64, v)).collect();
            vec![Series { points, ..Series::default() }]
        })
    });
    let planned = Signal::derive(move || match book.get() {
        BookState::Training(_, total) => Some(run.with(|r| (r.alphabet.len() + total) as f64)),
        _ => None,
    });
    let book_tokens = move || {
        if book.get() != BookState::Done {
            return None;
        }
        let text = text.get();
        let pieces = encoder.with(|e| e.as_ref().map(|e| book_pieces(e, &text)))?;
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
            <div class="xor-controls">
                <SignalField label="merges" name="gpt2-book-merges" signal=merges_wanted check=merges_rule />
                <label><input type="checkbox" data-name="gpt2-book-eow" prop:checked=move || end_of_word.get() on:change=move |ev| end_of_word.set(event_target_checked(&ev)) />" end-of-word marker </w>"</label>
                <Choice label="ties go to the pair" name="gpt2-book-tie" value=tie_break on_change=Callback::new(move |t| tie_break.set(t)) />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="gpt2-train-book" on:click=train_book disabled=move || matches!(book.get(), BookState::Downloading | BookState::Training(..))>
                    {move || format!("Train {} merges on the Shakespeare text", with_commas(merges_wanted.get() as u64))}
                </button>
            </div>
            {progress}
            <p class="widget-note" data-value="gpt2-book-status" role="status">{book_status}</p>
            <span hidden data-value="gpt2-book-ms" data-number=move || format!("{:.1}", run.with(|r| r.work_ms))></span>
            <span hidden data-value="gpt2-book-ratio" data-number=move || curve.with(|c| c.last().map(|r| format!("{r:.4}")).unwrap_or_default())></span>
            <Show when=move || curve.with(|c| c.len() > 1)>
                <Chart series=by_vocabulary height=180.0 x_span=planned x_label="vocabulary size (symbols)"
                    aria_label="Symbols per character of the Shakespeare text against the size of the vocabulary"
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

/// Runs one BPE job in the worker (or, failing that, on the page's thread, pausing between
/// requests), appending each reply to `run` and showing progress in `book`. Stops quietly
/// when a newer run (a later `id` in `latest`) has started.
#[allow(clippy::too_many_arguments)]
async fn train_in_worker(
    id: u64,
    total: usize,
    config: BpeConfig,
    latest: StoredValue<u64>,
    runner_slot: StoredValue<Option<Rc<CpuRunner>>, LocalStorage>,
    shakespeare: StoredValue<Option<String>>,
    run: RwSignal<BookRun>,
    book: RwSignal<BookState>,
    runs_where: RwSignal<String>,
) -> Result<(), String> {
    let text = match shakespeare.try_get_value().flatten() {
        Some(text) => text,
        None => {
            let text = crate::browser::text(SHAKESPEARE_PATH)
                .await
                .map_err(|e| format!("The Shakespeare text could not be loaded: {e}"))?;
            shakespeare.try_set_value(Some(text.clone()));
            text
        }
    };
    let runner = match runner_slot.try_get_value().flatten() {
        Some(runner) => runner,
        None => {
            let runner = Rc::new(CpuRunner::open().await);
            runner_slot.try_set_value(Some(runner.clone()));
            runner
        }
    };
    let _ = runs_where.try_set(runner.describe());
    let fail = |why: String| format!("The tokenizer's training stopped: {why}");
    let mut request = Request::Bpe { text, config, merges: total };
    loop {
        let reply = runner.call(request).await;
        if latest.try_get_value() != Some(id) {
            return Ok(());
        }
        let merged = match reply {
            Ok(Reply::Merged(m)) => m,
            Ok(Reply::Refused(why)) => return Err(fail(why)),
            Ok(_) => return Err(fail("the worker answered something else".into())),
            Err(why) => return Err(fail(why)),
        };
        let done = merged.done;
        run.try_update(|r| r.add(merged));
        if done {
            return Ok(());
        }
        let made = run.with_untracked(|r| r.pairs.len());
        let _ = book.try_set(BookState::Training(made, total));
        if runner.on_page() {
            crate::browser::pause(0).await;
        }
        request = Request::Merge { budget_ms: REPORT_EVERY_MS.min(runner.budget_ms()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::models::bpe::BpeTrainer;

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
        let encoder = trainer.encoder();
        let labels = |s: &str| book_pieces(&encoder, s).iter().map(piece_label).collect::<Vec<_>>();
        assert_eq!(labels("Hello world"), ["He", "ll", "o", "world"]);
        assert_eq!(labels(DEFAULT_TEXT).len(), 37);
        assert_eq!(&labels(DEFAULT_TEXT)[..9], ["D", "on", "'t", "p", "an", "ic", ":", "2", ","]);
        // Shakespeare's text has no 0, 4 or 8: they fall back to bytes.
        assert_eq!(&labels(DEFAULT_TEXT)[9..12], ["<30>", "<34>", "<38>"]);
        assert_eq!(labels("🙂 東京").len(), 10);
        assert!(book_pieces(&encoder, "").is_empty());
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

    /// Another run the reader can ask for: 300 merges, the end-of-word marker, alphabetical ties.
    #[test]
    fn three_hundred_merges_with_the_end_of_word_marker() {
        let text = include_str!("../../assets/shakespeare/tragedies.txt");
        let config = BpeConfig { end_of_word: true, tie_break: TieBreak::Alphabetical };
        let mut trainer = BpeTrainer::new(text, config);
        trainer.run_to(300);
        let encoder = trainer.encoder();
        let curve = trainer.tokens_per_character();
        let labels = |s: &str| book_pieces(&encoder, s).iter().map(piece_label).collect::<Vec<_>>();
        // 71 characters and the marker, then one symbol per merge.
        assert_eq!(encoder.vocabulary().len(), 372);
        // The marker counts as a symbol but not as a character, so the curve starts above 1.
        assert!(curve[0] > 1.0 && (curve[300] - 0.5734).abs() < 5e-5, "{}", curve[300]);
        assert_eq!(labels("Hello world"), ["H", "e", "ll", "o</w>", "wor", "ld</w>"]);
        assert_eq!(labels(DEFAULT_TEXT).len(), 46);
    }
}
