//! A line chart of one series, such as a loss curve.

use leptos::prelude::*;

/// Axis ticks and the series as an SVG path, in a `width` x `height` box with margins.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartGeometry {
    /// The `d` attribute of the series path (empty for no data).
    pub path: String,
    /// (y pixel, label) for each horizontal grid line.
    pub y_ticks: Vec<(f64, String)>,
    /// (x pixel, label) for each vertical tick.
    pub x_ticks: Vec<(f64, String)>,
}

/// Plot area margins: left for y labels, bottom for x labels.
pub const MARGIN: (f64, f64, f64, f64) = (48.0, 12.0, 10.0, 26.0); // left, right, top, bottom

/// Lays out `values` (y) against their index (x). Non-finite values are skipped.
pub fn layout(values: &[f64], width: f64, height: f64) -> ChartGeometry {
    let (left, right, top, bottom) = MARGIN;
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return ChartGeometry { path: String::new(), y_ticks: Vec::new(), x_ticks: Vec::new() };
    }
    let mut y_min = finite.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
    let mut y_max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if y_max - y_min < 1e-12 {
        y_max += 0.5;
        y_min -= 0.5;
    }
    let n = values.len().max(2) - 1;
    let x_of = |i: usize| left + (width - left - right) * i as f64 / n as f64;
    let y_of = |v: f64| top + (height - top - bottom) * (y_max - v) / (y_max - y_min);

    let mut path = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        if !v.is_finite() {
            pen_down = false;
            continue;
        }
        let command = if pen_down { 'L' } else { 'M' };
        path.push_str(&format!("{command}{:.1},{:.1}", x_of(i), y_of(*v)));
        pen_down = true;
    }
    let y_ticks = (0..=4)
        .map(|k| {
            let v = y_min + (y_max - y_min) * k as f64 / 4.0;
            (y_of(v), format_tick(v))
        })
        .collect();
    let x_ticks = (0..=4).map(|k| (x_of(n * k / 4), format!("{}", n * k / 4))).collect();
    ChartGeometry { path, y_ticks, x_ticks }
}

fn format_tick(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The chart as an SVG element.
#[component]
pub fn LineChart(
    /// The series to draw, one value per step.
    values: Signal<Vec<f64>>,
    /// Label of the x axis.
    x_label: &'static str,
    /// Accessible description of the chart.
    aria_label: &'static str,
) -> impl IntoView {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 180.0;
    let geometry = Memo::new(move |_| values.with(|v| layout(v, WIDTH, HEIGHT)));
    view! {
        <svg class="line-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=aria_label>
            {move || {
                let g = geometry.get();
                let (left, right, _, bottom) = MARGIN;
                view! {
                    {g.y_ticks.into_iter().map(|(y, label)| view! {
                        <line class="grid" x1=left x2=WIDTH - right y1=y y2=y />
                        <text class="tick" x=left - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                    }).collect_view()}
                    {g.x_ticks.into_iter().map(|(x, label)| view! {
                        <text class="tick" x=x y=HEIGHT - bottom + 16.0 text-anchor="middle">{label}</text>
                    }).collect_view()}
                    <path class="series" d=g.path />
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
    fn a_falling_series_runs_from_top_left_down() {
        let g = layout(&[1.0, 0.5, 0.25], 200.0, 100.0);
        assert!(g.path.starts_with("M48.0,10.0L"), "{}", g.path);
        assert!(g.path.ends_with("L188.0,58.0"), "the axis starts at 0: {}", g.path);
        assert_eq!(g.y_ticks.first().map(|t| t.1.as_str()), Some("0.000"));
        assert_eq!(g.x_ticks.last().map(|t| t.1.as_str()), Some("2"));
    }

    #[test]
    fn gaps_and_empty_series_do_not_break() {
        assert!(layout(&[], 100.0, 100.0).path.is_empty());
        assert!(layout(&[f64::NAN], 100.0, 100.0).path.is_empty());
        let g = layout(&[1.0, f64::INFINITY, 1.0], 200.0, 100.0);
        assert_eq!(g.path.matches('M').count(), 2, "the pen lifts over the gap: {}", g.path);
    }
}
