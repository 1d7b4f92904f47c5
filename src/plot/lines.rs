//! Plain polylines over a shared scale, as the KV-cache race draws its two runs step by step.
//! [`polyline`] and [`shared_max`] are the geometry, tested natively.

/// The largest value of all the series (0 when there are none): the top of the shared scale.
pub fn shared_max(series: &[&[f64]]) -> f64 {
    series.iter().flat_map(|s| s.iter()).copied().fold(0.0, f64::max)
}

/// A series as SVG polyline points in a `width` × `height` box: x from 40 to width − 10, and
/// y from 8 (the value `max`) down to height − 30 (zero, where the axis is drawn).
pub fn polyline(values: &[f64], max: f64, width: f64, height: f64) -> String {
    let n = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                40.0 + (width - 50.0) * i as f64 / n as f64,
                8.0 + (height - 38.0) * (1.0 - v / max.max(1e-12))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_polyline_spans_the_box() {
        assert_eq!(polyline(&[0.0, 1.0], 1.0, 100.0, 60.0), "40.0,30.0 90.0,8.0");
        assert_eq!(polyline(&[0.5], 1.0, 100.0, 60.0), "40.0,19.0", "one point sits at the left");
    }

    #[test]
    fn the_scale_reaches_the_largest_value() {
        assert_eq!(shared_max(&[&[1.0, 3.0], &[2.0]]), 3.0);
        assert_eq!(shared_max(&[]), 0.0);
    }
}
