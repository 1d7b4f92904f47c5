//! `cargo run -p listings --example norms_and_dropout`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::norms_and_dropout::main(&mut std::io::stdout())
}
