//! Chapter 5's KV-cache memory calculator, from `engine::models::sampling::KvCacheShape`.

use leptos::prelude::*;

use engine::models::sampling::KvCacheShape;

use crate::controls::number_field::{is_whole_in, rule, ConfigField};
use crate::controls::widget_frame::WidgetFrame;

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
    view! {
        <WidgetFrame class="kv" label="KV cache memory calculator" title="Live: how big is the KV cache?" badge="CPU · engine::models::sampling">
            <div class="xor-controls">
                <ConfigField label="layers" name="kv-layers" config=shape get=|s| s.layers as f64 set=|s, v| s.layers = v as u64 check=count_rule />
                <ConfigField label="KV heads" name="kv-heads" config=shape get=|s| s.kv_heads as f64 set=|s, v| s.kv_heads = v as u64 check=count_rule />
                <ConfigField label="head dim" name="kv-head-dim" config=shape get=|s| s.head_dim as f64 set=|s, v| s.head_dim = v as u64 check=count_rule />
                <ConfigField label="context" name="kv-context" config=shape get=|s| s.context as f64 set=|s, v| s.context = v as u64 check=count_rule />
                <ConfigField label="bytes/value" name="kv-bytes" config=shape get=|s| s.bytes_per_value set=|s, v| s.bytes_per_value = v check=bytes_rule />
                <ConfigField label="batch" name="kv-batch" config=shape get=|s| s.batch as f64 set=|s, v| s.batch = v as u64 check=count_rule />
            </div>
            <dl class="bp-values kv-results">
                <div><dt>"per token"</dt><dd data-value="kv-per-token">{move || format_bytes(shape.get().bytes_per_token())}</dd></div>
                <div><dt>"whole cache"</dt><dd data-value="kv-total">{move || format_bytes(shape.get().total_bytes())}</dd></div>
                <div><dt>"bytes"</dt><dd data-value="kv-total-bytes">{move || format!("{:.0}", shape.get().total_bytes())}</dd></div>
            </dl>
            <div class="bp-controls"><button on:click=move |_| shape.set(SEVENTY_B)>"Reset to the 70B example"</button></div>
        </WidgetFrame>
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
