//! Chapter 6's T5 span corruption: a typed sentence (split into words at spaces) with noise
//! spans chosen as T5 chooses them, the encoder's input with a sentinel in place of each
//! span, and the decoder's target that spells the spans out. Every number comes from
//! `engine::labs::masked_lm`.

use leptos::prelude::*;

use engine::labs::masked_lm::{span_budget, span_corrupt, SpanExample};

use crate::controls::number_field::{seed, SignalField};
use crate::controls::widget_frame::WidgetFrame;

/// The sentence the widget opens with (33 words: 5 noise words in 2 spans).
pub const DEFAULT_TEXT: &str = "The encoder reads the corrupted sentence in both directions while the decoder \
    writes out only the missing spans one token at a time after the sentinel that marks each gap in the input";
/// The seed the widget opens with.
const DEFAULT_SEED: f64 = 6.0;
/// The longest sentence, in words.
const MAX_WORDS: usize = 1_000;

/// Splits a sentence into words: at least two (one kept, one in a span), at most 1,000.
pub fn parse_text(text: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    if words.len() < 2 {
        return Err("Type at least two words: one to keep and one to hide in a span.".to_string());
    }
    if words.len() > MAX_WORDS {
        return Err(format!("This text has {} words; the widget takes at most 1,000.", words.len()));
    }
    Ok(words)
}

/// Chips for a token list; sentinels get their own style and the span's colour. In the
/// target (`spans_follow`), the words after a sentinel are its span and share its colour.
fn chips(tokens: &[String], spans_follow: bool) -> impl IntoView {
    let mut span = 0usize;
    tokens
        .iter()
        .map(|t| {
            let sentinel = t.starts_with("<extra_id_");
            let class = if sentinel {
                span += 1;
                format!("t5-chip sentinel tone-{}", (span - 1) % 4)
            } else if spans_follow && span > 0 {
                format!("t5-chip noise tone-{}", (span - 1) % 4)
            } else {
                "t5-chip".to_string()
            };
            view! { <span class=class>{t.clone()}</span> }
        })
        .collect_view()
}

/// The widget.
#[component]
pub fn SpanCorruption() -> impl IntoView {
    let text = RwSignal::new(DEFAULT_TEXT.to_string());
    let error = RwSignal::new(None::<String>);
    let words = RwSignal::new(parse_text(DEFAULT_TEXT).unwrap_or_default());
    let seed_value = RwSignal::new(DEFAULT_SEED);
    let example = Memo::new(move |_| words.with(|w| span_corrupt(w, seed_value.get() as u64)));
    let on_text = move |ev| {
        let typed = event_target_value(&ev);
        match parse_text(&typed) {
            Ok(w) => {
                error.set(None);
                words.set(w);
            }
            Err(m) => error.set(Some(m)),
        }
        text.set(typed);
    };
    let reroll = move |_| seed_value.update(|s| *s = if *s >= 4_294_967_295.0 { 0.0 } else { *s + 1.0 });
    let original = move || {
        words.with(|w| {
            example.with(|ex| {
                let Some(ex) = ex else { return ().into_any() };
                w.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let span =
                            ex.spans.iter().position(|&(start, len)| (start..start + len).contains(&i));
                        let class = match span {
                            Some(k) => format!("t5-chip noise tone-{}", k % 4),
                            None => "t5-chip".to_string(),
                        };
                        view! { <span class=class>{t.clone()}</span> }
                    })
                    .collect_view()
                    .into_any()
            })
        })
    };
    let field = move |f: fn(&SpanExample) -> &Vec<String>, spans_follow: bool| {
        move || {
            example.with(|ex| {
                ex.as_ref().map(|ex| chips(f(ex), spans_follow).into_any()).unwrap_or_else(|| ().into_any())
            })
        }
    };
    let joined = move |f: fn(&SpanExample) -> &Vec<String>| {
        move || example.with(|ex| ex.as_ref().map(|ex| f(ex).join(" ")).unwrap_or_default())
    };
    let budget = move || span_budget(words.with(Vec::len));
    view! {
        <WidgetFrame class="span-corruption" label="T5 span corruption" title="Live: T5's spans, sentinels and target" badge="CPU · engine::labs::masked_lm">
            <label class="bpe-corpus">"text "
                <textarea data-name="t5-text" rows="3" spellcheck="false" prop:value=move || text.get() on:input=on_text aria-invalid=move || error.get().is_some().to_string()></textarea>
            </label>
            <p class="field-error" data-error-for="t5-text" role="status">{move || error.get().map(|e| format!("{e} Showing the last good text."))}</p>
            <div class="xor-controls">
                <SignalField label="seed" name="t5-seed" signal=seed_value check=seed />
                <button class="primary" data-name="t5-reroll" on:click=reroll>"Re-roll"</button>
            </div>
            <dl class="bp-values">
                <div><dt>"words"</dt><dd data-value="t5-n">{move || words.with(Vec::len)}</dd></div>
                <div><dt>"in spans, round(15%)"</dt><dd data-value="t5-noise">{move || budget().0}</dd></div>
                <div><dt>"spans, round(noise / 3)"</dt><dd data-value="t5-spans">{move || budget().1}</dd></div>
            </dl>
            <h4 class="lab-subtitle">"The text, spans coloured"</h4>
            <div class="t5-row">{original}</div>
            <h4 class="lab-subtitle">"Encoder input"</h4>
            <div class="t5-row" data-value="t5-input" data-text=joined(|e| &e.input)>{field(|e| &e.input, false)}</div>
            <h4 class="lab-subtitle">"Decoder target"</h4>
            <div class="t5-row" data-value="t5-target" data-text=joined(|e| &e.target)>{field(|e| &e.target, true)}</div>
            <p class="widget-note">"Words are split at spaces. As in T5's own code, the kept runs and the spans alternate starting with kept text, so the last word always falls in a span."</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_split_into_words_and_bad_ones_are_explained() {
        let words = parse_text(DEFAULT_TEXT).unwrap_or_default();
        assert_eq!(words.len(), 33);
        assert_eq!(span_budget(33), (5, 2));
        assert!(parse_text("").unwrap_err().contains("at least two words"));
        assert!(parse_text("one").is_err());
        assert!(parse_text(&"a ".repeat(1_001)).unwrap_err().contains("1,000"));
        let ex = span_corrupt(&words, 6).expect("33 words");
        assert_eq!(ex.target.join(" "), "<extra_id_0> out only the <extra_id_1> the input");
    }
}
