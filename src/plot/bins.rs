//! A histogram's bars: counts in equal bins across a width, each bar's height a share of the
//! tallest. Pure geometry, tested natively; the widget turns it into SVG.

/// One bar: x, y (top), width, height.
pub type Bar = (f64, f64, f64, f64);

/// Bars for `counts` across `width` pixels, standing on a baseline at y = `height`, the
/// tallest reaching y = 0. Empty bins get no bar.
pub fn histogram(counts: &[u64], width: f64, height: f64) -> Vec<Bar> {
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = width / counts.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| {
            let h = height * c as f64 / tallest;
            (slot * i as f64, height - h, slot, h)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_fills_the_height() {
        let bars = histogram(&[0, 2, 4, 1], 400.0, 80.0);
        assert_eq!(
            bars,
            vec![(100.0, 40.0, 100.0, 40.0), (200.0, 0.0, 100.0, 80.0), (300.0, 60.0, 100.0, 20.0)]
        );
        assert!(histogram(&[0, 0], 10.0, 10.0).is_empty());
        assert!(histogram(&[], 10.0, 10.0).is_empty());
    }
}
