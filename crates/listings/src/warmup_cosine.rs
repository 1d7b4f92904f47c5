//! Chapter 8: linear warmup followed by cosine decay, with the engine's schedule.

use std::io::{self, Write};

use engine::core::optim::Schedule;

// ANCHOR: schedule
/// The learning rate at a few steps of a 10,000-step run with 200 warmup steps.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    let schedule =
        Schedule::WarmupCosine { max_lr: 3e-4, min_lr: 3e-5, warmup_steps: 200, total_steps: 10_000 };
    for t in [1, 100, 200, 1_000, 2_650, 5_100, 7_550, 10_000] {
        writeln!(out, "{t:>6}  {:.3e}", schedule.lr_at(t))?;
    }
    Ok(())
}
// ANCHOR_END: schedule
