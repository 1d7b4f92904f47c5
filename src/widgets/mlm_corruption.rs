//! Chapter 6's masked-LM corruption: BERT's 15% choice and 80/10/10 rule rolled over a typed
//! passage (split into words at spaces), each chosen word coloured by what the dice did, the
//! counts beside their expected values, and a histogram of the `[MASK]` count over many rolls
//! of a window of any length. Every number comes from `engine::labs::masked_lm`.

use leptos::prelude::*;

use engine::core::rng::Rng;
use engine::labs::masked_lm::{apply, corrupt, expected, histogram, many_rolls, Action, Counts};

use crate::controls::number_field::{is_whole_in, rule, seed, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::describe::DataTable;
use crate::plot::histogram::{
    describe as describe_counts, table as counts_table, whole_numbers, WHOLE_FRAME,
};

/// The passage the widget opens with (46 words, so 7 are chosen).
pub const DEFAULT_TEXT: &str = "Every selected position is predicted from the whole corrupted sequence, \
    left and right of it. Positions outside the chosen set add nothing to the loss, so a window \
    of text gives only a few graded predictions, and the model must still represent every \
    visible word well.";
/// The longest passage, in words.
const MAX_WORDS: usize = 2_000;
/// Rolls behind the histogram.
pub const ROLLS: usize = 1_000;
/// The vocabulary the long windows draw random tokens from: BERT's 30,522 word pieces.
const BERT_VOCAB: usize = 30_522;
/// The seed the widget opens with: its roll shows all three outcomes (5 `[MASK]`, 1 random, 1 kept).
const DEFAULT_SEED: f64 = 6.0;
/// The window the histogram opens with: the chapter's 512 tokens.
const DEFAULT_WINDOW: f64 = 512.0;

/// Splits a passage into words: at least one, at most 2,000.
pub fn parse_passage(text: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return Err("Type at least one word to corrupt.".to_string());
    }
    if words.len() > MAX_WORDS {
        return Err(format!("This passage has {} words; the widget takes at most 2,000.", words.len()));
    }
    Ok(words)
}

/// The passage's distinct words in order of first use: the vocabulary random replacements
/// are drawn from.
pub fn vocabulary(words: &[String]) -> Vec<String> {
    let mut vocab: Vec<String> = Vec::new();
    for w in words {
        if !vocab.contains(w) {
            vocab.push(w.clone());
        }
    }
    vocab
}

fn window_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 8_192.0), "Use a whole number of tokens from 1 to 8,192.")
}

/// A passage and one roll over it.
#[derive(Clone, PartialEq)]
struct Roll {
    words: Vec<String>,
    actions: Vec<Action>,
    input: Vec<String>,
}

impl Roll {
    fn new(words: Vec<String>, seed: u64) -> Roll {
        let vocab = vocabulary(&words);
        let actions = corrupt(words.len(), vocab.len(), &mut Rng::new(seed));
        let input = apply(&words, &vocab, &actions);
        Roll { words, actions, input }
    }
}

fn class_of(action: Action) -> &'static str {
    match action {
        Action::Untouched => "mlm-token",
        Action::Masked => "mlm-token masked",
        Action::Random(_) => "mlm-token random",
        Action::Kept => "mlm-token kept",
    }
}

/// The widget.
#[component]
pub fn MlmCorruption() -> impl IntoView {
    let text = RwSignal::new(DEFAULT_TEXT.to_string());
    let error = RwSignal::new(None::<String>);
    let seed_value = RwSignal::new(DEFAULT_SEED);
    let words = RwSignal::new(parse_passage(DEFAULT_TEXT).unwrap_or_default());
    let roll = Memo::new(move |_| Roll::new(words.get(), seed_value.get() as u64));
    let window = RwSignal::new(DEFAULT_WINDOW);
    let on_text = move |ev| {
        let typed = event_target_value(&ev);
        match parse_passage(&typed) {
            Ok(w) => {
                error.set(None);
                words.set(w);
            }
            Err(m) => error.set(Some(m)),
        }
        text.set(typed);
    };
    let reroll = move |_| seed_value.update(|s| *s = if *s >= 4_294_967_295.0 { 0.0 } else { *s + 1.0 });

    let counts = move || roll.with(|r| Counts::of(&r.actions));
    let exp = move || expected(roll.with(|r| r.words.len()));
    let tokens = move || {
        roll.with(|r| {
            r.words
                .iter()
                .zip(&r.actions)
                .zip(&r.input)
                .enumerate()
                .map(|(i, ((word, &action), shown))| {
                    let title = match action {
                        Action::Untouched => "not chosen".to_string(),
                        Action::Masked => format!("chosen: [MASK], predict “{word}”"),
                        Action::Random(_) => format!("chosen: random word, predict “{word}”"),
                        Action::Kept => format!("chosen: kept, predict “{word}”"),
                    };
                    let was = matches!(action, Action::Masked | Action::Random(_))
                        .then(|| view! { <span class="mlm-was">{word.clone()}</span> });
                    view! { <span class=class_of(action) data-token=i title=title>{shown.clone()}{was}</span> }
                })
                .collect_view()
        })
    };
    let row = |label: &'static str, name: &'static str, got: usize, want: String| {
        view! {
            <tr><th scope="row">{label}</th><td data-value=format!("mlm-{name}")>{got}</td><td data-value=format!("mlm-expected-{name}")>{want}</td></tr>
        }
    };
    let table = move || {
        let (c, e) = (counts(), exp());
        view! {
            {row("chosen (15%)", "chosen", c.chosen, format!("{}", e.chosen))}
            {row("[MASK] (80%)", "masked", c.masked, format!("{:.1}", e.masked))}
            {row("random word (10%)", "random", c.random, format!("{:.1}", e.random))}
            {row("kept (10%)", "kept", c.kept, format!("{:.1}", e.kept))}
        }
    };

    // Many rolls of a window of `window` tokens, seeded with the seed shown.
    let rolls =
        Memo::new(move |_| many_rolls(window.get() as usize, BERT_VOCAB, ROLLS, seed_value.get() as u64));
    let window_expected = move || expected(window.get() as usize);
    let plot = move || {
        let e = window_expected();
        let bins = rolls.with(|r| histogram(r.iter().map(|c| c.masked), e.chosen));
        let h = whole_numbers(&bins, e.masked);
        let base = WHOLE_FRAME.base();
        let first = h.bars.first().map(|b| (b.rect.x, b.value));
        let last = h.bars.last().map(|b| (b.rect.x + b.rect.width, b.value));
        let bars = h
            .bars
            .into_iter()
            .map(|b| {
                let label = format!("{} [MASK]: {} of {ROLLS} rolls", b.value, b.frequency);
                view! { <rect class="mlm-bar" x=b.rect.x y=b.rect.y width=b.rect.width height=b.rect.height><title>{label}</title></rect> }
            })
            .collect_view();
        let marker = h.marker.map(|x| {
            view! {
                <line class="mlm-expected" x1=x x2=x y1="14" y2=base />
                <text class="tick" x=x + 4.0 y="12" text-anchor="start">{format!("expected {:.1}", e.masked)}</text>
            }
        });
        let ends = first.zip(last).map(|((x0, v0), (x1, v1))| {
            view! {
                <text class="tick" x=x0 y=base + 16.0 text-anchor="start">{v0}</text>
                <text class="tick" x=x1 y=base + 16.0 text-anchor="end">{v1}</text>
            }
        });
        view! { {bars}{marker}<line class="axis" x1="10" x2=WHOLE_FRAME.width - WHOLE_FRAME.right y1=base y2=base />{ends} }
    };
    // The same counts as text: one bin per [MASK] count, 0 up to the most a roll can choose.
    let counts = move || {
        let e = window_expected();
        let bins = rolls.with(|r| histogram(r.iter().map(|c| c.masked), e.chosen));
        let labels: Vec<String> = (0..bins.len()).map(|v| v.to_string()).collect();
        (labels, bins.into_iter().map(|n| n as u64).collect::<Vec<u64>>())
    };
    let name = move || {
        let (labels, bins) = counts();
        let title = format!(
            "How many [MASK] tokens each of {ROLLS} rolls of {} tokens made (expected {:.2})",
            window.get(),
            window_expected().masked
        );
        describe_counts(&title, &labels, &bins, "rolls")
    };
    let rolls_table = Signal::derive(move || {
        let (labels, bins) = counts();
        counts_table("[MASK] tokens", &labels, &[("rolls".to_string(), bins)])
    });
    let mean =
        move |f: fn(&Counts) -> usize| rolls.with(|r| r.iter().map(f).sum::<usize>() as f64 / ROLLS as f64);

    view! {
        <WidgetFrame class="mlm-corruption" label="Masked-LM corruption" title="Live: BERT's 15% and the 80/10/10 rule" badge="CPU · engine::labs::masked_lm">
            <label class="bpe-corpus">"passage "
                <textarea data-name="mlm-text" rows="4" spellcheck="false" prop:value=move || text.get() on:input=on_text aria-invalid=move || error.get().is_some().to_string()></textarea>
            </label>
            <p class="field-error" data-error-for="mlm-text" role="status">{move || error.get().map(|e| format!("{e} Showing the last good passage."))}</p>
            <div class="xor-controls">
                <SignalField label="seed" name="mlm-seed" signal=seed_value check=seed />
                <button class="primary" data-name="mlm-reroll" on:click=reroll>"Re-roll"</button>
            </div>
            <p class="widget-note">"Tokens are the words between spaces ("<span data-value="mlm-n">{move || roll.with(|r| r.words.len())}</span>
                " here); a random replacement is drawn from the passage's own distinct words, and may by chance be the word itself."</p>
            <p class="mlm-legend"><span class="mlm-token masked">"[MASK]"</span>" "<span class="mlm-token random">"random"</span>" "<span class="mlm-token kept">"kept"</span>" "<span class="mlm-token">"not chosen"</span></p>
            <div class="mlm-tokens">{tokens}</div>
            <div class="table-wrap">
                <table class="bpe-table mlm-counts">
                    <thead><tr><th scope="col"><span class="visually-hidden">"kind"</span></th><th scope="col">"this roll"</th><th scope="col">"expected"</th></tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
            <h4 class="lab-subtitle">"Many rolls of a longer window"</h4>
            <div class="xor-controls">
                <SignalField label="window (tokens)" name="mlm-window" signal=window check=window_rule />
            </div>
            <dl class="bp-values">
                <div><dt>"15% of the window"</dt><dd data-value="mlm-window-share">{move || format!("{:.2}", window_expected().share)}</dd></div>
                <div><dt>"chosen"</dt><dd data-value="mlm-window-chosen">{move || window_expected().chosen}</dd></div>
                <div><dt>"expected [MASK] / random / kept"</dt><dd data-value="mlm-window-expected">{move || { let e = window_expected(); format!("{:.2} / {:.2} / {:.2}", e.masked, e.random, e.kept) }}</dd></div>
                <div><dt>{format!("mean over {ROLLS} rolls")}</dt><dd data-value="mlm-window-mean">{move || format!("{:.2} / {:.2} / {:.2}", mean(|c| c.masked), mean(|c| c.random), mean(|c| c.kept))}</dd></div>
            </dl>
            <svg class="mlm-histogram" viewBox=format!("0 0 {} {}", WHOLE_FRAME.width, WHOLE_FRAME.height) role="img" aria-label=name>
                {plot}
            </svg>
            <DataTable table=rolls_table caption="Rolls by their number of [MASK] tokens" />
            <p class="widget-note">{move || format!("[MASK] count per roll over {ROLLS} rolls of a {}-token window, from seed {}; the vertical line is the expected count.", window.get(), seed_value.get())}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_split_into_words_and_bad_ones_are_explained() {
        let words = parse_passage(DEFAULT_TEXT).unwrap_or_default();
        assert_eq!(words.len(), 46);
        let e = expected(words.len());
        assert_eq!(e.chosen, 7);
        engine::assert_close!([e.share, e.masked, e.random, e.kept], [6.9, 5.6, 0.7, 0.7], 1e-12);
        assert!(parse_passage(" \n ").unwrap_err().contains("at least one word"));
        assert!(parse_passage(&"a ".repeat(2_001)).unwrap_err().contains("2,000"));
        assert!(window_rule(0.0).is_err() && window_rule(8_193.0).is_err() && window_rule(512.0).is_ok());
        assert_eq!(vocabulary(&parse_passage("a b a c b").unwrap_or_default()), ["a", "b", "c"]);
        let roll = Roll::new(words, 6);
        assert_eq!(Counts::of(&roll.actions), Counts { chosen: 7, masked: 5, random: 1, kept: 1 });
        assert_eq!((roll.words[38].as_str(), roll.input[38].as_str()), ("model", "outside"));
        assert_eq!((roll.actions[13], roll.input[13].as_str()), (Action::Kept, "of"));
    }
}
