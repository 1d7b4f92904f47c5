//! Several loss curves racing over the same steps, such as chapter 7's four norm placements.
//!
//! The x axis is fixed to the whole run from the start, so unfinished curves grow from the
//! left; the y axis runs from 0 to the highest value drawn, capped so that one run that blows
//! up does not flatten the others.

use leptos::prelude::*;

use super::line_chart::MARGIN;

/// The chart's geometry: one path per series, and the axes' ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct RaceGeometry {
    /// The `d` attribute of each series' path, in input order (empty for no data).
    pub paths: Vec<String>,
    /// For each series, where its last drawn point is (x, y), if it has one.
    pub ends: Vec<Option<(f64, f64)>>,
    /// (y pixel, label) for each horizontal grid line.
    pub y_ticks: Vec<(f64, String)>,
    /// (x pixel, label) for each vertical tick.
    pub x_ticks: Vec<(f64, String)>,
}

/// The most points drawn per series; longer series are thinned evenly (the last point kept).
pub const MAX_POINTS: usize = 300;

/// Lays out `series` (one value per step, step 0 first) against steps 0 … `total_steps − 1`
/// in a `width` x `height` box. Values above `y_cap` are drawn at the cap; values that are
/// not finite lift the pen.
pub fn layout(series: &[Vec<f32>], total_steps: usize, y_cap: f64, width: f64, height: f64) -> RaceGeometry {
    let (left, right, top, bottom) = MARGIN;
    let finite = series.iter().flatten().map(|&v| v as f64).filter(|v| v.is_finite());
    let highest = finite.fold(f64::NEG_INFINITY, f64::max);
    let y_max = if highest.is_finite() && highest > 0.0 { highest.min(y_cap) } else { 1.0 };
    let last_step = total_steps.max(2) - 1;
    let x_of = |i: usize| left + (width - left - right) * i as f64 / last_step as f64;
    let y_of = |v: f64| top + (height - top - bottom) * (y_max - v.min(y_max)) / y_max;

    let mut paths = Vec::with_capacity(series.len());
    let mut ends = Vec::with_capacity(series.len());
    for values in series {
        let stride = values.len().div_ceil(MAX_POINTS).max(1);
        let mut path = String::new();
        let mut end = None;
        let mut pen_down = false;
        let mut steps: Vec<usize> = (0..values.len()).step_by(stride).collect();
        if let Some(last) = values.len().checked_sub(1) {
            if steps.last() != Some(&last) {
                steps.push(last);
            }
        }
        for i in steps {
            let v = values[i] as f64;
            if !v.is_finite() {
                pen_down = false;
                continue;
            }
            let (x, y) = (x_of(i), y_of(v));
            path.push_str(&format!("{}{x:.1},{y:.1}", if pen_down { 'L' } else { 'M' }));
            pen_down = true;
            end = Some((x, y));
        }
        paths.push(path);
        ends.push(end);
    }
    let y_ticks = (0..=4)
        .map(|k| {
            let v = y_max * k as f64 / 4.0;
            (y_of(v), format!("{v:.2}"))
        })
        .collect();
    let x_ticks = (0..=4).map(|k| (x_of(last_step * k / 4), format!("{}", last_step * k / 4))).collect();
    RaceGeometry { paths, ends, y_ticks, x_ticks }
}

/// The chart as an SVG element. Series `i` gets the CSS class `series-i`, so the colours and
/// dashes live in the stylesheet and follow the theme.
#[component]
pub fn RaceChart(
    /// One series per runner, one value per step.
    series: Signal<Vec<Vec<f32>>>,
    /// The number of steps the x axis spans.
    total_steps: Signal<usize>,
    /// The highest value the y axis shows.
    y_cap: Signal<f64>,
    /// Marks each series whose run has stopped early (drawn as a cross at its last point).
    stopped: Signal<Vec<bool>>,
    /// Label of the x axis.
    x_label: &'static str,
    /// Accessible description of the chart.
    aria_label: &'static str,
) -> impl IntoView {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 200.0;
    let geometry = Memo::new(move |_| series.with(|s| layout(s, total_steps.get(), y_cap.get(), WIDTH, HEIGHT)));
    view! {
        <svg class="line-chart race-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=aria_label>
            {move || {
                let g = geometry.get();
                let stopped = stopped.get();
                let (left, right, _, bottom) = MARGIN;
                view! {
                    {g.y_ticks.into_iter().map(|(y, label)| view! {
                        <line class="grid" x1=left x2=WIDTH - right y1=y y2=y />
                        <text class="tick" x=left - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                    }).collect_view()}
                    {g.x_ticks.into_iter().map(|(x, label)| view! {
                        <text class="tick" x=x y=HEIGHT - bottom + 16.0 text-anchor="middle">{label}</text>
                    }).collect_view()}
                    {g.paths.into_iter().enumerate().map(|(i, d)| view! {
                        <path class=format!("series series-{i}") d=d />
                    }).collect_view()}
                    {g.ends.into_iter().enumerate().filter_map(|(i, end)| {
                        let (x, y) = end?;
                        stopped.get(i).copied().unwrap_or(false).then(|| view! {
                            <path class=format!("stop-mark series-{i}") d=format!("M{:.1},{:.1}l8,8m0,-8l-8,8", x - 4.0, y - 4.0) />
                        })
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
    fn series_share_one_x_axis_spanning_the_run() {
        // 5 steps over a 200-wide box: x runs from 48 to 188, 35 px per step.
        let g = layout(&[vec![2.0, 1.0], vec![1.0]], 5, 10.0, 200.0, 100.0);
        // y_max = 2, plot height 64 from y = 10: value 2 → 10, 1 → 42.
        assert_eq!(g.paths[0], "M48.0,10.0L83.0,42.0");
        assert_eq!(g.paths[1], "M48.0,42.0");
        assert_eq!(g.ends[1], Some((48.0, 42.0)));
        assert_eq!(g.x_ticks.last().map(|t| t.1.as_str()), Some("4"));
        assert_eq!(g.y_ticks.last().map(|t| t.1.as_str()), Some("2.00"));
    }

    #[test]
    fn a_blow_up_is_capped_and_gaps_lift_the_pen() {
        let g = layout(&[vec![1.0, 1e9, f32::NAN, 1.0]], 4, 4.0, 200.0, 100.0);
        assert_eq!(g.y_ticks.last().map(|t| t.1.as_str()), Some("4.00"), "capped at 4");
        assert!(g.paths[0].contains(",10.0"), "the huge value sits at the top: {}", g.paths[0]);
        assert_eq!(g.paths[0].matches('M').count(), 2, "{}", g.paths[0]);
    }

    #[test]
    fn long_series_are_thinned_but_keep_their_ends() {
        let long: Vec<f32> = (0..1000).map(|i| 1.0 + i as f32 / 1000.0).collect();
        let g = layout(&[long], 1000, 10.0, 480.0, 200.0);
        let points = g.paths[0].matches(['M', 'L']).count();
        assert!(points <= MAX_POINTS + 1, "{points} points");
        assert_eq!(g.ends[0].map(|e| e.0), Some(468.0), "the last step is drawn at the right edge");
        assert!(layout(&[vec![]], 10, 1.0, 100.0, 100.0).paths[0].is_empty());
    }
}
