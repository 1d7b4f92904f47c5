//! `cargo run -p listings --example mlm_masking`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::mlm_masking::main(&mut std::io::stdout())
}
