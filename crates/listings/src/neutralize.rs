//! Chapter 9: removing a gender direction from two occupation vectors (the neutralize step).

use std::io::{self, Write};

// ANCHOR: neutralize
use crate::toy_embeddings::{cosine, dot, lookup, Vec4};

/// Removes the component of `w` along the unit vector `g`.
fn project_out(w: &Vec4, g: &Vec4) -> Vec4 {
    let along = dot(w, g);
    std::array::from_fn(|i| w[i] - along * g[i])
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    // Gender direction: the average of three definitional pair differences, normalised.
    let pairs = [("man", "woman"), ("king", "queen"), ("prince", "princess")];
    let mut g = [0.0; 4];
    for (male, female) in pairs {
        let (a, b) = (lookup(male), lookup(female));
        for i in 0..4 {
            g[i] += (a[i] - b[i]) / pairs.len() as f64;
        }
    }
    let norm = dot(&g, &g).sqrt();
    g.iter_mut().for_each(|x| *x /= norm);
    writeln!(out, "gender direction g = {g:.3?}")?;

    let (nurse, engineer) = (lookup("nurse"), lookup("engineer"));
    let (man, woman) = (lookup("man"), lookup("woman"));
    for (label, n, e) in
        [("before", nurse, engineer), ("after ", project_out(&nurse, &g), project_out(&engineer, &g))]
    {
        writeln!(
            out,
            "{label}: nurse.g = {:+.3}  engineer.g = {:+.3}  cos(nurse, woman) = {:.3}  \
             cos(nurse, man) = {:.3}  cos(nurse, engineer) = {:.3}",
            dot(&n, &g),
            dot(&e, &g),
            cosine(&n, &woman),
            cosine(&n, &man),
            cosine(&n, &e)
        )?;
    }
    Ok(())
}
// ANCHOR_END: neutralize
