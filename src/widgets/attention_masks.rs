//! Chapter 6's attention masks: a typed sentence, split into words at spaces, under BERT's
//! bidirectional mask and GPT's causal mask side by side, with who sees whom and the number of
//! query-key pairs each mask lets through, for the sentence and for any length. Every number
//! comes from `engine::labs::masked_lm`.

use leptos::prelude::*;

use engine::labs::masked_lm::MaskKind;

use crate::controls::number_field::{is_whole_in, rule, with_commas, SignalField};
use crate::controls::widget_frame::WidgetFrame;

/// The sentence the widget opens with.
pub const DEFAULT_SENTENCE: &str = "the cat sat on the mat";
/// The longest sentence the matrices show, in words.
pub const MAX_WORDS: usize = 16;
/// The length the pair counts open with: the chapter's 512-token window.
const DEFAULT_T: f64 = 512.0;

/// Splits a sentence into words at whitespace: at least one, at most [`MAX_WORDS`].
pub fn parse_sentence(text: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return Err("Type at least one word.".to_string());
    }
    if words.len() > MAX_WORDS {
        return Err(format!(
            "This sentence has {} words; the matrices show at most {MAX_WORDS}.",
            words.len()
        ));
    }
    Ok(words)
}

fn length_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 1_000_000_000.0), "Use a whole number of tokens from 1 to 1,000,000,000.")
}

fn slug(kind: MaskKind) -> &'static str {
    match kind {
        MaskKind::Bidirectional => "bidirectional",
        MaskKind::Causal => "causal",
    }
}

/// One mask: its matrix over the sentence, who the chosen query sees, and its pair count.
#[component]
fn MaskPanel(kind: MaskKind, words: RwSignal<Vec<String>>, query: RwSignal<usize>) -> impl IntoView {
    let name = slug(kind);
    let title = match kind {
        MaskKind::Bidirectional => "BERT: bidirectional",
        MaskKind::Causal => "GPT: causal",
    };
    let matrix = move || {
        let words = words.get();
        let q = query.get();
        let t = words.len();
        let header =
            (0..t).map(|j| view! { <th scope="col" title=words[j].clone()>{j + 1}</th> }).collect_view();
        let rows = (0..t)
            .map(|i| {
                let cells = (0..t)
                    .map(|j| {
                        let on = kind.allows(i, j);
                        view! { <td class:on=on>{if on { "1" } else { "0" }}</td> }
                    })
                    .collect_view();
                let label = format!("{} {}", i + 1, words[i]);
                view! {
                    <tr class:picked=i == q>
                        <th scope="row"><button class="am-query" data-query=i on:click=move |_| query.set(i)>{label}</button></th>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! { <thead><tr><th class="am-corner">"query ╲ key"</th>{header}</tr></thead><tbody>{rows}</tbody> }
    };
    let sees = move || {
        words.with(|words| {
            let q = query.get().min(words.len().saturating_sub(1));
            let seen = (0..words.len()).filter(|&j| kind.allows(q, j)).count();
            let chips = words
                .iter()
                .enumerate()
                .map(|(j, w)| view! { <span class="am-word" class:seen=kind.allows(q, j)>{w.clone()}</span> })
                .collect_view();
            view! {
                <p class="am-sees">
                    "“"{words.get(q).cloned().unwrap_or_default()}"” (query "{q + 1}") sees "
                    <strong data-value=format!("am-sees-{name}")>{seen}</strong>" of "{words.len()}" words:"
                </p>
                <div class="am-words">{chips}</div>
            }
        })
    };
    let pairs = move || kind.attended_pairs(words.with(|w| w.len()) as u64);
    view! {
        <div class="am-panel" data-mask=name>
            <h4 class="lab-subtitle">{title}</h4>
            <div class="table-wrap"><table class="am-matrix">{matrix}</table></div>
            <p class="am-count">"pairs attended: "<strong data-value=format!("am-pairs-{name}")>{move || with_commas(pairs())}</strong>
                " of "{move || with_commas(words.with(|w| (w.len() * w.len()) as u64))}</p>
            {sees}
        </div>
    }
}

/// The widget.
#[component]
pub fn AttentionMasks() -> impl IntoView {
    let text = RwSignal::new(DEFAULT_SENTENCE.to_string());
    let words = RwSignal::new(parse_sentence(DEFAULT_SENTENCE).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let query = RwSignal::new(2usize);
    let length = RwSignal::new(DEFAULT_T);
    let on_text = move |ev| {
        let typed = event_target_value(&ev);
        match parse_sentence(&typed) {
            Ok(w) => {
                error.set(None);
                query.update(|q| *q = (*q).min(w.len() - 1));
                words.set(w);
            }
            Err(m) => error.set(Some(m)),
        }
        text.set(typed);
    };
    let t = move || length.get() as u64;
    let both = move || MaskKind::Bidirectional.attended_pairs(t());
    let causal = move || MaskKind::Causal.attended_pairs(t());
    view! {
        <WidgetFrame class="attention-masks" label="Attention masks" title="Live: who sees whom under each mask" badge="CPU · engine::labs::masked_lm">
            <label class="am-sentence">"sentence "
                <input type="text" data-name="am-text" spellcheck="false" prop:value=move || text.get() on:input=on_text aria-invalid=move || error.get().is_some().to_string() />
            </label>
            <p class="field-error" data-error-for="am-text" role="status">{move || error.get().map(|e| format!("{e} Showing the last good sentence."))}</p>
            <p class="widget-note">"The sentence is split into words at spaces, one token per word ("<span data-value="am-t">{move || words.with(Vec::len)}</span>" here). Click a word on the left to pick the query."</p>
            <div class="am-panels">
                <MaskPanel kind=MaskKind::Bidirectional words query />
                <MaskPanel kind=MaskKind::Causal words query />
            </div>
            <h4 class="lab-subtitle">"Pairs for a sequence of T tokens"</h4>
            <div class="xor-controls">
                <SignalField label="T" name="am-length" signal=length check=length_rule />
            </div>
            <dl class="bp-values">
                <div><dt>"bidirectional, T²"</dt><dd data-value="am-length-bidirectional" data-number=move || both().to_string()>{move || with_commas(both())}</dd></div>
                <div><dt>"causal, T(T+1)/2"</dt><dd data-value="am-length-causal" data-number=move || causal().to_string()>{move || with_commas(causal())}</dd></div>
                <div><dt>"causal share"</dt><dd data-value="am-length-share">{move || format!("{:.5}", causal() as f64 / both() as f64)}</dd></div>
            </dl>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_into_words_and_bad_ones_are_explained() {
        assert_eq!(parse_sentence(DEFAULT_SENTENCE).map(|w| w.len()), Ok(6));
        assert!(parse_sentence("   ").unwrap_err().contains("at least one word"));
        assert!(parse_sentence(&"a ".repeat(17)).unwrap_err().contains("at most 16"));
        assert!(length_rule(0.0).is_err() && length_rule(2.5).is_err() && length_rule(512.0).is_ok());
        assert_eq!(with_commas(131_328), "131,328");
        assert_eq!(with_commas(262_144), "262,144");
        assert_eq!(with_commas(999), "999");
        assert_eq!(with_commas(1_000_000), "1,000,000");
    }
}
