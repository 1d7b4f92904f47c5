//! `cargo run -p listings --example analogy`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::analogy::main(&mut std::io::stdout())
}
