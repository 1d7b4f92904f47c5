//! Chapter 8: Adam on one scalar parameter, every moment printed.

use std::io::{self, Write};

// ANCHOR: adam
/// Adam state for a single scalar parameter.
struct Adam {
    beta1: f64,
    beta2: f64,
    eps: f64,
    eta: f64,
    m: f64,
    v: f64,
    t: i32,
}

impl Adam {
    fn new(eta: f64) -> Self {
        Self { beta1: 0.9, beta2: 0.999, eps: 1e-8, eta, m: 0.0, v: 0.0, t: 0 }
    }

    /// Takes one step for gradient `g`; returns the bias-corrected moments and the amount
    /// subtracted from the parameter.
    fn step(&mut self, g: f64) -> (f64, f64, f64) {
        self.t += 1;
        self.m = self.beta1 * self.m + (1.0 - self.beta1) * g;
        self.v = self.beta2 * self.v + (1.0 - self.beta2) * g * g;
        let m_hat = self.m / (1.0 - self.beta1.powi(self.t));
        let v_hat = self.v / (1.0 - self.beta2.powi(self.t));
        let update = self.eta * m_hat / (v_hat.sqrt() + self.eps);
        (m_hat, v_hat, update)
    }
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let mut opt = Adam::new(1e-3);
    let mut theta = 0.0;
    for g in [0.5, 0.3] {
        let (m_hat, v_hat, update) = opt.step(g);
        writeln!(
            out,
            "t={} m={:.6} v={:.8} m_hat={m_hat:.6} v_hat={v_hat:.6} update={update:.7}",
            opt.t, opt.m, opt.v
        )?;
        theta -= update;
    }
    writeln!(out, "theta after two steps = {theta:.7}")?;
    Ok(())
}
// ANCHOR_END: adam
