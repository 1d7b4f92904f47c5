//! Chapter 3's bug injector: switch a common bug on and watch its symptom appear, computed
//! by `engine::labs::bug_injector` from the same code paths as the correct version.

use leptos::prelude::*;

use engine::core::tensor::Tensor;
use engine::labs::bug_injector::{
    largest_loss_after, naive_softmax, padding_attention, row_sums, softmax_axes, stable_softmax,
    train_line_fit, transposed_weight_error, weight_on_padding, Bug,
};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{rule, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::chart::LineChart;
use crate::plot::heatmap::MatrixView;

impl Choosable for Bug {
    fn all() -> &'static [Self] {
        &Bug::ALL
    }
    /// A bug's option is named by its place in the list ("0" to "5").
    fn value(self) -> &'static str {
        const PLACES: [&str; 6] = ["0", "1", "2", "3", "4", "5"];
        let place = Bug::ALL.iter().position(|&b| b == self).unwrap_or(0);
        PLACES.get(place).copied().unwrap_or("0")
    }
    fn label(self) -> &'static str {
        Bug::label(self)
    }
}

fn scores_example() -> Tensor {
    Tensor::from_vec(&[3, 3], vec![2.0, 0.5, -1.0, 0.1, 1.5, 0.3, -0.4, 0.2, 2.2])
        .unwrap_or_else(|_| Tensor::zeros(&[3, 3]))
}

fn padded_sequence() -> (Tensor, Tensor) {
    let x = Tensor::from_vec(&[4, 3], vec![0.2, 0.1, -0.3, -0.1, 0.4, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let w = Tensor::from_vec(&[3, 3], vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    (x.unwrap_or_else(|_| Tensor::zeros(&[4, 3])), w.unwrap_or_else(|_| Tensor::zeros(&[3, 3])))
}

fn logit_rule(v: f64) -> Result<(), String> {
    rule(v.abs() <= 1e6, "Keep the logit within ±1,000,000.")
}

fn lr_rule(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 5.0, "Pick a learning rate above 0 and at most 5.")
}

fn list(values: &[f32]) -> String {
    let items: Vec<String> =
        values.iter().map(|v| if v.is_nan() { "NaN".into() } else { format!("{v:.4}") }).collect();
    format!("[{}]", items.join(", "))
}

/// The widget.
#[component]
pub fn BugInjector() -> impl IntoView {
    let chosen = RwSignal::new(Bug::NoZeroGrad);
    let bug_on = RwSignal::new(true);
    let top_logit = RwSignal::new(1000.0f64);
    let lr = RwSignal::new(0.7f64);

    let body = move || {
        let on = bug_on.get();
        match chosen.get() {
            Bug::NoZeroGrad => {
                let losses = train_line_fit(40, 0.1, !on).unwrap_or_default();
                let verdict = if on {
                    "Each step adds this gradient to all the earlier ones, so the steps keep growing: the loss swings back up instead of settling."
                } else {
                    "Gradients are cleared before each backward pass: the loss falls and stays down."
                };
                let last = losses.last().copied().unwrap_or(f32::NAN);
                let values: Vec<f64> = losses.iter().map(|&l| l as f64).collect();
                view! {
                    <p>"Fitting y = 2x with one weight, learning rate 0.1, 40 steps. " {verdict}</p>
                    <LineChart values=Signal::derive(move || values.clone()) x_label="step" aria_label="Loss per step" />
                    <p data-symptom="no-zero-grad">{format!("Final loss {last:.6}; largest loss after step 10: {:.6}", largest_loss_after(&losses, 10))}</p>
                }.into_any()
            }
            Bug::SoftmaxWrongAxis => {
                let (right, wrong) = softmax_axes(&scores_example())
                    .unwrap_or((Tensor::zeros(&[3, 3]), Tensor::zeros(&[3, 3])));
                let shown = if on { wrong } else { right };
                let sums = row_sums(&shown);
                view! {
                    <p>{if on { "Softmax taken down each column (over queries): the rows, which should be probability distributions over keys, no longer sum to 1." } else { "Softmax along each row (over keys): every row sums to 1." }}</p>
                    <MatrixView title="attention weights".into() matrix=shown heat=true row_sums=true />
                    <p data-symptom="softmax-axis">{format!("Row sums {}", list(&sums))}</p>
                }.into_any()
            }
            Bug::NoMaxSubtraction => {
                let top = top_logit.get() as f32;
                let logits = [top, top - 1.0, top - 2.0];
                let probs =
                    if on { naive_softmax(&logits) } else { stable_softmax(&logits).unwrap_or_default() };
                view! {
                    <SignalField label="largest logit" name="bug-logit" signal=top_logit check=logit_rule />
                    <p>{format!("Logits {}. ", list(&logits))}{if on { "exp(z) in 32-bit floats overflows to infinity above z ≈ 88.72, and infinity / infinity is NaN." } else { "Subtracting the largest logit first leaves exp arguments ≤ 0, so nothing overflows; the probabilities are unchanged because softmax ignores a shift." }}</p>
                    <p data-symptom="max-subtraction">{format!("Softmax: {}", list(&probs))}</p>
                }.into_any()
            }
            Bug::TransposedWeight => {
                let outcome = if on {
                    transposed_weight_error(4, 3, 2)
                } else {
                    engine::core::tensor::matmul(&Tensor::filled(&[4, 3], 1.0), &Tensor::filled(&[3, 2], 0.1))
                };
                let text = match outcome {
                    Ok(t) => format!("x [4, 3] · W [3, 2] gives an output of shape {:?}.", t.shape),
                    Err(e) => format!("Error: {e}"),
                };
                view! {
                    <p>{if on { "The layer stores W as [d_out, d_in] = [2, 3], but computes x·W." } else { "W is stored as [d_in, d_out] = [3, 2], matching output = input × W." }}</p>
                    <pre class="bug-message" data-symptom="transposed">{text}</pre>
                }.into_any()
            }
            Bug::UnmaskedPadding => {
                let (x, w) = padded_sequence();
                let traces = padding_attention(&x, &w, 2);
                match traces {
                    Ok((masked, unmasked)) => {
                        let shown = if on { unmasked } else { masked };
                        let share = weight_on_padding(&shown.weights, 2);
                        view! {
                            <p>"Two real tokens followed by two padding positions (all zeros). "{if on { "Without a padding mask the real tokens spend attention on padding." } else { "The padding mask sets those scores to −∞, so they get zero weight." }}</p>
                            <MatrixView title="attention weights".into() matrix=shown.weights heat=true row_sums=true key_columns=true labels=vec!["t1".into(), "t2".into(), "pad".into(), "pad".into()] />
                            <p data-symptom="padding">{format!("Average weight a real token puts on padding: {share:.4}")}</p>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="field-error">{e.to_string()}</p> }.into_any(),
                }
            }
            Bug::LearningRateTooHigh => {
                let rate = if on { lr.get() as f32 } else { 0.1 };
                let losses = train_line_fit(40, rate, true).unwrap_or_default();
                let diverged = losses.iter().any(|l| !l.is_finite()) || losses.last() > losses.first();
                let values: Vec<f64> = losses.iter().map(|&l| (l as f64).min(1e30)).collect();
                view! {
                    <SignalField label="learning rate" name="bug-lr" signal=lr check=lr_rule />
                    <p>{format!("Fitting y = 2x by gradient descent with learning rate {rate}. Here steps are stable only below about 0.53.")}</p>
                    <LineChart values=Signal::derive(move || values.clone()) x_label="step" aria_label="Loss per step" />
                    <p data-symptom="lr">{if diverged { format!("Diverged: the loss grew from {:.4} to {:.4e}.", losses.first().copied().unwrap_or(0.0), losses.last().copied().unwrap_or(0.0)) } else { format!("Converged: final loss {:.2e}.", losses.last().copied().unwrap_or(0.0)) }}</p>
                }.into_any()
            }
        }
    };

    view! {
        <WidgetFrame class="bugs" label="Bug injector" title="Live: the bug injector" badge="CPU · engine::labs::bug_injector">
            <div class="toggles">
                <Choice label="bug" name="bug" value=chosen on_change=Callback::new(move |b| chosen.set(b)) />
                <label><input type="checkbox" data-name="bug-on" prop:checked=move || bug_on.get() on:change=move |ev| bug_on.set(event_target_checked(&ev)) />" bug switched on"</label>
            </div>
            <div class="bug-body" data-bug=move || chosen.get().value()>{body}</div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bug_is_named_by_its_place_in_the_menu() {
        for (place, &bug) in Bug::ALL.iter().enumerate() {
            assert_eq!(bug.value(), place.to_string());
            assert_eq!(Bug::from_value(&place.to_string()), Some(bug));
        }
    }
}
