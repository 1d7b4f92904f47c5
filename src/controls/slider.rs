//! The one range slider: a label, the slider, and the value written beside it.

use leptos::prelude::*;

/// How a slider writes its value when the widget gives no format: in scientific notation on a
/// log scale or for tiny values, else with four decimals.
pub fn default_readout(v: f64, log: bool) -> String {
    if log || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
    }
}

/// Where the slider's thumb sits for `value`: the value itself, or its base-10 logarithm on a
/// log scale.
pub fn position(value: f64, log: bool) -> f64 {
    if log {
        libm::log10(value)
    } else {
        value
    }
}

/// The value at a thumb position the browser reports, kept within the slider's bounds.
pub fn value_at(position: f64, min: f64, max: f64, log: bool) -> f64 {
    let p = position.clamp(min, max);
    if log {
        libm::pow(10.0, p)
    } else {
        p
    }
}

/// A range slider with its value written beside it. With `log`, the slider moves the value's
/// base-10 logarithm between `min` and `max`, so 10⁻⁴ to 10 is one smooth sweep.
#[component]
pub fn Slider(
    /// Label text.
    label: &'static str,
    /// Name for tests: the slider's `data-name` and its readout's `data-value`.
    #[prop(into)]
    name: String,
    /// Lowest position.
    min: f64,
    /// Highest position; may follow the data (top-k's maximum is the vocabulary size).
    #[prop(into)]
    max: Signal<f64>,
    /// Distance between positions.
    step: f64,
    /// Move the value's logarithm instead of the value.
    #[prop(default = false)]
    log: bool,
    /// The label is a mathematical symbol (η, β), set in italics beside the slider.
    #[prop(default = false)]
    symbol: bool,
    /// The value.
    #[prop(into)]
    value: Signal<f64>,
    /// Receives each value the reader picks.
    on_change: Callback<f64>,
    /// How the value is written beside the slider; [`default_readout`] when not given.
    #[prop(optional)]
    format: Option<fn(f64) -> String>,
) -> impl IntoView {
    let readout = move || {
        let v = value.get();
        format.map_or_else(|| default_readout(v, log), |f| f(v))
    };
    let on_input = move |ev: leptos::ev::Event| {
        // A range input only ever holds a number between its bounds; anything else is ignored.
        if let Ok(p) = event_target_value(&ev).parse::<f64>() {
            on_change.run(value_at(p, min, max.get_untracked(), log));
        }
    };
    view! {
        <label class="slider">
            <span class=symbol.then_some("slider-label")>{label}</span>
            <input type="range" data-name=name.clone() min=min max=move || max.get() step=step
                prop:value=move || position(value.get(), log).to_string() on:input=on_input />
            <output data-value=name>{readout}</output>
        </label>
    }
}

/// A callback that writes each value into `signal`, for sliders that set one signal.
pub fn set(signal: RwSignal<f64>) -> Callback<f64> {
    Callback::new(move |v| signal.set(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_slider_moves_the_exponent() {
        assert_eq!(position(1000.0, true), 3.0);
        assert_eq!(position(0.25, false), 0.25);
        assert_eq!(value_at(-2.0, -4.0, 1.0, true), 0.01);
        assert_eq!(value_at(5.0, -4.0, 1.0, true), 10.0, "positions past the end are clamped");
        assert_eq!(value_at(0.5, 0.0, 0.99, false), 0.5);
    }

    #[test]
    fn readouts_keep_small_values_readable() {
        assert_eq!(default_readout(0.5, false), "0.5000");
        assert_eq!(default_readout(0.0001, false), "1.00e-4");
        assert_eq!(default_readout(0.1, true), "1.00e-1");
        assert_eq!(default_readout(0.0, false), "0.0000");
    }
}
