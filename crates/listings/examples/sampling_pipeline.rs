//! `cargo run -p listings --example sampling_pipeline`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::sampling_pipeline::main(&mut std::io::stdout())
}
