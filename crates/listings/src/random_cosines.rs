//! Chapter 10: how close to orthogonal random directions are, in 16 to 4,096 dimensions.

use std::io::{self, Write};

use engine::core::rng::Rng;

// ANCHOR: cosines
/// A random direction: a Gaussian vector scaled to unit length.
fn unit_vector(rng: &mut Rng, d: usize) -> Vec<f64> {
    let v: Vec<f64> = (0..d).map(|_| f64::from(rng.normal())).collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let n_vectors = 100;
    writeln!(out, "    d   mean|cos|   rms cos   max|cos|   1/sqrt(d)")?;
    for d in [16, 256, 4096] {
        let vs: Vec<Vec<f64>> = (0..n_vectors).map(|_| unit_vector(&mut rng, d)).collect();
        let mut cosines = Vec::new();
        for i in 0..n_vectors {
            for j in i + 1..n_vectors {
                let c: f64 = vs[i].iter().zip(&vs[j]).map(|(a, b)| a * b).sum();
                cosines.push(c.abs());
            }
        }
        let n = cosines.len() as f64;
        let mean = cosines.iter().sum::<f64>() / n;
        let rms = (cosines.iter().map(|c| c * c).sum::<f64>() / n).sqrt();
        let max = cosines.iter().copied().fold(0.0, f64::max);
        let expected = 1.0 / (d as f64).sqrt();
        writeln!(out, "{d:>5}   {mean:.4}      {rms:.4}    {max:.4}     {expected:.4}")?;
    }
    Ok(())
}
// ANCHOR_END: cosines
