//! Chapter 2's transformer, traced live: type a sentence of up to three words, choose the word
//! that follows it, flip the causal mask, the √d_k scaling and the place of layer norm, and
//! follow every matrix that `engine::labs::transformer_trace` computes, down to the loss.

use leptos::prelude::*;

use engine::labs::transformer_trace::{
    parse_sentence, trace, word_id, Columns, NormPlacement, Trace, TraceOptions, VOCABULARY,
};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::heatmap::MatrixView;

/// The chapter's sentence.
pub const DEFAULT_SENTENCE: &str = "the cat sat";
/// The word after it, which the last position must predict.
pub const DEFAULT_NEXT: &str = "on";
/// The chapter prints four decimals; the page does too.
const DECIMALS: usize = 4;

/// Reads the reader's two boxes: the sentence's word ids, and the id of the word that follows
/// it (`None` when that box is empty: the last position then has nothing to predict).
pub fn read_input(sentence: &str, next: &str) -> Result<(Vec<usize>, Option<usize>), String> {
    let tokens = parse_sentence(sentence)?;
    let next = if next.trim().is_empty() {
        None
    } else {
        Some(word_id(next).map_err(|e| format!("Next word: {e}"))?)
    };
    Ok((tokens, next))
}

/// The word with id `id`, or "?" for an id outside the vocabulary.
fn word(id: usize) -> String {
    VOCABULARY.get(id).copied().unwrap_or("?").to_string()
}

/// Each step's matrix, labelled and captioned.
fn steps_view(trace: &Trace) -> impl IntoView {
    let words: Vec<String> = trace.tokens.iter().map(|&id| word(id)).collect();
    let vocabulary: Vec<String> = VOCABULARY.iter().map(|w| w.to_string()).collect();
    trace
        .steps()
        .into_iter()
        .map(|step| {
            let [rows, cols] = step.matrix.shape[..] else { return ().into_any() };
            let note = format!("{}\u{a0}· {rows}\u{a0}×\u{a0}{cols}", step.what);
            let heat = matches!(step.key, "scores" | "scaled" | "masked" | "weights" | "logits" | "probs");
            let row_sums = matches!(step.key, "weights" | "probs");
            let col_labels = if step.columns == Columns::Vocabulary { vocabulary.clone() } else { vec![] };
            // Matrices wider than the model width get a row of the grid to themselves.
            let class = if cols > 4 { "trace-step wide" } else { "trace-step" };
            view! {
                <div class=class data-step=step.key>
                    <MatrixView title=step.symbol.to_string() note=note matrix=step.matrix.clone()
                        labels=words.clone() key_columns={step.columns == Columns::Positions}
                        col_labels=col_labels heat=heat row_sums=row_sums decimals=DECIMALS />
                </div>
            }
            .into_any()
        })
        .collect_view()
}

/// The loss at each position, and their mean.
fn losses_view(trace: &Trace) -> impl IntoView {
    let rows = trace
        .targets
        .iter()
        .enumerate()
        .map(|(t, target)| {
            let context = trace.tokens[..=t].iter().map(|&id| word(id)).collect::<Vec<_>>().join(" ");
            let (target_text, p_text, loss_text) = match (target, trace.losses.get(t).copied().flatten()) {
                (Some(y), Some(loss)) => {
                    (word(*y), format!("{:.4}", trace.probs.at(t, *y)), format!("{loss:.4}"))
                }
                _ => ("none given".to_string(), "—".to_string(), "—".to_string()),
            };
            view! {
                <tr>
                    <td>{t}</td><td>{context}</td><td>{target_text}</td><td>{p_text}</td>
                    <td data-value=format!("trace-loss-{t}")>{loss_text}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap trace-losses">
            <table>
                <thead><tr><th>"position"</th><th>"context"</th><th>"target"</th><th>"p(target)"</th><th>"−ln p"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

impl Choosable for NormPlacement {
    fn all() -> &'static [Self] {
        &[NormPlacement::Post, NormPlacement::Pre]
    }
    fn value(self) -> &'static str {
        match self {
            NormPlacement::Post => "post",
            NormPlacement::Pre => "pre",
        }
    }
    fn label(self) -> &'static str {
        match self {
            NormPlacement::Post => "after each sublayer (post-norm)",
            NormPlacement::Pre => "before each sublayer (pre-norm)",
        }
    }
}

/// The widget.
#[component]
pub fn TransformerTrace() -> impl IntoView {
    let sentence = RwSignal::new(DEFAULT_SENTENCE.to_string());
    let next = RwSignal::new(DEFAULT_NEXT.to_string());
    let causal = RwSignal::new(true);
    let scale = RwSignal::new(true);
    let placement = RwSignal::new(NormPlacement::Post);

    // Which box holds the problem, to mark it.
    let sentence_bad = Memo::new(move |_| parse_sentence(&sentence.get()).is_err());
    let next_bad = Memo::new(move |_| {
        let text = next.get();
        !text.trim().is_empty() && word_id(&text).is_err()
    });
    let result = Memo::new(move |_| {
        let (tokens, last_target) = read_input(&sentence.get(), &next.get())?;
        let options = TraceOptions { causal: causal.get(), scale: scale.get(), norm: placement.get() };
        trace(&tokens, last_target, &options).map_err(|e| e.to_string())
    });
    // Keep showing the last good trace while the reader's input is broken.
    let last_good = StoredValue::new(None::<Trace>);
    let shown = Memo::new(move |_| {
        if let Ok(trace) = result.get() {
            last_good.set_value(Some(trace));
        }
        last_good.get_value()
    });

    let reset = move |_| {
        sentence.set(DEFAULT_SENTENCE.into());
        next.set(DEFAULT_NEXT.into());
        causal.set(true);
        scale.set(true);
        placement.set(NormPlacement::Post);
    };

    view! {
        <WidgetFrame class="transformer-trace" label="The transformer layer, traced" title="Live: one transformer layer, every matrix" badge="CPU · engine::labs::transformer_trace">
            <div class="trace-inputs">
                <label>"sentence "
                    <input type="text" data-name="trace-sentence" spellcheck="false" autocomplete="off"
                        class:invalid=move || sentence_bad.get() aria-invalid=move || sentence_bad.get().to_string()
                        prop:value=move || sentence.get() on:input=move |ev| sentence.set(event_target_value(&ev)) />
                </label>
                <label>"next word "
                    <input type="text" data-name="trace-next" spellcheck="false" autocomplete="off" placeholder="none"
                        class:invalid=move || next_bad.get() aria-invalid=move || next_bad.get().to_string()
                        prop:value=move || next.get() on:input=move |ev| next.set(event_target_value(&ev)) />
                </label>
            </div>
            <p class="widget-note">{format!("Words: {}. Up to three, one per row of P. The next word is what the last position must predict; leave it empty for no target there.", VOCABULARY.join(", "))}</p>
            <div class="toggles">
                <label><input type="checkbox" data-name="trace-causal" prop:checked=move || causal.get() on:change=move |ev| causal.set(event_target_checked(&ev)) />" causal mask"</label>
                <label><input type="checkbox" data-name="trace-scale" prop:checked=move || scale.get() on:change=move |ev| scale.set(event_target_checked(&ev)) />" divide by √dₖ"</label>
                <Choice label="layer norm" name="trace-norm" value=placement on_change=Callback::new(move |p| placement.set(p)) />
                <button on:click=reset>"Reset"</button>
            </div>
            <p class="field-error" role="status" data-error-for="trace">
                {move || result.get().err().map(|e| format!("{e} Showing the last good trace."))}
            </p>
            {move || match shown.get() {
                None => view! { <p>"Type a sentence to begin."</p> }.into_any(),
                Some(trace) => {
                    let mean = match trace.mean_loss {
                        Some(loss) => format!("{loss:.4}"),
                        None => "—".to_string(),
                    };
                    let counted = trace.losses.iter().flatten().count();
                    view! {
                        <p class="trace-summary">"mean loss "
                            <strong data-value="trace-mean-loss">{mean}</strong>
                            {format!(" over {counted} prediction{}", if counted == 1 { "" } else { "s" })}
                        </p>
                        <div class="trace-steps">{steps_view(&trace)}</div>
                        {losses_view(&trace)}
                    }.into_any()
                }
            }}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_chapters_example() {
        let (tokens, next) = read_input(DEFAULT_SENTENCE, DEFAULT_NEXT).unwrap();
        assert_eq!((tokens.as_slice(), next), (&[0, 1, 2][..], Some(3)));
        let t = trace(&tokens, next, &TraceOptions::default()).unwrap();
        assert_eq!(format!("{:.4}", t.mean_loss.unwrap()), "2.4224");
    }

    #[test]
    fn bad_input_is_explained() {
        assert_eq!(read_input("the cat", "  "), Ok((vec![0, 1], None)));
        assert!(read_input("the dog", "on").unwrap_err().contains("“dog”"));
        assert!(read_input("the cat", "sofa").unwrap_err().starts_with("Next word: “sofa”"));
        assert!(read_input("", "on").unwrap_err().starts_with("Type a sentence"));
        assert!(read_input("the cat sat on", "mat").unwrap_err().contains("only 3 positions"));
        assert_eq!(word(7), "?");
    }
}
