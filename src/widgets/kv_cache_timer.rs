//! Chapter 5's KV-cache race: the tiny GPT writes the same greedy text twice, once
//! re-reading the whole sequence at every step and once with a KV cache, and the page shows
//! what each step cost: multiply-adds counted by `engine::models::generate::Decoder`, and time
//! measured with the browser's clock.

use leptos::prelude::*;

use engine::core::rng::Rng;
use engine::models::generate::{Decoder, Decoding};
use engine::models::transformer::Transformer;

use crate::controls::slider::{set, Slider};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};

/// The prompt the race starts from.
pub const DEFAULT_PROMPT: &str = "Mac.\n";
/// Each run is repeated this many times; each step's time is the median over the repeats,
/// which steadies a clock that ticks in tenths of a millisecond.
pub const REPEATS: usize = 5;

/// One decoding run: the tokens it wrote and, per step, its cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub tokens: Vec<usize>,
    /// Multiply-adds counted for each step's logits.
    pub multiply_adds: Vec<u64>,
    /// Milliseconds each step took (median over the repeats).
    pub millis: Vec<f64>,
}

impl Run {
    pub fn total_multiply_adds(&self) -> u64 {
        self.multiply_adds.iter().sum()
    }
    pub fn total_millis(&self) -> f64 {
        self.millis.iter().sum()
    }
}

/// Generates `count` greedy tokens after `prompt`, with or without a cache, `repeats` times,
/// timing each step with `clock` (milliseconds).
pub fn timed_run(
    model: &Transformer,
    prompt: &[usize],
    count: usize,
    use_cache: bool,
    repeats: usize,
    clock: &mut dyn FnMut() -> f64,
) -> Result<Run, String> {
    let mut times = vec![Vec::with_capacity(repeats); count];
    let mut run = Run { tokens: vec![], multiply_adds: vec![], millis: vec![] };
    for repeat in 0..repeats.max(1) {
        let mut decoder = Decoder::new(model, prompt, use_cache).map_err(|e| format!("{e}."))?;
        let mut rng = Rng::new(0);
        let (mut tokens, mut counts) = (vec![], vec![]);
        for step in 0..count {
            let started = clock();
            let (token, _) =
                Decoding::Greedy.choose(decoder.logits(), &mut rng).map_err(|e| format!("{e}."))?;
            decoder.push(model, token).map_err(|e| format!("{e}."))?;
            times[step].push(clock() - started);
            tokens.push(token);
            counts.push(decoder.last_step_multiply_adds());
        }
        if repeat == 0 {
            run.tokens = tokens;
            run.multiply_adds = counts;
        }
    }
    run.millis = times.into_iter().map(median).collect();
    Ok(run)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// A series as SVG polyline points in a `width` × `height` box: x from 40 to width − 10, and
/// y from 8 (the value `max`) down to height − 30 (zero, where the axis is drawn).
pub fn polyline(values: &[f64], max: f64, width: f64, height: f64) -> String {
    let n = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                40.0 + (width - 50.0) * i as f64 / n as f64,
                8.0 + (height - 38.0) * (1.0 - v / max.max(1e-12))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone, Debug, PartialEq)]
struct Race {
    cached: Run,
    uncached: Run,
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
        let ModelState::Ready(gpt) = model.get_untracked() else {
            return message.set("The model is still loading.".into());
        };
        let ids =
            match gpt.checkpoint.vocab.encode_prompt(&prompt.get_untracked()).map_err(|e| format!("{e}.")) {
                Ok(ids) => ids,
                Err(e) => return message.set(e),
            };
        let n = count.get_untracked() as usize;
        let m = &gpt.checkpoint.model;
        let mut clock = crate::browser::now_ms;
        let result = timed_run(m, &ids, n, false, REPEATS, &mut clock)
            .and_then(|uncached| Ok((uncached, timed_run(m, &ids, n, true, REPEATS, &mut clock)?)));
        match result {
            Ok((uncached, cached)) => {
                let text = gpt.checkpoint.vocab.decode(&cached.tokens).unwrap_or_default();
                race.set(Some(Race { cached, uncached, text }));
            }
            Err(e) => message.set(e),
        }
    };

    let chart = move |pick: fn(&Run) -> Vec<f64>, what: &'static str| {
        race.get().map(|r| {
            let (a, b) = (pick(&r.uncached), pick(&r.cached));
            let max = a.iter().chain(&b).copied().fold(0.0, f64::max);
            view! {
                <figure class="kv-chart">
                    <svg viewBox="0 0 480 160" role="img" aria-label=format!("{what} per step, with and without the cache")>
                        <line class="axis" x1="40" x2="470" y1="130" y2="130" />
                        <text class="tick" x="36" y="12" text-anchor="end">{format_quantity(max)}</text>
                        <text class="tick" x="36" y="133" text-anchor="end">"0"</text>
                        <polyline class="series uncached" points=polyline(&a, max, 480.0, 160.0) />
                        <polyline class="series cached" points=polyline(&b, max, 480.0, 160.0) />
                        <text class="axis-label" x="470" y="150" text-anchor="end">"generated character"</text>
                    </svg>
                    <figcaption>{what}" per step: "<span class="swatch uncached"></span>" without cache, "<span class="swatch cached"></span>" with cache"</figcaption>
                </figure>
            }
        })
    };

    view! {
        <WidgetFrame class="kv-timer" label="KV cache race" title="Live: the same text with and without a KV cache" badge="CPU · engine::models::generate">
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
            {move || race.get().map(|r| {
                let ratio_work = r.uncached.total_multiply_adds() as f64 / r.cached.total_multiply_adds().max(1) as f64;
                let ratio_time = r.uncached.total_millis() / r.cached.total_millis().max(1e-9);
                view! {
                    <pre class="gen-output" data-value="kv-text">{r.text.clone()}</pre>
                    <dl class="bp-values">
                        <div><dt>"same text both ways"</dt><dd data-value="kv-same">{if r.cached.tokens == r.uncached.tokens { "yes" } else { "no" }}</dd></div>
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

#[cfg(test)]
mod tests {
    use super::*;
    use engine::models::transformer::{Activation, Norm, TransformerConfig};

    #[test]
    fn both_ways_write_the_same_text_and_the_cache_does_less_work() {
        let config = TransformerConfig {
            vocab: 7,
            context: 16,
            d_model: 8,
            n_heads: 2,
            n_layers: 2,
            d_ff: 16,
            norm: Norm::Pre,
            activation: Activation::Gelu,
            eps: 1e-5,
        };
        let model = Transformer::new(config, 3).unwrap();
        let mut t = 0.0;
        let mut clock = move || {
            t += 1.0;
            t
        };
        let uncached = timed_run(&model, &[1, 2], 10, false, 3, &mut clock).unwrap();
        let cached = timed_run(&model, &[1, 2], 10, true, 3, &mut clock).unwrap();
        assert_eq!(uncached.tokens, cached.tokens);
        assert_eq!(cached.millis, vec![1.0; 10], "the fake clock ticks once per reading");
        assert!(uncached.total_multiply_adds() > 3 * cached.total_multiply_adds());
        // Step costs: constant-ish with the cache, growing without.
        assert!(uncached.multiply_adds[9] > uncached.multiply_adds[0]);
    }

    #[test]
    fn the_polyline_spans_the_box() {
        assert_eq!(polyline(&[0.0, 1.0], 1.0, 100.0, 60.0), "40.0,30.0 90.0,8.0");
    }
}
