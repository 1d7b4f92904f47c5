//! Chapter 4's number formats: one typed value stored in FP32, TF32, BF16, FP16 and both FP8
//! formats, bit by bit, and a small step added many times in each. Every number comes from
//! `engine::labs::number_formats`.

use leptos::prelude::*;

use engine::labs::number_formats::{exact_sum, stall_point, Format, Outcome, ALL};

use crate::controls::number_field::{is_whole_in, rule, NumberField, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::bits::bit_cells;

/// The value the widget opens with: 0.1, which no binary format stores exactly.
const DEFAULT_VALUE: f64 = 0.1;
/// The accumulation's default step and count: 0.0001 added 10,000 times should make 1.
const DEFAULT_STEP: f64 = 0.0001;
const DEFAULT_COUNT: f64 = 10_000.0;

/// A number as the page prints it: plain decimals between 10⁻⁴ and 10⁷, scientific notation
/// outside, and in both cases the shortest digits that identify the value exactly.
pub fn show(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "∞" } else { "−∞" }.to_string()
    } else if v == 0.0 || (1e-4..1e7).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// A small difference as the page prints it: six significant digits, so the error of 0.1 in
/// FP16 reads −2.44141e-5 rather than carrying the last bits of the typed f64's own rounding.
pub fn show_short(v: f64) -> String {
    let rounded: f64 = format!("{v:.5e}").parse().unwrap_or(v);
    show(rounded)
}

/// A number as a `data-value` attribute, readable by JavaScript's `Number`.
fn data_number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format!("{v:e}")
    }
}

/// What storing did, in words.
pub fn outcome_words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Exact => "exact",
        Outcome::Rounded => "rounded",
        Outcome::Subnormal => "subnormal",
        Outcome::FlushedToZero => "flushed to zero",
        Outcome::Overflowed => "overflow to ∞",
        Outcome::Saturated => "saturated",
        Outcome::NotANumber => "not a number",
    }
}

/// A format's name as a `data-value` suffix, e.g. "fp8-e4m3".
fn slug(format: &Format) -> String {
    format.name.to_ascii_lowercase().replace(' ', "-")
}

fn step_rule(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 1000.0, "Use a step above 0 and at most 1000.")
}

fn count_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 100_000.0), "Use a whole number of additions from 1 to 100,000.")
}

/// One format's row: the bits as buttons that flip, and what the pattern holds.
#[component]
fn FormatRow(
    format: Format,
    index: usize,
    typed: RwSignal<f64>,
    overrides: RwSignal<[Option<u32>; 6]>,
) -> impl IntoView {
    let id = slug(&format);
    let by_hand = move || overrides.with(|o| o[index].is_some());
    let bits = move || overrides.with(|o| o[index]).unwrap_or_else(|| format.encode(typed.get()).bits);
    let value = move || format.decode(bits());
    let flip = move |position: u32| {
        let current = overrides
            .with_untracked(|o| o[index])
            .unwrap_or_else(|| format.encode(typed.get_untracked()).bits);
        overrides.update(|o| o[index] = Some(format.flip_bit(current, position)));
    };
    let outcome = move || {
        if by_hand() {
            "set by hand".to_string()
        } else {
            outcome_words(format.encode(typed.get()).outcome).to_string()
        }
    };
    let error = move || if by_hand() { None } else { format.rounding_error(typed.get()) };
    let gap = move || format.gap_above(bits());
    let layout = format!("1 + {} + {} bits", format.exponent_bits, format.mantissa_bits);
    view! {
        <div class="nf-row" data-format=id.clone() class:nf-by-hand=by_hand>
            <div class="nf-name"><strong>{format.name}</strong>" "<span>{layout}</span></div>
            <div class="nf-bits" role="group" aria-label=format!("{} bits, sign first", format.name)>
                {move || bit_cells(&format, bits()).into_iter().map(|cell| {
                    let label = format!("{} {} bit {}, now {}: flip", format.name, cell.field.name(), cell.position, u8::from(cell.set));
                    view! {
                        <button class=format!("bit {}", cell.field.class()) class:on=cell.set
                            aria-label=label data-bit=cell.position on:click=move |_| flip(cell.position)>
                            {if cell.set { "1" } else { "0" }}
                        </button>
                    }
                }).collect_view()}
            </div>
            <dl class="nf-values">
                <div><dt>"stored"</dt><dd data-value=format!("nf-stored-{id}") data-number=move || data_number(value())>{move || show(value())}</dd></div>
                <div><dt>"error"</dt><dd data-value=format!("nf-error-{id}")>{move || error().map(show_short).unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"gap to next"</dt><dd data-value=format!("nf-gap-{id}")>{move || gap().map(show).unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"outcome"</dt><dd data-value=format!("nf-outcome-{id}")>{outcome}</dd></div>
            </dl>
        </div>
    }
}

/// The widget.
#[component]
pub fn NumberFormats() -> impl IntoView {
    let typed = RwSignal::new(DEFAULT_VALUE);
    let overrides = RwSignal::new([None::<u32>; 6]);
    let step = RwSignal::new(DEFAULT_STEP);
    let count = RwSignal::new(DEFAULT_COUNT);
    let on_typed = Callback::new(move |v: f64| {
        typed.set(v);
        overrides.set([None; 6]);
    });
    let sums = Memo::new(move |_| {
        let (step, count) = (step.get(), count.get() as usize);
        ALL.map(|format| {
            let sums = format.accumulate(step, count);
            (format, stall_point(&sums), sums.last().copied().unwrap_or(0.0))
        })
    });
    view! {
        <WidgetFrame class="number-formats" label="Number formats" title="Live: one number in six formats" badge="CPU · engine::labs::number_formats">
            <div class="xor-controls">
                <NumberField label="value" name="nf-value" value=Signal::derive(move || typed.get()) on_change=on_typed check=|_| Ok(()) />
                <button on:click=move |_| overrides.set([None; 6]) disabled=move || overrides.with(|o| o.iter().all(Option::is_none))>
                    "Back to the typed value"
                </button>
            </div>
            <p class="nf-legend">
                <span class="bit bit-sign">"sign"</span>" "<span class="bit bit-exponent on">"exponent"</span>" "<span class="bit bit-mantissa on">"mantissa"</span>
                " Click a bit to flip it."
            </p>
            <div class="nf-rows">
                {ALL.into_iter().enumerate().map(|(index, format)| view! { <FormatRow format index typed overrides /> }).collect_view()}
            </div>
            <div class="nf-table-wrap">
                <table class="nf-table">
                    <caption>"Each format's limits (six significant digits)"</caption>
                    <thead><tr><th>"format"</th><th>"largest"</th><th>"smallest normal"</th><th>"smallest subnormal"</th><th>"gap above 1 (ε)"</th></tr></thead>
                    <tbody>
                        {ALL.into_iter().map(|f| view! {
                            <tr><th>{f.name}</th><td>{show_short(f.largest())}</td><td>{show_short(f.smallest_normal())}</td>
                                <td>{show_short(f.smallest_subnormal())}</td><td>{show_short(f.epsilon())}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <h4 class="nf-heading">"Add a small step many times"</h4>
            <div class="xor-controls">
                <SignalField label="step" name="nf-step" signal=step check=step_rule />
                <SignalField label="times" name="nf-count" signal=count check=count_rule />
            </div>
            <p class="nf-exact">"Exact total: "<span data-value="nf-exact">{move || show(exact_sum(step.get(), count.get() as usize))}</span></p>
            <div class="nf-table-wrap">
                <table class="nf-table">
                    <thead><tr><th>"format"</th><th>"stops growing at"</th><th>"after addition"</th><th>"final sum"</th></tr></thead>
                    <tbody>
                        {move || sums.get().into_iter().map(|(format, stall, last)| {
                            let id = slug(&format);
                            view! {
                                <tr>
                                    <th>{format.name}</th>
                                    <td data-value=format!("nf-stall-{id}")>{stall.map(|(_, v)| show(v)).unwrap_or_else(|| "never".into())}</td>
                                    <td data-value=format!("nf-stall-at-{id}")>{stall.map(|(n, _)| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                                    <td data-value=format!("nf-final-{id}")>{show(last)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_with_the_digits_that_identify_them() {
        assert_eq!(show(0.0999755859375), "0.0999755859375");
        assert_eq!(show(70144.0), "70144");
        assert_eq!(show(f64::INFINITY), "∞");
        assert_eq!(show(2e7), "2e7");
        assert_eq!(show(2f64.powi(-24)), "5.960464477539063e-8");
        assert_eq!(data_number(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(show_short(0.0999755859375 - 0.1), "-2.44141e-5");
        assert_eq!(show_short(144.0), "144");
        assert!(step_rule(0.0).is_err() && count_rule(1.5).is_err() && count_rule(10_000.0).is_ok());
    }
}
