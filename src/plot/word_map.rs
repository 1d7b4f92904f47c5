//! Chapter 9's word plots: words placed by two coordinates (principal components, or axes the
//! reader defines), and cosine bars. Geometry and text, tested natively.

use crate::plot::describe::number;

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

/// Where the words lie on the map, for its accessible name: each axis's lowest and highest
/// word, e.g. "across from −1.20 (king) to 2.00 (frog); up from …".
pub fn describe_spread(words: &[String], points: &[[f32; 2]]) -> String {
    let extremes = |axis: usize| {
        let mut finite = words.iter().zip(points).filter(|(_, p)| p[axis].is_finite());
        let first = finite.next()?;
        let (lo, hi) = finite.fold((first, first), |(lo, hi), w| {
            (if w.1[axis] < lo.1[axis] { w } else { lo }, if w.1[axis] > hi.1[axis] { w } else { hi })
        });
        let at = |(word, p): (&String, &[f32; 2])| format!("{} ({word})", number(f64::from(p[axis])));
        Some(format!("from {} to {}", at(lo), at(hi)))
    };
    match (extremes(0), extremes(1)) {
        (Some(x), Some(y)) => format!("across {x}; up {y}"),
        _ => "no words placed yet".to_string(),
    }
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
    fn the_spread_names_each_axis_ends() {
        let words: Vec<String> = ["king", "queen", "frog"].map(String::from).to_vec();
        assert_eq!(
            describe_spread(&words, &[[-1.2, 0.5], [0.3, -0.25], [2.0, f32::NAN]]),
            "across from −1.20 (king) to 2.00 (frog); up from −0.250 (queen) to 0.500 (king)"
        );
        assert_eq!(describe_spread(&[], &[]), "no words placed yet");
    }

    #[test]
    fn bars_are_clamped_to_their_track() {
        assert_eq!(bar_percent(0.5, 0.0, 1.0), 50.0);
        assert_eq!(bar_percent(2.0, 0.0, 1.0), 100.0);
        assert_eq!(bar_percent(-1.0, 0.0, 1.0), 0.0);
        assert_eq!(bar_percent(f32::NAN, 0.0, 1.0), 0.0);
    }
}
