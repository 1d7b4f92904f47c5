//! A matrix as a table, optionally as a heatmap, with the exact value of each cell on hover
//! and on keyboard focus. [`table`] lays the table out (labels, texts, colours) as plain data,
//! tested natively; [`MatrixView`] only turns it into elements.

use leptos::prelude::*;

use engine::core::tensor::Tensor;

use super::scale::{diverging, sequential, Heat};

/// A heatmap cell's colour: on the sequential scale at v / max_abs when the values run from
/// 0 up (`signed` false), on the blue-orange diverging scale otherwise; `None` for values
/// that are not finite (masked entries stay unpainted).
pub fn heat_colour(v: f32, max_abs: f32, signed: bool) -> Option<Heat> {
    if !v.is_finite() {
        return None;
    }
    let s = if max_abs > 0.0 { (v / max_abs).clamp(-1.0, 1.0) as f64 } else { 0.0 };
    Some(if signed { diverging(s) } else { sequential(s.max(0.0)) })
}

/// One square of a [`probability_grid`].
#[derive(Clone, Debug, PartialEq)]
pub struct GridCell {
    pub x: f64,
    pub y: f64,
    pub size: f64,
    /// The fill colour in each theme (the cell's class `heat` picks one).
    pub heat: Heat,
}

/// A square grid of probabilities (row-major, `side` to a row, first row on top) as cells
/// filling `extent` pixels on the diverging scale: orange above 0.5, blue below, stronger
/// further from 0.5. Each
/// cell is 0.3 px larger than its pitch so no seams show between neighbours.
pub fn probability_grid(values: &[f32], side: usize, extent: f64) -> Vec<GridCell> {
    let cell = extent / side.max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let (row, col) = (k / side.max(1), k % side.max(1));
            GridCell {
                x: col as f64 * cell,
                y: row as f64 * cell,
                size: cell + 0.3,
                heat: diverging(if p.is_finite() { (p as f64 - 0.5) * 2.0 } else { 0.0 }),
            }
        })
        .collect()
}

/// A square grid of weights in [0, 1] (row-major, `side` to a row, first row on top), such
/// as an attention pattern, as cells filling `extent` pixels on the sequential scale (0 at the
/// page's end of it, 1 at the far end).
pub fn weight_grid(values: &[f32], side: usize, extent: f64) -> Vec<GridCell> {
    let cell = extent / side.max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(k, &w)| GridCell {
            x: (k % side.max(1)) as f64 * cell,
            y: (k / side.max(1)) as f64 * cell,
            size: cell + 0.3,
            heat: sequential(if w.is_finite() { w as f64 } else { 0.0 }),
        })
        .collect()
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

/// How a matrix is shown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableOptions {
    /// Colour the cells by value.
    pub heat: bool,
    /// Add a column with each row's sum.
    pub row_sums: bool,
    /// Labels for the rows; numbered 1, 2, … where missing.
    pub labels: Vec<String>,
    /// The columns are positions too, so they share the row labels.
    pub key_columns: bool,
    /// Labels for the columns; used when there is one per column.
    pub col_labels: Vec<String>,
    /// Decimals shown in each cell.
    pub decimals: usize,
}

/// One cell: its text, its exact value for hover and screen readers, and its colour when the
/// table is a heatmap, set as custom properties through the CSSOM (the page's CSP allows no
/// inline styles); widgets.css paints it with the theme's colour and ink.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub exact: String,
    pub heat: Option<Heat>,
}

/// One row: its label, its cells, and its sum's text when sums are shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub cells: Vec<Cell>,
    pub sum: Option<String>,
}

/// A matrix laid out as a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub col_labels: Vec<String>,
    pub rows: Vec<Row>,
}

/// Lays out `matrix` (named `title` in each cell's exact text) as a table. Heat colours are
/// scaled to the largest finite magnitude, on the diverging scale when any entry is negative
/// and the sequential one otherwise; row sums come from the engine.
pub fn table(title: &str, matrix: &Tensor, options: &TableOptions) -> Table {
    let cols = matrix.row_len();
    let decimals = options.decimals;
    let max_abs = matrix.data.iter().filter(|v| v.is_finite()).fold(0.0f32, |m, v| m.max(v.abs()));
    let signed = matrix.data.iter().any(|v| v.is_finite() && *v < 0.0);
    let col_labels = if options.col_labels.len() == cols {
        options.col_labels.clone()
    } else if options.key_columns && options.labels.len() == cols {
        options.labels.clone()
    } else {
        (0..cols).map(|j| (j + 1).to_string()).collect()
    };
    let sums = matrix.finite_row_sums();
    let rows = matrix
        .row_slices()
        .zip(sums)
        .enumerate()
        .map(|(i, (row, sum))| Row {
            label: options.labels.get(i).cloned().unwrap_or_else(|| (i + 1).to_string()),
            cells: row
                .iter()
                .enumerate()
                .map(|(j, &v)| Cell {
                    text: cell_text(v, decimals),
                    exact: format!("{} [{}, {}] = {v}", title, i + 1, j + 1),
                    heat: if options.heat { heat_colour(v, max_abs, signed) } else { None },
                })
                .collect(),
            sum: options.row_sums.then(|| format!("{sum:.decimals$}")),
        })
        .collect();
    Table { col_labels, rows }
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
    let options =
        TableOptions { heat, row_sums, labels, key_columns, col_labels, decimals: decimals.unwrap_or(3) };
    let laid_out = table(&title, &matrix, &options);
    let rows = laid_out
        .rows
        .into_iter()
        .map(|row| {
            let cells = row
                .cells
                .into_iter()
                .map(|c| match c.heat {
                    Some(h) => view! {
                        <td class="heat" tabindex="0" title=c.exact.clone() aria-label=c.exact
                            style=("--heat", h.light_css()) style=("--heat-dark", h.dark_css())
                            style=("--ink", h.light_ink()) style=("--ink-dark", h.dark_ink())>{c.text}</td>
                    }
                    .into_any(),
                    None => view! { <td tabindex="0" title=c.exact.clone() aria-label=c.exact>{c.text}</td> }
                        .into_any(),
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{row.label}</th>
                    {cells}
                    {row.sum.map(|sum| view! { <td class="row-sum">{sum}</td> })}
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="matrix">
            <figcaption>{title}{note.map(|n| view! { <span class="matrix-note">{n}</span> })}</figcaption>
            <div class="table-wrap">
                <table>
                    <thead><tr><th><span class="visually-hidden">"row"</span></th>{laid_out.col_labels.into_iter().map(|l| view! { <th scope="col">{l}</th> }).collect_view()}
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
        assert_eq!(heat_colour(1.0, 2.0, true), Some(diverging(0.5)));
        assert_eq!(heat_colour(1.0, 2.0, false), Some(sequential(0.5)));
        assert_eq!(heat_colour(-3.0, 2.0, true), Some(diverging(-1.0)), "clamped");
        assert_eq!(heat_colour(f32::NAN, 1.0, true), None);
    }

    #[test]
    fn probability_grids_fill_their_square() {
        let cells = probability_grid(&[1.0, 0.5, 0.0, 0.75], 2, 210.0);
        assert_eq!((cells[3].x, cells[3].y, cells[3].size), (105.0, 105.0, 105.3));
        assert_eq!(cells[0].heat, diverging(1.0), "1 is the strongest orange");
        assert_eq!(cells[1].heat, diverging(0.0), "0.5 is neutral");
        assert_eq!(cells[2].heat, diverging(-1.0), "0 is the strongest blue");
        assert_eq!(cells[3].heat, diverging(0.5));
    }

    #[test]
    fn weight_grids_fill_their_square_from_zero_up() {
        let cells = weight_grid(&[1.0, 0.0, 0.5, 0.25, 0.0, 0.0, 0.1, 0.2, 0.7], 3, 60.0);
        assert_eq!((cells[5].x, cells[5].y, cells[5].size), (40.0, 20.0, 20.3));
        assert_eq!(cells[0].heat, sequential(1.0));
        assert_eq!(cells[1].heat, sequential(0.0), "0 is the page's end of the scale");
        assert_eq!(cells[2].heat, sequential(0.5));
    }

    #[test]
    fn tables_label_colour_and_sum() {
        let m = Tensor::from_rows(&[vec![1.0, f32::NEG_INFINITY], vec![-2.0, 0.5]]).unwrap();
        let options = TableOptions {
            heat: true,
            row_sums: true,
            labels: vec!["t1".into(), "t2".into()],
            key_columns: true,
            decimals: 2,
            ..TableOptions::default()
        };
        let t = table("W", &m, &options);
        assert_eq!(t.col_labels, ["t1", "t2"], "key columns share the row labels");
        assert_eq!(t.rows[0].label, "t1");
        assert_eq!(t.rows[0].cells[1].text, "−∞");
        assert_eq!(t.rows[1].cells[0].exact, "W [2, 1] = -2");
        assert_eq!(t.rows[1].cells[0].heat, Some(diverging(-1.0)), "signed: diverging, the largest is full");
        assert_eq!(t.rows[0].cells[1].heat, None, "masked entries stay unpainted");
        let weights = Tensor::from_rows(&[vec![1.0, 0.0], vec![0.25, 0.75]]).unwrap();
        let w = table("A", &weights, &TableOptions { heat: true, ..TableOptions::default() });
        assert_eq!(w.rows[1].cells[1].heat, Some(sequential(0.75)), "no negatives: sequential");
        assert_eq!(t.rows[0].sum.as_deref(), Some("1.00"), "masked entries are not summed");
        assert_eq!(t.rows[1].sum.as_deref(), Some("-1.50"));
        let plain = table("W", &m, &TableOptions { decimals: 3, ..TableOptions::default() });
        assert_eq!(plain.col_labels, ["1", "2"]);
        assert_eq!((plain.rows[1].label.as_str(), plain.rows[0].sum.clone()), ("2", None));
        assert_eq!(plain.rows[0].cells[0].heat, None);
    }
}
