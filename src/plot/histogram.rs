//! Histograms: counts in bins drawn as bars, each bar's height its count's share of the
//! tallest, in the three layouts the book uses, and the text that stands in for them.
//!
//! - [`equal_bins`]: counts in equal bins across a width (the cosines of random vectors);
//! - [`whole_numbers`]: one bar per whole value from the smallest to the largest that occurs,
//!   with a marker at an expected value (how many tokens a masked-LM roll masks);
//! - [`powers_of_two`]: one bar per binade [2^k, 2^(k+1)) with shaded bands for ranges of the
//!   axis (where FP16 flushes to zero, stores subnormals, overflows);
//! - [`describe`] and [`table`]: the accessible name and the "Show as table" fold of any of
//!   them, from the same counts.
//!
//! All of it is pure and tested natively; the widgets turn it into SVG and write the labels.

use crate::plot::bars::Rect;
use crate::plot::describe::{position, TableText};

/// A drawing's box and its plot area's margins, in SVG units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    /// The plot area's width.
    pub fn plot_width(&self) -> f64 {
        self.width - self.left - self.right
    }
    /// The plot area's height: the tallest bar's.
    pub fn plot_height(&self) -> f64 {
        self.height - self.top - self.bottom
    }
    /// The baseline's y; bars rise from here.
    pub fn base(&self) -> f64 {
        self.height - self.bottom
    }
}

/// The largest count, at least 1, so that counts that are all 0 draw flat bars instead of
/// dividing by zero.
fn tallest(counts: impl Iterator<Item = u64>) -> f64 {
    counts.max().unwrap_or(0).max(1) as f64
}

/// The bars for `counts` in equal bins across `width` pixels, standing on a baseline at
/// y = `height`, the tallest reaching y = 0. Empty bins get no bar.
pub fn equal_bins(counts: &[u64], width: f64, height: f64) -> Vec<Rect> {
    let top = tallest(counts.iter().copied());
    let slot = width / counts.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| {
            let h = height * c as f64 / top;
            Rect { x: slot * i as f64, y: height - h, width: slot, height: h }
        })
        .collect()
}

/// The box of a [`whole_numbers`] histogram.
pub const WHOLE_FRAME: Frame =
    Frame { width: 460.0, height: 170.0, left: 10.0, right: 10.0, top: 10.0, bottom: 25.0 };

/// One whole value's bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WholeBar {
    pub value: usize,
    pub frequency: usize,
    pub rect: Rect,
}

/// The bars of a [`whole_numbers`] histogram, and the x of the expected value's marker (None
/// when it falls outside the range drawn).
#[derive(Clone, Debug, PartialEq)]
pub struct WholeNumbers {
    pub bars: Vec<WholeBar>,
    pub marker: Option<f64>,
}

/// Bars in [`WHOLE_FRAME`] for `bins` (entry `v` is how often the value `v` occurred), from
/// the first non-empty bin to the last, sharing the width (a value that never occurs between
/// them keeps its slot, with a bar of height 0). `expected` gets a marker at the centre its
/// value would have.
pub fn whole_numbers(bins: &[usize], expected: f64) -> WholeNumbers {
    let f = WHOLE_FRAME;
    let (Some(first), Some(last)) = (bins.iter().position(|&n| n > 0), bins.iter().rposition(|&n| n > 0))
    else {
        return WholeNumbers { bars: Vec::new(), marker: None };
    };
    let slot = f.plot_width() / (last - first + 1) as f64;
    let top = tallest(bins[first..=last].iter().map(|&n| n as u64));
    let gap = if slot > 4.0 { 1.0 } else { 0.0 };
    let bars = (first..=last)
        .map(|value| {
            let frequency = bins[value];
            let height = f.plot_height() * frequency as f64 / top;
            let x = f.left + slot * (value - first) as f64;
            WholeBar { value, frequency, rect: Rect { x, y: f.base() - height, width: slot - gap, height } }
        })
        .collect();
    let at = f.left + slot * (expected - first as f64 + 0.5);
    let marker = (f.left..=f.width - f.right).contains(&at).then_some(at);
    WholeNumbers { bars, marker }
}

/// The box of a [`powers_of_two`] histogram.
pub const LOG2_FRAME: Frame =
    Frame { width: 480.0, height: 190.0, left: 12.0, right: 12.0, top: 22.0, bottom: 38.0 };

/// Everything a [`powers_of_two`] histogram draws.
#[derive(Clone, Debug, PartialEq)]
pub struct PowersOfTwo {
    /// One bar per nonempty bin: its rectangle and its bin's power of two.
    pub bars: Vec<(Rect, i32)>,
    /// Each band's rectangle, in the order asked for (clipped to the axis; zero width if off it).
    pub bands: Vec<Rect>,
    /// (x pixel, power of two) for each tick, every 8 powers.
    pub ticks: Vec<(f64, i32)>,
    /// The y of the baseline.
    pub base: f64,
}

/// Lays out, in [`LOG2_FRAME`], `counts[i]`: the count of magnitudes in
/// [2^(min_log2 + i), 2^(min_log2 + i + 1)), over an axis from 2^min_log2 to
/// 2^(min_log2 + counts.len()), tallest bar full height; and shades each band `(from, to)` of
/// powers of two.
pub fn powers_of_two(counts: &[u32], min_log2: i32, bands: &[(i32, i32)]) -> PowersOfTwo {
    let f = LOG2_FRAME;
    let bins = counts.len().max(1) as f64;
    let (plot_w, plot_h, base) = (f.plot_width(), f.plot_height(), f.base());
    let x_of = |log2: f64| f.left + plot_w * ((log2 - min_log2 as f64) / bins).clamp(0.0, 1.0);
    let top = tallest(counts.iter().map(|&c| c as u64));
    let bars = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| {
            let k = min_log2 + i as i32;
            let height = plot_h * c as f64 / top;
            let x = x_of(k as f64);
            (Rect { x: x + 0.5, y: base - height, width: plot_w / bins - 1.0, height }, k)
        })
        .collect();
    let bands = bands
        .iter()
        .map(|&(from, to)| {
            let (a, b) = (x_of(from as f64), x_of(to as f64));
            Rect { x: a, y: f.top, width: b - a, height: plot_h }
        })
        .collect();
    let last = min_log2 + counts.len() as i32;
    let first_tick = min_log2.div_euclid(8) * 8 + if min_log2.rem_euclid(8) == 0 { 0 } else { 8 };
    let ticks = (first_tick..=last).step_by(8).map(|k| (x_of(k as f64), k)).collect();
    PowersOfTwo { bars, bands, ticks, base }
}

/// The histogram in a sentence, for its accessible name: `title`, how many were counted
/// (`unit` names them), the first and last bins with a count, and the tallest bin. `labels` name the bins
/// ("2^−7", "−0.05 to 0", "5"), one per count.
pub fn describe(title: &str, labels: &[String], counts: &[u64], unit: &str) -> String {
    let title = title.trim_end_matches('.');
    let total: u64 = counts.iter().sum();
    let label = |i: usize| labels.get(i).cloned().unwrap_or_else(|| (i + 1).to_string());
    let (Some(first), Some(last)) = (counts.iter().position(|&c| c > 0), counts.iter().rposition(|&c| c > 0))
    else {
        return format!("{title}: nothing counted yet.");
    };
    let most = (first..=last).fold(first, |m, i| if counts[i] > counts[m] { i } else { m });
    let span = if first == last {
        format!("all in {}", label(first))
    } else {
        format!("the first bar is {}, the last {}", label(first), label(last))
    };
    format!(
        "{title}: {} {unit}; {span}; the tallest bar, {}, holds {}.",
        position(total as f64),
        label(most),
        position(counts[most] as f64)
    )
}

/// Histograms over the same bins as one table: a row per bin, from the first bin any column
/// counts to the last, and a column of counts per histogram (`columns`: header, counts).
pub fn table(bin_header: &str, labels: &[String], columns: &[(String, Vec<u64>)]) -> TableText {
    let counted = |i: usize| columns.iter().any(|(_, c)| c.get(i).is_some_and(|&n| n > 0));
    let first = (0..labels.len()).find(|&i| counted(i));
    let last = (0..labels.len()).rfind(|&i| counted(i));
    let mut headers = vec![bin_header.to_string()];
    headers.extend(columns.iter().map(|(h, _)| h.clone()));
    let rows = match (first, last) {
        (Some(first), Some(last)) => (first..=last)
            .map(|i| {
                let mut row = vec![labels[i].clone()];
                row.extend(columns.iter().map(|(_, c)| position(c.get(i).copied().unwrap_or(0) as f64)));
                row
            })
            .collect(),
        _ => Vec::new(),
    };
    TableText { headers, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bins_fill_the_height_with_the_tallest() {
        let bars = equal_bins(&[0, 2, 4, 1], 400.0, 80.0);
        let r = |x, y, width, height| Rect { x, y, width, height };
        assert_eq!(
            bars,
            vec![r(100.0, 40.0, 100.0, 40.0), r(200.0, 0.0, 100.0, 80.0), r(300.0, 60.0, 100.0, 20.0)]
        );
        assert!(equal_bins(&[0, 0], 10.0, 10.0).is_empty());
        assert!(equal_bins(&[], 10.0, 10.0).is_empty());
    }

    #[test]
    fn whole_number_bars_span_the_values_that_occur() {
        // Values 2, 3, 4 occur (3 never does, but it lies between): three slots of 440 / 3.
        let h = whole_numbers(&[0, 0, 5, 0, 10], 3.5);
        assert_eq!(h.bars.len(), 3);
        let slot = 440.0 / 3.0;
        assert_eq!(h.bars[0].rect, Rect { x: 10.0, y: 145.0 - 67.5, width: slot - 1.0, height: 67.5 });
        assert_eq!(h.bars[1].rect.height, 0.0);
        assert_eq!(h.bars[2].rect, Rect { x: 10.0 + 2.0 * slot, y: 10.0, width: slot - 1.0, height: 135.0 });
        assert_eq!((h.bars[2].value, h.bars[2].frequency), (4, 10));
        // 3.5 sits halfway between the centres of 3 and 4.
        assert_eq!(h.marker, Some(10.0 + 2.0 * slot));
        assert_eq!(whole_numbers(&[0, 4], 9.0).marker, None);
        assert!(whole_numbers(&[0, 0], 1.0).bars.is_empty());
        assert_eq!(WHOLE_FRAME.base(), 145.0);
    }

    #[test]
    fn binades_sit_on_their_power_and_bands_cover_their_range() {
        // 8 bins from 2^-4: each 57 px wide over the 456 px plot area.
        let h = powers_of_two(&[0, 2, 0, 4, 0, 0, 0, 0], -4, &[(-10, -2), (2, 4), (6, 20)]);
        let f = LOG2_FRAME;
        assert_eq!(h.base, 152.0);
        assert_eq!(h.bars.len(), 2);
        let (bar, k) = h.bars[0];
        assert_eq!(k, -3);
        assert_eq!(bar, Rect { x: 69.5, y: 87.0, width: 56.0, height: 65.0 });
        let (bar, k) = h.bars[1];
        assert_eq!((k, bar.height, bar.y), (-1, 130.0, f.top));
        // A band starting left of the axis is clipped to it; one past the end likewise.
        assert_eq!(h.bands[0], Rect { x: f.left, y: f.top, width: 114.0, height: 130.0 });
        assert_eq!(h.bands[1].x, f.left + 6.0 * 57.0);
        assert_eq!(h.bands[2].x + h.bands[2].width, f.width - f.right);
        // Ticks at multiples of 8 inside the axis: only 2^0.
        assert_eq!(h.ticks, vec![(f.left + 4.0 * 57.0, 0)]);
        // Nothing counted: no bars, and no division by zero.
        assert!(powers_of_two(&[0; 4], 0, &[]).bars.is_empty());
    }

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("2^{i}")).collect()
    }

    #[test]
    fn a_histogram_is_named_by_its_total_span_and_tallest_bar() {
        assert_eq!(
            describe("Gradient magnitudes.", &labels(6), &[0, 3, 1200, 0, 5, 0], "gradients"),
            "Gradient magnitudes: 1,208 gradients; the first bar is 2^1, the last 2^4; the tallest bar, 2^2, holds 1,200."
        );
        assert_eq!(
            describe("Rolls", &labels(2), &[0, 7], "rolls"),
            "Rolls: 7 rolls; all in 2^1; the tallest bar, 2^1, holds 7."
        );
        assert_eq!(describe("Rolls", &labels(2), &[0, 0], "rolls"), "Rolls: nothing counted yet.");
    }

    #[test]
    fn a_histogram_table_keeps_the_bins_between_the_first_and_last_counted() {
        let t = table(
            "binade",
            &labels(5),
            &[("a".into(), vec![0, 3, 0, 0, 0]), ("b".into(), vec![0, 0, 0, 1500, 0])],
        );
        assert_eq!(t.headers, ["binade", "a", "b"]);
        let row = |cells: [&str; 3]| cells.map(String::from).to_vec();
        assert_eq!(t.rows, vec![row(["2^1", "3", "0"]), row(["2^2", "0", "0"]), row(["2^3", "0", "1,500"])]);
        assert!(table("bin", &labels(2), &[("n".into(), vec![0, 0])]).rows.is_empty());
    }
}
