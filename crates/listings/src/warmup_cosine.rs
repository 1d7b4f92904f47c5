//! Chapter 8: linear warmup followed by cosine decay of the learning rate.

use std::io::{self, Write};

// ANCHOR: schedule
use std::f64::consts::PI;

/// Linear warmup to `eta_max`, then cosine decay to `eta_min` at step `total`.
fn learning_rate(t: u32, warmup: u32, total: u32, eta_max: f64, eta_min: f64) -> f64 {
    if t <= warmup {
        eta_max * f64::from(t) / f64::from(warmup)
    } else {
        let progress = f64::from(t - warmup) / f64::from(total - warmup);
        eta_min + 0.5 * (eta_max - eta_min) * (1.0 + libm::cos(PI * progress))
    }
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    for t in [1, 100, 200, 1_000, 2_650, 5_100, 7_550, 10_000] {
        writeln!(out, "{t:>6}  {:.3e}", learning_rate(t, 200, 10_000, 3e-4, 3e-5))?;
    }
    Ok(())
}
// ANCHOR_END: schedule
