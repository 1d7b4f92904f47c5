//! The two sparse-autoencoder widgets' shared drawings: a run's reconstruction MSE and L0
//! curves side by side ([`SaeCurves`]), and the trade-off between the two across λ
//! ([`SaeTradeoff`]): one point per finished run, L0 on x and MSE on y, both on log axes,
//! joined in order of λ, the runs at the current λ highlighted. The trade-off's geometry
//! ([`tradeoff`]), where its λ labels go ([`place_labels`]) and its text alternatives
//! ([`describe_tradeoff`], [`tradeoff_table`]) are pure functions, tested below; the
//! components only draw.

use leptos::prelude::*;

use engine::labs::sparse_autoencoder::Stats;

use crate::plot::chart::{Chart, Series};
use crate::plot::describe::{number, DataTable, TableText};

/// The trade-off plot's drawing box.
pub const TRADE_W: f64 = 480.0;
pub const TRADE_H: f64 = 230.0;
/// Plot margins: left for the MSE labels, top for the MSE axis's name, bottom for the L0
/// labels and the axis name.
const MARGIN: (f64, f64, f64, f64) = (62.0, 16.0, 24.0, 40.0); // left, right, top, bottom
/// The narrowest span an axis shows, in decades, so that runs with nearly equal values do not
/// fly to opposite edges.
const MIN_DECADES: f64 = 0.5;

/// One finished run: its λ and its reconstruction and sparsity on the evaluation set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunPoint {
    pub l1: f64,
    pub l0: f64,
    pub mse: f64,
}

/// Everything the trade-off plot draws, in pixels of a `width` x `height` box.
#[derive(Clone, Debug, PartialEq)]
pub struct Tradeoff {
    /// Each run's centre, in the order given; `None` for a run that cannot go on log axes
    /// (L0 or MSE zero, negative or not finite).
    pub dots: Vec<Option<(f64, f64)>>,
    /// A path through the drawn runs in order of λ (empty with fewer than two).
    pub path: String,
    /// (x pixel, label) of each L0 tick.
    pub x_ticks: Vec<(f64, String)>,
    /// (y pixel, label) of each MSE tick.
    pub y_ticks: Vec<(f64, String)>,
}

/// `log10` of a value that can go on a log axis.
fn log_of(v: f64) -> Option<f64> {
    (v > 0.0 && v.is_finite()).then(|| libm::log10(v))
}

/// The shown range of an axis, in decades: the values' range widened to [`MIN_DECADES`]
/// about its middle, then a tenth more on each side so that no dot sits on the frame.
fn range(logs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = logs.clone().fold(f64::INFINITY, f64::min);
    let hi = logs.fold(f64::NEG_INFINITY, f64::max);
    let (mut lo, mut hi) = (lo, hi);
    if hi - lo < MIN_DECADES {
        let mid = (lo + hi) / 2.0;
        lo = mid - MIN_DECADES / 2.0;
        hi = mid + MIN_DECADES / 2.0;
    }
    let pad = (hi - lo) / 10.0;
    (lo - pad, hi + pad)
}

/// Round values (m·10ᵏ) inside `[lo, hi]` (in decades): the mantissas 1 only when the axis
/// spans two decades or more, 1, 2, 5 over one to two, and 1, 2, 3, 5, 7 below one.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    let mantissas: &[f64] = if span >= 2.0 {
        &[1.0]
    } else if span >= 1.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0, 2.0, 3.0, 5.0, 7.0]
    };
    let first = libm::floor(lo) as i32;
    let last = libm::ceil(hi) as i32;
    (first..=last)
        .flat_map(|k| mantissas.iter().map(move |&m| (m, k)))
        .filter(|&(m, k)| {
            let a = libm::log10(m) + f64::from(k);
            a >= lo && a <= hi
        })
        .map(|(m, k)| m * libm::pow(10.0, f64::from(k)))
        .collect()
}

/// A tick value m·10ᵏ written out in full: "0.0005", "2", "20".
fn tick_label(v: f64) -> String {
    let k = libm::floor(libm::log10(v) + 1e-9);
    if k >= 0.0 {
        format!("{v:.0}")
    } else {
        let digits = (-k) as usize;
        format!("{v:.digits$}")
    }
}

/// Lays out the trade-off: x is log L0, y is log MSE (small at the bottom), each axis over
/// the drawn runs' range (see [`range`]).
pub fn tradeoff(runs: &[RunPoint], width: f64, height: f64) -> Tradeoff {
    let (left, right, top, bottom) = MARGIN;
    let logs: Vec<Option<(f64, f64)>> = runs.iter().map(|r| Some((log_of(r.l0)?, log_of(r.mse)?))).collect();
    let drawn: Vec<(f64, f64)> = logs.iter().flatten().copied().collect();
    if drawn.is_empty() {
        return Tradeoff {
            dots: vec![None; runs.len()],
            path: String::new(),
            x_ticks: vec![],
            y_ticks: vec![],
        };
    }
    let (x_lo, x_hi) = range(drawn.iter().map(|p| p.0));
    let (y_lo, y_hi) = range(drawn.iter().map(|p| p.1));
    let x_of = |a: f64| left + (width - left - right) * (a - x_lo) / (x_hi - x_lo);
    let y_of = |a: f64| top + (height - top - bottom) * (y_hi - a) / (y_hi - y_lo);
    let dots: Vec<Option<(f64, f64)>> = logs.iter().map(|p| p.map(|(x, y)| (x_of(x), y_of(y)))).collect();
    let mut order: Vec<usize> = (0..runs.len()).filter(|&i| dots[i].is_some()).collect();
    order.sort_by(|&a, &b| runs[a].l1.total_cmp(&runs[b].l1).then(a.cmp(&b)));
    let path = if order.len() < 2 {
        String::new()
    } else {
        order
            .iter()
            .enumerate()
            .filter_map(|(n, &i)| {
                let (x, y) = dots[i]?;
                Some(format!("{}{x:.1},{y:.1}", if n == 0 { 'M' } else { 'L' }))
            })
            .collect()
    };
    let x_ticks = ticks(x_lo, x_hi).into_iter().map(|v| (x_of(libm::log10(v)), tick_label(v))).collect();
    let y_ticks = ticks(y_lo, y_hi).into_iter().map(|v| (y_of(libm::log10(v)), tick_label(v))).collect();
    Tradeoff { dots, path, x_ticks, y_ticks }
}

/// The largest font size a λ label is drawn at (on a phone), in SVG units, and the width of
/// one of its monospace characters at that size: labels are placed for their largest size.
const LABEL_FONT: f64 = 15.0;
const LABEL_CHAR: f64 = 0.6 * LABEL_FONT;
/// The radius a dot keeps clear of labels, and the gap kept between two labels.
const DOT_CLEARANCE: f64 = 6.0;
const LABEL_GAP: f64 = 3.0;

/// An axis-aligned box: left, top, right, bottom.
type Area = (f64, f64, f64, f64);

/// How much two boxes overlap once `a` is grown by `gap` on every side (0 when they keep
/// the gap).
fn overlap(a: Area, b: Area, gap: f64) -> f64 {
    let w = (a.2 + gap).min(b.2) - (a.0 - gap).max(b.0);
    let h = (a.3 + gap).min(b.3) - (a.1 - gap).max(b.1);
    w.max(0.0) * h.max(0.0)
}

/// The box a label's text covers at its largest size, from where it is drawn.
fn text_box(x: f64, y: f64, anchor: &str, text: &str) -> Area {
    let w = LABEL_CHAR * text.chars().count() as f64;
    let x0 = if anchor == "end" { x - w } else { x };
    (x0, y - LABEL_FONT * 0.8, x0 + w, y + LABEL_FONT * 0.2)
}

/// Where each dot's label goes, as `(x, y, text-anchor)` (`None` for a dot not drawn): the
/// first of six places beside its dot (above, level with and below it, each on the right then
/// the left; the left first in the plot's right quarter) whose text stays inside the plot
/// area of a `width` x `height` box and clear of the dots and of the labels already placed;
/// when none is clear, the one that overlaps least. `texts` are the labels, one per dot.
pub fn place_labels(
    dots: &[Option<(f64, f64)>],
    texts: &[String],
    width: f64,
    height: f64,
) -> Vec<Option<(f64, f64, &'static str)>> {
    let (left, right, top, bottom) = MARGIN;
    let inside = |b: Area| b.0 >= left && b.1 >= top && b.2 <= width - right && b.3 <= height - bottom;
    let dot_boxes: Vec<Area> = dots
        .iter()
        .flatten()
        .map(|&(x, y)| (x - DOT_CLEARANCE, y - DOT_CLEARANCE, x + DOT_CLEARANCE, y + DOT_CLEARANCE))
        .collect();
    let mut placed: Vec<Area> = Vec::new();
    dots.iter()
        .zip(texts)
        .map(|(dot, text)| {
            let (x, y) = (*dot)?;
            // Beside the dot at `gap` to the right (+1) or left (−1).
            let side = |sign: f64, gap: f64| (x + sign * gap, if sign > 0.0 { "start" } else { "end" });
            let signs = if x > width * 0.75 { [-1.0, 1.0] } else { [1.0, -1.0] };
            let candidates = [
                (side(signs[0], 8.0), y - 8.0),
                (side(signs[1], 8.0), y - 8.0),
                (side(signs[0], 10.0), y + 5.0),
                (side(signs[1], 10.0), y + 5.0),
                (side(signs[0], 8.0), y + 8.0 + LABEL_FONT * 0.8),
                (side(signs[1], 8.0), y + 8.0 + LABEL_FONT * 0.8),
            ];
            let cost = |((lx, anchor), ly): ((f64, &str), f64)| {
                let b = text_box(lx, ly, anchor, text);
                let outside = if inside(b) { 0.0 } else { 1e9 };
                let labels: f64 = placed.iter().map(|&o| overlap(b, o, LABEL_GAP)).sum();
                outside + labels + dot_boxes.iter().map(|&o| overlap(b, o, 0.0)).sum::<f64>()
            };
            // The first of the least overlapping places.
            let best = candidates
                .into_iter()
                .map(|c| (c, cost(c)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(c, _)| c)?;
            let ((lx, anchor), ly) = best;
            placed.push(text_box(lx, ly, anchor, text));
            Some((lx, ly, anchor))
        })
        .collect()
}

/// The trade-off in a sentence, for its accessible name: how many runs, and the range of λ,
/// L0 and MSE over them.
pub fn describe_tradeoff(runs: &[RunPoint], unit: &str) -> String {
    let title = "Reconstruction MSE against L0";
    if runs.is_empty() {
        return format!("{title}: no run has finished yet.");
    }
    let range = |f: fn(&RunPoint) -> f64, write: fn(f64) -> String| {
        let lo = runs.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = runs.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        if lo == hi {
            write(lo)
        } else {
            format!("from {} to {}", write(lo), write(hi))
        }
    };
    format!(
        "{title}, one point per finished run: {} run{}; λ {}; L0 {} latents per {unit}; MSE {}.",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        range(|r| r.l1, l1_label),
        range(|r| r.l0, number),
        range(|r| r.mse, number)
    )
}

/// The runs as a table: λ, L0 and MSE, in the order they finished.
pub fn tradeoff_table(runs: &[RunPoint]) -> TableText {
    let rows = runs.iter().map(|r| vec![l1_label(r.l1), number(r.l0), number(r.mse)]).collect();
    TableText { headers: ["λ", "L0", "MSE"].map(String::from).to_vec(), rows }
}

/// Whether a run's λ is the current one (λ comes from a log slider, so compare by ratio).
pub fn same_l1(a: f64, b: f64) -> bool {
    a > 0.0 && b > 0.0 && (a / b - 1.0).abs() < 1e-3
}

/// λ as the plot labels it: three significant digits, no trailing zeros.
pub fn l1_label(l1: f64) -> String {
    if !(l1 > 0.0 && l1.is_finite()) {
        return format!("{l1}");
    }
    let digits = (2.0 - libm::floor(libm::log10(l1))).max(0.0) as usize;
    let text = format!("{l1:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The trade-off across λ as an SVG, with each dot's numbers in `data-` attributes
/// (`data-value="{prefix}-point-K"`, `data-l1`, `data-l0`, `data-mse`) and a tooltip.
#[component]
pub fn SaeTradeoff(
    /// Finished runs, in the order they finished.
    #[prop(into)]
    runs: Signal<Vec<RunPoint>>,
    /// The λ the controls are set to.
    #[prop(into)]
    current: Signal<f64>,
    /// Prefix of each dot's `data-value`.
    prefix: &'static str,
    /// What one input is called in the caption ("input", "character").
    unit: &'static str,
) -> impl IntoView {
    let (left, right, top, bottom) = MARGIN;
    let geometry = Memo::new(move |_| runs.with(|r| tradeoff(r, TRADE_W, TRADE_H)));
    view! {
        <figure class="sae-tradeoff">
            <svg viewBox=format!("0 0 {TRADE_W} {TRADE_H}") role="img" aria-label=move || runs.with(|r| describe_tradeoff(r, unit))>
                {move || {
                    let g = geometry.get();
                    if g.x_ticks.is_empty() && g.y_ticks.is_empty() {
                        let (w, h) = (TRADE_W - left - right, TRADE_H - top - bottom);
                        return view! {
                            <rect class="empty-frame" x=left y=top width=w height=h />
                            <text class="empty-note" x=left + w / 2.0 y=top + h / 2.0 text-anchor="middle">"Each finished run adds a point here."</text>
                        }.into_any();
                    }
                    let now = current.get();
                    let list = runs.get();
                    let texts: Vec<String> = list.iter().map(|r| format!("λ {}", l1_label(r.l1))).collect();
                    let labels = place_labels(&g.dots, &texts, TRADE_W, TRADE_H);
                    view! {
                        <rect class="empty-frame" x=left y=top width=TRADE_W - left - right height=TRADE_H - top - bottom />
                        {g.y_ticks.into_iter().map(|(y, label)| view! {
                            <line class="grid" x1=left x2=TRADE_W - right y1=y y2=y />
                            <text class="tick" x=left - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                        }).collect_view()}
                        {g.x_ticks.into_iter().map(|(x, label)| view! {
                            <line class="grid" x1=x x2=x y1=top y2=TRADE_H - bottom />
                            <text class="tick" x=x y=TRADE_H - bottom + 16.0 text-anchor="middle">{label}</text>
                        }).collect_view()}
                        <path class="sae-trade-line" d=g.path />
                        {g.dots.into_iter().zip(list).zip(labels.into_iter().zip(texts)).enumerate().filter_map(|(k, ((dot, r), (label, text)))| {
                            let (x, y) = dot?;
                            let (lx, ly, anchor) = label?;
                            let here = same_l1(r.l1, now);
                            let tip = format!("λ = {}: L0 {:.3}, MSE {:.6}", l1_label(r.l1), r.l0, r.mse);
                            Some(view! {
                                <g class="sae-trade-run" class:current=here>
                                    <title>{tip}</title>
                                    <circle class="sae-dot" cx=format!("{x:.1}") cy=format!("{y:.1}") r=if here { "6" } else { "4.5" }
                                        data-value=format!("{prefix}-point-{k}") data-l1=l1_label(r.l1) data-l0=format!("{:.3}", r.l0) data-mse=format!("{:.6}", r.mse) />
                                    <text class="sae-dot-label" x=format!("{lx:.1}") y=format!("{ly:.1}") text-anchor=anchor>{text}</text>
                                </g>
                            })
                        }).collect_view()}
                    }.into_any()
                }}
                <text class="axis-label" x=(left + TRADE_W - right) / 2.0 y=TRADE_H - 4.0 text-anchor="middle">{format!("L0: latents active per {unit} (log scale)")}</text>
                <text class="axis-label" x=left y=top - 8.0>"MSE (log scale)"</text>
            </svg>
            <figcaption>"Each finished run is a point: lower is a better reconstruction, further left a sparser code. The larger points are runs at the λ now set."</figcaption>
            <DataTable table=Signal::derive(move || runs.with(|r| tradeoff_table(r))) caption="Each finished run's λ, L0 and MSE" />
        </figure>
    }
}

/// A run's reconstruction MSE (log scale) and L0 as it trains, side by side.
#[component]
pub fn SaeCurves(
    /// The run's statistics, one entry per block of logged steps.
    #[prop(into)]
    history: Signal<Vec<Stats>>,
    /// The L0 chart's caption.
    l0_caption: &'static str,
) -> impl IntoView {
    let curve = move |f: fn(&Stats) -> f32, class: &'static str, name: &'static str| {
        Signal::derive(move || {
            history.with(|h| {
                let values: Vec<f32> = h.iter().map(f).collect();
                vec![Series::steps(&values, class).named(name)]
            })
        })
    };
    let mse = curve(|s| s.mse, "train", "MSE");
    let l0 = curve(|s| s.l0, "val", "L0");
    view! {
        <div class="overfit-plots">
            <figure class="bp-curve">
                <Chart class="curves" height=170.0 series=mse log_y=true x_label="blocks of 25 steps" aria_label="Reconstruction MSE during training, log scale" />
                <figcaption>"Reconstruction MSE on the training batches, log scale."</figcaption>
            </figure>
            <figure class="bp-curve">
                <Chart class="curves" height=170.0 series=l0 x_label="blocks of 25 steps" aria_label="L0 during training" />
                <figcaption>{l0_caption}</figcaption>
            </figure>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(l1: f64, l0: f64, mse: f64) -> RunPoint {
        RunPoint { l1, l0, mse }
    }

    #[test]
    fn runs_go_on_log_axes_joined_in_order_of_lambda() {
        // L0 from 1 to 10 and MSE from 0.0001 to 0.01: 1 and 2 decades, each padded by a
        // tenth. In a 480 x 230 box the plot spans x 62..464 and y 24..190.
        let runs = [run(0.1, 1.0, 0.01), run(0.01, 10.0, 0.0001), run(0.03, 3.0, 0.001)];
        let g = tradeoff(&runs, TRADE_W, TRADE_H);
        // x: log L0 from −0.1 to 1.1, 335 px a decade; y: log MSE from −4.2 to −1.8.
        let (x0, y0) = g.dots[0].unwrap();
        assert!((x0 - (62.0 + 402.0 * 0.1 / 1.2)).abs() < 1e-9, "{x0}");
        assert!((y0 - (24.0 + 166.0 * 0.2 / 2.4)).abs() < 1e-9, "{y0}");
        let (x1, y1) = g.dots[1].unwrap();
        assert!(
            (x1 - (62.0 + 402.0 * 1.1 / 1.2)).abs() < 1e-9 && (y1 - (190.0 - 166.0 * 0.2 / 2.4)).abs() < 1e-9
        );
        // Sparser to the left, better reconstruction lower.
        assert!(x0 < x1 && y0 < y1);
        // Joined from the smallest λ (run 1) through run 2 to run 0.
        let (x2, y2) = g.dots[2].unwrap();
        assert_eq!(g.path, format!("M{x1:.1},{y1:.1}L{x2:.1},{y2:.1}L{x0:.1},{y0:.1}"));
        let labels = |t: &[(f64, String)]| t.iter().map(|t| t.1.as_str()).collect::<Vec<_>>().join(" ");
        assert_eq!(labels(&g.x_ticks), "1 2 5 10");
        assert_eq!(labels(&g.y_ticks), "0.0001 0.001 0.01");
        // The MSE ticks run down the page as the values fall.
        assert!(g.y_ticks[0].0 > g.y_ticks[2].0);
    }

    #[test]
    fn one_run_is_centred_and_the_undrawable_are_left_out() {
        let g = tradeoff(&[run(0.1, 1.209, 0.000298), run(1.0, 0.0, 0.01)], TRADE_W, TRADE_H);
        let (x, y) = g.dots[0].unwrap();
        assert!((x - (62.0 + 402.0 / 2.0)).abs() < 1e-9 && (y - (24.0 + 166.0 / 2.0)).abs() < 1e-9);
        assert_eq!(g.dots[1], None);
        assert!(g.path.is_empty());
        // Half a decade about 1.209, padded (0.61 to 2.41): the finer mantissas.
        assert_eq!(g.x_ticks.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["0.7", "1", "2"]);
        let none = tradeoff(&[run(0.1, f64::NAN, 0.1)], TRADE_W, TRADE_H);
        assert_eq!(none.dots, vec![None]);
        assert!(none.x_ticks.is_empty() && none.y_ticks.is_empty());
    }

    #[test]
    fn labels_keep_inside_and_clear_of_each_other() {
        let texts = |n: usize| vec!["λ 0.0316".to_string(); n];
        // Alone: above right, or above left in the right quarter.
        assert_eq!(
            place_labels(&[Some((100.0, 50.0))], &texts(1), TRADE_W, TRADE_H),
            vec![Some((108.0, 42.0, "start"))]
        );
        assert_eq!(
            place_labels(&[Some((450.0, 50.0))], &texts(1), TRADE_W, TRADE_H),
            vec![Some((442.0, 42.0, "end"))]
        );
        // Two dots 20 units apart side by side: above or level right of the first, its label
        // would cover the second dot, and left of it is off the plot, so it goes below right;
        // the second's fits above right.
        let placed =
            place_labels(&[Some((100.0, 100.0)), Some((120.0, 100.0)), None], &texts(3), TRADE_W, TRADE_H);
        assert_eq!(placed[0], Some((108.0, 120.0, "start")));
        assert_eq!(placed[1], Some((128.0, 92.0, "start")));
        assert_eq!(placed[2], None);
        // Near the plot's top (y = 24), a label goes below instead of over the frame.
        assert_eq!(
            place_labels(&[Some((100.0, 30.0))], &texts(1), TRADE_W, TRADE_H),
            vec![Some((108.0, 50.0, "start"))]
        );
    }

    #[test]
    fn the_sweeps_labels_keep_apart_at_phone_size() {
        // The toy widget's sweep, in the order its runs finish (λ 0.1, 0.01, 0.001, 1): the
        // labels of λ 0.01 and λ 0.001 used to touch on a phone.
        let runs = [
            run(0.1, 1.209, 0.000298),
            run(0.01, 6.769, 0.000042),
            run(0.001, 14.669, 0.00002),
            run(1.0, 0.746, 0.0187),
        ];
        let g = tradeoff(&runs, TRADE_W, TRADE_H);
        let texts: Vec<String> = runs.iter().map(|r| format!("λ {}", l1_label(r.l1))).collect();
        let boxes: Vec<Area> = place_labels(&g.dots, &texts, TRADE_W, TRADE_H)
            .into_iter()
            .zip(&texts)
            .map(|(p, t)| {
                let (x, y, anchor) = p.unwrap();
                text_box(x, y, anchor, t)
            })
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            let (left, right, top, bottom) = MARGIN;
            assert!(
                a.0 >= left && a.1 >= top && a.2 <= TRADE_W - right && a.3 <= TRADE_H - bottom,
                "label {i} inside: {a:?}"
            );
            for (j, b) in boxes.iter().enumerate().skip(i + 1) {
                assert_eq!(overlap(*a, *b, LABEL_GAP), 0.0, "labels {i} and {j} keep apart: {a:?} {b:?}");
            }
            for (k, d) in g.dots.iter().enumerate() {
                let (x, y) = d.unwrap();
                let dot = (x - DOT_CLEARANCE, y - DOT_CLEARANCE, x + DOT_CLEARANCE, y + DOT_CLEARANCE);
                assert_eq!(overlap(*a, dot, 0.0), 0.0, "label {i} clear of dot {k}");
            }
        }
    }

    #[test]
    fn the_tradeoff_is_named_by_its_ranges() {
        assert_eq!(
            describe_tradeoff(&[], "input"),
            "Reconstruction MSE against L0: no run has finished yet."
        );
        let runs = [run(0.1, 1.5, 0.002), run(0.01, 12.0, 0.0004)];
        assert_eq!(
            describe_tradeoff(&runs, "input"),
            "Reconstruction MSE against L0, one point per finished run: 2 runs; λ from 0.01 to 0.1; L0 from 1.50 to 12.0 latents per input; MSE from 0.000400 to 0.00200."
        );
        assert_eq!(tradeoff_table(&runs).rows[1], ["0.01", "12.0", "0.000400"]);
    }

    #[test]
    fn lambda_labels_and_matching() {
        assert_eq!(l1_label(0.1), "0.1");
        assert_eq!(l1_label(0.001), "0.001");
        assert_eq!(l1_label(1.0), "1");
        assert_eq!(l1_label(0.0316), "0.0316");
        assert_eq!(l1_label(0.00005), "0.00005");
        assert_eq!(l1_label(10.0), "10");
        assert!(same_l1(0.1, f64::from(0.1f32)) && !same_l1(0.1, 0.11) && !same_l1(0.0, 0.0));
        assert_eq!(tick_label(0.0005), "0.0005");
        assert_eq!(tick_label(20.0), "20");
    }
}
