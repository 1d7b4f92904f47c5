//! Paired bars: for each token, a faint bar (one distribution) beside a solid one (another),
//! and a tick for a measured share, as the sampling bench draws them. [`paired_bars`] is the
//! geometry, tested natively; the widget turns it into elements and writes the labels.

/// The plot's width and where its bars start and stand.
pub const WIDTH: f64 = 460.0;
pub const LEFT: f64 = 30.0;
/// The y of the baseline (probability 0) and the height of probability 1.
pub const BASE: f64 = 160.0;
pub const SCALE: f64 = 150.0;

/// A rectangle in SVG coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// One token's bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarPair {
    /// The centre of the token's slot (its label sits here).
    pub x: f64,
    /// The first distribution's bar, left of the centre.
    pub left: Rect,
    /// The second distribution's bar, right of the centre.
    pub right: Rect,
    /// The measured share's tick over the right bar: its y, and its ends' x.
    pub tick: Option<(f64, f64, f64)>,
    /// Where a value written over the right bar sits (its baseline).
    pub value_y: f64,
}

/// The bars for some tokens, one slot each across [`WIDTH`]: `(left, right, share)` per
/// token, probabilities in 0..=1.
pub fn paired_bars(values: &[(f64, f64, Option<f64>)]) -> Vec<BarPair> {
    let slot = WIDTH / values.len().max(1) as f64;
    let bar = (slot * 0.38).min(28.0);
    let h = |q: f64| SCALE * q;
    values
        .iter()
        .enumerate()
        .map(|(column, &(left, right, share))| {
            let x = LEFT + slot * column as f64 + slot / 2.0;
            BarPair {
                x,
                left: Rect { x: x - bar - 1.0, y: BASE - h(left), width: bar, height: h(left) },
                right: Rect { x: x + 1.0, y: BASE - h(right), width: bar, height: h(right) },
                tick: share.map(|e| (BASE - h(e), x + 1.0, x + 1.0 + bar)),
                value_y: BASE - 4.0 - h(right),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_share_the_width_and_stand_on_the_baseline() {
        let bars = paired_bars(&[(0.5, 1.0, None), (0.25, 0.0, Some(0.1))]);
        // Two slots of 230: bars of 28 (the cap) either side of each centre.
        assert_eq!(bars[0].x, 145.0);
        assert_eq!(bars[1].x, 375.0);
        assert_eq!(bars[0].left, Rect { x: 116.0, y: 85.0, width: 28.0, height: 75.0 });
        assert_eq!(bars[0].right, Rect { x: 146.0, y: 10.0, width: 28.0, height: 150.0 });
        assert_eq!(bars[1].right.height, 0.0);
        assert_eq!(bars[0].tick, None);
        assert_eq!(bars[1].tick, Some((145.0, 376.0, 404.0)));
        assert_eq!(bars[0].value_y, 6.0);
        // Many tokens: narrow slots, bars 38% of a slot.
        let many = paired_bars(&[(0.1, 0.1, None); 20]);
        assert_eq!(many[0].left.width, 23.0 * 0.38);
    }
}
