//! A histogram of whole-number counts: one bar per value from the smallest to the largest
//! value that occurs, and a marker at an expected value. [`histogram_bars`] is the geometry,
//! tested natively; the widget turns it into SVG and writes the labels.

use crate::plot::bars::Rect;

/// The plot's size and margins, in SVG units.
pub const WIDTH: f64 = 460.0;
pub const HEIGHT: f64 = 170.0;
pub const LEFT: f64 = 10.0;
pub const RIGHT: f64 = 10.0;
/// The baseline's y; bars rise from here, the tallest to [`TOP`].
pub const BASE: f64 = 145.0;
pub const TOP: f64 = 10.0;

/// One value's bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub value: usize,
    pub frequency: usize,
    pub rect: Rect,
}

/// The bars, and the x of the expected value's marker (None when it falls outside the range
/// drawn).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub bars: Vec<Bar>,
    pub marker: Option<f64>,
}

/// Bars for `bins` (entry `v` is how often the value `v` occurred), from the first non-empty
/// bin to the last, sharing the width; heights scale so that the most frequent value reaches
/// [`TOP`]. `expected` gets a marker at the centre its value would have.
pub fn histogram_bars(bins: &[usize], expected: f64) -> Histogram {
    let (Some(first), Some(last)) = (bins.iter().position(|&f| f > 0), bins.iter().rposition(|&f| f > 0))
    else {
        return Histogram { bars: Vec::new(), marker: None };
    };
    let slots = (last - first + 1) as f64;
    let slot = (WIDTH - LEFT - RIGHT) / slots;
    let tallest = bins[first..=last].iter().copied().max().unwrap_or(1).max(1) as f64;
    let gap = if slot > 4.0 { 1.0 } else { 0.0 };
    let bars = (first..=last)
        .map(|value| {
            let frequency = bins[value];
            let height = (BASE - TOP) * frequency as f64 / tallest;
            let x = LEFT + slot * (value - first) as f64;
            Bar { value, frequency, rect: Rect { x, y: BASE - height, width: slot - gap, height } }
        })
        .collect();
    let at = LEFT + slot * (expected - first as f64 + 0.5);
    let marker = (LEFT..=WIDTH - RIGHT).contains(&at).then_some(at);
    Histogram { bars, marker }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_span_the_values_that_occur() {
        // Values 2, 3, 4 occur (3 never does, but it lies between): three slots of 440 / 3.
        let h = histogram_bars(&[0, 0, 5, 0, 10], 3.5);
        assert_eq!(h.bars.len(), 3);
        let slot = 440.0 / 3.0;
        assert_eq!(h.bars[0].rect, Rect { x: 10.0, y: 145.0 - 67.5, width: slot - 1.0, height: 67.5 });
        assert_eq!(h.bars[1].rect.height, 0.0);
        assert_eq!(h.bars[2].rect, Rect { x: 10.0 + 2.0 * slot, y: 10.0, width: slot - 1.0, height: 135.0 });
        assert_eq!((h.bars[2].value, h.bars[2].frequency), (4, 10));
        // 3.5 sits halfway between the centres of 3 and 4.
        assert_eq!(h.marker, Some(10.0 + 2.0 * slot));
        assert_eq!(histogram_bars(&[0, 4], 9.0).marker, None);
        assert!(histogram_bars(&[0, 0], 1.0).bars.is_empty());
    }
}
