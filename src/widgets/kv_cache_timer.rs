//! Chapter 5's KV-cache race: the tiny GPT writes the same greedy text twice, once
//! re-reading the whole sequence at every step and once with a KV cache, and the page shows
//! what each step cost: multiply-adds counted by `engine::models::generate::Decoder`, and time
//! measured with the browser's clock. The race, its medians and its ratios are
//! `engine::labs::kv_cache_timer`'s.

use leptos::prelude::*;

use engine::labs::kv_cache_timer::{KvRace, Run};

use crate::controls::slider::{set, Slider};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};
use crate::plot::chart::{describe_series, series_table, Series};
use crate::plot::describe::DataTable;
use crate::plot::lines::{polyline, shared_max};

/// The prompt the race starts from.
pub const DEFAULT_PROMPT: &str = "Mac.\n";
/// Each run is repeated this many times; each step's time is the median over the repeats,
/// which steadies a clock that ticks in tenths of a millisecond.
pub const REPEATS: usize = 5;

#[derive(Clone, Debug, PartialEq)]
struct Race {
    runs: KvRace,
    text: String,
}

/// The widget.
#[component]
pub fn KvCacheTimer() -> impl IntoView {
    let model = use_tiny_gpt();
    let prompt = RwSignal::new(DEFAULT_PROMPT.to_string());
    let count = RwSignal::new(48.0f64);
    let race = RwSignal::new(None::<Race>);
    let message = RwSignal::new(String::new());

    let context = Signal::derive(move || match model.get() {
        ModelState::Ready(gpt) => gpt.checkpoint.model.config.context as f64,
        _ => 64.0,
    });
    // The cache helps only while the whole sequence fits in the context.
    let max_count =
        Signal::derive(move || (context.get() - prompt.with(|p| p.chars().count()) as f64).max(1.0));
    Effect::new(move |_| {
        let m = max_count.get();
        if count.get_untracked() > m {
            count.set(m);
        }
    });

    let run = move || {
        message.set(String::new());
        let gpt = match model.ready_untracked() {
            Ok(gpt) => gpt,
            Err(e) => return message.set(e),
        };
        let ids =
            match gpt.checkpoint.vocab.encode_prompt(&prompt.get_untracked()).map_err(|e| format!("{e}.")) {
                Ok(ids) => ids,
                Err(e) => return message.set(e),
            };
        let n = count.get_untracked() as usize;
        let m = &gpt.checkpoint.model;
        let mut clock = crate::browser::now_ms;
        match KvRace::run(m, &ids, n, REPEATS, &mut clock) {
            Ok(runs) => {
                let text = gpt.checkpoint.vocab.decode(&runs.cached.tokens).unwrap_or_default();
                race.set(Some(Race { runs, text }));
            }
            Err(e) => message.set(format!("{e}.")),
        }
    };

    let chart = move |pick: fn(&Run) -> Vec<f64>, what: &'static str| {
        race.get().map(|r| {
            let (a, b) = (pick(&r.runs.uncached), pick(&r.runs.cached));
            let max = shared_max(&[&a, &b]);
            // The two runs as text: value `i` belongs to generated character i + 1.
            let series: Vec<Series> = [(&a, "Without the cache"), (&b, "With the cache")]
                .map(|(v, name)| Series {
                    points: v.iter().enumerate().map(|(i, &y)| ((i + 1) as f64, y)).collect(),
                    name: name.to_string(),
                    ..Series::default()
                })
                .to_vec();
            let name = describe_series(&format!("{what} per step, with and without the cache"), &series, "generated character");
            let rows = series_table(&series, "generated character");
            let table = Signal::derive(move || rows.clone());
            view! {
                <figure class="kv-chart">
                    <svg viewBox="0 0 480 160" role="img" aria-label=name>
                        <line class="axis" x1="40" x2="470" y1="130" y2="130" />
                        <text class="tick" x="36" y="12" text-anchor="end">{format_quantity(max)}</text>
                        <text class="tick" x="36" y="133" text-anchor="end">"0"</text>
                        <polyline class="series uncached" points=polyline(&a, max, 480.0, 160.0) />
                        <polyline class="series cached" points=polyline(&b, max, 480.0, 160.0) />
                        <text class="axis-label" x="470" y="150" text-anchor="end">"generated character"</text>
                    </svg>
                    <figcaption>{what}" per step: "<span class="swatch uncached"></span>" without cache, "<span class="swatch cached"></span>" with cache"</figcaption>
                    <DataTable table=table caption=format!("{what} per generated character") />
                </figure>
            }
        })
    };

    view! {
        <WidgetFrame class="kv-timer" label="KV cache race" title="Live: the same text with and without a KV cache" badge="CPU · engine::labs::kv_cache_timer">
            <label class="prompt-input">"prompt "
                <textarea data-name="kv-prompt" rows="1" spellcheck="false" prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
            </label>
            <div class="sliders">
                <Slider label="characters" name="kv-count" value=count on_change=set(count) min=1.0 max=max_count step=1.0 format=|v| format!("{v:.0}") />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="kv-run" on:click=move |_| run()>"Generate both ways"</button>
                <span class="field-error" role="status" data-value="kv-message">{move || message.get()}</span>
            </div>
            {move || race.get().map(|Race { runs: r, text }| {
                let (ratio_work, ratio_time) = (r.work_ratio(), r.time_ratio());
                view! {
                    <pre class="gen-output" data-value="kv-text">{text}</pre>
                    <dl class="bp-values">
                        <div><dt>"same text both ways"</dt><dd data-value="kv-same">{if r.same_text() { "yes" } else { "no" }}</dd></div>
                        <div><dt>"multiply-adds without / with"</dt><dd data-value="kv-macs">{format!("{} / {} ({ratio_work:.1}×)", r.uncached.total_multiply_adds(), r.cached.total_multiply_adds())}</dd></div>
                        <div><dt>"time without / with"</dt><dd data-value="kv-time">{format!("{:.1} ms / {:.1} ms ({ratio_time:.1}×)", r.uncached.total_millis(), r.cached.total_millis())}</dd></div>
                    </dl>
                }
            })}
            {move || chart(|r| r.multiply_adds.iter().map(|&m| m as f64).collect(), "Multiply-adds")}
            {move || chart(|r| r.millis.clone(), "Milliseconds")}
            <p class="widget-note">{move || format!("Greedy decoding, so both runs must write the same characters. Times are the median of {REPEATS} runs on this device's CPU, in WebAssembly; the counts come from the engine's own tally of every matrix product and attention score. The length stops where the text would outgrow the model's {}-character context, beyond which a cache of learned positions has to be rebuilt.", context.get())}</p>
        </WidgetFrame>
    }
}

fn format_quantity(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.2}")
    }
}
