//! Chapter 9's word plots: words placed by two coordinates (principal components, or axes the
//! reader defines), and cosine bars. Geometry only, tested natively.

/// The map's drawing box in SVG units.
pub const MAP_W: f64 = 480.0;
pub const MAP_H: f64 = 300.0;
/// Room left around the points for their labels.
pub const MARGIN: f64 = 40.0;

/// Pixel positions for `points`, scaled by the same factor on both axes (so angles and
/// parallelograms keep their shape) and centred in the box; y grows upward.
pub fn place(points: &[[f32; 2]]) -> Vec<(f64, f64)> {
    let xs = points.iter().map(|p| p[0] as f64);
    let ys = points.iter().map(|p| p[1] as f64);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (y_lo, y_hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = (x_hi - x_lo).max(y_hi - y_lo);
    let scale = if span > 0.0 && span.is_finite() { (MAP_H - 2.0 * MARGIN) / span } else { 0.0 };
    let (x_mid, y_mid) = ((x_lo + x_hi) / 2.0, (y_lo + y_hi) / 2.0);
    points
        .iter()
        .map(|p| {
            let x = if scale > 0.0 { (p[0] as f64 - x_mid) * scale } else { 0.0 };
            let y = if scale > 0.0 { (p[1] as f64 - y_mid) * scale } else { 0.0 };
            (MAP_W / 2.0 + x, MAP_H / 2.0 - y)
        })
        .collect()
}

/// A bar's length as a percentage of its track, for a value in `[lo, hi]` (clamped).
pub fn bar_percent(value: f32, lo: f32, hi: f32) -> f64 {
    let ordered = hi.partial_cmp(&lo) == Some(std::cmp::Ordering::Greater);
    if !ordered || !value.is_finite() {
        return 0.0;
    }
    (((value - lo) / (hi - lo)).clamp(0.0, 1.0) * 100.0) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_keep_their_shape_and_fit_the_box() {
        let placed = place(&[[0.0, 0.0], [2.0, 0.0], [2.0, 1.0]]);
        // The wider span (2 along x) fills the box's height minus its margins: 220 px.
        assert_eq!(placed, vec![(130.0, 205.0), (350.0, 205.0), (350.0, 95.0)]);
        assert_eq!(place(&[[1.0, 1.0], [1.0, 1.0]]), vec![(240.0, 150.0); 2]);
    }

    #[test]
    fn bars_are_clamped_to_their_track() {
        assert_eq!(bar_percent(0.5, 0.0, 1.0), 50.0);
        assert_eq!(bar_percent(2.0, 0.0, 1.0), 100.0);
        assert_eq!(bar_percent(-1.0, 0.0, 1.0), 0.0);
        assert_eq!(bar_percent(f32::NAN, 0.0, 1.0), 0.0);
    }
}
