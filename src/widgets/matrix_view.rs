//! A matrix as a table, optionally as a heatmap, with the exact value of each cell on hover
//! and on keyboard focus.

use leptos::prelude::*;

use engine::core::tensor::Tensor;

/// Background for a heatmap cell: an orange of strength |v| / max_abs (blue when negative),
/// colours that stay distinct for the common kinds of colour blindness.
pub fn heat_colour(v: f32, max_abs: f32) -> String {
    if !v.is_finite() || max_abs <= 0.0 {
        return "transparent".to_string();
    }
    let strength = (v.abs() / max_abs).clamp(0.0, 1.0);
    let (r, g, b) = if v >= 0.0 { (230, 120, 20) } else { (40, 110, 210) };
    format!("rgba({r}, {g}, {b}, {:.3})", 0.08 + 0.72 * strength)
}

/// How a cell's value is written: −∞ for masked entries, `decimals` decimals otherwise.
pub fn cell_text(v: f32, decimals: usize) -> String {
    if v == f32::NEG_INFINITY {
        "−∞".to_string()
    } else if v.is_nan() {
        "NaN".to_string()
    } else {
        format!("{v:.decimals$}").replace('-', "−")
    }
}

/// A labelled matrix.
#[component]
pub fn MatrixView(
    /// The name shown above the matrix, e.g. "Q = X·Wq".
    title: String,
    /// The values, `[rows, cols]`.
    matrix: Tensor,
    /// Colour the cells by value.
    #[prop(optional)]
    heat: bool,
    /// Add a column with each row's sum (to show attention rows sum to 1).
    #[prop(optional)]
    row_sums: bool,
    /// Labels for the rows (positions).
    #[prop(optional)]
    labels: Vec<String>,
    /// The columns are positions too (query-by-key matrices), so they share the row labels.
    #[prop(optional)]
    key_columns: bool,
    /// Labels for the columns (e.g. vocabulary words); numbered 1, 2, … when not given.
    #[prop(optional)]
    col_labels: Vec<String>,
    /// A line under the title saying what the matrix is.
    #[prop(optional)]
    note: Option<String>,
    /// Decimals shown in each cell (3 when not given); the hover text is always exact.
    #[prop(optional)]
    decimals: Option<usize>,
) -> impl IntoView {
    let cols = matrix.row_len();
    let decimals = decimals.unwrap_or(3);
    let max_abs = matrix.data.iter().filter(|v| v.is_finite()).fold(0.0f32, |m, v| m.max(v.abs()));
    let col_labels = if col_labels.len() == cols {
        col_labels
    } else if key_columns && labels.len() == cols {
        labels.clone()
    } else {
        (0..cols).map(|j| (j + 1).to_string()).collect()
    };
    let name = title.clone();
    let rows = matrix
        .row_slices()
        .enumerate()
        .map(|(i, row)| {
            let label = labels.get(i).cloned().unwrap_or_else(|| (i + 1).to_string());
            let sum: f32 = row.iter().filter(|v| v.is_finite()).sum();
            let cells = row
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    let exact = format!("{} [{}, {}] = {v}", name, i + 1, j + 1);
                    let style = if heat { format!("background: {}", heat_colour(v, max_abs)) } else { String::new() };
                    view! { <td tabindex="0" title=exact.clone() aria-label=exact style=style>{cell_text(v, decimals)}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{label}</th>
                    {cells}
                    {row_sums.then(|| view! { <td class="row-sum">{format!("{sum:.decimals$}")}</td> })}
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="matrix">
            <figcaption>{title}{note.map(|n| view! { <span class="matrix-note">{n}</span> })}</figcaption>
            <div class="table-wrap">
                <table>
                    <thead><tr><th></th>{col_labels.into_iter().map(|l| view! { <th scope="col">{l}</th> }).collect_view()}
                        {row_sums.then(|| view! { <th scope="col">"Σ row"</th> })}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_well() {
        assert_eq!(cell_text(f32::NEG_INFINITY, 3), "−∞");
        assert_eq!(cell_text(-0.5, 3), "−0.500");
        assert_eq!(cell_text(0.44544, 4), "0.4454");
        assert_eq!(heat_colour(1.0, 2.0), "rgba(230, 120, 20, 0.440)");
        assert_eq!(heat_colour(f32::NAN, 1.0), "transparent");
    }
}
