//! Chapter 5's KV-cache memory calculator, from `engine::models::sampling::KvCacheShape`.

use leptos::prelude::*;

use engine::models::sampling::KvCacheShape;

use crate::widgets::number_field::{is_whole_in, rule, NumberField};

/// The chapter's 70B example.
pub const SEVENTY_B: KvCacheShape =
    KvCacheShape { layers: 80, kv_heads: 8, head_dim: 128, context: 131_072, bytes_per_value: 2.0, batch: 1 };

/// Bytes in binary and decimal units, e.g. "40.00 GiB (42.95 GB)".
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {} ({:.2} GB)", UNITS[unit], bytes / 1e9)
}

fn count_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 10_000_000.0), "Use a whole number from 1 to 10,000,000.")
}

fn bytes_rule(v: f64) -> Result<(), String> {
    rule((0.125..=8.0).contains(&v), "Bytes per value: from 0.125 (1 bit) to 8 (fp64).")
}

/// The widget.
#[component]
pub fn KvCacheCalculator() -> impl IntoView {
    let shape = RwSignal::new(SEVENTY_B);
    let field = move |label: &'static str,
                      name: &'static str,
                      get: fn(&KvCacheShape) -> f64,
                      set: fn(&mut KvCacheShape, f64),
                      check: fn(f64) -> Result<(), String>| {
        view! {
            <NumberField label=label name=name value=Signal::derive(move || get(&shape.get())) on_change=Callback::new(move |v| shape.update(|s| set(s, v))) check=check />
        }
    };
    view! {
        <section class="widget kv" aria-label="KV cache memory calculator">
            <header class="widget-head">
                <h3 class="widget-title">"Live: how big is the KV cache?"</h3>
                <span class="backend-badge">"CPU · engine::models::sampling"</span>
            </header>
            <div class="xor-controls">
                {field("layers", "kv-layers", |s| s.layers as f64, |s, v| s.layers = v as u64, count_rule)}
                {field("KV heads", "kv-heads", |s| s.kv_heads as f64, |s, v| s.kv_heads = v as u64, count_rule)}
                {field("head dim", "kv-head-dim", |s| s.head_dim as f64, |s, v| s.head_dim = v as u64, count_rule)}
                {field("context", "kv-context", |s| s.context as f64, |s, v| s.context = v as u64, count_rule)}
                {field("bytes/value", "kv-bytes", |s| s.bytes_per_value, |s, v| s.bytes_per_value = v, bytes_rule)}
                {field("batch", "kv-batch", |s| s.batch as f64, |s, v| s.batch = v as u64, count_rule)}
            </div>
            <dl class="bp-values kv-results">
                <div><dt>"per token"</dt><dd data-value="kv-per-token">{move || format_bytes(shape.get().bytes_per_token())}</dd></div>
                <div><dt>"whole cache"</dt><dd data-value="kv-total">{move || format_bytes(shape.get().total_bytes())}</dd></div>
                <div><dt>"bytes"</dt><dd data-value="kv-total-bytes">{move || format!("{:.0}", shape.get().total_bytes())}</dd></div>
            </dl>
            <div class="bp-controls"><button on:click=move |_| shape.set(SEVENTY_B)>"Reset to the 70B example"</button></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_reads_as_40_gib() {
        assert_eq!(format_bytes(SEVENTY_B.total_bytes()), "40.00 GiB (42.95 GB)");
        assert_eq!(format_bytes(512.0), "512.00 B (0.00 GB)");
        assert!(count_rule(0.0).is_err() && count_rule(1.5).is_err() && count_rule(8.0).is_ok());
    }
}
