//! `cargo run -p listings --example random_cosines`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::random_cosines::main(&mut std::io::stdout())
}
