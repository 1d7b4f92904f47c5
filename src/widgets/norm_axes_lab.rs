//! Chapter 7's LayerNorm versus BatchNorm: one editable batch, normalized along rows and down
//! columns, with the statistics each used, and what happens to example 1 when another example
//! changes. Every number comes from `engine::labs::norm_axes_lab`.

use leptos::prelude::*;

use engine::core::tensor::Tensor;
use engine::labs::norm_axes_lab::{norm_axes, row_change, NormAxes, EPS};

use crate::controls::number_field::{rule, SignalField};
use crate::controls::number_list::parse_matrix;
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::heatmap::cell_text;

/// The chapter's batch: 3 examples, 4 features.
pub const DEFAULT_BATCH: &str = "2 4 6 8\n1 3 2 6\n3 8 4 2";

/// The batch with `shift` added to every feature of its last example.
pub fn shift_last_example(x: &Tensor, shift: f32) -> Tensor {
    let mut shifted = x.clone();
    let width = x.row_len();
    let start = x.len().saturating_sub(width);
    for v in &mut shifted.data[start..] {
        *v += shift;
    }
    shifted
}

fn shift_rule(v: f64) -> Result<(), String> {
    rule((-1000.0..=1000.0).contains(&v), "A shift from −1000 to 1000.")
}

/// The two normalizations of the batch as typed and of the batch with its last example shifted.
#[derive(Clone, Debug, PartialEq)]
struct Lab {
    input: Tensor,
    now: NormAxes,
    before: NormAxes,
}

/// One output matrix with its statistics: per row for LayerNorm (two extra columns), per
/// column for BatchNorm (two extra rows). Alternate rows or columns are banded, so the
/// direction each norm averages along is visible.
fn stats_table(
    kind: &'static str,
    input: &Tensor,
    output: &Tensor,
    means: &[f32],
    vars: &[f32],
) -> impl IntoView {
    let by_row = kind == "ln";
    let cols = input.row_len();
    let header = view! {
        <tr><th scope="col"><span class="visually-hidden">"row"</span></th>{(1..=cols).map(|j| view! { <th scope="col">{format!("f{j}")}</th> }).collect_view()}
            {by_row.then(|| view! { <th scope="col" class="stat">"μ"</th><th scope="col" class="stat">"σ²"</th> })}</tr>
    };
    let rows = output
        .row_slices()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    let band = if by_row { i % 2 == 1 } else { j % 2 == 1 };
                    view! { <td class:band=band data-cell=format!("{kind}-{i}-{j}")>{cell_text(v, 3)}</td> }
                })
                .collect_view();
            view! {
                <tr class:example-one=i == 0>
                    <th scope="row">{format!("x{}", i + 1)}</th>
                    {cells}
                    {by_row.then(|| view! {
                        <td class="stat" data-value=format!("ln-mean-{i}")>{cell_text(means[i], 3)}</td>
                        <td class="stat" data-value=format!("ln-var-{i}")>{cell_text(vars[i], 3)}</td>
                    })}
                </tr>
            }
        })
        .collect_view();
    let footer = (!by_row).then(|| {
        view! {
            <tr class="stat"><th scope="row">"μ"</th>{means.iter().enumerate().map(|(j, &m)| view! { <td data-value=format!("bn-mean-{j}")>{cell_text(m, 3)}</td> }).collect_view()}</tr>
            <tr class="stat"><th scope="row">"σ²"</th>{vars.iter().enumerate().map(|(j, &v)| view! { <td data-value=format!("bn-var-{j}")>{cell_text(v, 3)}</td> }).collect_view()}</tr>
        }
    });
    view! {
        <div class="table-wrap">
            <table class=format!("norm-table {kind}")>
                <thead>{header}</thead>
                <tbody>{rows}{footer}</tbody>
            </table>
        </div>
    }
}

/// The widget.
#[component]
pub fn NormAxesLab() -> impl IntoView {
    let text = RwSignal::new(DEFAULT_BATCH.to_string());
    let shift = RwSignal::new(0.0);
    let result = Memo::new(move |_| {
        let input = parse_matrix("X", &text.get())?;
        if input.rows() < 2 {
            return Err("X: give at least 2 examples (rows), so that another example can change.".to_string());
        }
        let shifted = shift_last_example(&input, shift.get() as f32);
        let before = norm_axes(&input, EPS).map_err(|e| e.to_string())?;
        let now = norm_axes(&shifted, EPS).map_err(|e| e.to_string())?;
        Ok(Lab { input: shifted, now, before })
    });
    let last_good = StoredValue::new(None::<Lab>);
    let shown = move || {
        if let Ok(lab) = result.get() {
            last_good.set_value(Some(lab));
        }
        last_good.get_value()
    };
    let error = move || result.get().err().unwrap_or_default();

    view! {
        <WidgetFrame class="norm-axes" label="LayerNorm versus BatchNorm" title="Live: which axis does each norm average over?" badge="CPU · engine::labs::norm_axes_lab">
            <div class="matrix-inputs">
                <label class="matrix-input">
                    <span>"X: one example per line, features separated by spaces"</span>
                    <textarea rows="4" spellcheck="false" data-name="norm-x" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </label>
            </div>
            <p class="field-error" role="status" data-error-for="norm-x">{error}</p>
            <div class="xor-controls">
                <SignalField label="add to every feature of the last example" name="norm-shift" signal=shift check=shift_rule />
            </div>
            {move || shown().map(|lab| {
                let rows = lab.input.rows();
                let (ln_change, bn_change) = row_change(&lab.before, &lab.now, 0);
                view! {
                    <div class="norm-pair">
                        <figure class="matrix">
                            <figcaption>"LayerNorm: μ and σ² along each row (one example's features)"</figcaption>
                            {stats_table("ln", &lab.input, &lab.now.layer_norm, &lab.now.row_mean, &lab.now.row_var)}
                        </figure>
                        <figure class="matrix">
                            <figcaption>"BatchNorm: μ and σ² down each column (one feature across the batch)"</figcaption>
                            {stats_table("bn", &lab.input, &lab.now.batch_norm, &lab.now.column_mean, &lab.now.column_var)}
                        </figure>
                    </div>
                    <p class="widget-note">
                        {format!("Example x1 is marked with orange lines. Shifting x{rows} moves x1's outputs by at most: LayerNorm ")}
                        <span data-value="ln-change">{format!("{ln_change:.4}")}</span>
                        ", BatchNorm "
                        <span data-value="bn-change">{format!("{bn_change:.4}")}</span>
                        {format!(" (ε = {EPS:e}). LayerNorm sees only x1's own row; BatchNorm's column statistics include x{rows}.")}
                    </p>
                }
            })}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_moves_only_the_last_example() {
        let x = parse_matrix("X", DEFAULT_BATCH).unwrap();
        let s = shift_last_example(&x, 5.0);
        assert_eq!(s.data[..8], x.data[..8]);
        assert_eq!(s.data[8..], [8.0, 13.0, 9.0, 7.0]);
        assert!(shift_rule(2000.0).is_err() && shift_rule(-3.5).is_ok());
    }
}
