//! Chapter 10's grid of attention maps, every head of a model at once: each map is a
//! lower-triangular `[n, n]` matrix of values in [0, 1] (query rows, key columns), drawn as a
//! few SVG paths, one per shade, instead of one element per cell, so that sixteen maps of a
//! 50-character prompt stay light, each shade a colour of the shared sequential scale
//! ([`scale::sequential`](sequential)). Pure geometry, tested below.

use super::scale::{sequential, Heat};

/// How many shades a map uses: a value is drawn at the nearest multiple of 1/SHADES (and not
/// at all when that is 0).
pub const SHADES: usize = 20;

/// The cells of a lower-triangular map as one path per shade: `(colour, path)` for each
/// shade that has cells, weakest first, in a square of `extent` pixels; a shade's colour is
/// the sequential scale at its value. Values are clamped to [0, 1]; values that are not
/// finite are left out.
pub fn triangle_shades(values: &[f32], n: usize, extent: f64) -> Vec<(Heat, String)> {
    let side = extent / n.max(1) as f64;
    let mut paths = vec![String::new(); SHADES + 1];
    for i in 0..n {
        for j in 0..=i {
            let Some(&v) = values.get(i * n + j) else { continue };
            if !v.is_finite() {
                continue;
            }
            let level = libm::round(f64::from(v.clamp(0.0, 1.0)) * SHADES as f64) as usize;
            if level == 0 {
                continue;
            }
            let (x, y) = (j as f64 * side, i as f64 * side);
            paths[level].push_str(&format!("M{x:.2},{y:.2}h{side:.2}v{side:.2}h-{side:.2}z"));
        }
    }
    paths
        .into_iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(level, p)| (sequential(level as f64 / SHADES as f64), p))
        .collect()
}

/// The band of query row `i` (0-based) in a map of `n` rows: its top and height in pixels.
pub fn row_band(n: usize, i: usize, extent: f64) -> (f64, f64) {
    let side = extent / n.max(1) as f64;
    (i.min(n.saturating_sub(1)) as f64 * side, side)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_grouped_by_shade_and_the_upper_triangle_is_skipped() {
        // 2 x 2 in 10 px: (0,0) = 1, (0,1) = 0.9 is above the diagonal, (1,0) = (1,1) = 0.5.
        let shades = triangle_shades(&[1.0, 0.9, 0.5, 0.5], 2, 10.0);
        assert_eq!(
            shades,
            vec![
                (sequential(0.5), "M0.00,5.00h5.00v5.00h-5.00zM5.00,5.00h5.00v5.00h-5.00z".to_string()),
                (sequential(1.0), "M0.00,0.00h5.00v5.00h-5.00z".to_string()),
            ]
        );
        // Values under half a shade, and values that are not finite, draw nothing; too large
        // is drawn at full strength.
        assert!(triangle_shades(&[0.02, 0.0, f32::NAN, 0.0], 2, 10.0).is_empty());
        assert_eq!(
            triangle_shades(&[7.0], 1, 4.0),
            vec![(sequential(1.0), "M0.00,0.00h4.00v4.00h-4.00z".to_string())]
        );
        // A short list of values is not read past its end.
        assert_eq!(triangle_shades(&[1.0], 2, 10.0).len(), 1);
    }

    #[test]
    fn the_query_band_stays_on_the_map() {
        assert_eq!(row_band(4, 1, 100.0), (25.0, 25.0));
        assert_eq!(row_band(4, 9, 100.0), (75.0, 25.0));
        assert_eq!(row_band(0, 0, 100.0), (0.0, 100.0));
    }
}
