//! A histogram over powers of two: one bar per binade [2^k, 2^(k+1)), with shaded bands for
//! ranges of the axis (where a format flushes to zero, stores subnormals, overflows), as the
//! mixed-precision lab draws its gradient magnitudes. [`log2_histogram`] is the geometry,
//! tested natively; the widget turns it into elements.

use crate::plot::bars::Rect;

/// The drawing's size and the plot area's margins.
pub const WIDTH: f64 = 480.0;
pub const HEIGHT: f64 = 190.0;
pub const LEFT: f64 = 12.0;
pub const RIGHT: f64 = 12.0;
pub const TOP: f64 = 22.0;
pub const BOTTOM: f64 = 38.0;

/// Everything the histogram draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// One bar per nonempty bin: its rectangle and its bin's power of two.
    pub bars: Vec<(Rect, i32)>,
    /// Each band's rectangle, in the order asked for (clipped to the axis; zero width if off it).
    pub bands: Vec<Rect>,
    /// (x pixel, power of two) for each tick, every 8 powers.
    pub ticks: Vec<(f64, i32)>,
    /// The y of the baseline.
    pub base: f64,
}

/// Lays out `counts[i]`, the count of magnitudes in [2^(min_log2 + i), 2^(min_log2 + i + 1)),
/// over an axis from 2^min_log2 to 2^(min_log2 + counts.len()), tallest bar full height, and
/// shades each band `(from, to)` of powers of two.
pub fn log2_histogram(counts: &[u32], min_log2: i32, bands: &[(i32, i32)]) -> Histogram {
    let bins = counts.len().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    let x_of = |log2: f64| LEFT + plot_w * ((log2 - min_log2 as f64) / bins).clamp(0.0, 1.0);
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bars = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| {
            let k = min_log2 + i as i32;
            let height = plot_h * c as f64 / tallest;
            let x = x_of(k as f64);
            (Rect { x: x + 0.5, y: base - height, width: plot_w / bins - 1.0, height }, k)
        })
        .collect();
    let bands = bands
        .iter()
        .map(|&(from, to)| {
            let (a, b) = (x_of(from as f64), x_of(to as f64));
            Rect { x: a, y: TOP, width: b - a, height: plot_h }
        })
        .collect();
    let last = min_log2 + counts.len() as i32;
    let first_tick = min_log2.div_euclid(8) * 8 + if min_log2.rem_euclid(8) == 0 { 0 } else { 8 };
    let ticks = (first_tick..=last).step_by(8).map(|k| (x_of(k as f64), k)).collect();
    Histogram { bars, bands, ticks, base }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_sit_on_their_binade_and_bands_cover_their_range() {
        // 8 bins from 2^-4: each 57 px wide over the 456 px plot area.
        let h = log2_histogram(&[0, 2, 0, 4, 0, 0, 0, 0], -4, &[(-10, -2), (2, 4), (6, 20)]);
        assert_eq!(h.base, 152.0);
        assert_eq!(h.bars.len(), 2);
        let (bar, k) = h.bars[0];
        assert_eq!(k, -3);
        assert_eq!(bar, Rect { x: 69.5, y: 87.0, width: 56.0, height: 65.0 });
        let (bar, k) = h.bars[1];
        assert_eq!((k, bar.height, bar.y), (-1, 130.0, TOP));
        // A band starting left of the axis is clipped to it; one past the end likewise.
        assert_eq!(h.bands[0], Rect { x: LEFT, y: TOP, width: 114.0, height: 130.0 });
        assert_eq!(h.bands[1].x, LEFT + 6.0 * 57.0);
        assert_eq!(h.bands[2].x + h.bands[2].width, WIDTH - RIGHT);
        // Ticks at multiples of 8 inside the axis: only 2^0.
        assert_eq!(h.ticks, vec![(LEFT + 4.0 * 57.0, 0)]);
        // Nothing counted: no bars, and no division by zero.
        assert!(log2_histogram(&[0; 4], 0, &[]).bars.is_empty());
    }
}
