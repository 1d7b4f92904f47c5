//! Chapter 5's sampling bench: temperature, top-k and top-p over editable logits, the exact
//! distribution and the kept set, and an empirical histogram of 1,000 draws, all from
//! `engine::models::sampling`.

use leptos::prelude::*;

use engine::models::generate::Decoder;
use engine::models::sampling::{distribution, entropy, histogram, shares};
use engine::models::vocab::visible;

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_list::{parse_list, ListRule};
use crate::controls::slider::{set, Slider};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};
use crate::plot::bars::paired_bars;
use crate::plot::describe::{describe_extremes, number, DataTable, TableText};

/// The seed's example logits.
pub const SEED_LOGITS: &str = "2.0, 1.0, 0.5";
/// Draws per press of "Sample".
pub const DRAWS: usize = 1000;
/// The prompt whose next character the tiny GPT scores.
pub const GPT_PROMPT: &str = "Ham.\nTo be, or not to b";
/// Bars drawn at most; with more tokens the most probable after temperature are shown.
pub const MAX_BARS: usize = 24;

/// The logits the bench takes: up to 40, each at most a million in size.
const LOGITS: ListRule = ListRule {
    noun: "logit",
    plural: "logits",
    example: "2.0, 1.0, 0.5",
    bound: 1e6,
    range: "−1,000,000 and 1,000,000",
    max_len: 40,
    too_many: "the bench shows at most 40",
};

/// Parses logits typed as numbers separated by commas or spaces.
pub fn parse_logits(text: &str) -> Result<Vec<f64>, String> {
    parse_list(text, &LOGITS)
}

/// Where the logits come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Typed,
    TinyGpt,
}

impl Choosable for Source {
    fn all() -> &'static [Self] {
        &[Source::Typed, Source::TinyGpt]
    }
    fn value(self) -> &'static str {
        match self {
            Source::Typed => "typed",
            Source::TinyGpt => "gpt",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Source::Typed => "numbers you type",
            Source::TinyGpt => "the tiny GPT, after a prompt",
        }
    }
}

/// What computes the bench's numbers for a source of logits.
fn badge(source: Source) -> &'static str {
    match source {
        Source::TinyGpt => "CPU · engine::models::generate + engine::models::sampling",
        Source::Typed => "CPU · engine::models::sampling",
    }
}

/// The widget.
#[component]
pub fn SamplingBench() -> impl IntoView {
    let source = RwSignal::new(Source::Typed);
    let text = RwSignal::new(SEED_LOGITS.to_string());
    let prompt = RwSignal::new(GPT_PROMPT.to_string());
    let temperature = RwSignal::new(1.0f64);
    let k = RwSignal::new(3.0f64);
    let p = RwSignal::new(1.0f64);
    let seed = RwSignal::new(1u64);
    let counts = RwSignal::new(None::<Vec<usize>>);
    let model = use_tiny_gpt();

    // The logits and a label per token, or why they cannot be had.
    let parsed = Memo::new(move |_| match source.get() {
        Source::Typed => parse_logits(&text.get()).map(|l| {
            let labels = (0..l.len()).map(|i| i.to_string()).collect();
            (l, labels)
        }),
        Source::TinyGpt => match model.get() {
            ModelState::Loading => Err("The tiny GPT is still downloading.".to_string()),
            ModelState::Failed(e) => Err(e),
            ModelState::Ready(gpt) => {
                let vocab = &gpt.checkpoint.vocab;
                vocab
                    .encode_prompt(&prompt.get())
                    .map_err(|e| format!("{e}."))
                    .and_then(|ids| {
                        Decoder::new(&gpt.checkpoint.model, &ids, false).map_err(|e| format!("{e}."))
                    })
                    .map(|d| {
                        let logits = d.logits().iter().map(|&v| v as f64).collect();
                        (logits, vocab.chars().iter().map(|&c| visible(c)).collect())
                    })
            }
        },
    });
    let last_good = StoredValue::new(
        parse_logits(SEED_LOGITS).map(|l| (l, vec!["0".into(), "1".into(), "2".into()])).unwrap_or_default(),
    );
    let current = Memo::new(move |_| match parsed.get() {
        Ok(v) => {
            last_good.set_value(v.clone());
            v
        }
        Err(_) => last_good.get_value(),
    });
    let logits = Memo::new(move |_| current.with(|c| c.0.clone()));
    let n_tokens = Signal::derive(move || logits.with(Vec::len) as f64);
    // k can never exceed the number of tokens; a shorter list pulls it down.
    Effect::new(move |_| {
        let n = n_tokens.get();
        if k.get_untracked() > n {
            k.set(n);
        }
    });
    // Switching to the model starts with every filter off.
    Effect::new(move |first: Option<()>| {
        let s = source.get();
        if first.is_some() && s == Source::TinyGpt {
            k.set(n_tokens.get_untracked().max(1.0));
            p.set(1.0);
        }
    });
    let dist = Memo::new(move |_| distribution(&logits.get(), temperature.get(), k.get() as usize, p.get()));
    // New settings invalidate the old histogram.
    Effect::new(move |_| {
        dist.track();
        counts.set(None);
    });

    let bars = move || {
        let d = dist.get();
        let drawn = counts.get().map(|c| shares(&c, DRAWS));
        let labels = current.with(|c| c.1.clone());
        let shown = d.most_probable(MAX_BARS);
        let values: Vec<_> =
            shown.iter().map(|&i| (d.tempered[i], d.final_probs[i], drawn.as_ref().map(|e| e[i]))).collect();
        let write_values = shown.len() <= 12;
        paired_bars(&values)
            .into_iter()
            .zip(shown)
            .map(|(b, i)| {
                let (t, f, kept) = (d.tempered[i], d.final_probs[i], d.kept[i]);
                let empirical = drawn.as_ref().map(|e| e[i]);
                let name = labels.get(i).cloned().unwrap_or_default();
                let label = format!("token {name}: {:.4} after temperature, {:.4} sampled from{}", t, f, empirical.map(|e| format!(", {e:.3} drawn")).unwrap_or_default());
                view! {
                    <g class:kept=kept tabindex="0" aria-label=label.clone()>
                        <title>{label.clone()}</title>
                        <rect class="bar-tempered" x=b.left.x y=b.left.y width=b.left.width height=b.left.height />
                        <rect class="bar-final" x=b.right.x y=b.right.y width=b.right.width height=b.right.height />
                        {b.tick.map(|(y, x1, x2)| view! { <line class="bar-empirical" x1=x1 x2=x2 y1=y y2=y /> })}
                        <text class="tick" x=b.x y="175" text-anchor="middle">{name}</text>
                        <text class="bar-value" x=b.right.x + b.right.width / 2.0 y=b.value_y text-anchor="middle">{if f >= 0.005 && write_values { format!("{f:.2}") } else { String::new() }}</text>
                    </g>
                }
            })
            .collect_view()
    };
    // The bars as text: the drawn tokens' sampled probabilities, and all three numbers per token.
    let chart_name = move || {
        let d = dist.get();
        let shown = d.most_probable(MAX_BARS);
        let labels: Vec<String> = current.with(|c| {
            shown.iter().map(|&i| format!("token {}", c.1.get(i).cloned().unwrap_or_default())).collect()
        });
        let sampled: Vec<f64> = shown.iter().map(|&i| d.final_probs[i]).collect();
        let title = format!(
            "Probability of sampling each of the {} most probable of {} tokens",
            shown.len(),
            d.tempered.len()
        );
        format!(
            "{} {} kept by top-k and top-p.",
            describe_extremes(&title, &labels, &sampled),
            d.kept_count()
        )
    };
    let chart_table = Signal::derive(move || {
        let d = dist.get();
        let drawn = counts.get().map(|c| shares(&c, DRAWS));
        let rows = current.with(|c| {
            d.most_probable(MAX_BARS)
                .into_iter()
                .map(|i| {
                    let share = drawn.as_ref().map_or("–".to_string(), |e| number(e[i]));
                    vec![
                        c.1.get(i).cloned().unwrap_or_default(),
                        number(d.tempered[i]),
                        number(d.final_probs[i]),
                        share,
                    ]
                })
                .collect()
        });
        let headers =
            ["token", "after temperature", "sampled from", "share of draws"].map(String::from).to_vec();
        TableText { headers, rows }
    });
    let hidden_note = move || {
        let d = dist.get();
        let shown = d.most_probable(MAX_BARS);
        (shown.len() < d.tempered.len()).then(|| {
            let rest = d.mass_outside(&shown);
            format!("Showing the {} most probable of {} characters; the other {} hold {:.4} of the sampled probability.", shown.len(), d.tempered.len(), d.tempered.len() - shown.len(), rest)
        })
    };

    view! {
        <WidgetFrame class="sampling" label="Sampling bench" title="Live: temperature, top-k and top-p" badge=Signal::derive(move || badge(source.get()).to_string())>
            <Choice label="logits from" name="sampling-source" value=source on_change=Callback::new(move |s| source.set(s)) />
            <Show when=move || source.get() == Source::Typed>
                <label class="logits-input">"logits "
                    <input type="text" data-name="logits" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
                </label>
            </Show>
            <Show when=move || source.get() == Source::TinyGpt>
                <label class="prompt-input">"prompt "
                    <textarea data-name="sampling-prompt" rows="2" spellcheck="false" prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
                </label>
                <p class="widget-note" data-value="sampling-model">{move || match model.get() { ModelState::Ready(gpt) => format!("Next-character scores from {}.", gpt.origin.describe()), ModelState::Loading => "Downloading the tiny GPT…".into(), ModelState::Failed(e) => e }}</p>
            </Show>
            <span class="field-error" role="status" data-error-for="logits">{move || parsed.get().err().map(|e| format!("{e} Showing the last good logits."))}</span>
            <div class="sliders">
                <Slider label="temperature T" name="temperature" value=temperature on_change=set(temperature) min=0.05 max=Signal::derive(|| 3.0) step=0.05 format=|v| format!("{v:.2}") />
                <Slider label="top-k" name="top-k" value=k on_change=set(k) min=1.0 max=n_tokens step=1.0 format=|v| format!("{v:.0}") />
                <Slider label="top-p" name="top-p" value=p on_change=set(p) min=0.05 max=Signal::derive(|| 1.0) step=0.01 format=|v| format!("{v:.2}") />
            </div>
            <svg class="sampling-chart" viewBox="0 0 500 185" role="img" aria-label=chart_name>
                <line class="axis" x1="30" x2="490" y1="160" y2="160" />
                <text class="tick" x="24" y="14" text-anchor="end">"1"</text>
                <text class="tick" x="24" y="163" text-anchor="end">"0"</text>
                {bars}
            </svg>
            <p class="widget-note">"Faint bars: softmax(z / T). Solid bars: what is actually sampled from, after top-k and top-p (the kept tokens are outlined) and renormalizing. Short thick ticks: the share of 1,000 draws."</p>
            <DataTable table=chart_table caption="Each drawn token's probabilities" />
            <p class="widget-note" data-value="hidden">{hidden_note}</p>
            <dl class="bp-values">
                <div><dt>"kept"</dt><dd data-value="kept">{move || dist.get().kept_count()}</dd></div>
                <div><dt>"Σ p"</dt><dd data-value="sum">{move || format!("{:.6}", dist.get().total())}</dd></div>
                <div><dt>"entropy (nats)"</dt><dd data-value="entropy">{move || format!("{:.4}", entropy(&dist.get().final_probs))}</dd></div>
            </dl>
            <details class="all-probs" prop:open=move || logits.with(Vec::len) <= 12>
                <summary>{move || format!("All {} probabilities", logits.with(Vec::len))}</summary>
                <dl class="bp-values">
                    <div><dt>"p after T"</dt><dd data-value="tempered">{move || format!("{:.4?}", dist.get().tempered)}</dd></div>
                    <div><dt>"p sampled"</dt><dd data-value="final">{move || format!("{:.4?}", dist.get().final_probs)}</dd></div>
                </dl>
            </details>
            <div class="bp-controls">
                <button class="primary" on:click=move |_| {
                    let s = seed.get_untracked();
                    counts.set(Some(histogram(&dist.get_untracked().final_probs, DRAWS, s)));
                    seed.set(s + 1);
                }>"Sample 1,000 times"</button>
                <button on:click=move |_| { source.set(Source::Typed); text.set(SEED_LOGITS.into()); temperature.set(1.0); k.set(3.0); p.set(1.0); }>"Reset"</button>
                <span data-value="counts">{move || counts.get().map(|c| format!("counts {c:?}")).unwrap_or_default()}</span>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_parse_or_explain() {
        assert_eq!(parse_logits("2.0, 1.0, 0.5"), Ok(vec![2.0, 1.0, 0.5]));
        assert_eq!(parse_logits(" -1 −2 "), Ok(vec![-1.0, -2.0]));
        assert!(parse_logits("").unwrap_err().contains("at least one"));
        assert!(parse_logits("1, x").unwrap_err().contains("“x”"));
        assert!(parse_logits("1e400").is_err());
        assert!(parse_logits("NaN").is_err());
        assert!(parse_logits(&"1 ".repeat(41)).unwrap_err().contains("41"));
    }
}
