//! Chapter 4: rounding to bfloat16, and why training keeps an f32 master copy of the weights.

use std::io::{self, Write};

// ANCHOR: bf16
/// Round an f32 to the nearest bfloat16 (round half to even) and widen it back.
/// bf16 is simply the top 16 bits of an f32: 1 sign, 8 exponent, 7 mantissa bits.
fn to_bf16(x: f32) -> f32 {
    let bits = x.to_bits();
    let lsb = (bits >> 16) & 1; // last bit that survives, for ties-to-even
    let rounded = bits.wrapping_add(0x7FFF + lsb) & 0xFFFF_0000;
    f32::from_bits(rounded)
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let bf16_max = f32::from_bits(0x7F7F_0000); // exponent 254, mantissa all ones
    writeln!(out, "largest finite bf16 = {bf16_max:e}")?;
    writeln!(out, "largest finite f32  = {:e}", f32::MAX)?;

    // Spacing of representable numbers just above 1.0.
    let next_bf16 = f32::from_bits(1.0f32.to_bits() + 0x1_0000);
    writeln!(out, "bf16 gap above 1.0  = {}", next_bf16 - 1.0)?;
    writeln!(out, "f32 gap above 1.0   = {:e}", f32::EPSILON)?;

    // A small update applied directly to a bf16 weight disappears...
    let w = 1.0f32;
    let update = 1e-3f32;
    writeln!(out, "bf16(1.0 + 0.001)   = {}", to_bf16(w + update))?;

    // ...but accumulates correctly in an f32 master copy.
    let mut master = 1.0f32;
    let mut pure_bf16 = 1.0f32;
    for _ in 0..100 {
        master += update;
        pure_bf16 = to_bf16(pure_bf16 + update);
    }
    writeln!(out, "after 100 updates of 0.001: f32 master = {master:.4}, bf16 only = {pure_bf16}")?;
    writeln!(out, "bf16 view of the f32 master = {}", to_bf16(master))?;
    Ok(())
}
// ANCHOR_END: bf16
