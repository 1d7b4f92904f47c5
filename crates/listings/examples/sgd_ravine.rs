//! `cargo run -p listings --example sgd_ravine`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::sgd_ravine::main(&mut std::io::stdout())
}
