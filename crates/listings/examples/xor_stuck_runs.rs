//! `cargo run -p listings --example xor_stuck_runs`: how many of 1,000 seeds leave chapter 3's
//! XOR network stuck, and on which loss.

fn main() -> std::io::Result<()> {
    listings::xor_by_hand::stuck_runs(&mut std::io::stdout())
}
