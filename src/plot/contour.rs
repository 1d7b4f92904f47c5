//! Contour lines of a sampled surface (marching squares), and the mapping between a plot's
//! coordinates and its pixels. Pure geometry, tested natively; the widget only draws it.

/// Where a rectangle of plot coordinates sits in the SVG: plot x from `x.0` to `x.1` fills
/// pixels `left` to `left + width`, plot y from `y.0` (bottom) to `y.1` (top) fills
/// `top + height` up to `top`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Frame {
    /// The pixel of a plot point.
    pub fn to_pixel(self, p: [f64; 2]) -> (f64, f64) {
        let px = self.left + self.width * (p[0] - self.x.0) / (self.x.1 - self.x.0);
        let py = self.top + self.height * (self.y.1 - p[1]) / (self.y.1 - self.y.0);
        (px, py)
    }

    /// The plot point under a pixel: the inverse of [`Frame::to_pixel`].
    pub fn to_plot(self, px: f64, py: f64) -> [f64; 2] {
        let x = self.x.0 + (self.x.1 - self.x.0) * (px - self.left) / self.width;
        let y = self.y.1 - (self.y.1 - self.y.0) * (py - self.top) / self.height;
        [x, y]
    }

    /// An SVG path through `points`, stopping at the first that is not finite.
    pub fn path(&self, points: &[[f32; 2]]) -> String {
        let mut d = String::new();
        for (i, p) in points.iter().enumerate() {
            if !(p[0].is_finite() && p[1].is_finite()) {
                break;
            }
            let (px, py) = self.to_pixel([p[0] as f64, p[1] as f64]);
            d.push_str(&format!("{}{px:.1},{py:.1}", if i == 0 { 'M' } else { 'L' }));
        }
        d
    }
}

/// `count` contour levels spread over the sampled values, packed towards the lowest: the
/// value below which a fraction (k / (count + 1))² of the samples lie, for k = 1..=count.
/// Loss surfaces are steep far from their minimum and flat near it; levels spaced by value
/// would all crowd the rim, levels spaced by rank follow the interesting part.
pub fn levels(values: &[f64], count: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let mut out: Vec<f64> = (1..=count)
        .map(|k| {
            let share = k as f64 / (count + 1) as f64;
            let fraction = share * share;
            sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
        })
        .collect();
    out.dedup();
    out
}

/// The contour line at `level` through a `columns` x `rows` grid of samples (row by row
/// from the top, as `engine::labs::optimizer_race::Surface::grid` gives them), as an SVG path of
/// separate segments drawn in `frame` (the grid's corners are the frame's corners).
///
/// Marching squares: in each cell, the line crosses every edge whose two corners lie on
/// opposite sides of the level, at the point found by linear interpolation. Two crossings
/// make one segment. Four crossings (a saddle cell) are paired by the cell's mean value.
pub fn contour(values: &[f64], columns: usize, rows: usize, level: f64, frame: &Frame) -> String {
    let mut d = String::new();
    if columns < 2 || rows < 2 || values.len() != columns * rows {
        return d;
    }
    let at = |c: usize, r: usize| values[r * columns + c];
    let pixel = |c: f64, r: f64| {
        let px = frame.left + frame.width * c / (columns - 1) as f64;
        let py = frame.top + frame.height * r / (rows - 1) as f64;
        (px, py)
    };
    // Where the level crosses from corner value a (at t = 0) to b (at t = 1), if it does.
    let cross = |a: f64, b: f64| -> Option<f64> {
        if (a < level) != (b < level) {
            Some((level - a) / (b - a))
        } else {
            None
        }
    };
    for r in 0..rows - 1 {
        for c in 0..columns - 1 {
            let (tl, tr) = (at(c, r), at(c + 1, r));
            let (bl, br) = (at(c, r + 1), at(c + 1, r + 1));
            let (cf, rf) = (c as f64, r as f64);
            // Edges in order top, right, bottom, left, as (column, row) crossing points.
            let crossings: Vec<(f64, f64)> = [
                cross(tl, tr).map(|t| (cf + t, rf)),
                cross(tr, br).map(|t| (cf + 1.0, rf + t)),
                cross(bl, br).map(|t| (cf + t, rf + 1.0)),
                cross(tl, bl).map(|t| (cf, rf + t)),
            ]
            .into_iter()
            .flatten()
            .collect();
            let pairs: Vec<((f64, f64), (f64, f64))> = match crossings.len() {
                2 => vec![(crossings[0], crossings[1])],
                4 => {
                    // The top-left corner's region reaches the centre or it does not.
                    let centre = (tl + tr + bl + br) / 4.0;
                    if (centre < level) == (tl < level) {
                        // Cut off the top-right and bottom-left corners.
                        vec![(crossings[0], crossings[1]), (crossings[2], crossings[3])]
                    } else {
                        // Cut off the top-left and bottom-right corners.
                        vec![(crossings[3], crossings[0]), (crossings[1], crossings[2])]
                    }
                }
                _ => Vec::new(),
            };
            for (a, b) in pairs {
                let (ax, ay) = pixel(a.0, a.1);
                let (bx, by) = pixel(b.0, b.1);
                d.push_str(&format!("M{ax:.1},{ay:.1}L{bx:.1},{by:.1}"));
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_frame() -> Frame {
        Frame { x: (-1.0, 1.0), y: (-1.0, 1.0), left: 10.0, top: 5.0, width: 200.0, height: 100.0 }
    }

    #[test]
    fn pixels_and_plot_points_round_trip() {
        let f = unit_frame();
        assert_eq!(f.to_pixel([-1.0, 1.0]), (10.0, 5.0));
        assert_eq!(f.to_pixel([1.0, -1.0]), (210.0, 105.0));
        assert_eq!(f.to_pixel([0.0, 0.0]), (110.0, 55.0));
        let p = f.to_plot(60.0, 30.0);
        assert!((p[0] + 0.5).abs() < 1e-12 && (p[1] - 0.5).abs() < 1e-12, "{p:?}");
        assert_eq!(f.path(&[[0.0, 0.0], [1.0, 1.0], [f32::NAN, 0.0]]), "M110.0,55.0L210.0,5.0");
    }

    #[test]
    fn a_bowls_contour_is_a_circle() {
        // x² + y² on a 41 x 41 grid over [−1, 1]²; the level 0.25 is the circle of radius 0.5.
        let n = 41;
        let coord = |i: usize| -1.0 + 2.0 * i as f64 / (n - 1) as f64;
        let values: Vec<f64> = (0..n)
            .flat_map(|r| {
                (0..n).map(move |c| {
                    let (x, y) = (coord(c), coord(n - 1 - r));
                    x * x + y * y
                })
            })
            .collect();
        let f = unit_frame();
        let d = contour(&values, n, n, 0.25, &f);
        let numbers: Vec<f64> =
            d.split(['M', 'L', ',']).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
        assert!(numbers.len() > 100, "{d}");
        for xy in numbers.chunks(2) {
            let p = f.to_plot(xy[0], xy[1]);
            let radius = libm::hypot(p[0], p[1]);
            // Linear interpolation on cells 0.05 wide: within a few thousandths of 0.5.
            assert!((radius - 0.5).abs() < 5e-3, "point {p:?} at radius {radius}");
        }
    }

    #[test]
    fn saddle_cells_give_two_segments() {
        // Corners tl = 1, tr = 0, bl = 0, br = 1, level 0.5: four crossings; the mean 0.5 is
        // not below the level, like tl, so the top-right and bottom-left corners are cut off.
        let f = Frame { x: (0.0, 1.0), y: (0.0, 1.0), left: 0.0, top: 0.0, width: 10.0, height: 10.0 };
        let d = contour(&[1.0, 0.0, 0.0, 1.0], 2, 2, 0.5, &f);
        assert_eq!(d, "M5.0,0.0L10.0,5.0M5.0,10.0L0.0,5.0");
        assert!(contour(&[1.0, 1.0, 1.0, 1.0], 2, 2, 0.5, &f).is_empty());
        assert!(contour(&[1.0, 1.0, 1.0], 2, 2, 0.5, &f).is_empty(), "wrong size draws nothing");
    }

    #[test]
    fn levels_crowd_towards_the_minimum() {
        let values: Vec<f64> = (0..=100).map(f64::from).collect();
        // Fractions (k/4)² for k = 1, 2, 3: 1/16, 1/4, 9/16 of the way up.
        assert_eq!(levels(&values, 3), vec![6.0, 25.0, 56.0]);
        assert!(levels(&[], 5).is_empty());
        assert_eq!(levels(&[2.0, 2.0, f64::NAN], 4), vec![2.0]);
    }
}
