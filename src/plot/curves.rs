//! Several series against a shared x axis (training steps), with an optional vertical marker
//! (the best step) and an optional logarithmic y axis for losses that span decades.

use leptos::prelude::*;

use crate::plot::line_chart::MARGIN;

/// One series: (x, y) points, a CSS class for its colour, and its name for the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub points: Vec<(f64, f64)>,
    pub class: &'static str,
    pub name: &'static str,
}

/// Paths, ticks and the marker's x pixel, in a `width` x `height` box.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvesGeometry {
    pub paths: Vec<String>,
    pub y_ticks: Vec<(f64, String)>,
    pub x_ticks: Vec<(f64, String)>,
    pub marker_x: Option<f64>,
}

/// Lays out every series on one pair of axes. x runs from 0 to the largest x seen; y from the
/// smallest to the largest finite value (from 0 on a linear axis; on a log axis only positive
/// values count). Points that cannot be drawn lift the pen.
pub fn layout(series: &[Series], marker: Option<f64>, log_y: bool, width: f64, height: f64) -> CurvesGeometry {
    let (left, right, top, bottom) = MARGIN;
    let drawable = |y: f64| y.is_finite() && (!log_y || y > 0.0);
    let transform = |y: f64| if log_y { y.log10() } else { y };
    let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|&y| drawable(y)).map(transform).collect();
    let x_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(0.0f64, f64::max).max(1.0);
    if ys.is_empty() {
        return CurvesGeometry { paths: vec![String::new(); series.len()], y_ticks: vec![], x_ticks: vec![], marker_x: None };
    }
    let mut lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !log_y {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        hi += 0.5;
        lo -= 0.5;
    }
    let x_of = |x: f64| left + (width - left - right) * x / x_max;
    let y_of = |v: f64| top + (height - top - bottom) * (hi - v) / (hi - lo);
    let paths = series
        .iter()
        .map(|s| {
            let mut path = String::new();
            let mut pen_down = false;
            for &(x, y) in &s.points {
                if !drawable(y) {
                    pen_down = false;
                    continue;
                }
                path.push_str(&format!("{}{:.1},{:.1}", if pen_down { 'L' } else { 'M' }, x_of(x), y_of(transform(y))));
                pen_down = true;
            }
            path
        })
        .collect();
    let y_ticks = (0..=4)
        .map(|k| {
            let v = lo + (hi - lo) * k as f64 / 4.0;
            (y_of(v), format_tick(if log_y { 10f64.powf(v) } else { v }))
        })
        .collect();
    let x_ticks = (0..=4).map(|k| {
        let x = (x_max * k as f64 / 4.0).round();
        (x_of(x), format!("{x}"))
    }).collect();
    let marker_x = marker.filter(|m| m.is_finite() && *m >= 0.0 && *m <= x_max).map(x_of);
    CurvesGeometry { paths, y_ticks, x_ticks, marker_x }
}

fn format_tick(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else if v.abs() >= 0.01 || v == 0.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// At most about `max_points` of `values` as (index, value) points, evenly spaced, always
/// keeping the last, so a long run draws quickly.
pub fn thin(values: &[f32], max_points: usize) -> Vec<(f64, f64)> {
    let stride = values.len().div_ceil(max_points.max(1)).max(1);
    let mut points: Vec<(f64, f64)> = values.iter().enumerate().step_by(stride).map(|(i, &v)| (i as f64, v as f64)).collect();
    if let Some(last) = values.len().checked_sub(1) {
        if last % stride != 0 {
            points.push((last as f64, values[last] as f64));
        }
    }
    points
}

/// The chart as an SVG element, with a legend under it.
#[component]
pub fn Curves(
    series: Signal<Vec<Series>>,
    /// An x value to mark with a vertical line, e.g. the best step.
    #[prop(into)]
    marker: Signal<Option<f64>>,
    /// Label on the marker line.
    #[prop(optional)]
    marker_label: &'static str,
    /// Plot y on a log scale.
    #[prop(optional)]
    log_y: bool,
    x_label: &'static str,
    aria_label: &'static str,
) -> impl IntoView {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 190.0;
    let geometry = Memo::new(move |_| series.with(|s| layout(s, marker.get(), log_y, WIDTH, HEIGHT)));
    view! {
        <svg class="line-chart curves" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=aria_label>
            {move || {
                let g = geometry.get();
                let (left, right, top, bottom) = MARGIN;
                let classes: Vec<&'static str> = series.with(|s| s.iter().map(|s| s.class).collect());
                view! {
                    {g.y_ticks.into_iter().map(|(y, label)| view! {
                        <line class="grid" x1=left x2=WIDTH - right y1=y y2=y />
                        <text class="tick" x=left - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                    }).collect_view()}
                    {g.x_ticks.into_iter().map(|(x, label)| view! {
                        <text class="tick" x=x y=HEIGHT - bottom + 16.0 text-anchor="middle">{label}</text>
                    }).collect_view()}
                    {g.marker_x.map(|x| view! {
                        <line class="marker" x1=x x2=x y1=top y2=HEIGHT - bottom />
                        <text class="marker-label" x=x + 4.0 y=top + 10.0>{marker_label}</text>
                    })}
                    {g.paths.into_iter().zip(classes).map(|(d, class)| view! { <path class=format!("series {class}") d=d /> }).collect_view()}
                }
            }}
            <text class="axis-label" x=WIDTH - 12.0 y=HEIGHT - 30.0 text-anchor="end">{x_label}</text>
        </svg>
        <ul class="legend">
            {move || series.with(|s| s.iter().map(|s| view! { <li><span class=format!("swatch {}", s.class)></span>{s.name}</li> }).collect_view())}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: Vec<(f64, f64)>) -> Series {
        Series { points, class: "a", name: "a" }
    }

    #[test]
    fn series_share_axes_and_the_marker_lands_on_its_step() {
        let g = layout(&[series(vec![(0.0, 1.0), (10.0, 0.5)]), series(vec![(0.0, 2.0), (10.0, 0.0)])], Some(5.0), false, 200.0, 100.0);
        // x from 48 to 188; y from 10 (value 2) to 74 (value 0).
        assert_eq!(g.paths[0], "M48.0,42.0L188.0,58.0");
        assert_eq!(g.paths[1], "M48.0,10.0L188.0,74.0");
        assert_eq!(g.marker_x, Some(118.0));
        assert_eq!(g.y_ticks[0].1, "0.000");
    }

    #[test]
    fn a_log_axis_spaces_decades_evenly_and_skips_what_it_cannot_draw() {
        let g = layout(&[series(vec![(0.0, 1.0), (1.0, 0.1), (2.0, 0.01), (3.0, 0.0), (4.0, f64::NAN)])], None, true, 200.0, 100.0);
        // x still spans 0 to 4 (steps that could not be drawn are still steps): 35 px a step.
        assert_eq!(g.paths[0], "M48.0,10.0L83.0,42.0L118.0,74.0");
        assert_eq!(g.y_ticks[0].1, "0.010");
        assert_eq!(g.y_ticks[4].1, "1.00");
        assert_eq!(layout(&[series(vec![])], Some(1.0), true, 200.0, 100.0).marker_x, None);
    }

    #[test]
    fn thinning_keeps_both_ends() {
        let values: Vec<f32> = (0..3001).map(|i| i as f32).collect();
        let t = thin(&values, 500);
        assert!(t.len() <= 502);
        assert_eq!(t[0], (0.0, 0.0));
        assert_eq!(*t.last().unwrap(), (3000.0, 3000.0));
        assert_eq!(thin(&[1.0, 2.0], 500), vec![(0.0, 1.0), (1.0, 2.0)]);
        assert!(thin(&[], 500).is_empty());
    }
}
