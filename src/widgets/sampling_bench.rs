//! Chapter 5's sampling bench: temperature, top-k and top-p over editable logits, the exact
//! distribution and the kept set, and an empirical histogram of 1,000 draws, all from
//! `engine::sampling`.

use leptos::prelude::*;

use engine::sampling::{distribution, entropy, histogram};

/// The seed's example logits.
pub const SEED_LOGITS: &str = "2.0, 1.0, 0.5";
/// Draws per press of "Sample".
pub const DRAWS: usize = 1000;

/// Parses logits typed as numbers separated by commas or spaces.
pub fn parse_logits(text: &str) -> Result<Vec<f64>, String> {
    let mut logits = Vec::new();
    for token in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        let value: f64 = token.replace('−', "-").parse().map_err(|_| format!("“{token}” is not a number."))?;
        if !value.is_finite() || value.abs() > 1e6 {
            return Err(format!("“{token}”: keep logits between −1,000,000 and 1,000,000."));
        }
        logits.push(value);
    }
    match logits.len() {
        0 => Err("Enter at least one logit, e.g. 2.0, 1.0, 0.5.".into()),
        n if n > 40 => Err(format!("{n} logits: the bench shows at most 40.")),
        _ => Ok(logits),
    }
}

/// A slider with its value shown.
#[component]
pub fn Slider(
    /// Label text.
    label: &'static str,
    /// Name for tests.
    name: &'static str,
    /// The value.
    value: RwSignal<f64>,
    /// Bounds and step.
    min: f64,
    max: Signal<f64>,
    step: f64,
    /// How the value is written beside the slider.
    format: fn(f64) -> String,
) -> impl IntoView {
    view! {
        <label class="slider">
            <span>{label}</span>
            <input type="range" data-name=name min=min max=move || max.get() step=step
                prop:value=move || value.get().to_string()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        value.set(v);
                    }
                } />
            <output data-value=name>{move || format(value.get())}</output>
        </label>
    }
}

/// The widget.
#[component]
pub fn SamplingBench() -> impl IntoView {
    let text = RwSignal::new(SEED_LOGITS.to_string());
    let temperature = RwSignal::new(1.0f64);
    let k = RwSignal::new(3.0f64);
    let p = RwSignal::new(1.0f64);
    let seed = RwSignal::new(1u64);
    let counts = RwSignal::new(None::<Vec<usize>>);

    let parsed = Memo::new(move |_| parse_logits(&text.get()));
    let last_good = StoredValue::new(parse_logits(SEED_LOGITS).unwrap_or_default());
    let logits = Memo::new(move |_| match parsed.get() {
        Ok(l) => {
            last_good.set_value(l.clone());
            l
        }
        Err(_) => last_good.get_value(),
    });
    let n_tokens = Signal::derive(move || logits.with(Vec::len) as f64);
    // k can never exceed the number of tokens; a shorter list pulls it down.
    Effect::new(move |_| {
        let n = n_tokens.get();
        if k.get_untracked() > n {
            k.set(n);
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
        let c = counts.get();
        let n = d.tempered.len();
        let width = 460.0;
        let slot = width / n as f64;
        let bar = (slot * 0.38).min(28.0);
        d.tempered
            .iter()
            .zip(&d.final_probs)
            .zip(&d.kept)
            .enumerate()
            .map(|(i, ((&t, &f), &kept))| {
                let x = 30.0 + slot * i as f64 + slot / 2.0;
                let h = |q: f64| 150.0 * q;
                let empirical = c.as_ref().map(|c| c[i] as f64 / DRAWS as f64);
                let label = format!("token {i}: {:.4} after temperature, {:.4} sampled from{}", t, f, empirical.map(|e| format!(", {e:.3} drawn")).unwrap_or_default());
                view! {
                    <g class:kept=kept tabindex="0" aria-label=label.clone()>
                        <title>{label.clone()}</title>
                        <rect class="bar-tempered" x=x - bar - 1.0 y=160.0 - h(t) width=bar height=h(t) />
                        <rect class="bar-final" x=x + 1.0 y=160.0 - h(f) width=bar height=h(f) />
                        {empirical.map(|e| view! { <line class="bar-empirical" x1=x + 1.0 x2=x + 1.0 + bar y1=160.0 - h(e) y2=160.0 - h(e) /> })}
                        <text class="tick" x=x y="175" text-anchor="middle">{i.to_string()}</text>
                        <text class="bar-value" x=x + 1.0 + bar / 2.0 y=156.0 - h(f) text-anchor="middle">{if f > 0.0 { format!("{f:.2}") } else { String::new() }}</text>
                    </g>
                }
            })
            .collect_view()
    };

    view! {
        <section class="widget sampling" aria-label="Sampling bench">
            <header class="widget-head">
                <h3 class="widget-title">"Live: temperature, top-k and top-p"</h3>
                <span class="backend-badge">"CPU · engine::sampling"</span>
            </header>
            <label class="logits-input">"logits "
                <input type="text" data-name="logits" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </label>
            <span class="field-error" role="status" data-error-for="logits">{move || parsed.get().err().map(|e| format!("{e} Showing the last good logits."))}</span>
            <div class="sliders">
                <Slider label="temperature T" name="temperature" value=temperature min=0.05 max=Signal::derive(|| 3.0) step=0.05 format=|v| format!("{v:.2}") />
                <Slider label="top-k" name="top-k" value=k min=1.0 max=n_tokens step=1.0 format=|v| format!("{v:.0}") />
                <Slider label="top-p" name="top-p" value=p min=0.05 max=Signal::derive(|| 1.0) step=0.01 format=|v| format!("{v:.2}") />
            </div>
            <svg class="sampling-chart" viewBox="0 0 500 185" role="img" aria-label="Probabilities of each token">
                <line class="axis" x1="30" x2="490" y1="160" y2="160" />
                <text class="tick" x="24" y="14" text-anchor="end">"1"</text>
                <text class="tick" x="24" y="163" text-anchor="end">"0"</text>
                {bars}
            </svg>
            <p class="widget-note">"Faint bars: softmax(z / T). Solid bars: what is actually sampled from, after top-k and top-p (the kept tokens are outlined) and renormalizing. Short thick ticks: the share of 1,000 draws."</p>
            <dl class="bp-values">
                <div><dt>"kept"</dt><dd data-value="kept">{move || dist.get().kept.iter().filter(|&&k| k).count()}</dd></div>
                <div><dt>"Σ p"</dt><dd data-value="sum">{move || format!("{:.6}", dist.get().final_probs.iter().sum::<f64>())}</dd></div>
                <div><dt>"entropy (nats)"</dt><dd data-value="entropy">{move || format!("{:.4}", entropy(&dist.get().final_probs))}</dd></div>
                <div><dt>"p after T"</dt><dd data-value="tempered">{move || format!("{:.4?}", dist.get().tempered)}</dd></div>
                <div><dt>"p sampled"</dt><dd data-value="final">{move || format!("{:.4?}", dist.get().final_probs)}</dd></div>
            </dl>
            <div class="bp-controls">
                <button class="primary" on:click=move |_| {
                    let s = seed.get_untracked();
                    counts.set(Some(histogram(&dist.get_untracked().final_probs, DRAWS, s)));
                    seed.set(s + 1);
                }>"Sample 1,000 times"</button>
                <button on:click=move |_| { text.set(SEED_LOGITS.into()); temperature.set(1.0); k.set(3.0); p.set(1.0); }>"Reset"</button>
                <span data-value="counts">{move || counts.get().map(|c| format!("counts {c:?}")).unwrap_or_default()}</span>
            </div>
        </section>
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
