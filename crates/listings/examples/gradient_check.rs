//! `cargo run -p listings --example gradient_check`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::gradient_check::main(&mut std::io::stdout())
}
