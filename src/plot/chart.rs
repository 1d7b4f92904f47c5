//! The book's line chart: one or more series on one pair of axes, for loss curves and races.
//!
//! Options cover what the chapters need: a logarithmic y axis for quantities that span
//! decades, an x axis fixed to a whole run so that unfinished curves grow from the left, a cap
//! on y so that one run that blows up does not flatten the others, a vertical marker (the
//! best step), a cross on series that stopped early, and a legend. The geometry is a pure
//! function, [`layout`], tested below; the component only draws it.

use leptos::prelude::*;

use super::describe::{number, position, DataTable, TableText, MAX_ROWS};

/// Plot area margins: left for y labels, bottom for the x ticks and the x axis's label.
pub const MARGIN: (f64, f64, f64, f64) = (48.0, 12.0, 10.0, 40.0); // left, right, top, bottom

/// The most points drawn per series; longer series are thinned evenly, keeping the last.
pub const MAX_POINTS: usize = 400;

/// One line: its points, a CSS class for its colour, its name for the legend, and whether its
/// run stopped early (drawn as a cross at its last point).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub points: Vec<(f64, f64)>,
    pub class: String,
    pub name: String,
    pub stopped: bool,
}

impl Series {
    /// One value per step: value `i` is drawn at x = i.
    pub fn steps<T: Copy + Into<f64>>(values: &[T], class: impl Into<String>) -> Series {
        let points = values.iter().enumerate().map(|(i, &v)| (i as f64, v.into())).collect();
        Series { points, class: class.into(), ..Series::default() }
    }

    /// The name the legend shows.
    pub fn named(self, name: impl Into<String>) -> Series {
        Series { name: name.into(), ..self }
    }

    /// Marks the series as a run that stopped early.
    pub fn stopped(self, stopped: bool) -> Series {
        Series { stopped, ..self }
    }
}

/// How the axes are set up.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Axes {
    /// The x axis reaches at least this far.
    pub x_span: f64,
    /// Values above this are drawn at it.
    pub y_cap: Option<f64>,
    /// Place values by their base-10 logarithm (values at or below 0 are not drawn).
    pub log_y: bool,
}

/// Everything the chart draws, in pixels of a `width` x `height` box.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    /// The `d` attribute of each series' path (empty for a series with nothing to draw).
    pub paths: Vec<String>,
    /// Each series' last drawn point.
    pub ends: Vec<Option<(f64, f64)>>,
    /// (y pixel, label) for each horizontal grid line.
    pub y_ticks: Vec<(f64, String)>,
    /// (x pixel, label) for each x tick.
    pub x_ticks: Vec<(f64, String)>,
    /// Where the marker's vertical line goes, if it is on the axis.
    pub marker_x: Option<f64>,
}

/// Lays the series out on shared axes. x runs from 0 to the largest x (at least
/// `axes.x_span`, and at least 1); y from the smallest to the largest value drawn (from 0 on
/// a linear axis), capped at `axes.y_cap`. Values that cannot be drawn (not finite, or not
/// positive on a log axis) lift the pen.
pub fn layout(series: &[Series], axes: Axes, marker: Option<f64>, width: f64, height: f64) -> Geometry {
    let (left, right, top, bottom) = MARGIN;
    let to_axis = |y: f64| match axes.log_y {
        true if y > 0.0 => libm::log10(y),
        true => f64::NAN,
        false => y,
    };
    let drawn: Vec<f64> =
        series.iter().flat_map(|s| s.points.iter().map(|p| to_axis(p.1))).filter(|a| a.is_finite()).collect();
    if drawn.is_empty() {
        let none = series.len();
        return Geometry {
            paths: vec![String::new(); none],
            ends: vec![None; none],
            y_ticks: vec![],
            x_ticks: vec![],
            marker_x: None,
        };
    }
    let mut lo = drawn.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = drawn.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(cap) = axes.y_cap.map(to_axis).filter(|c| c.is_finite()) {
        hi = hi.min(cap);
    }
    if !axes.log_y {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        hi += 0.5;
        lo -= 0.5;
    }
    let x_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(axes.x_span, f64::max).max(1.0);
    let x_of = |x: f64| left + (width - left - right) * x / x_max;
    let y_of = |a: f64| top + (height - top - bottom) * (hi - a.min(hi)) / (hi - lo);

    let mut paths = Vec::with_capacity(series.len());
    let mut ends = Vec::with_capacity(series.len());
    for s in series {
        let mut path = String::new();
        let mut end = None;
        let mut pen_down = false;
        for &(x, y) in thin(&s.points, MAX_POINTS) {
            let a = to_axis(y);
            if !a.is_finite() {
                pen_down = false;
                continue;
            }
            let (px, py) = (x_of(x), y_of(a));
            path.push_str(&format!("{}{px:.1},{py:.1}", if pen_down { 'L' } else { 'M' }));
            pen_down = true;
            end = Some((px, py));
        }
        paths.push(path);
        ends.push(end);
    }
    let y_ticks = match axes.log_y {
        true => (0..=4)
            .map(|k| {
                let a = lo + (hi - lo) * k as f64 / 4.0;
                (y_of(a), format_tick(libm::pow(10.0, a)))
            })
            .collect(),
        false => {
            let step = round_step(hi - lo);
            let first = libm::ceil(lo / step - 1e-9);
            (0..12)
                .map(|k| (first + k as f64) * step)
                .take_while(|&a| a <= hi + step * 1e-9)
                .map(|a| (y_of(a), format_on_step(a, step)))
                .collect()
        }
    };
    let step = tick_step(x_max);
    let x_ticks = (0..)
        .map(|k| k as f64 * step)
        .take_while(|&x| x <= x_max)
        .map(|x| (x_of(x), format!("{x}")))
        .collect();
    let marker_x = marker.filter(|m| m.is_finite() && (0.0..=x_max).contains(m)).map(x_of);
    Geometry { paths, ends, y_ticks, x_ticks, marker_x }
}

/// A round distance between x ticks (a whole number) that puts about four intervals on an
/// axis from 0 to `x_max`.
fn tick_step(x_max: f64) -> f64 {
    round_step(x_max).max(1.0)
}

/// A round distance between ticks (1, 2 or 5 times a power of ten, or 25 times one from 25
/// up) that cuts `span` into about four intervals.
fn round_step(span: f64) -> f64 {
    let raw = span / 4.0;
    let magnitude = libm::pow(10.0, libm::floor(libm::log10(raw)));
    let allowed: &[f64] =
        if magnitude >= 10.0 { &[1.0, 2.0, 2.5, 5.0, 10.0] } else { &[1.0, 2.0, 5.0, 10.0] };
    let factor = allowed.iter().copied().find(|&f| f * magnitude >= raw).unwrap_or(10.0);
    factor * magnitude
}

/// A tick label with as many decimals as the step between ticks needs (0.25 steps excepted:
/// they only occur from 25 up, where no decimals are needed).
fn format_on_step(v: f64, step: f64) -> String {
    if v.abs() < step * 1e-6 {
        return "0".to_string();
    }
    if step < 1e-3 || v.abs() >= 1e6 {
        return format_tick(v);
    }
    let decimals = (-libm::floor(libm::log10(step))).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// At most about `max` of `points`, evenly spaced, always keeping the last.
fn thin(points: &[(f64, f64)], max: usize) -> impl Iterator<Item = &(f64, f64)> {
    let stride = points.len().div_ceil(max.max(1)).max(1);
    let last = points.len().checked_sub(1).filter(|last| last % stride != 0);
    points.iter().step_by(stride).chain(last.map(|i| &points[i]))
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

/// One sentence per series: where it starts and ends, whether it falls or rises, and its
/// lowest (or highest) point when that lies between the ends. `title` opens the text; `x_label`
/// names the horizontal axis. Values that are not finite are left out, as the chart does.
pub fn describe_series(title: &str, series: &[Series], x_label: &str) -> String {
    let mut parts = vec![title.trim_end_matches('.').to_string()];
    let unit = if x_label.is_empty() { String::new() } else { format!("{x_label} ") };
    let mut any = false;
    for (k, s) in series.iter().enumerate() {
        let points: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| p.1.is_finite()).collect();
        let (Some(&(x0, y0)), Some(&(x1, y1))) = (points.first(), points.last()) else {
            continue;
        };
        any = true;
        let name = match (s.name.is_empty(), series.len()) {
            (false, _) => s.name.clone(),
            (true, 1) => "It".to_string(),
            (true, _) => format!("Series {}", k + 1),
        };
        let mut sentence = if points.len() == 1 {
            format!("{name} is {} at {unit}{}", number(y0), position(x0))
        } else {
            let scale = y0.abs().max(y1.abs());
            let verb = if (y1 - y0).abs() <= 0.01 * scale {
                "stays near"
            } else if y1 < y0 {
                "falls from"
            } else {
                "rises from"
            };
            let mut text = if verb == "stays near" {
                format!("{name} stays near {} over {unit}{} to {}", number(y0), position(x0), position(x1))
            } else {
                format!(
                    "{name} {verb} {} to {} over {unit}{} to {}",
                    number(y0),
                    number(y1),
                    position(x0),
                    position(x1)
                )
            };
            let (lo, hi) = points.iter().fold((points[0], points[0]), |(lo, hi), &p| {
                (if p.1 < lo.1 { p } else { lo }, if p.1 > hi.1 { p } else { hi })
            });
            if lo.1 < y0.min(y1) {
                text.push_str(&format!(", lowest {} at {}", number(lo.1), position(lo.0)));
            }
            if hi.1 > y0.max(y1) {
                text.push_str(&format!(", highest {} at {}", number(hi.1), position(hi.0)));
            }
            text
        };
        if s.stopped {
            sentence.push_str(", where the run stopped");
        }
        parts.push(sentence);
    }
    if !any {
        parts.push("Nothing is drawn yet".to_string());
    }
    parts.join(". ") + "."
}

/// The series as a table: one row per x (at most [`MAX_ROWS`], evenly spaced over the x
/// values any series has, keeping the first and last), one column per series; "–" where a
/// series has no value at that x.
pub fn series_table(series: &[Series], x_label: &str) -> TableText {
    let mut xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let picked: Vec<f64> = if xs.len() <= MAX_ROWS {
        xs
    } else {
        let last = xs.len() - 1;
        (0..MAX_ROWS).map(|k| xs[k * last / (MAX_ROWS - 1)]).collect()
    };
    let mut headers = vec![if x_label.is_empty() { "x".to_string() } else { x_label.to_string() }];
    headers.extend(series.iter().enumerate().map(|(k, s)| match s.name.is_empty() {
        true if series.len() == 1 => "value".to_string(),
        true => format!("series {}", k + 1),
        false => s.name.clone(),
    }));
    let rows = picked
        .iter()
        .map(|&x| {
            let mut row = vec![position(x)];
            row.extend(
                series
                    .iter()
                    .map(|s| s.points.iter().find(|p| p.0 == x).map_or("–".to_string(), |p| number(p.1))),
            );
            row
        })
        .collect();
    TableText { headers, rows }
}

/// The chart as an SVG element. Each path has the class `series` plus its series' class, so
/// the widget's stylesheet colours it and the colours follow the theme.
#[component]
pub fn Chart(
    /// The lines, in drawing order.
    #[prop(into)]
    series: Signal<Vec<Series>>,
    /// An extra class on the `<svg>`, which always has `line-chart`.
    #[prop(optional)]
    class: &'static str,
    /// The x axis reaches at least this far (a run in progress is drawn against the whole run).
    #[prop(optional, into)]
    x_span: MaybeProp<f64>,
    /// Values above this are drawn at it.
    #[prop(optional, into)]
    y_cap: MaybeProp<f64>,
    /// Logarithmic y axis.
    #[prop(optional)]
    log_y: bool,
    /// An x value to mark with a vertical line, such as the best step, and its label.
    #[prop(optional, into)]
    marker: MaybeProp<f64>,
    #[prop(optional)] marker_label: &'static str,
    /// Show each series' name under the chart.
    #[prop(optional)]
    legend: bool,
    /// Height of the drawing, in the same units as its width of 480.
    #[prop(default = 200.0)]
    height: f64,
    /// What the chart says while there is nothing to draw.
    #[prop(default = "Nothing to draw yet: the curves appear here as the run goes.")]
    empty: &'static str,
    /// Label of the x axis.
    x_label: &'static str,
    /// What the chart shows, the start of its accessible name (the rest is read from the
    /// data) and the caption of its "Show as table" fold.
    aria_label: &'static str,
) -> impl IntoView {
    const WIDTH: f64 = 480.0;
    let geometry = Memo::new(move |_| {
        let axes = Axes { x_span: x_span.get().unwrap_or(0.0), y_cap: y_cap.get(), log_y };
        series.with(|s| layout(s, axes, marker.get(), WIDTH, height))
    });
    let (left, right, top, bottom) = MARGIN;
    let description = Memo::new(move |_| series.with(|s| describe_series(aria_label, s, x_label)));
    let table = Signal::derive(move || series.with(|s| series_table(s, x_label)));
    view! {
        <svg class=format!("line-chart {class}") viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=move || description.get()>
            {move || {
                let g = geometry.get();
                if g.y_ticks.is_empty() {
                    let (w, h) = (WIDTH - left - right, height - top - bottom);
                    return view! {
                        <rect class="empty-frame" x=left y=top width=w height=h />
                        <text class="empty-note" x=left + w / 2.0 y=top + h / 2.0 text-anchor="middle">{empty}</text>
                    }.into_any();
                }
                let looks: Vec<(String, bool)> = series.with(|s| s.iter().map(|s| (s.class.clone(), s.stopped)).collect());
                view! {
                    {g.y_ticks.into_iter().map(|(y, label)| view! {
                        <line class="grid" x1=left x2=WIDTH - right y1=y y2=y />
                        <text class="tick" x=left - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                    }).collect_view()}
                    {g.x_ticks.into_iter().map(|(x, label)| view! {
                        <text class="tick" x=x y=height - bottom + 16.0 text-anchor="middle">{label}</text>
                    }).collect_view()}
                    {g.marker_x.map(|x| view! {
                        <line class="marker" x1=x x2=x y1=top y2=height - bottom />
                        <text class="marker-label" x=x + 4.0 y=top + 10.0>{marker_label}</text>
                    })}
                    {g.paths.into_iter().zip(looks.clone()).map(|(d, (class, _))| view! { <path class=format!("series {class}") d=d /> }).collect_view()}
                    {g.ends.into_iter().zip(looks).filter_map(|(end, (class, stopped))| {
                        let (x, y) = end.filter(|_| stopped)?;
                        Some(view! { <path class=format!("stop-mark {class}") d=format!("M{:.1},{:.1}l8,8m0,-8l-8,8", x - 4.0, y - 4.0) /> })
                    }).collect_view()}
                }.into_any()
            }}
            <text class="axis-label" x=(left + WIDTH - right) / 2.0 y=height - 4.0 text-anchor="middle">{x_label}</text>
        </svg>
        {legend.then(|| view! {
            <ul class="legend">
                {move || series.with(|s| s.iter().map(|s| view! { <li><span class=format!("swatch {}", s.class)></span>{s.name.clone()}</li> }).collect_view())}
            </ul>
        })}
        <DataTable table=table caption=aria_label />
    }
}

/// One series against its step, such as a loss curve (thinned to [`MAX_POINTS`] when long).
#[component]
pub fn LineChart(
    /// One value per step.
    values: Signal<Vec<f64>>,
    /// Label of the x axis.
    x_label: &'static str,
    /// Accessible description of the chart.
    aria_label: &'static str,
    /// What the chart says while there is nothing to draw.
    #[prop(default = "Nothing to draw yet: the curve appears here as the run goes.")]
    empty: &'static str,
) -> impl IntoView {
    let series = Signal::derive(move || values.with(|v| vec![Series::steps(v, "")]));
    view! { <Chart series=series height=180.0 x_label=x_label aria_label=aria_label empty=empty /> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear() -> Axes {
        Axes::default()
    }

    #[test]
    fn a_falling_loss_is_described_by_its_ends() {
        let loss = Series::steps(&[0.693, 0.4, 0.1, 0.0213], "");
        assert_eq!(
            describe_series("Loss per step", &[loss], "step"),
            "Loss per step. It falls from 0.693 to 0.0213 over step 0 to 3."
        );
        let long: Vec<f64> = (0..=2000).map(|i| 0.7 - 0.68 * i as f64 / 2000.0).collect();
        assert_eq!(
            describe_series("Training loss", &[Series::steps(&long, "")], "step"),
            "Training loss. It falls from 0.700 to 0.0200 over step 0 to 2,000."
        );
    }

    #[test]
    fn named_series_dips_rises_and_stops_are_said() {
        let a = Series::steps(&[1.0, 0.2, 0.5], "a").named("Adam");
        let b = Series::steps(&[1.0, 3.0, f64::NAN], "b").named("SGD").stopped(true);
        let c = Series::steps(&[2.0, 2.001], "c");
        assert_eq!(
            describe_series("Race", &[a, b, c], ""),
            "Race. Adam falls from 1.00 to 0.500 over 0 to 2, lowest 0.200 at 1. \
             SGD rises from 1.00 to 3.00 over 0 to 1, where the run stopped. \
             Series 3 stays near 2.00 over 0 to 1."
        );
        assert_eq!(describe_series("Race", &[Series::default()], "step"), "Race. Nothing is drawn yet.");
        let one = Series { points: vec![(5.0, 0.25)], ..Series::default() };
        assert_eq!(describe_series("Check.", &[one], "step"), "Check. It is 0.250 at step 5.");
    }

    #[test]
    fn tables_thin_long_series_and_align_by_x() {
        let long: Vec<f64> = (0..=1000).map(|i| i as f64).collect();
        let t = series_table(&[Series::steps(&long, "")], "step");
        assert_eq!(t.headers, ["step", "value"]);
        assert_eq!(t.rows.len(), MAX_ROWS);
        assert_eq!(t.rows[0], ["0", "0"]);
        assert_eq!(t.rows[1], ["50", "50.0"]);
        assert_eq!(t.rows[MAX_ROWS - 1], ["1,000", "1,000"]);
        let a = Series { points: vec![(0.0, 1.0), (25.0, 0.5)], name: "train".into(), ..Series::default() };
        let b = Series { points: vec![(25.0, 0.75)], name: "held out".into(), ..Series::default() };
        let t = series_table(&[a, b], "step");
        assert_eq!(t.headers, ["step", "train", "held out"]);
        assert_eq!(t.rows, [vec!["0", "1.00", "–"], vec!["25", "0.500", "0.750"]]);
    }

    #[test]
    fn series_share_one_pair_of_axes_from_zero() {
        // A 200 x 100 box: x from 48 to 188, y from 10 (top) to 60 (bottom).
        let g = layout(
            &[Series::steps(&[1.0, 0.5, 0.0], "a"), Series::steps(&[0.5, 0.5], "b")],
            linear(),
            None,
            200.0,
            100.0,
        );
        assert_eq!(g.paths[0], "M48.0,10.0L118.0,35.0L188.0,60.0");
        assert_eq!(g.paths[1], "M48.0,35.0L118.0,35.0");
        assert_eq!(g.ends[1], Some((118.0, 35.0)));
        assert_eq!(g.y_ticks[0].1, "0");
        assert_eq!(g.x_ticks.last().map(|t| t.1.as_str()), Some("2"));
    }

    #[test]
    fn a_run_in_progress_is_drawn_against_the_whole_run() {
        let axes = Axes { x_span: 4.0, ..linear() };
        let g = layout(&[Series::steps(&[1.0, 0.5, 0.0], "a")], axes, None, 200.0, 100.0);
        assert!(g.paths[0].ends_with("L118.0,60.0"), "{}", g.paths[0]);
        assert_eq!(g.x_ticks.last().map(|t| t.1.as_str()), Some("4"));
    }

    #[test]
    fn x_ticks_fall_on_round_steps() {
        let labels = |x_max: f64| {
            let g = layout(
                &[Series { points: vec![(0.0, 1.0), (x_max, 0.0)], ..Series::default() }],
                linear(),
                None,
                480.0,
                200.0,
            );
            g.x_ticks.into_iter().map(|t| t.1).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(labels(9999.0), "0 2500 5000 7500");
        assert_eq!(labels(3000.0), "0 1000 2000 3000");
        assert_eq!(labels(85.0), "0 25 50 75");
        assert_eq!(labels(499.0), "0 200 400");
        assert_eq!(labels(4.0), "0 1 2 3 4");
    }

    #[test]
    fn y_ticks_fall_on_round_values() {
        let labels = |values: &[f64]| {
            let g = layout(&[Series::steps(values, "a")], linear(), None, 480.0, 200.0);
            g.y_ticks.into_iter().map(|t| t.1).collect::<Vec<_>>().join(" ")
        };
        // A loss scale's power of two, from 2^0 to 2^15: whole powers only.
        assert_eq!(labels(&[15.0, 14.0, 3.0]), "0 5 10 15");
        assert_eq!(labels(&[0.69, 0.2]), "0 0.2 0.4 0.6");
        assert_eq!(labels(&[-0.3, 0.25]), "-0.2 0 0.2");
        assert_eq!(labels(&[4400.0, 1200.0]), "0 2000 4000");
    }

    #[test]
    fn a_short_axis_does_not_repeat_its_tick_labels() {
        let g = layout(&[Series::steps(&[1.0, 0.5], "a")], linear(), None, 200.0, 100.0);
        let labels: Vec<&str> = g.x_ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "1"]);
    }

    #[test]
    fn the_marker_lands_on_its_step_and_only_on_the_axis() {
        let s = [Series { points: vec![(0.0, 1.0), (10.0, 0.5)], ..Series::default() }];
        assert_eq!(layout(&s, linear(), Some(5.0), 200.0, 100.0).marker_x, Some(118.0));
        assert_eq!(layout(&s, linear(), Some(11.0), 200.0, 100.0).marker_x, None);
        assert_eq!(layout(&s, linear(), Some(f64::NAN), 200.0, 100.0).marker_x, None);
    }

    #[test]
    fn a_log_axis_places_decades_evenly_and_skips_what_it_cannot_draw() {
        let axes = Axes { log_y: true, ..linear() };
        let g = layout(&[Series::steps(&[1.0, 0.1, 0.01, 0.0, f64::NAN], "a")], axes, None, 200.0, 100.0);
        // x still spans 0 to 4 (steps that could not be drawn are still steps): 35 px a step.
        assert_eq!(g.paths[0], "M48.0,10.0L83.0,35.0L118.0,60.0");
        assert_eq!(g.y_ticks[0].1, "0.010");
        assert_eq!(g.y_ticks[4].1, "1.00");
    }

    #[test]
    fn a_blow_up_is_capped_and_gaps_lift_the_pen() {
        let axes = Axes { y_cap: Some(4.0), ..linear() };
        let g = layout(
            &[Series::steps(&[1.0f32, 1e9, f32::NAN, 1.0], "a").stopped(true)],
            axes,
            None,
            200.0,
            100.0,
        );
        assert_eq!(g.y_ticks.last().map(|t| t.1.as_str()), Some("4"), "capped at 4");
        assert!(g.paths[0].contains("L94.7,10.0"), "the huge value sits at the top: {}", g.paths[0]);
        assert_eq!(g.paths[0].matches('M').count(), 2, "{}", g.paths[0]);
    }

    #[test]
    fn long_series_are_thinned_but_keep_their_ends() {
        let long: Vec<f64> = (0..1001).map(|i| 1.0 + i as f64 / 1000.0).collect();
        let g = layout(&[Series::steps(&long, "a")], linear(), None, 480.0, 200.0);
        let points = g.paths[0].matches(['M', 'L']).count();
        assert!(points <= MAX_POINTS + 1, "{points} points");
        assert_eq!(g.ends[0].map(|e| e.0), Some(468.0), "the last step is drawn at the right edge");
    }

    #[test]
    fn nothing_to_draw_draws_nothing() {
        let g = layout(
            &[Series::default(), Series::steps(&[f64::INFINITY], "a")],
            linear(),
            Some(1.0),
            200.0,
            100.0,
        );
        assert_eq!(g.paths, vec![String::new(), String::new()]);
        assert!(g.y_ticks.is_empty() && g.marker_x.is_none());
    }
}
