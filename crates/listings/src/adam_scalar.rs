//! Chapter 8: the engine's Adam on one scalar parameter, every moment printed.

use std::io::{self, Write};

use engine::labs::inside_adam::inside_adam;

// ANCHOR: adam
/// Two Adam steps (β1 = 0.9, β2 = 0.999, ε = 1e-8, η = 0.001) with gradients 0.5 and 0.3.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let mut theta = 0.0;
    for s in inside_adam(&[0.5, 0.3], 0.9, 0.999, 1e-8, 1e-3) {
        writeln!(
            out,
            "t={} m={:.6} v={:.8} m_hat={:.6} v_hat={:.6} update={:.7}",
            s.t, s.m, s.v, s.m_hat, s.v_hat, s.step
        )?;
        theta -= s.step;
    }
    writeln!(out, "theta after two steps = {theta:.7}")?;
    Ok(())
}
// ANCHOR_END: adam
