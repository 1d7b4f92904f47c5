//! `cargo run -p listings --example bf16`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::bf16::main(&mut std::io::stdout())
}
