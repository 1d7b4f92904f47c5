//! Text alternatives for drawings: numbers as a sentence writes them, a sentence that says
//! what a heatmap shows, read from its values (for `aria-label`), and the numbers behind a
//! drawing as a table inside a closed "Show as table" fold. [`describe_grid`] and
//! [`grid_table`] are pure and tested natively ([`chart`](super::chart) describes its series
//! with the same pieces); [`DataTable`] only turns a table into elements, and only while its
//! fold is open.

use leptos::prelude::*;

/// The most rows a table of a long series shows (evenly spaced, keeping the first and last).
pub const MAX_ROWS: usize = 21;

/// A number as a sentence writes it: three significant figures, thousands grouped, a minus
/// sign, and scientific notation below 0.0001.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        return "not a number".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "infinity" } else { "minus infinity" }.to_string();
    }
    let a = v.abs();
    let body = if a == 0.0 {
        "0".to_string()
    } else if a >= 1000.0 {
        grouped(libm::round(a) as u64)
    } else if a >= 0.0001 {
        let decimals = (2 - libm::floor(libm::log10(a)) as i32).max(0) as usize;
        format!("{a:.decimals$}")
    } else {
        format!("{a:.2e}")
    };
    if v < 0.0 && body != "0" {
        format!("−{body}")
    } else {
        body
    }
}

/// An x position: whole numbers grouped by thousands, others as [`number`].
pub fn position(x: f64) -> String {
    if x.is_finite() && x == libm::round(x) && x.abs() < 1e15 {
        let whole = grouped(libm::fabs(x) as u64);
        if x < 0.0 {
            format!("−{whole}")
        } else {
            whole
        }
    } else {
        number(x)
    }
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A `rows` x `cols` grid of values (row-major): its size, and its largest and smallest
/// entries with their row and column (counted from 1, or named by `row_names` and
/// `col_names` when given one per row and column).
pub fn describe_grid(
    title: &str,
    values: &[f32],
    cols: usize,
    row_names: &[String],
    col_names: &[String],
) -> String {
    let cols = cols.max(1);
    let rows = values.len().div_ceil(cols);
    let name = |names: &[String], i: usize, count: usize| match names.len() == count {
        true => names[i].clone(),
        false => (i + 1).to_string(),
    };
    let at = |k: usize| {
        format!("row {}, column {}", name(row_names, k / cols, rows), name(col_names, k % cols, cols))
    };
    let mut best: Option<(usize, f32)> = None;
    let mut worst: Option<(usize, f32)> = None;
    for (k, &v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((k, v));
        }
        if worst.is_none_or(|(_, w)| v < w) {
            worst = Some((k, v));
        }
    }
    let head = format!("{}: {rows} by {cols} grid", title.trim_end_matches('.'));
    match (best, worst) {
        (Some((kb, b)), Some((kw, w))) => format!(
            "{head}; largest {} at {}; smallest {} at {}.",
            number(b as f64),
            at(kb),
            number(w as f64),
            at(kw)
        ),
        _ => format!("{head}; nothing to show yet."),
    }
}

/// Labelled values (a bar chart's, a map's coordinates) in a sentence: `title`, how many
/// there are, and the largest and smallest finite value with their labels ("largest 0.412
/// at e"). Labels missing from `labels` are counted from 1.
pub fn describe_extremes(title: &str, labels: &[String], values: &[f64]) -> String {
    let title = title.trim_end_matches('.');
    let label = |i: usize| labels.get(i).cloned().unwrap_or_else(|| (i + 1).to_string());
    let finite = || values.iter().enumerate().filter(|(_, v)| v.is_finite());
    let largest = finite().fold(None, |m: Option<(usize, f64)>, (i, &v)| match m {
        Some((_, b)) if b >= v => m,
        _ => Some((i, v)),
    });
    let smallest = finite().fold(None, |m: Option<(usize, f64)>, (i, &v)| match m {
        Some((_, b)) if b <= v => m,
        _ => Some((i, v)),
    });
    match (largest, smallest) {
        (Some((i, hi)), Some((j, lo))) => format!(
            "{title}: {} values, largest {} at {}, smallest {} at {}.",
            position(values.len() as f64),
            number(hi),
            label(i),
            number(lo),
            label(j)
        ),
        _ => format!("{title}: nothing to show yet."),
    }
}

/// A table's text: a caption, the column headers, and rows of cells (the first cell of each
/// row is its header).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableText {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A grid of values as a table, rows and columns named as in [`describe_grid`].
pub fn grid_table(values: &[f32], cols: usize, row_names: &[String], col_names: &[String]) -> TableText {
    let cols = cols.max(1);
    let rows = values.len().div_ceil(cols);
    let name = |names: &[String], i: usize, count: usize| match names.len() == count {
        true => names[i].clone(),
        false => (i + 1).to_string(),
    };
    let mut headers = vec!["row".to_string()];
    headers.extend((0..cols).map(|j| name(col_names, j, cols)));
    let rows = values
        .chunks(cols)
        .enumerate()
        .map(|(i, row)| {
            let mut cells = vec![name(row_names, i, rows)];
            cells.extend(row.iter().map(|&v| number(v as f64)));
            cells
        })
        .collect();
    TableText { headers, rows }
}

/// A closed "Show as table" fold; the table is built only while the fold is open.
#[component]
pub fn DataTable(
    /// The table's text, recomputed only while open.
    #[prop(into)]
    table: Signal<TableText>,
    /// What the table holds, as its caption.
    #[prop(into)]
    caption: String,
) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <details class="data-table" on:toggle=move |ev| {
            use wasm_bindgen::JsCast;
            let open_now = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
                .is_some_and(|d| d.open());
            open.set(open_now);
        }>
            <summary>"Show as table"</summary>
            {move || open.get().then(|| {
                let t = table.get();
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label=caption.clone()>
                        <table>
                            <caption>{caption.clone()}</caption>
                            <thead><tr>{t.headers.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr></thead>
                            <tbody>
                                {t.rows.into_iter().map(|row| {
                                    let mut cells = row.into_iter();
                                    let head = cells.next().unwrap_or_default();
                                    view! { <tr><th scope="row">{head}</th>{cells.map(|c| view! { <td>{c}</td> }).collect_view()}</tr> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_sentences_write_them() {
        assert_eq!(number(0.6934), "0.693");
        assert_eq!(number(0.0213), "0.0213");
        assert_eq!(number(2.5), "2.50");
        assert_eq!(number(123.456), "123");
        assert_eq!(number(12345.6), "12,346");
        assert_eq!(number(-0.5), "−0.500");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.000651), "0.000651");
        assert_eq!(number(0.00001234), "1.23e-5");
        assert_eq!(position(2000.0), "2,000");
        assert_eq!(position(2.5), "2.50");
    }

    #[test]
    fn grids_name_their_extremes() {
        let values = [0.1, 0.9, f32::NAN, 0.0];
        assert_eq!(
            describe_grid("Attention of head 0.0", &values, 2, &[], &[]),
            "Attention of head 0.0: 2 by 2 grid; largest 0.900 at row 1, column 2; smallest 0 at row 2, column 2."
        );
        let names = vec!["a".to_string(), "b".to_string()];
        assert!(describe_grid("W", &values, 2, &names, &names).ends_with("smallest 0 at row b, column b."));
        assert_eq!(describe_grid("W", &[f32::NAN], 1, &[], &[]), "W: 1 by 1 grid; nothing to show yet.");
    }

    #[test]
    fn labelled_values_name_their_extremes() {
        let labels = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            describe_extremes("Bars.", &labels, &[0.25, f64::NAN, -2.0]),
            "Bars: 3 values, largest 0.250 at a, smallest −2.00 at 3."
        );
        assert_eq!(describe_extremes("Bars", &[], &[f64::NAN]), "Bars: nothing to show yet.");
    }

    #[test]
    fn grids_become_tables() {
        let g = grid_table(&[0.5, 0.25, 1.0, 0.0], 2, &[], &["x".into(), "y".into()]);
        assert_eq!(g.headers, ["row", "x", "y"]);
        assert_eq!(g.rows[1], ["2", "1.00", "0"]);
    }
}
