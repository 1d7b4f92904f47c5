//! Points and curves over x from 0 to 1: the overfitting lab's noisy samples with the true
//! function and the network's fit, and the XOR trainer's four points on the unit square.
//! Everything here is geometry, tested natively; widgets turn it into elements.

/// The fit plot's drawing box: x from 0 to 1 maps to [LEFT, LEFT + PLOT_W].
pub const PLOT_W: f64 = 440.0;
pub const PLOT_H: f64 = 200.0;
pub const LEFT: f64 = 30.0;
pub const TOP: f64 = 8.0;

/// The y range the fit plot shows: the data's range with a margin, at least [−1.5, 1.5].
pub fn y_range(points: &[(f32, f32)]) -> (f64, f64) {
    let lo = points.iter().map(|p| p.1 as f64).fold(-1.5f64, f64::min);
    let hi = points.iter().map(|p| p.1 as f64).fold(1.5f64, f64::max);
    (lo - 0.3, hi + 0.3)
}

/// Pixel position of (x, y) in the fit plot for the y range `(lo, hi)`; y is clamped to the
/// range, so a wild fit runs along the edge instead of off the page.
pub fn to_pixel(x: f32, y: f32, (lo, hi): (f64, f64)) -> (f64, f64) {
    let y = if y.is_finite() { (y as f64).clamp(lo, hi) } else { lo };
    (LEFT + PLOT_W * x as f64, TOP + PLOT_H * (hi - y) / (hi - lo))
}

/// An SVG path through `points`.
pub fn path_through(points: &[(f32, f32)], range: (f64, f64)) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            let (px, py) = to_pixel(x, y, range);
            format!("{}{px:.1},{py:.1}", if i == 0 { 'M' } else { 'L' })
        })
        .collect()
}

/// Where each point's dot goes in the fit plot.
pub fn dots(points: &[(f32, f32)], range: (f64, f64)) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| to_pixel(x, y, range)).collect()
}

/// A point of the unit square in a square of `side` pixels inset by `margin`, y up.
pub fn in_unit_square(x: f64, y: f64, side: f64, margin: f64) -> (f64, f64) {
    (margin + x * side, margin + (1.0 - y) * side)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plot_maps_the_unit_square_and_clamps_wild_fits() {
        let r = (-2.0, 2.0);
        assert_eq!(to_pixel(0.0, 2.0, r), (LEFT, TOP));
        assert_eq!(to_pixel(1.0, -2.0, r), (LEFT + PLOT_W, TOP + PLOT_H));
        assert_eq!(to_pixel(0.5, 50.0, r).1, TOP);
        assert_eq!(to_pixel(0.5, f32::NAN, r).1, TOP + PLOT_H);
        assert_eq!(path_through(&[(0.0, 0.0), (1.0, 0.0)], r), "M30.0,108.0L470.0,108.0");
        assert_eq!(y_range(&[(0.1, 3.0)]), (-1.8, 3.3));
        assert_eq!(dots(&[(0.5, 0.0)], r), vec![(250.0, 108.0)]);
    }

    #[test]
    fn the_unit_square_puts_y_up() {
        assert_eq!(in_unit_square(0.0, 0.0, 200.0, 5.0), (5.0, 205.0));
        assert_eq!(in_unit_square(1.0, 1.0, 200.0, 5.0), (205.0, 5.0));
    }
}
