//! The superposition lab's drawings: each feature's direction in a two-dimensional hidden
//! space as an arrow from the origin, and per-feature bars (a norm beside an interference).
//! Pure geometry, tested natively; the widget turns it into SVG.

/// One feature's arrow: from the centre to (x, y), its label just past the tip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrow {
    pub x: f64,
    pub y: f64,
    pub label_x: f64,
    pub label_y: f64,
}

/// The arrows for columns of W (two numbers each) in a square of `size` pixels, y up. Length
/// 1 reaches `radius`, the reference circle's radius, unless a column is longer than 1, in
/// which case the longest reaches it. Returns the arrows and the reference circle's radius.
pub fn arrows(columns: &[(f32, f32)], size: f64) -> (Vec<Arrow>, f64) {
    let centre = size / 2.0;
    let reach = size / 2.0 - 22.0;
    let longest = columns
        .iter()
        .map(|&(a, b)| libm::hypot(a as f64, b as f64))
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
    let scale = reach / longest;
    let drawn = columns
        .iter()
        .map(|&(a, b)| {
            let (a, b) = (finite(a), finite(b));
            let (x, y) = (centre + scale * a, centre - scale * b);
            let length = libm::hypot(a, b);
            // The label sits 12 px beyond the tip along the arrow (at the centre's right when
            // the arrow has no length).
            let (ux, uy) = if length > 0.0 { (a / length, -b / length) } else { (1.0, 0.0) };
            Arrow { x, y, label_x: x + 12.0 * ux, label_y: y + 12.0 * uy + 4.0 }
        })
        .collect();
    (drawn, scale)
}

fn finite(v: f32) -> f64 {
    if v.is_finite() {
        v as f64
    } else {
        0.0
    }
}

/// One feature's two bars, in a plot of `height` pixels whose baseline is at `height − 18`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeatureBars {
    /// The slot's centre, where the feature's label goes.
    pub x: f64,
    /// The norm bar: x, y (top), width, height.
    pub norm: (f64, f64, f64, f64),
    /// The interference bar.
    pub interference: (f64, f64, f64, f64),
}

/// The baseline's y in a bar plot of height `height`.
pub fn baseline(height: f64) -> f64 {
    height - 18.0
}

/// Bars for each feature's norm and interference across `width` pixels, on one scale whose
/// top is the larger of 1 and the largest value. Returns the bars and that top value.
pub fn feature_bars(norms: &[f32], interference: &[f32], width: f64, height: f64) -> (Vec<FeatureBars>, f64) {
    let top = norms.iter().chain(interference).map(|&v| finite(v)).fold(1.0f64, f64::max);
    let base = baseline(height);
    let usable = base - 6.0;
    let slot = width / norms.len().max(1) as f64;
    let bar = (slot * 0.36).min(24.0);
    let h = |v: f32| usable * finite(v).clamp(0.0, top) / top;
    let bars = norms
        .iter()
        .zip(interference)
        .enumerate()
        .map(|(i, (&n, &q))| {
            let x = slot * i as f64 + slot / 2.0;
            FeatureBars {
                x,
                norm: (x - bar - 1.0, base - h(n), bar, h(n)),
                interference: (x + 1.0, base - h(q), bar, h(q)),
            }
        })
        .collect();
    (bars, top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_columns_reach_the_circle_and_y_points_up() {
        let (a, scale) = arrows(&[(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)], 200.0);
        assert_eq!(scale, 78.0);
        assert_eq!((a[0].x, a[0].y), (178.0, 100.0));
        assert_eq!((a[1].x, a[1].y), (100.0, 22.0), "up in W is up on screen");
        assert_eq!((a[0].label_x, a[0].label_y), (190.0, 104.0));
        assert_eq!((a[1].label_x, a[1].label_y), (100.0, 14.0));
        assert_eq!((a[2].x, a[2].y, a[2].label_x), (100.0, 100.0, 112.0));
    }

    #[test]
    fn long_or_broken_columns_stay_inside() {
        let (a, scale) = arrows(&[(2.0, 0.0), (f32::NAN, 1.0)], 200.0);
        assert_eq!(scale, 39.0, "the longest column reaches the circle");
        assert_eq!(a[0].x, 178.0);
        assert_eq!((a[1].x, a[1].y), (100.0, 61.0), "NaN is drawn as 0");
    }

    #[test]
    fn bars_share_one_scale() {
        let (b, top) = feature_bars(&[1.0, 0.5], &[2.0, 0.0], 200.0, 118.0);
        assert_eq!(top, 2.0);
        assert_eq!(baseline(118.0), 100.0);
        assert_eq!(b[0].x, 50.0);
        assert_eq!(b[1].x, 150.0);
        // Slots of 100: bars of 24 (the cap); 2.0 fills the 94 usable pixels.
        assert_eq!(b[0].interference, (51.0, 6.0, 24.0, 94.0));
        assert_eq!(b[0].norm, (25.0, 53.0, 24.0, 47.0));
        assert_eq!(b[1].interference.3, 0.0);
        let (_, top) = feature_bars(&[0.2], &[0.1], 100.0, 118.0);
        assert_eq!(top, 1.0, "the scale never shrinks below 1");
    }
}
