//! Chapter 8: how many steps plain SGD and momentum need to reach the bottom of the ravine.

use std::io::{self, Write};

use engine::labs::optimizer_race::Surface;

// ANCHOR: momentum
/// Runs momentum on the narrow valley f(x, y) = 0.5 (x² + 25 y²) from (10, 1) until the
/// distance to the minimum drops below 1e-3, and returns the step count.
/// `beta = 0.0` is plain gradient descent.
fn steps_to_converge(eta: f64, beta: f64) -> usize {
    let (mut p, mut v) = ([10.0_f64, 1.0], [0.0_f64; 2]);
    for step in 1..=10_000 {
        let g = Surface::Valley.gradient(p);
        for i in 0..2 {
            // EMA form: v is an average of recent gradients, not a sum.
            v[i] = beta * v[i] + (1.0 - beta) * g[i];
            p[i] -= eta * v[i];
        }
        if libm::hypot(p[0], p[1]) < 1e-3 {
            return step;
        }
    }
    usize::MAX
}

/// Prints the step counts of plain SGD and two momentum settings.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    for (eta, beta) in [(0.07, 0.0), (0.2, 0.5), (0.2, 0.9)] {
        writeln!(out, "eta = {eta:<4} beta = {beta:<3} -> {} steps", steps_to_converge(eta, beta))?;
    }
    Ok(())
}
// ANCHOR_END: momentum
