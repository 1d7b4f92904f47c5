//! Chapter 1: backpropagation's nine gradients checked against central finite differences.

use std::io::{self, Write};

use engine::labs::backprop_stepper::{Example, TinyNet, PARAM_NAMES};

// ANCHOR: main
/// Prints backprop's gradient of every parameter beside the central-difference estimate.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let net = TinyNet::chapter_one();
    let example = Example { x: [1.0, 0.5], y: 1.0 };
    let h = 1e-5;

    let forward = net.forward(&example);
    let analytic = net.backward(&example, &forward).grads.to_params();
    let numeric = net.numerical_gradient(&example, h);

    writeln!(out, "{:<8} {:>12} {:>12} {:>10}", "param", "backprop", "central FD", "abs diff")?;
    for k in 0..9 {
        let (g, n) = (analytic[k], numeric[k]);
        writeln!(out, "{:<8} {g:>12.6} {n:>12.6} {:>10.1e}", PARAM_NAMES[k], (g - n).abs())?;
    }
    Ok(())
}
// ANCHOR_END: main
