//! Closeness with a stated tolerance, the one rule every test in the book compares numbers
//! by: an actual value is close to the expected one when
//!
//! |actual − expected| ≤ abs + rel·|expected|
//!
//! element by element. `abs` is what matters near 0 (where relative error means nothing);
//! `rel` scales with the size of the expected value (where a fixed bound would be too tight
//! or too loose). [`assert_close!`](crate::assert_close) checks it and, when it fails, names
//! the element, both values and the bound.
//!
//! ```
//! use engine::assert_close;
//! use engine::core::tolerance::Tolerance;
//! // A bare number is an absolute tolerance.
//! assert_close!(0.1f32 + 0.2, 0.3, 1e-7);
//! // Slices are compared element by element, with a label for the message.
//! let tol = Tolerance { abs: 1e-6, rel: 1e-5 };
//! assert_close!([1.0f32, 1000.0], [1.0, 1000.005], tol, "the case of {}", "two sizes");
//! ```

use std::fmt;
use std::ops::{Add, Mul, Sub};

/// The float types a tolerance applies to: f32 and f64.
pub trait Float:
    Copy + PartialOrd + fmt::Display + fmt::Debug + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    /// 0 in this type.
    const ZERO: Self;
    /// |x|.
    fn magnitude(self) -> Self;
}

impl Float for f32 {
    const ZERO: f32 = 0.0;
    fn magnitude(self) -> f32 {
        self.abs()
    }
}

impl Float for f64 {
    const ZERO: f64 = 0.0;
    fn magnitude(self) -> f64 {
        self.abs()
    }
}

/// How far an actual value may be from the expected one: abs + rel·|expected|.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance<F = f32> {
    /// The part of the bound that does not scale.
    pub abs: F,
    /// The part of the bound that scales with |expected|.
    pub rel: F,
}

impl<F: Float> Tolerance<F> {
    /// The same bits: for the same operations done in the same order.
    pub const EXACT: Tolerance<F> = Tolerance { abs: F::ZERO, rel: F::ZERO };

    /// Only an absolute bound.
    pub const fn absolute(abs: F) -> Tolerance<F> {
        Tolerance { abs, rel: F::ZERO }
    }

    /// Only a relative bound.
    pub const fn relative(rel: F) -> Tolerance<F> {
        Tolerance { abs: F::ZERO, rel }
    }

    /// The largest |actual − expected| allowed for this expected value.
    pub fn bound(self, expected: F) -> F {
        self.abs + self.rel * expected.magnitude()
    }

    /// Whether `actual` is close enough to `expected`. A NaN on either side never is.
    pub fn admits(self, actual: F, expected: F) -> bool {
        (actual - expected).magnitude() <= self.bound(expected)
    }
}

/// A bare number is an absolute tolerance.
impl From<f32> for Tolerance<f32> {
    fn from(abs: f32) -> Tolerance<f32> {
        Tolerance::absolute(abs)
    }
}

/// A bare number is an absolute tolerance.
impl From<f64> for Tolerance<f64> {
    fn from(abs: f64) -> Tolerance<f64> {
        Tolerance::absolute(abs)
    }
}

/// What can be compared: one number, or a list of them (a slice, an array or a `Vec`).
pub trait Values<F> {
    /// The numbers, in order.
    fn values(&self) -> &[F];
}

impl Values<f32> for f32 {
    fn values(&self) -> &[f32] {
        std::slice::from_ref(self)
    }
}

impl Values<f64> for f64 {
    fn values(&self) -> &[f64] {
        std::slice::from_ref(self)
    }
}

impl<F> Values<F> for [F] {
    fn values(&self) -> &[F] {
        self
    }
}

impl<F, const N: usize> Values<F> for [F; N] {
    fn values(&self) -> &[F] {
        self
    }
}

impl<F> Values<F> for Vec<F> {
    fn values(&self) -> &[F] {
        self
    }
}

impl<F, T: Values<F> + ?Sized> Values<F> for &T {
    fn values(&self) -> &[F] {
        (**self).values()
    }
}

/// Why two lists of numbers are not close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NotClose<F> {
    /// They differ in length.
    Lengths { actual: usize, expected: usize },
    /// The first element that is too far from its expected value.
    Element { index: usize, len: usize, actual: F, expected: F, tol: Tolerance<F> },
}

impl<F: Float> fmt::Display for NotClose<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NotClose::Lengths { actual, expected } => {
                write!(f, "{actual} values where {expected} were expected")
            }
            NotClose::Element { index, len, actual, expected, tol } => {
                if len > 1 {
                    write!(f, "element {index} of {len}: ")?;
                }
                write!(
                    f,
                    "actual {actual}, expected {expected}: |actual − expected| = {} > {} \
                     = abs {} + rel {}·|expected|",
                    (actual - expected).magnitude(),
                    tol.bound(expected),
                    tol.abs,
                    tol.rel
                )
            }
        }
    }
}

/// Compares `actual` with `expected` element by element; the first element outside
/// `tol` (or a difference in length) is the error.
pub fn compare<F: Float>(
    actual: &(impl Values<F> + ?Sized),
    expected: &(impl Values<F> + ?Sized),
    tol: impl Into<Tolerance<F>>,
) -> Result<(), NotClose<F>> {
    let (actual, expected, tol) = (actual.values(), expected.values(), tol.into());
    if actual.len() != expected.len() {
        return Err(NotClose::Lengths { actual: actual.len(), expected: expected.len() });
    }
    let len = actual.len();
    match actual.iter().zip(expected).position(|(&a, &e)| !tol.admits(a, e)) {
        None => Ok(()),
        Some(index) => {
            Err(NotClose::Element { index, len, actual: actual[index], expected: expected[index], tol })
        }
    }
}

/// Asserts that `actual` is within a tolerance of `expected`: one number or a list of them,
/// f32 or f64, and a [`Tolerance`](crate::core::tolerance::Tolerance) (a bare number is an
/// absolute one). An optional message in `format!` style says which case failed, as with
/// `assert_eq!`. The panic names the element, both values and the bound.
#[macro_export]
macro_rules! assert_close {
    ($actual:expr, $expected:expr, $tol:expr $(,)?) => {
        if let Err(not_close) = $crate::core::tolerance::compare(&$actual, &$expected, $tol) {
            panic!("not close: {not_close}");
        }
    };
    ($actual:expr, $expected:expr, $tol:expr, $($what:tt)+) => {
        if let Err(not_close) = $crate::core::tolerance::compare(&$actual, &$expected, $tol) {
            panic!("{}: {not_close}", format_args!($($what)+));
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_abs_plus_rel_times_the_expected_size() {
        let tol = Tolerance { abs: 0.5, rel: 0.25 };
        assert_eq!(tol.bound(-8.0f32), 2.5);
        assert!(tol.admits(10.5, 8.0));
        assert!(!tol.admits(10.51, 8.0));
        assert!(!tol.admits(f32::NAN, 8.0));
        assert!(Tolerance::<f64>::EXACT.admits(0.1 + 0.2, 0.1 + 0.2));
        assert!(!Tolerance::<f64>::EXACT.admits(0.1 + 0.2, 0.3));
    }

    #[test]
    fn the_message_names_the_element_both_values_and_the_bound() {
        let err = compare(&[1.0f32, 2.0, 3.0], &[1.0, 2.5, 3.0], 0.25).unwrap_err();
        let message = err.to_string();
        assert_eq!(
            message,
            "element 1 of 3: actual 2, expected 2.5: |actual − expected| = 0.5 > 0.25 \
             = abs 0.25 + rel 0·|expected|"
        );
        assert_eq!(
            compare(&1.0f64, &2.0, 0.5).unwrap_err().to_string().split(':').next(),
            Some("actual 1, expected 2")
        );
        let lengths = compare(&vec![1.0f32], &[1.0, 2.0], Tolerance::EXACT).unwrap_err();
        assert_eq!(lengths, NotClose::Lengths { actual: 1, expected: 2 });
    }

    #[test]
    #[should_panic(expected = "step 3: element 0 of 2: actual 1, expected 1.1")]
    fn the_macro_panics_with_the_case() {
        assert_close!([1.0f32, 0.0], [1.1, 0.0], Tolerance::relative(0.01), "step {}", 3);
    }

    #[test]
    fn the_macro_passes_within_the_bound() {
        assert_close!(1.0f64, 1.0 + 1e-9, 1e-8);
        assert_close!(vec![100.0f32, -100.0], [100.001, -100.001], Tolerance::relative(1e-5));
    }
}
