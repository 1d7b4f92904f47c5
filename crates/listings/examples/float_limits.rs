//! `cargo run -p listings --example float_limits`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::float_limits::main(&mut std::io::stdout())
}
