//! Chapter 7's weight-decay lab: the shrink equation with the numbers of a real SGD step, and
//! Adam + L2 against AdamW on the same run, from `engine::labs::weight_decay_lab`.

use leptos::prelude::*;

use engine::labs::overfitting_lab::FitConfig;
use engine::labs::weight_decay_lab::{compare, sgd_l2_step};

use crate::controls::number_field::{self, format_value, is_whole_in, learning_rate, rule, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::chart::{Chart, Series};

/// The network the lab trains: the overfitting lab's data, with one layer of 16 units so that
/// four runs recompute quickly on every change.
pub fn lab_network(seed: u64) -> FitConfig {
    FitConfig { width: 16, depth: 1, seed, ..FitConfig::default() }
}

fn decay_rule(v: f64) -> Result<(), String> {
    rule((0.0..=10.0).contains(&v), "λ from 0 to 10.")
}
fn steps_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 2000.0), "A whole number of steps from 1 to 2000.")
}
/// A number for the equation line: six decimals, a real minus sign.
fn num(v: f32) -> String {
    format!("{v:.6}").replace('-', "−")
}

/// The widget.
#[component]
pub fn WeightDecayLab() -> impl IntoView {
    let lambda = RwSignal::new(0.1);
    let sgd_lr = RwSignal::new(0.1);
    let adam_lr = RwSignal::new(0.01);
    let steps = RwSignal::new(500.0);
    let seed = RwSignal::new(engine::labs::overfitting_lab::DEFAULT_SEED as f64);

    let result = Memo::new(move |_| {
        compare(
            lab_network(seed.get() as u64),
            lambda.get() as f32,
            sgd_lr.get() as f32,
            adam_lr.get() as f32,
            steps.get() as usize,
        )
        .map_err(|e| e.to_string())
    });
    let norms = Signal::derive(move || match result.get() {
        Ok(c) => vec![
            Series::steps(&c.adam.weight_norm, "plain").named("Adam, λ = 0"),
            Series::steps(&c.adam_l2.weight_norm, "adam-l2").named("Adam + L2"),
            Series::steps(&c.adamw.weight_norm, "adamw").named("AdamW"),
            Series::steps(&c.sgd_l2.weight_norm, "sgd").named("SGD + L2"),
        ],
        Err(_) => vec![],
    });
    let gap = Signal::derive(move || match result.get() {
        Ok(c) => vec![Series::steps(&c.adam_gap, "gap").named("‖w(AdamW) − w(Adam + L2)‖")],
        Err(_) => vec![],
    });
    let last = |v: &[f32]| v.last().copied().unwrap_or(f32::NAN);

    view! {
        <WidgetFrame class="decay" label="Weight decay lab" title="Live: weight decay, SGD and Adam" badge="CPU · engine::labs::weight_decay_lab">
            <div class="xor-controls">
                <SignalField label="weight decay λ" name="wd-lambda" signal=lambda check=decay_rule />
                <SignalField label="SGD learning rate" name="wd-sgd-lr" signal=sgd_lr check=learning_rate />
                <SignalField label="Adam learning rate" name="wd-adam-lr" signal=adam_lr check=learning_rate />
                <SignalField label="steps" name="wd-steps" signal=steps check=steps_rule />
                <SignalField label="seed" name="wd-seed" signal=seed check=number_field::seed />
            </div>
            {move || match result.get() {
                Err(message) => view! { <p class="bp-status" role="status" data-status="wd">{message}</p> }.into_any(),
                Ok(c) => {
                    let (eta, lam) = (sgd_lr.get() as f32, lambda.get() as f32);
                    let equation = c.sgd_last_step.map(|(w, g, after)| {
                        let s = sgd_l2_step(w, g, eta, lam);
                        view! {
                            <p class="shrink-eq">
                                "SGD's last step, first weight: w = " {num(w)} ", data gradient g = " {num(g)} ", η = " {format_value(eta as f64)} ", λ = " {format_value(lam as f64)} "."<br/>
                                "w(1 − ηλ) − ηg = " {num(w)} " × " <span data-value="wd-factor">{num(s.decay_factor)}</span> " − " {num(s.gradient_step)} " = " <span data-value="wd-via-shrink">{num(s.via_shrink)}</span><br/>
                                "w − η(g + λw) = " <span data-value="wd-via-gradient">{num(s.via_gradient)}</span>
                                "; without decay: " {num(s.without_decay)}<br/>
                                "the run's next weight: " <span data-value="wd-after">{num(after)}</span>
                            </p>
                        }
                    });
                    let diverged = c.sgd_l2.weight_norm.iter().chain(&c.adam_l2.weight_norm).chain(&c.adamw.weight_norm).any(|v| !v.is_finite())
                        || c.sgd_l2.validation_loss.iter().any(|v| !v.is_finite());
                    view! {
                        {diverged.then(|| view! { <p class="bp-status" role="status" data-status="wd">"Diverged: a run's weights or loss stopped being finite numbers, and it stopped there. Lower the learning rate."</p> })}
                        {equation}
                        <dl class="bp-values">
                            <div><dt>"‖w‖ Adam, λ = 0"</dt><dd data-value="wd-norm-adam">{format!("{:.4}", last(&c.adam.weight_norm))}</dd></div>
                            <div><dt>"Adam + L2"</dt><dd data-value="wd-norm-adam-l2">{format!("{:.4}", last(&c.adam_l2.weight_norm))}</dd></div>
                            <div><dt>"AdamW"</dt><dd data-value="wd-norm-adamw">{format!("{:.4}", last(&c.adamw.weight_norm))}</dd></div>
                            <div><dt>"SGD + L2"</dt><dd data-value="wd-norm-sgd">{format!("{:.4}", last(&c.sgd_l2.weight_norm))}</dd></div>
                            <div><dt>"‖w(AdamW) − w(Adam + L2)‖"</dt><dd data-value="wd-gap">{format!("{:.4}", last(&c.adam_gap))}</dd></div>
                            <div><dt>"validation MSE Adam + L2"</dt><dd data-value="wd-val-adam-l2">{format!("{:.4}", last(&c.adam_l2.validation_loss))}</dd></div>
                            <div><dt>"AdamW"</dt><dd data-value="wd-val-adamw">{format!("{:.4}", last(&c.adamw.validation_loss))}</dd></div>
                        </dl>
                    }.into_any()
                }
            }}
            <div class="overfit-plots">
                <figure class="bp-curve">
                    <Chart class="curves" height=190.0 legend=true series=norms x_label="step" aria_label="Length of the weight vector under each optimizer" />
                    <figcaption>"The length of all weights, ‖w‖, after each step."</figcaption>
                </figure>
                <figure class="bp-curve">
                    <Chart class="curves" height=190.0 legend=true series=gap x_label="step" aria_label="Distance between the AdamW and Adam + L2 weights" />
                    <figcaption>"How far apart the two Adam runs' weights are. With λ = 0 the runs are identical and this stays at 0."</figcaption>
                </figure>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_limits() {
        assert_eq!(num(-0.5), "−0.500000");
        assert!(decay_rule(-1.0).is_err() && steps_rule(0.0).is_err() && steps_rule(2001.0).is_err());
        assert_eq!(lab_network(3).width, 16);
    }
}
