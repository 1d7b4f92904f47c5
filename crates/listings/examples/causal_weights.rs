//! `cargo run -p listings --example causal_weights`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::causal_weights::main(&mut std::io::stdout())
}
