//! `cargo run -p listings --example adam_scalar`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::adam_scalar::main(&mut std::io::stdout())
}
