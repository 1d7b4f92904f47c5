//! `cargo run -p listings --example attention_by_hand`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::attention_by_hand::main(&mut std::io::stdout())
}
