//! Chapter 8: inside Adam. One parameter, a stated gradient sequence, and every quantity
//! Adam computes along the way, from `engine::labs::inside_adam::inside_adam`.

use leptos::prelude::*;

use engine::labs::inside_adam::{inside_adam, AdamStep, Gradients};

use crate::controls::number_field::{is_whole_in, learning_rate, rule, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::chart::{Chart, Series};

/// Rows of the step-by-step table.
const TABLE_ROWS: usize = 5;
/// The noisy sequence's seed.
const SEED: u64 = 1;

fn beta(v: f64) -> Result<(), String> {
    rule((0.0..1.0).contains(&v), "Use a number from 0 up to (not including) 1.")
}

fn epsilon(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 1.0, "Use a number above 0 and at most 1.")
}

fn gradient(v: f64) -> Result<(), String> {
    rule(v.abs() <= 1e6, "Use a gradient between −10⁶ and 10⁶.")
}

fn noise(v: f64) -> Result<(), String> {
    rule((0.0..=1e3).contains(&v), "Use a standard deviation from 0 to 1000.")
}

fn step_count(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 1000.0), "Use a whole number from 1 to 1000.")
}

/// A number for the table: four significant figures (so the uncorrected first step reads
/// 0.003162, not 0.0032), in scientific notation when tiny or huge.
pub fn format_number(v: f32) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    // Round to four significant figures first, then read the exponent off the rounded
    // number, so 0.00099999994 and 0.001 both print as 0.001000.
    let scientific = format!("{v:.3e}");
    let exponent = scientific.split_once('e').and_then(|(_, e)| e.parse::<i32>().ok()).unwrap_or(0);
    if (-3..5).contains(&exponent) {
        let decimals = (3 - exponent).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        scientific
    }
}

/// The series the three charts draw, in order: (m, m̂), (v, v̂), (step, uncorrected step).
pub fn chart_series(steps: &[AdamStep]) -> [Vec<Vec<f64>>; 3] {
    let take = |f: fn(&AdamStep) -> f32| steps.iter().map(|s| f(s) as f64).collect::<Vec<f64>>();
    [
        vec![take(|s| s.m), take(|s| s.m_hat)],
        vec![take(|s| s.v), take(|s| s.v_hat)],
        vec![take(|s| s.step), take(|s| s.uncorrected_step)],
    ]
}

/// The widget.
#[component]
pub fn InsideAdam() -> impl IntoView {
    let beta1 = RwSignal::new(0.9);
    let beta2 = RwSignal::new(0.999);
    let eps = RwSignal::new(1e-8);
    let lr = RwSignal::new(0.001);
    let mean = RwSignal::new(0.5);
    let std = RwSignal::new(0.0);
    let count = RwSignal::new(50.0);

    let steps = Memo::new(move |_| {
        let sequence = if std.get() > 0.0 {
            Gradients::Noisy { mean: mean.get() as f32, std: std.get() as f32, seed: SEED }
        } else {
            Gradients::Constant(mean.get() as f32)
        };
        let grads = sequence.take(count.get() as usize);
        inside_adam(&grads, beta1.get() as f32, beta2.get() as f32, eps.get() as f32, lr.get() as f32)
    });
    let series = Memo::new(move |_| steps.with(|s| chart_series(s)));
    let chart = move |which: usize, classes: [&'static str; 2], log_y: bool, aria: &'static str| {
        view! {
            <Chart class="multi-chart" log_y=log_y x_label="step t" aria_label=aria
                series=Signal::derive(move || series.with(|s| s[which].iter().zip(classes).enumerate().map(|(i, (v, class))| Series::steps(v, format!("s{i} {class}"))).collect())) />
        }
    };

    view! {
        <WidgetFrame class="inside-adam" label="Inside Adam, step by step" title="Live: inside Adam, one parameter" badge="CPU · engine::labs::inside_adam">
            <div class="xor-controls">
                <SignalField label="β1" name="adam-beta1" signal=beta1 check=beta />
                <SignalField label="β2" name="adam-beta2" signal=beta2 check=beta />
                <SignalField label="ε" name="adam-eps" signal=eps check=epsilon />
                <SignalField label="learning rate" name="adam-lr" signal=lr check=learning_rate />
                <SignalField label="gradient (mean)" name="adam-g" signal=mean check=gradient />
                <SignalField label="noise (std)" name="adam-noise" signal=std check=noise />
                <SignalField label="steps" name="adam-steps" signal=count check=step_count />
            </div>
            <p class="widget-note">{move || if std.get() > 0.0 {
                format!("Gradients: {} plus normal noise of standard deviation {} (seed {SEED}).", mean.get(), std.get())
            } else {
                format!("Gradients: {} at every step.", mean.get())
            }}</p>
            <div class="table-scroll">
                <table class="grad-check adam-table">
                    <thead><tr>
                        <th>"t"</th><th>"g"</th><th>"m"</th><th>"v"</th><th>"1/(1−β1ᵗ)"</th><th>"1/(1−β2ᵗ)"</th>
                        <th>"m̂"</th><th>"v̂"</th><th>"step"</th><th>"uncorrected"</th>
                    </tr></thead>
                    <tbody>
                        {move || steps.get().into_iter().take(TABLE_ROWS).map(|s| {
                            let cell = move |name: &str, v: f32| view! { <td data-value=format!("adam-{name}-{}", s.t)>{format_number(v)}</td> };
                            view! {
                                <tr>
                                    <td>{s.t}</td>
                                    {cell("g", s.g)}{cell("m", s.m)}{cell("v", s.v)}
                                    {cell("corr1", s.correction1)}{cell("corr2", s.correction2)}
                                    {cell("mhat", s.m_hat)}{cell("vhat", s.v_hat)}
                                    {cell("step", s.step)}{cell("raw-step", s.uncorrected_step)}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="adam-charts">
                <figure class="bp-curve">
                    {chart(0, ["raw", "corrected"], false, "First moment: m and its corrected value m-hat")}
                    <figcaption><span class="key raw">"m"</span>" and "<span class="key corrected">"m̂ = m/(1−β1ᵗ)"</span></figcaption>
                </figure>
                <figure class="bp-curve">
                    {chart(1, ["raw", "corrected"], true, "Second moment: v and its corrected value v-hat, log scale")}
                    <figcaption><span class="key raw">"v"</span>" and "<span class="key corrected">"v̂ = v/(1−β2ᵗ)"</span>" (log scale)"</figcaption>
                </figure>
                <figure class="bp-curve">
                    {chart(2, ["corrected", "raw"], false, "The step taken, with and without bias correction")}
                    <figcaption><span class="key corrected">"step taken, η·m̂/(√v̂+ε)"</span>" and "<span class="key raw">"without correction, η·m/(√v+ε)"</span></figcaption>
                </figure>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_cleanly() {
        assert_eq!(format_number(10.0), "10.00");
        assert_eq!(format_number(1000.0129), "1000");
        assert_eq!(format_number(0.003_162_3), "0.003162");
        assert_eq!(format_number(-0.5), "-0.5000");
        assert_eq!(format_number(0.00025), "2.500e-4");
        // One ulp below 0.001 still reads as 0.001000.
        assert_eq!(format_number(f32::from_bits(0.001_f32.to_bits() - 1)), "0.001000");
        assert_eq!(format_number(0.000_999_4), "9.994e-4");
        assert_eq!(format_number(123_456.0), "1.235e5");
        assert_eq!(format_number(0.0), "0");
        assert!(beta(1.0).is_err() && beta(0.0).is_ok() && epsilon(0.0).is_err() && step_count(0.0).is_err());
    }

    #[test]
    fn the_charts_carry_the_engines_numbers() {
        let steps = inside_adam(&[0.5, 0.3], 0.9, 0.999, 1e-8, 0.001);
        let [m, v, step] = chart_series(&steps);
        assert_eq!(m[0], vec![steps[0].m as f64, steps[1].m as f64]);
        assert_eq!(v[1][0], steps[0].v_hat as f64);
        assert_eq!(step[1][1], steps[1].uncorrected_step as f64);
    }
}
