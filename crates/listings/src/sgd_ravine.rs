//! Chapter 8: six steps of gradient descent in a ravine, zig-zagging across the steep direction.

use std::io::{self, Write};

// ANCHOR: ravine
/// Gradient of f(x, y) = 0.5 * (x^2 + 25 y^2).
fn grad(p: [f64; 2]) -> [f64; 2] {
    [p[0], 25.0 * p[1]]
}

fn loss(p: [f64; 2]) -> f64 {
    0.5 * (p[0] * p[0] + 25.0 * p[1] * p[1])
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let eta = 0.07;
    let mut p = [10.0, 1.0];
    writeln!(out, "step       x        y      f")?;
    for step in 0..=6 {
        writeln!(out, "{step:>4} {:>8.4} {:>8.4} {:>8.4}", p[0], p[1], loss(p))?;
        let g = grad(p);
        p = [p[0] - eta * g[0], p[1] - eta * g[1]];
    }
    Ok(())
}
// ANCHOR_END: ravine
