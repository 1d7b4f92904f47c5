//! `cargo run -p listings --example warmup_cosine`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::warmup_cosine::main(&mut std::io::stdout())
}
