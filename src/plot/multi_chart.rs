//! Several series on one pair of axes, such as loss curves to compare, optionally with a
//! logarithmic y axis for quantities that span orders of magnitude.

use leptos::prelude::*;

use crate::plot::line_chart::MARGIN;

/// One path per series (in order), and the axes' ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiGeometry {
    /// The `d` attribute of each series' path (empty for a series with nothing to draw).
    pub paths: Vec<String>,
    /// (y pixel, label) for each horizontal grid line.
    pub y_ticks: Vec<(f64, String)>,
    /// (x pixel, label) for each vertical tick.
    pub x_ticks: Vec<(f64, String)>,
}

/// Lays out every series against its index, on shared axes in a `width` x `height` box.
/// The x axis runs to the longest series' last index, or `min_len - 1` if that is longer (so
/// a race in progress is drawn against the whole run). With `log_y`, values are placed by
/// their base-10 logarithm and values at or below 0 are skipped, like non-finite ones.
pub fn layout(series: &[Vec<f64>], min_len: usize, width: f64, height: f64, log_y: bool) -> MultiGeometry {
    let (left, right, top, bottom) = MARGIN;
    let to_axis = |v: f64| if log_y { if v > 0.0 { v.log10() } else { f64::NAN } } else { v };
    let drawn: Vec<f64> = series.iter().flatten().map(|&v| to_axis(v)).filter(|v| v.is_finite()).collect();
    let empty = MultiGeometry { paths: vec![String::new(); series.len()], y_ticks: Vec::new(), x_ticks: Vec::new() };
    if drawn.is_empty() {
        return empty;
    }
    let mut lo = drawn.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = drawn.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !log_y {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        hi += 0.5;
        lo -= 0.5;
    }
    let longest = series.iter().map(Vec::len).max().unwrap_or(0).max(min_len);
    let n = longest.max(2) - 1;
    let x_of = |i: usize| left + (width - left - right) * i as f64 / n as f64;
    let y_of = |a: f64| top + (height - top - bottom) * (hi - a) / (hi - lo);
    let paths = series
        .iter()
        .map(|values| {
            let mut d = String::new();
            let mut pen_down = false;
            for (i, &v) in values.iter().enumerate() {
                let a = to_axis(v);
                if !a.is_finite() {
                    pen_down = false;
                    continue;
                }
                d.push_str(&format!("{}{:.1},{:.1}", if pen_down { 'L' } else { 'M' }, x_of(i), y_of(a)));
                pen_down = true;
            }
            d
        })
        .collect();
    let y_ticks = (0..=4)
        .map(|k| {
            let a = lo + (hi - lo) * k as f64 / 4.0;
            let label = if log_y { format_log_tick(a) } else { format_tick(a) };
            (y_of(a), label)
        })
        .collect();
    let x_ticks = (0..=4).map(|k| (x_of(n * k / 4), format!("{}", n * k / 4))).collect();
    MultiGeometry { paths, y_ticks, x_ticks }
}

fn format_tick(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else if v.abs() >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// A tick on a log axis at 10^a, written as a plain number.
fn format_log_tick(a: f64) -> String {
    format_tick(10f64.powf(a))
}

/// The chart as an SVG element. Series `i` gets the CSS class `series s{i}` plus the given
/// class, so each widget colours its own lines.
#[component]
pub fn MultiChart(
    /// The series, one value per step each.
    series: Signal<Vec<Vec<f64>>>,
    /// Extra CSS class per series (e.g. the optimizer's colour), in the same order.
    classes: Signal<Vec<&'static str>>,
    /// The x axis spans at least this many points.
    #[prop(default = 0)]
    min_len: usize,
    /// Logarithmic y axis.
    #[prop(default = false)]
    log_y: bool,
    /// Label of the x axis.
    x_label: &'static str,
    /// Accessible description of the chart.
    aria_label: &'static str,
) -> impl IntoView {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 200.0;
    let geometry = Memo::new(move |_| series.with(|s| layout(s, min_len, WIDTH, HEIGHT, log_y)));
    view! {
        <svg class="line-chart multi-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=aria_label>
            {move || {
                let g = geometry.get();
                let classes = classes.get();
                let (left, right, _, bottom) = MARGIN;
                view! {
                    {g.y_ticks.into_iter().map(|(y, label)| view! {
                        <line class="grid" x1=left x2=WIDTH - right y1=y y2=y />
                        <text class="tick" x=left - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                    }).collect_view()}
                    {g.x_ticks.into_iter().map(|(x, label)| view! {
                        <text class="tick" x=x y=HEIGHT - bottom + 16.0 text-anchor="middle">{label}</text>
                    }).collect_view()}
                    {g.paths.into_iter().enumerate().map(|(i, d)| {
                        let class = format!("series s{i} {}", classes.get(i).copied().unwrap_or(""));
                        view! { <path class=class d=d /> }
                    }).collect_view()}
                }
            }}
            <text class="axis-label" x=WIDTH - 12.0 y=HEIGHT - 30.0 text-anchor="end">{x_label}</text>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_share_one_pair_of_axes() {
        // Two series over 3 points in a 200 x 100 box: y from 0 (axis starts at 0) to 1.
        let g = layout(&[vec![1.0, 0.5, 0.0], vec![0.5, 0.5]], 0, 200.0, 100.0, false);
        assert_eq!(g.paths[0], "M48.0,10.0L118.0,42.0L188.0,74.0");
        assert_eq!(g.paths[1], "M48.0,42.0L118.0,42.0");
        assert_eq!(g.y_ticks[0].1, "0");
        assert_eq!(g.x_ticks.last().map(|t| t.1.as_str()), Some("2"));
        // Drawn against a longer run, the same series covers half the width.
        let g = layout(&[vec![1.0, 0.5, 0.0]], 5, 200.0, 100.0, false);
        assert!(g.paths[0].ends_with("L118.0,74.0"), "{}", g.paths[0]);
    }

    #[test]
    fn a_log_axis_places_decades_evenly() {
        let g = layout(&[vec![1.0, 0.1, 0.01, 0.0, f64::NAN]], 0, 200.0, 100.0, true);
        // 1, 0.1 and 0.01 are evenly spaced top to bottom; 0 and NaN are skipped.
        assert_eq!(g.paths[0], "M48.0,10.0L83.0,42.0L118.0,74.0");
        assert_eq!(g.y_ticks[0].1, "0.010");
        assert_eq!(g.y_ticks[4].1, "1.00");
    }

    #[test]
    fn nothing_to_draw_draws_nothing() {
        let g = layout(&[vec![], vec![f64::INFINITY]], 0, 200.0, 100.0, false);
        assert_eq!(g.paths, vec![String::new(), String::new()]);
        assert!(g.y_ticks.is_empty());
    }
}
