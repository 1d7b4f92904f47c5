//! `cargo run -p listings --example transposed_query`: the program, printing to the terminal.

fn main() -> std::io::Result<()> {
    listings::attention_by_hand::transposed_query(&mut std::io::stdout())
}
