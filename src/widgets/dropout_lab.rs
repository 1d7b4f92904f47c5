//! Chapter 7's dropout lab: the masks one layer draws step after step, the 1/(1 − p) scale on
//! the survivors, and a Monte Carlo check that the average training-time output equals the
//! test-time activation, all from `engine::labs::dropout_lab`.

use leptos::prelude::*;

use engine::labs::dropout_lab::{apply, expectation_check, keep_scale, masks};

use crate::controls::number_field::{self, is_whole_in, rule, SignalField};
use crate::controls::number_list::{parse_list, ListRule};
use crate::controls::widget_frame::WidgetFrame;

/// The chapter's four activations followed by four more.
pub const DEFAULT_ACTIVATIONS: &str = "2, 4, 6, 8, 1, 3, 5, 7";
/// How many of the latest steps the mask grid shows.
const SHOWN_STEPS: usize = 8;

/// The activations the lab takes: 1 to 16 units, each at most 10,000 in size.
const ACTIVATIONS: ListRule = ListRule {
    noun: "activation",
    plural: "activations",
    example: "2, 4, 6, 8",
    bound: 1e4,
    range: "−10000 and 10000",
    max_len: 16,
    too_many: "the lab shows at most 16 units",
};

/// Parses the layer's activations: numbers separated by commas or spaces, 1 to 16 of them.
pub fn parse_activations(text: &str) -> Result<Vec<f32>, String> {
    parse_list(text, &ACTIVATIONS)
}

fn p_rule(v: f64) -> Result<(), String> {
    rule((0.0..=0.95).contains(&v), "p from 0 to 0.95 (at 1 nothing would survive).")
}
fn samples_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 200_000.0), "A whole number of masks from 1 to 200,000.")
}
/// A number as the grid writes it: up to 3 decimals, no trailing zeros.
fn short(v: f32) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').replace('-', "−")
}

/// The widget.
#[component]
pub fn DropoutLab() -> impl IntoView {
    let text = RwSignal::new(DEFAULT_ACTIVATIONS.to_string());
    let good = RwSignal::new(parse_activations(DEFAULT_ACTIVATIONS).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let p = RwSignal::new(0.5);
    let seed = RwSignal::new(0.0);
    let samples = RwSignal::new(10_000.0);
    let step = RwSignal::new(1usize);

    let on_text = move |ev| {
        let t = event_target_value(&ev);
        match parse_activations(&t) {
            Ok(v) => {
                good.set(v);
                error.set(None);
            }
            Err(m) => error.set(Some(m)),
        }
        text.set(t);
    };
    let grid = Memo::new(move |_| {
        let (a, p) = (good.get(), p.get() as f32);
        let t = step.get();
        let all = masks(a.len(), p, t, seed.get() as u64);
        let first = t.saturating_sub(SHOWN_STEPS);
        all.into_iter()
            .enumerate()
            .skip(first)
            .map(|(i, keep)| (i + 1, apply(&a, &keep, p), keep))
            .collect::<Vec<_>>()
    });
    let check = Memo::new(move |_| {
        expectation_check(&good.get(), p.get() as f32, samples.get() as usize, seed.get() as u64 + 1)
    });
    view! {
        <WidgetFrame class="dropout" label="Dropout lab" title="Live: inverted dropout on one layer" badge="CPU · engine::labs::dropout_lab">
            <label class="logits-input">"activations a "
                <input type="text" data-name="drop-activations" spellcheck="false" prop:value=move || text.get() on:input=on_text aria-invalid=move || error.get().is_some().to_string() />
            </label>
            <p class="field-error" data-error-for="drop-activations" role="status">{move || error.get().unwrap_or_default()}</p>
            <div class="xor-controls">
                <SignalField label="drop probability p" name="drop-p" signal=p check=p_rule />
                <SignalField label="seed" name="drop-seed" signal=seed check=number_field::seed />
                <SignalField label="Monte Carlo masks" name="drop-samples" signal=samples check=samples_rule />
            </div>
            <dl class="bp-values">
                <div><dt>"keep probability 1 − p"</dt><dd data-value="drop-keep">{move || short(1.0 - p.get() as f32)}</dd></div>
                <div><dt>"survivors scaled by 1/(1 − p)"</dt><dd data-value="drop-scale">{move || format!("{:.4}", keep_scale(p.get() as f32))}</dd></div>
            </dl>
            <div class="bp-controls">
                <button class="primary" on:click=move |_| step.update(|t| *t += 1)>"Next step"</button>
                <button on:click=move |_| step.set(1)>"Back to step 1"</button>
                <span class="epoch-count">"step "<span data-value="drop-step">{move || step.get()}</span></span>
            </div>
            <div class="table-wrap">
                <table class="mask-grid">
                    <thead><tr><th scope="col">"unit"</th>{move || (1..=good.with(Vec::len)).map(|i| view! { <th scope="col">{i}</th> }).collect_view()}<th scope="col">"kept"</th></tr></thead>
                    <tbody>
                        <tr class="test-time"><th scope="row">"a (test time)"</th>{move || good.get().into_iter().map(|v| view! { <td>{short(v)}</td> }).collect_view()}<td></td></tr>
                        {move || grid.get().into_iter().map(|(t, out, keep)| {
                            let kept = keep.iter().filter(|&&k| k).count();
                            let current = t == step.get_untracked();
                            view! {
                                <tr class:current=current data-step=t>
                                    <th scope="row">{format!("step {t}")}</th>
                                    {out.into_iter().zip(keep).map(|(v, k)| view! { <td class:dropped=!k>{if k { short(v) } else { "0".into() }}</td> }).collect_view()}
                                    <td class="row-sum" data-kept=t>{kept}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="widget-note">"Each row is one training step: greyed cells were dropped, the rest are a · 1/(1 − p). A new mask is drawn every step."</p>
            <h4 class="lab-subtitle">"Does the average match test time?"</h4>
            <div class="table-wrap">
                <table class="mask-grid expectation">
                    <thead><tr><th scope="col">"unit"</th>{move || (1..=good.with(Vec::len)).map(|i| view! { <th scope="col">{i}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        <tr><th scope="row">"a"</th>{move || good.get().into_iter().map(|v| view! { <td>{short(v)}</td> }).collect_view()}</tr>
                        <tr><th scope="row">"mean over masks"</th>{move || check.get().mean.into_iter().enumerate().map(|(i, v)| view! { <td data-value=format!("drop-mean-{i}")>{format!("{v:.3}")}</td> }).collect_view()}</tr>
                    </tbody>
                </table>
            </div>
            <p class="widget-note">{move || {
                let c = check.get();
                view! {
                    "Averaged over " <span data-value="drop-mc-samples">{c.samples}</span> " masks, the largest gap between the mean and a is "
                    <span data-value="drop-mc-error">{format!("{:.4}", c.max_error)}</span>
                    ". Chance alone should leave gaps of about one standard error, "
                    <span data-value="drop-mc-se">{format!("{:.4}", c.standard_error)}</span>
                    " for the largest unit; more masks shrink it as 1/√N."
                }
            }}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_parse_and_bad_ones_are_explained() {
        assert_eq!(parse_activations("2, 4 −6"), Ok(vec![2.0, 4.0, -6.0]));
        assert!(parse_activations("").unwrap_err().contains("at least one"));
        assert!(parse_activations("1, x").unwrap_err().contains("not a number"));
        assert!(parse_activations("1e9").unwrap_err().contains("between"));
        assert!(parse_activations(&"1 ".repeat(17)).unwrap_err().contains("at most 16"));
        assert_eq!(short(2.5), "2.5");
        assert_eq!(short(-4.0), "−4");
        assert!(p_rule(1.0).is_err() && samples_rule(0.0).is_err());
    }
}
