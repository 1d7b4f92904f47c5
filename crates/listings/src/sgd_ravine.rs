//! Chapter 8: six steps of gradient descent in a ravine, zig-zagging across the steep direction.

use std::io::{self, Write};

use engine::labs::optimizer_race::Surface;

// ANCHOR: ravine
/// Six gradient-descent steps on f(x, y) = 0.5 (x² + 25 y²), the engine's narrow valley.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let valley = Surface::Valley;
    let eta = 0.07;
    let mut p = [10.0, 1.0];
    writeln!(out, "step       x        y      f")?;
    for step in 0..=6 {
        writeln!(out, "{step:>4} {:>8.4} {:>8.4} {:>8.4}", p[0], p[1], valley.value(p))?;
        let g = valley.gradient(p);
        p = [p[0] - eta * g[0], p[1] - eta * g[1]];
    }
    Ok(())
}
// ANCHOR_END: ravine
