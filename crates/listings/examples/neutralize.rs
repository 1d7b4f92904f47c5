//! `cargo run -p listings --example neutralize`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::neutralize::main(&mut std::io::stdout())
}
