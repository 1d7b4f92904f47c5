//! `cargo run -p listings --example momentum_steps`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::momentum_steps::main(&mut std::io::stdout())
}
