//! `cargo run -p listings --example xor_by_hand -- SEED`: chapter 3's XOR network, trained
//! by hand from the given seed (1 if none is given).

fn main() -> std::io::Result<()> {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    listings::xor_by_hand::main(seed, &mut std::io::stdout())
}
