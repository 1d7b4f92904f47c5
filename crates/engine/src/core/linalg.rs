//! Small dense linear algebra, done by `nalgebra`: principal component analysis via the SVD.
//!
//! # Two kinds of matrix
//!
//! The engine's own [`Tensor`] is deliberately plain: a shape and a flat `Vec<f32>` in
//! row-major order. That is easy to read, compiles to WebAssembly with nothing extra, and maps
//! one to one onto a GPU buffer, so the same numbers can be uploaded, computed on, and read
//! back for comparison. Every kernel the book teaches (matmul, softmax, layer norm) is written
//! out on it by hand.
//!
//! Decompositions are another matter. A robust SVD or eigensolver is hundreds of lines of
//! careful numerics that the book does not teach, so for those we use `nalgebra` on small
//! matrices (a point cloud, a 2x2 Hessian), in f64 for accuracy, and convert at the boundary.

use crate::core::tensor::{shape_str, Result, ShapeError, Tensor};
use nalgebra::DMatrix;

/// The principal components of a point cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// The mean point, subtracted before anything else: `[d]`.
    pub mean: Vec<f32>,
    /// The principal directions as unit-length rows `[k, d]`, largest variance first, with
    /// k = min(points, d). Each is signed so that its largest entry is positive.
    pub components: Tensor,
    /// The variance of the points along each component (dividing by n − 1).
    pub explained_variance: Vec<f32>,
    /// Each variance as a fraction of the total variance.
    pub explained_variance_ratio: Vec<f32>,
}

/// PCA of `points` (`[n, d]`, one point per row, n ≥ 2).
///
/// Center the points into a matrix X (n × d) and take its SVD, X = U·S·Vᵀ. The rows of Vᵀ
/// are the principal directions, and the variance along direction i is s_i² / (n − 1): the
/// eigenvalues of the covariance matrix XᵀX / (n − 1), found without forming it.
pub fn pca(points: &Tensor) -> Result<Pca> {
    let (n, d) = match points.shape[..] {
        [n, d] if n >= 2 => (n, d),
        _ => {
            return Err(ShapeError::new(format!(
                "pca: expected at least 2 points as rows [points, dimensions], got {}",
                shape_str(&points.shape)
            )))
        }
    };
    let mut mean = vec![0.0f64; d];
    for row in points.row_slices() {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64 / n as f64;
        }
    }
    let centered = DMatrix::from_fn(n, d, |i, j| points.data[i * d + j] as f64 - mean[j]);
    // `svd` returns singular values in decreasing order.
    let svd = centered.svd(false, true);
    let v_t = svd.v_t.expect("the SVD was asked for Vᵀ");
    let k = svd.singular_values.len();
    let mut components = Vec::with_capacity(k * d);
    for i in 0..k {
        let row: Vec<f64> = (0..d).map(|j| v_t[(i, j)]).collect();
        // A direction and its negative are equally valid; pick the one whose largest entry is
        // positive, so the answer does not depend on the solver's internals.
        let largest = row.iter().fold(0.0f64, |best, &v| if v.abs() > best.abs() { v } else { best });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        components.extend(row.iter().map(|&v| (sign * v) as f32));
    }
    let variances: Vec<f64> = svd.singular_values.iter().map(|s| s * s / (n - 1) as f64).collect();
    let total: f64 = variances.iter().sum();
    Ok(Pca {
        mean: mean.iter().map(|&m| m as f32).collect(),
        components: Tensor::from_vec(&[k, d], components)?,
        explained_variance: variances.iter().map(|&v| v as f32).collect(),
        explained_variance_ratio: variances
            .iter()
            .map(|&v| if total > 0.0 { (v / total) as f32 } else { 0.0 })
            .collect(),
    })
}

impl Pca {
    /// Coordinates of `points` (`[n, d]`) along the components: `[n, k]`, (x − mean)·Vᵀᵀ.
    pub fn project(&self, points: &Tensor) -> Result<Tensor> {
        let mean = Tensor::from_vec(&[self.mean.len()], self.mean.clone())?;
        let centered = crate::core::tensor::sub(points, &mean)?;
        crate::core::tensor::matmul_transposed(&centered, false, &self.components, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    /// Four points: ±2 along u1 = (0.8, 0.6) and ±1 along u2 = (−0.6, 0.8), around the mean
    /// (3, −1). The variances are (4 + 4)/3 = 8/3 along u1 and (1 + 1)/3 = 2/3 along u2,
    /// so u1 explains 80% and u2 20%.
    #[test]
    fn a_known_point_cloud() {
        let (u1, u2, mean) = ([0.8, 0.6], [-0.6, 0.8], [3.0, -1.0]);
        let offsets = [(2.0, 0.0), (-2.0, 0.0), (0.0, 1.0), (0.0, -1.0)];
        let rows: Vec<Vec<f32>> =
            offsets.iter().map(|&(a, b)| (0..2).map(|j| mean[j] + a * u1[j] + b * u2[j]).collect()).collect();
        let points = Tensor::from_rows(&rows).unwrap();
        let p = pca(&points).unwrap();
        assert_close!(p.mean[0], 3.0, 1e-5);
        assert_close!(p.mean[1], -1.0, 1e-5);
        assert_eq!(p.components.shape, vec![2, 2]);
        for j in 0..2 {
            assert_close!(p.components.at(0, j), u1[j], 1e-5);
            assert_close!(p.components.at(1, j), u2[j], 1e-5);
        }
        assert_close!(p.explained_variance[0], 8.0 / 3.0, 1e-5);
        assert_close!(p.explained_variance[1], 2.0 / 3.0, 1e-5);
        assert_close!(p.explained_variance_ratio[0], 0.8, 1e-5);
        assert_close!(p.explained_variance_ratio[1], 0.2, 1e-5);
        // Projecting recovers the offsets we built the points from.
        let coords = p.project(&points).unwrap();
        for (i, &(a, b)) in offsets.iter().enumerate() {
            assert_close!(coords.at(i, 0), a, 1e-5);
            assert_close!(coords.at(i, 1), b, 1e-5);
        }
    }

    #[test]
    fn flat_clouds_and_bad_input() {
        // Points on a line in 3-D: one component explains everything.
        let points =
            Tensor::from_rows(&[vec![0.0, 0.0, 1.0], vec![1.0, 2.0, 1.0], vec![2.0, 4.0, 1.0]]).unwrap();
        let p = pca(&points).unwrap();
        assert_close!(p.explained_variance_ratio[0], 1.0, 1e-5);
        assert_close!(p.components.at(0, 1), 2.0 / 5f32.sqrt(), 1e-5);
        assert!(pca(&Tensor::zeros(&[1, 3])).unwrap_err().message.contains("at least 2 points"));
        assert!(p.project(&Tensor::zeros(&[2, 2])).is_err());
    }
}
