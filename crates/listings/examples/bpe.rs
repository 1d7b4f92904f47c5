//! `cargo run -p listings --example bpe`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::bpe::main(&mut std::io::stdout())
}
