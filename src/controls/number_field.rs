//! A text box for one number that never lets bad input reach the engine.
//!
//! While the text is not a usable number the field says why, inline, and the widget keeps
//! computing with the last good value.

use std::sync::atomic::{AtomicUsize, Ordering};

use leptos::prelude::*;

/// Parses what the reader typed. Accepts ordinary decimal and scientific notation; refuses
/// empty text, words, and anything that is not a finite number.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let trimmed = text.trim().replace('−', "-");
    if trimmed.is_empty() {
        return Err("Enter a number.".to_string());
    }
    let lowered = trimmed.to_ascii_lowercase();
    if lowered.contains("nan") || lowered.contains("inf") {
        return Err("Enter a finite number (NaN and infinity cannot be computed with).".to_string());
    }
    match trimmed.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("“{trimmed}” is too large for a 64-bit float.")),
        Err(_) => Err(format!("“{trimmed}” is not a number.")),
    }
}

/// Formats a value for a text box: up to six decimals, trailing zeros dropped; values below
/// 1e-4 in scientific notation.
pub fn format_value(v: f64) -> String {
    // Tiny but nonzero values keep their size (an ε of 1e-8 must not read as 0): six
    // significant digits in scientific notation, trailing zeros dropped.
    if v != 0.0 && v.abs() < 1e-4 {
        let text = format!("{v:.5e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        return format!("{mantissa}e{exponent}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// The shape of every field's rule: `Ok` when `ok`, else the message the reader sees.
pub fn rule(ok: bool, message: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(message.to_string())
    }
}

/// A whole number with thousands separators, e.g. "6,738,415,616" (a minus sign kept).
pub fn with_commas(n: impl Into<i128>) -> String {
    let n = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if n < 0 {
        format!("−{grouped}")
    } else {
        grouped
    }
}

/// A whole number (no fractional part) in `lo..=hi`.
pub fn is_whole_in(v: f64, lo: f64, hi: f64) -> bool {
    v.fract() == 0.0 && (lo..=hi).contains(&v)
}

/// The learning rates the training widgets accept: above 0 and at most 100.
pub fn learning_rate(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 100.0, "The learning rate must be above 0 and at most 100.")
}

/// The seeds the seeded widgets accept: a whole number that fits in 32 bits, so every seed
/// the page takes is one the engine's generators replay the same way.
pub fn seed(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 4_294_967_295.0), "Use a whole number from 0 to 4294967295.")
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// One labelled number box with inline validation.
#[component]
pub fn NumberField(
    /// Label shown beside the box (also its accessible name).
    label: &'static str,
    /// Name used by tests and for the element id.
    name: &'static str,
    /// The current good value; updates from outside (training) show when not editing.
    value: Signal<f64>,
    /// Receives each new good value.
    on_change: Callback<f64>,
    /// Extra rule for this quantity, e.g. a range; returns the message to show.
    check: fn(f64) -> Result<(), String>,
) -> impl IntoView {
    let id = format!("field-{name}-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let error_id = format!("{id}-error");
    // What the reader is typing, kept until the box loses focus so the cursor never jumps.
    let draft = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        let result = parse_number(&text).and_then(|v| check(v).map(|_| v));
        match result {
            Ok(v) => {
                error.set(None);
                on_change.run(v);
            }
            Err(message) => error.set(Some(message)),
        }
        draft.set(Some(text));
    };
    let on_blur = move |_| {
        if error.get_untracked().is_none() {
            draft.set(None);
        }
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type="text"
                inputmode="decimal"
                autocomplete="off"
                spellcheck="false"
                data-name=name
                prop:value=move || draft.get().unwrap_or_else(|| format_value(value.get()))
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                on:input=on_input
                on:blur=on_blur
            />
            <span class="field-error" id=error_id role="status" data-error-for=name>
                {move || error.get().unwrap_or_default()}
            </span>
        </div>
    }
}

/// A [`NumberField`] bound to one signal: it shows the signal and writes each good value back.
#[component]
pub fn SignalField(
    /// Label shown beside the box.
    label: &'static str,
    /// Name used by tests and for the element id.
    name: &'static str,
    /// The value the box shows and sets.
    signal: RwSignal<f64>,
    /// Extra rule for this quantity; returns the message to show.
    check: fn(f64) -> Result<(), String>,
) -> impl IntoView {
    view! {
        <NumberField label=label name=name value=Signal::derive(move || signal.get())
            on_change=Callback::new(move |v| signal.set(v)) check=check />
    }
}

/// A [`NumberField`] bound to one field of a settings struct held in a signal: `get` reads the
/// field as a number, `set` writes a good value into it.
#[component]
pub fn ConfigField<S: Clone + Send + Sync + 'static>(
    /// Label shown beside the box.
    label: &'static str,
    /// Name used by tests and for the element id.
    name: &'static str,
    /// The settings the field belongs to.
    config: RwSignal<S>,
    /// Reads the field.
    get: fn(&S) -> f64,
    /// Writes a good value into the field.
    set: fn(&mut S, f64),
    /// Extra rule for this quantity; returns the message to show.
    check: fn(f64) -> Result<(), String>,
) -> impl IntoView {
    view! {
        <NumberField label=label name=name value=Signal::derive(move || config.with(get))
            on_change=Callback::new(move |v| config.update(|c| set(c, v))) check=check />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_numbers_parse() {
        assert_eq!(parse_number(" 0.25 "), Ok(0.25));
        assert_eq!(parse_number("-3"), Ok(-3.0));
        assert_eq!(parse_number("−3"), Ok(-3.0));
        assert_eq!(parse_number("1e-3"), Ok(0.001));
    }

    #[test]
    fn bad_input_gets_a_message() {
        assert_eq!(parse_number(""), Err("Enter a number.".to_string()));
        assert_eq!(parse_number("abc"), Err("“abc” is not a number.".to_string()));
        assert_eq!(parse_number("-"), Err("“-” is not a number.".to_string()));
        assert!(parse_number("1e400").unwrap_err().contains("too large"));
        assert!(parse_number("NaN").unwrap_err().contains("finite"));
        assert!(parse_number("inf").unwrap_err().contains("finite"));
    }

    #[test]
    fn rules_say_why() {
        assert_eq!(rule(true, "never shown"), Ok(()));
        assert_eq!(rule(false, "Too big."), Err("Too big.".to_string()));
        assert!(is_whole_in(4.0, 1.0, 64.0) && !is_whole_in(2.5, 1.0, 64.0) && !is_whole_in(0.0, 1.0, 64.0));
        assert!(learning_rate(100.0).is_ok() && learning_rate(0.0).is_err() && learning_rate(100.5).is_err());
        assert!(seed(0.0).is_ok() && seed(4_294_967_295.0).is_ok());
        assert!(seed(-1.0).is_err() && seed(1.5).is_err() && seed(4_294_967_296.0).is_err());
    }

    #[test]
    fn values_format_without_noise() {
        assert_eq!(format_value(0.5), "0.5");
        assert_eq!(format_value(0.4706506), "0.470651");
        assert_eq!(format_value(-0.0000001), "-1e-7");
        assert_eq!(format_value(1e-8_f32 as f64), "1e-8");
        assert_eq!(format_value(2.5e-5), "2.5e-5");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(3.0), "3");
    }
}
